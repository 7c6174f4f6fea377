/* What sg_sqlparse_read says about a query, kept by the query's shape
 * (sqlparse.h): a replayed log repeats a few shapes with other constants
 * (pgbench: one), and everything the parse gives is the same for all of
 * them, so each shape is parsed once. */
#include "check/sqlparse.h"

#include <segue/segue.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/buf.h"
#include "base/sqllex.h"

/* Shapes kept at most; the cache starts over when full. */
#define SHAPES 512

typedef struct shape {
    char *key;          /* the text with its literals taken out; NULL: free */
    uint64_t hash;
    char *head;         /* the text before q.with_at, or NULL */
    sg_sqlparse q;
} shape;

struct sg_sqlparse_cache {
    shape slots[SHAPES];
    size_t n;
};

/* The shape of sql into key: its tokens but string and number literals
 * (one byte for each, so `1` and `'x'` differ) and spacing, bare words in
 * lower case; $n kept. */
static void shape_of(const char *sql, sg_buf *key)
{
    bool dollar = false;
    for (sg_tok t = sg_sqllex_next_solid(sql, 0); t.kind != SG_TOK_END;
         t = sg_sqllex_next_solid(sql, t.start + t.len)) {
        if (t.kind == SG_TOK_STRING || (t.kind == SG_TOK_NUMBER && !dollar))
            sg_buf_putc(key, t.kind == SG_TOK_STRING ? '\x01' : '\x02');
        else if (t.kind == SG_TOK_IDENT) /* folded, as the parser folds them */
            for (size_t i = 0; i < t.len; i++)
                sg_buf_putc(key, (char)tolower((unsigned char)sql[t.start + i]));
        else
            sg_buf_putn(key, sql + t.start, t.len);
        sg_buf_putc(key, ' ');
        dollar = t.kind == SG_TOK_PUNCT && sql[t.start] == '$';
    }
}

static void cache_clear(sg_sqlparse_cache *c)
{
    for (size_t i = 0; i < SHAPES; i++) {
        free(c->slots[i].key);
        free(c->slots[i].head);
        sg_sqlparse_free(&c->slots[i].q);
        c->slots[i].key = c->slots[i].head = NULL;
    }
    c->n = 0;
}

int sg_sqlparse_cached(sg_sqlparse_cache **cache, const char *sql, const sg_sqlparse **out,
                       sg_err *err)
{
    sg_buf key = SG_BUF_INIT;
    int rc = 0;
    *out = NULL;
    if (!*cache && !(*cache = calloc(1, sizeof **cache)))
        return sg_err_set(err, SG_ENOMEM, "out of memory");
    sg_sqlparse_cache *c = *cache;
    shape_of(sql, &key);
    if (sg_buf_failed(&key)) {
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t h = XXH3_64bits(key.data ? key.data : "", key.len);
    size_t i = h % SHAPES;
    while (c->slots[i].key && !(c->slots[i].hash == h && !strcmp(c->slots[i].key, key.data)))
        i = (i + 1) % SHAPES;
    shape *s = &c->slots[i];
    /* the first common table expression's name stands where it stood
     * (only WITH and spacing come before it): known again when the text
     * up to it is the same */
    if (s->key && (!s->head || !strncmp(sql, s->head, (size_t)s->q.with_at + 1))) {
        *out = &s->q;
        goto done;
    }
    if (!s->key && c->n >= SHAPES * 3 / 4) {
        cache_clear(c);
        for (i = h % SHAPES; c->slots[i].key; i = (i + 1) % SHAPES)
            ;
        s = &c->slots[i];
    }
    sg_sqlparse q;
    if ((rc = sg_sqlparse_read(sql, &q, err)) != 0) {
        sg_sqlparse_free(&q);
        goto done;
    }
    if (s->key) { /* the same shape with another WITH head: parsed anew */
        sg_sqlparse_free(&s->q);
        free(s->key);
        free(s->head);
        s->head = NULL;
        c->n--;
    }
    s->q = q;
    s->hash = h;
    s->key = sg_buf_take(&key);
    if (s->key && q.with_at >= 0)
        s->head = strndup(sql, (size_t)q.with_at + 1);
    if (!s->key || (q.with_at >= 0 && !s->head)) {
        free(s->key);
        s->key = NULL;
        sg_sqlparse_free(&s->q);
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        goto done;
    }
    c->n++;
    *out = &s->q;
done:
    sg_buf_free(&key);
    return rc;
}

void sg_sqlparse_cache_free(sg_sqlparse_cache *c)
{
    if (!c)
        return;
    cache_clear(c);
    free(c);
}
