/* Reading the application's statements out of a query log (segue/shadow.h):
 * plain SQL, or PostgreSQL's jsonlog and csvlog with statements logged
 * with their duration (log_min_duration_statement). The shapes read are
 * PostgreSQL's own (src/backend/tcop/postgres.c): "duration: D ms
 * statement: SQL" for the simple protocol, "duration: D ms  execute NAME:
 * SQL" with a detail "parameters: $1 = 'v', $2 = NULL" for the extended one.
 * A log is read from memory; a line that cannot be read is counted and
 * passed over, never fatal. */
#include <segue/shadow.h>

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

struct sg_querylog {
    const char *text;
    size_t len, pos;
    sg_querylog_format f;
    int64_t unreadable;
    char *sql;          /* SQL: a NUL-terminated copy of the text */
    char *database;     /* only statements run in this database, or NULL */
    bool follow;        /* a last line with no end yet waits for more */
};

/* csvlog's columns (0-based; PostgreSQL 15's order). */
#define CSV_DATABASE 2
#define CSV_MESSAGE 13
#define CSV_DETAIL 14
#define CSV_APPLICATION 22
#define CSV_FIELDS 26

/* segue's own sessions' statements are never the application's. */
#define SEGUE_APPLICATION "segue"

/* Whether a logged line's session is one whose statements are replayed. */
static bool wanted(const sg_querylog *l, const char *database, const char *application)
{
    return !(application && strcmp(application, SEGUE_APPLICATION) == 0) &&
           !(l->database && (!database || strcmp(database, l->database) != 0));
}

static bool starts_with_timestamp(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (n < sizeof shape - 1)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return memchr(s, ',', n) != NULL;
}

static sg_querylog_format detect(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)t[i]))
        i++;
    if (i < n && t[i] == '{')
        return SG_QUERYLOG_JSONLOG;
    return starts_with_timestamp(t + i, n - i) ? SG_QUERYLOG_CSVLOG : SG_QUERYLOG_SQL;
}

int sg_querylog_open(sg_querylog **out, const char *text, size_t len, sg_querylog_format f)
{
    if (!out || (!text && len) || (unsigned)f > SG_QUERYLOG_CSVLOG)
        return SG_EINVAL;
    sg_querylog *l = calloc(1, sizeof *l);
    if (!l)
        return SG_ENOMEM;
    l->text = text ? text : "";
    l->len = len;
    l->f = f == SG_QUERYLOG_AUTO ? detect(l->text, len) : f;
    if (l->f == SG_QUERYLOG_SQL) {
        if (!(l->sql = malloc(len + 1))) {
            free(l);
            return SG_ENOMEM;
        }
        for (size_t i = 0; i < len; i++) /* a NUL byte ends no statement */
            l->sql[i] = text[i] ? text[i] : ' ';
        l->sql[len] = '\0';
    }
    *out = l;
    return 0;
}

int sg_querylog_grow(sg_querylog *l, const char *text, size_t len)
{
    if (!l || !text || len < l->len)
        return SG_EINVAL;
    if (l->f == SG_QUERYLOG_SQL) {
        char *p = realloc(l->sql, len + 1);
        if (!p)
            return SG_ENOMEM;
        for (size_t i = l->len; i < len; i++)
            p[i] = text[i] ? text[i] : ' ';
        p[len] = '\0';
        l->sql = p;
    }
    l->text = text;
    l->len = len;
    return 0;
}

void sg_querylog_skip_all(sg_querylog *l)
{
    if (!l)
        return;
    if (l->f == SG_QUERYLOG_SQL) {
        l->pos = l->len;
        return;
    }
    /* past the last whole line: a line still being written is read when
     * it ends (csvlog: past the last whole record, quotes and all) */
    sg_logged_query q;
    bool follow = l->follow;
    int64_t bad = l->unreadable;
    l->follow = true;
    if (l->f == SG_QUERYLOG_JSONLOG) {
        const char *nl = l->len ? memrchr(l->text, '\n', l->len) : NULL;
        l->pos = nl ? (size_t)(nl - l->text) + 1 : 0;
    } else {
        char *saved = l->database;
        l->database = NULL;
        while (sg_querylog_next(l, &q))
            sg_logged_query_clear(&q);
        l->database = saved;
    }
    l->follow = follow;
    l->unreadable = bad;
}

void sg_querylog_follow(sg_querylog *l, bool on)
{
    if (l)
        l->follow = on;
}

int sg_querylog_only_database(sg_querylog *l, const char *name)
{
    if (!l)
        return SG_EINVAL;
    free(l->database);
    l->database = NULL;
    return name && !(l->database = strdup(name)) ? SG_ENOMEM : 0;
}

void sg_querylog_free(sg_querylog *l)
{
    if (!l)
        return;
    free(l->database);
    free(l->sql);
    free(l);
}

void sg_logged_query_clear(sg_logged_query *q)
{
    if (!q)
        return;
    free(q->sql);
    for (size_t i = 0; i < q->n_params; i++)
        free(q->params[i]);
    free(q->params);
    memset(q, 0, sizeof *q);
}

int64_t sg_querylog_unreadable(const sg_querylog *l)
{
    return l ? l->unreadable : 0;
}

size_t sg_querylog_offset(const sg_querylog *l)
{
    return l ? l->pos : 0;
}

sg_querylog_format sg_querylog_format_of(const sg_querylog *l)
{
    return l ? l->f : SG_QUERYLOG_AUTO;
}

/* Whether bytes s[0..n) are UTF-8 without NULs (RFC 3629: no overlong
 * forms, surrogates or code points above U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                 : (c & 0xF8) == 0xF0 ? 3 : 4;
        if (c == 0 || k == 4 || (k && i + k >= n) || (k == 1 && c < 0xC2))
            return false;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        unsigned d = k ? s[i + 1] : 0;
        bool bad = (c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0) ||
                   (c == 0xF0 && d < 0x90) || c > 0xF4 || (c == 0xF4 && d >= 0x90);
        if (k >= 2 && bad)
            return false;
        i += k + 1;
    }
    return true;
}

static bool next_sql(sg_querylog *l, sg_logged_query *q)
{
    size_t start, len, was = l->pos;
    while (sg_sql_next_statement(l->sql, &l->pos, &start, &len)) {
        bool ended = l->pos > start + len && l->sql[l->pos - 1] == ';';
        if (l->follow && !ended) {
            l->pos = was; /* the writer is still on this statement */
            return false;
        }
        was = l->pos;
        if (!utf8_ok((const unsigned char *)l->sql + start, len) ||
            memchr(l->text + start, '\0', len)) {
            l->unreadable++;
            continue;
        }
        if ((q->sql = strndup(l->sql + start, len)) != NULL)
            return true;
        l->unreadable++;
    }
    return false;
}

/* $1 = '...' ('' doubled), or NULL, separated by ", ", after "parameters: ". */
static bool read_params(const char *d, sg_logged_query *q)
{
    const char *p = d ? strstr(d, "parameters: ") : NULL;
    if (!p)
        return true;
    p += strlen("parameters: ");
    while (*p == '$') {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (n != (long)q->n_params + 1 || strncmp(end, " = ", 3) != 0)
            return false;
        p = end + 3;
        char **v = realloc(q->params, (q->n_params + 1) * sizeof *v);
        if (!v)
            return false;
        q->params = v;
        v[q->n_params] = NULL;
        if (strncmp(p, "NULL", 4) == 0) {
            p += 4;
        } else if (*p == '\'') {
            sg_buf b = SG_BUF_INIT;
            for (p++; *p && !(*p == '\'' && p[1] != '\''); p++) {
                sg_buf_putc(&b, *p);
                if (*p == '\'')
                    p++;
            }
            if (*p != '\'' || !(v[q->n_params] = sg_buf_take(&b))) {
                sg_buf_free(&b);
                return false;
            }
            p++;
        } else {
            return false;
        }
        q->n_params++;
        if (strncmp(p, ", ", 2) == 0)
            p += 2;
    }
    return true;
}

/* The statement of a logged message: 1 taken (into q), 0 not a statement
 * line, -1 unreadable. */
static int message(const char *msg, const char *detail, sg_logged_query *q)
{
    if (!msg || strncmp(msg, "duration: ", 10) != 0)
        return 0;
    const char *s = strstr(msg, " ms  ");
    if (!s)
        return 0;
    s += 5;
    if (strncmp(s, "statement: ", 11) == 0) {
        s += 11;
    } else if (strncmp(s, "execute ", 8) == 0) {
        s = strstr(s, ": ");
        if (!s)
            return -1;
        s += 2;
    } else {
        return 0; /* parse, bind, fastpath */
    }
    if (!(q->sql = strdup(s)) || !read_params(detail, q)) {
        sg_logged_query_clear(q);
        return -1;
    }
    return 1;
}

static bool next_json(sg_querylog *l, sg_logged_query *q)
{
    while (l->pos < l->len) {
        const char *line = l->text + l->pos;
        const char *nl = memchr(line, '\n', l->len - l->pos);
        if (!nl && l->follow)
            return false; /* the writer is still on this line */
        size_t n = nl ? (size_t)(nl - line) : l->len - l->pos;
        l->pos += n + (nl ? 1 : 0);
        if (n == 0)
            continue;
        json_error_t e;
        json_t *j = memchr(line, '\0', n) ? NULL : json_loadb(line, n, 0, &e);
        int r = !j ? -1
                : !wanted(l, json_string_value(json_object_get(j, "dbname")),
                          json_string_value(json_object_get(j, "application_name")))
                    ? 0
                    : message(json_string_value(json_object_get(j, "message")),
                              json_string_value(json_object_get(j, "detail")), q);
        json_decref(j);
        if (r < 0)
            l->unreadable++;
        if (r > 0)
            return true;
    }
    return false;
}

/* One CSV record (RFC 4180: "..." with "" inside, newlines allowed in
 * quotes) from l->pos into fields (up to CSV_FIELDS; NULL when absent).
 * false at the end; *bad for a record that ends inside quotes or holds a
 * NUL byte. */
static bool csv_record(sg_querylog *l, char **fields, bool *bad)
{
    size_t f = 0, start = l->pos;
    bool quoted = false, any = false;
    sg_buf b = SG_BUF_INIT;
    *bad = false;
    for (size_t i = 0; i < CSV_FIELDS; i++)
        fields[i] = NULL;
    while (l->pos < l->len) {
        char c = l->text[l->pos++];
        any = true;
        if (c == '\0')
            *bad = true;
        if (quoted) {
            if (c == '"' && l->pos < l->len && l->text[l->pos] == '"')
                sg_buf_putc(&b, l->text[l->pos++]);
            else if (c == '"')
                quoted = false;
            else
                sg_buf_putc(&b, c);
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',' || c == '\n') {
            if (f < CSV_FIELDS)
                fields[f++] = sg_buf_take(&b);
            sg_buf_free(&b);
            if (c == '\n')
                return true;
        } else {
            sg_buf_putc(&b, c);
        }
    }
    if (any && l->follow) { /* the writer is still on this record */
        for (size_t i = 0; i < f; i++)
            free(fields[i]);
        sg_buf_free(&b);
        l->pos = start;
        return false;
    }
    if (any && f < CSV_FIELDS)
        fields[f++] = sg_buf_take(&b);
    sg_buf_free(&b);
    *bad = *bad || quoted;
    return any;
}

static bool next_csv(sg_querylog *l, sg_logged_query *q)
{
    char *fields[CSV_FIELDS];
    bool bad;
    while (csv_record(l, fields, &bad)) {
        const char *msg = fields[CSV_MESSAGE], *detail = fields[CSV_DETAIL];
        int r = bad || !msg ? -1 : !utf8_ok((const unsigned char *)msg, strlen(msg)) ? -1
                : !wanted(l, fields[CSV_DATABASE], fields[CSV_APPLICATION]) ? 0
                : message(msg, detail, q);
        for (size_t i = 0; i < CSV_FIELDS; i++)
            free(fields[i]);
        if (r < 0)
            l->unreadable++;
        if (r > 0)
            return true;
    }
    return false;
}

bool sg_querylog_next(sg_querylog *l, sg_logged_query *q)
{
    if (!l || !q)
        return false;
    memset(q, 0, sizeof *q);
    switch (l->f) {
    case SG_QUERYLOG_JSONLOG:
        return next_json(l, q);
    case SG_QUERYLOG_CSVLOG:
        return next_csv(l, q);
    default:
        return next_sql(l, q);
    }
}
