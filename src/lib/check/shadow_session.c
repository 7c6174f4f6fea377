/* The sessions shadow reads run in (shadow_int.h): read-only ones of
 * their own, opened on the first shadow read (a handle opened read_only
 * lends its own), so that a shadow read can never write and needs no
 * transaction of its own: one round trip per side. And the statements of
 * sg_shadow_key, prepared once per mapping and side. */
#include "check/shadow_int.h"

#include <stdlib.h>

#include "check/sqlparse.h"

struct sg_shadow_sessions {
    sg_conn *src, *tgt;     /* tgt == src in one database */
    bool owned;             /* opened here (else the handle's own) */
    size_t n_slots;
    sg_stmt **slots;        /* SG_SHADOW_SLOT(map, side) */
    sg_sqlparse_cache *shapes; /* what the parser said, by query shape */
};

static int open_own(sg_migration *m, struct sg_shadow_sessions *s)
{
    const sg_spec *sp = m->spec;
    int rc = sg_db_open(&s->src, sp->source, "source", SG_DB_READ_ONLY, &m->err);
    if (!rc)
        rc = sg_db_idle_timeout(s->src, sp->idle_timeout_ms, &m->err);
    if (!rc && sg_db_same_database(sp->source, sp->target))
        s->tgt = s->src;
    else if (!rc && !(rc = sg_db_open(&s->tgt, sp->target, "target", SG_DB_READ_ONLY,
                                      &m->err)))
        rc = sg_db_idle_timeout(s->tgt, sp->idle_timeout_ms, &m->err);
    if (rc)
        sg_err_prefix(&m->err, "opening read-only sessions for shadow reads: ");
    return rc;
}

int sg_shadow_sessions_get(sg_migration *m, struct sg_shadow_sessions **out)
{
    struct sg_shadow_sessions *s = m->shadow_sessions;
    if (!s) {
        if (!(s = calloc(1, sizeof *s)) ||
            !(s->slots = calloc(2 * (m->n_maps ? m->n_maps : 1), sizeof *s->slots))) {
            free(s);
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
        }
        s->n_slots = 2 * m->n_maps;
        m->shadow_sessions = s;
        s->owned = !m->read_only;
        if (!s->owned) {
            s->src = m->src;
            s->tgt = m->tgt;
        }
    }
    if (s->owned && !s->src) {
        int rc = open_own(m, s);
        if (rc) {
            sg_db_close(s->tgt != s->src ? s->tgt : NULL);
            sg_db_close(s->src);
            s->src = s->tgt = NULL;
            return rc;
        }
    }
    *out = s;
    return 0;
}

sg_sqlparse_cache **sg_shadow_parse_cache(struct sg_shadow_sessions *s)
{
    return &s->shapes;
}

sg_conn *sg_shadow_session(const struct sg_shadow_sessions *s, bool source)
{
    return source ? s->src : s->tgt;
}

/* Every kept statement finalized (a session about to be replaced). */
static void drop_slots(struct sg_shadow_sessions *s)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        sg_db_finalize(s->slots[i]);
        s->slots[i] = NULL;
    }
}

int sg_shadow_session_check(struct sg_shadow_sessions *s, bool source, sg_err *err)
{
    sg_conn *c = source ? s->src : s->tgt;
    if (!sg_db_lost(c))
        return 0;
    drop_slots(s);
    return sg_db_reconnect(c, err);
}

int sg_shadow_slot(struct sg_shadow_sessions *s, size_t slot, const char *sql, sg_stmt **out,
                   sg_err *err)
{
    *out = NULL;
    if (slot >= s->n_slots)
        return sg_err_set(err, SG_EINVAL, "shadow read: statement slot %zu of %zu", slot,
                          s->n_slots);
    if (!s->slots[slot]) {
        int rc = sg_db_prepare(slot % 2 ? s->tgt : s->src, sql, &s->slots[slot], err);
        if (rc)
            return rc;
    }
    *out = s->slots[slot];
    return 0;
}

void sg_shadow_sessions_free(sg_migration *m)
{
    struct sg_shadow_sessions *s = m ? m->shadow_sessions : NULL;
    if (!s)
        return;
    drop_slots(s);
    free(s->slots);
    sg_sqlparse_cache_free(s->shapes);
    if (s->owned) {
        if (s->tgt != s->src)
            sg_db_close(s->tgt);
        sg_db_close(s->src);
    }
    free(s);
    m->shadow_sessions = NULL;
}
