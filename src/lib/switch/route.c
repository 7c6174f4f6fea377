/* Routing: which side serves a read (by consistent hash of a routing key and
 * a per-migration salt) and which side takes writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "check/outcomes.h"
#include "internal.h"
#include "state/control.h"
#include "switch/ryw.h"
#include "switch/segments.h"

uint32_t sg_route_bucket(const char *salt, const void *key, size_t key_len)
{
    /* seeded by the salt's own hash so salt and key need no concatenation */
    uint64_t seed = XXH3_64bits(salt, strlen(salt));
    return (uint32_t)(XXH3_64bits_withSeed(key, key_len, seed) % 10000u);
}

bool sg_route_reads_target(uint32_t bucket, double pct)
{
    if (!(pct > 0))
        return false;
    if (pct >= 100)
        return true;
    return (double)bucket < pct * 100.0;
}

/* Read-only; a SQLite target not made yet reads as empty (not started). */
#define ROUTER_OPEN (SG_DB_READ_ONLY | SG_DB_CREATE)

struct sg_router {
    sg_err err;
    sg_conn *conn;              /* NULL after a failure: reopened at the next refresh */
    char *uri;                  /* the control database (never shown) */
    char *name;
    int refresh_ms;
    int64_t max_stale_ms;
    int64_t tried_ms;           /* monotonic ms of the last read attempt */
    int64_t loaded_ms;          /* ... and of the last one that succeeded */
    bool loaded;                /* a routing was read */
    bool known;                 /* ... and the migration was known then */
    sg_phase phase;
    sg_routing r;
    char *segs_text;            /* the segments last read (JSON), or NULL */
    sg_segments *segs;          /* ... parsed */
    sg_ryw *ryw;                /* read-your-writes lookups; NULL unless opened
                                 * on a migration that has them */
    bool ryw_off;               /* ... its spec turns them off */
    sg_conn *wconn;             /* writes reported outcomes; opened on first use */
    sg_outcome_agg *outcomes;   /* reported, not yet written */
};

static int router_new(sg_router **out, const char *uri, const char *name, int refresh_ms)
{
    sg_router *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return SG_ENOMEM;
    r->refresh_ms = refresh_ms < 0 ? 0 : refresh_ms;
    if (!(r->name = strdup(name)) || !(r->uri = strdup(uri)))
        return sg_err_set(&r->err, SG_ENOMEM, "out of memory");
    return sg_db_open(&r->conn, r->uri, "target", ROUTER_OPEN, &r->err);
}

int sg_router_open(sg_router **out, const char *control_uri, const char *name,
                   int refresh_ms)
{
    if (!out)
        return SG_EINVAL;
    if (!control_uri || !name) {
        *out = NULL;
        return SG_EINVAL;
    }
    return router_new(out, control_uri, name, refresh_ms);
}

int sg_router_open_migration(sg_router **out, sg_migration *m)
{
    if (!out)
        return SG_EINVAL;
    *out = NULL;
    if (!m)
        return SG_EINVAL;
    int64_t refresh = m->spec->serve_refresh_ms;
    int rc = router_new(out, m->spec->target, m->spec->name,
                        refresh > INT32_MAX ? INT32_MAX : (int)refresh);
    if (*out)
        (*out)->max_stale_ms = m->spec->serve_max_staleness_ms;
    (*out)->ryw_off = !m->spec->read_your_writes;
    if (!rc && !(*out)->ryw_off)
        rc = sg_ryw_open(&(*out)->ryw, m, &(*out)->err);
    return rc;
}

void sg_router_set_max_staleness(sg_router *r, int64_t ms)
{
    if (r)
        r->max_stale_ms = ms < 0 ? 0 : ms;
}

void sg_router_close(sg_router *r)
{
    if (!r)
        return;
    sg_router_flush(r); /* best effort: what cannot be written is lost */
    sg_outcome_free(r->outcomes);
    sg_db_close(r->wconn);
    sg_db_close(r->conn);
    sg_segments_free(r->segs);
    sg_ryw_close(r->ryw);
    free(r->segs_text);
    free(r->uri);
    free(r->name);
    free(r);
}

const char *sg_router_errmsg(const sg_router *r)
{
    return r ? r->err.msg : "out of memory";
}

/* The segments published for the router's migration, parsed again only
 * when their text changed. */
static int read_segments(sg_router *r)
{
    char *text = NULL;
    int rc = sg_segments_load(r->conn, r->name, &text, &r->err);
    if (rc)
        return rc;
    if ((!text && !r->segs_text) || (text && r->segs_text && !strcmp(text, r->segs_text))) {
        free(text);
        return 0;
    }
    sg_segments_free(r->segs);
    free(r->segs_text);
    r->segs_text = text;
    r->segs = sg_segments_parse(text);
    return 0;
}

/* Reads the routing row now: *known false when the control database knows
 * no migration of the router's name. On a failure, or while the migration
 * is not known (a SQLite target not made yet was opened as an empty
 * stand-in), the connection is dropped, to be opened again at the next
 * read. */
static int read_routing(sg_router *r, bool *known)
{
    int rc = r->conn ? 0 : sg_db_open(&r->conn, r->uri, "target", ROUTER_OPEN, &r->err);
    sg_routing got;
    sg_phase phase = SG_PHASE_PLANNED;
    if (!rc)
        rc = sg_routing_serve(r->conn, r->name, &got, &phase, &r->err);
    *known = rc != SG_ESTATE;
    if (rc == SG_ESTATE) /* unknown: everything stays with the source */
        got = (sg_routing){ .read_pct = 0, .write_side = SG_SIDE_SOURCE };
    if (rc) {
        sg_db_close(r->conn);
        r->conn = NULL;
        if (rc != SG_ESTATE)
            return rc;
    }
    r->r = got;
    r->phase = phase;
    if (*known && r->ryw && (rc = sg_ryw_refresh(r->ryw, r->conn, r->name, &r->err)) != 0)
        return rc;
    return *known ? read_segments(r) : 0;
}

/* Brings the routing up to date when it is older than refresh_ms. A read
 * that fails leaves the last routing in use while it is no older than the
 * max staleness. */
static int refresh(sg_router *r)
{
    int64_t now = sg_mono_ms();
    if (r->loaded && now - r->tried_ms < r->refresh_ms)
        return r->loaded_ms == r->tried_ms || now - r->loaded_ms <= r->max_stale_ms
                   ? 0 : SG_EDB;
    r->tried_ms = now;
    bool known;
    int rc = read_routing(r, &known);
    if (!rc) {
        r->loaded = true;
        r->known = known;
        r->loaded_ms = now;
        sg_err_clear(&r->err);
        return 0;
    }
    if (rc == SG_EDB && r->loaded && now - r->loaded_ms <= r->max_stale_ms)
        return 0;
    return rc;
}

/* refresh(), then SG_ESTATE when the migration is not known: the side
 * calls never guess. */
static int refresh_known(sg_router *r)
{
    int rc = refresh(r);
    if (!rc && !r->known)
        rc = sg_err_set(&r->err, SG_ESTATE, "no migration named '%s' is known in the "
                        "control database (not started, misspelt, or aborted or "
                        "purged); hint: check the name against the spec and "
                        "`segue status`", r->name);
    return rc;
}

int sg_router_state(sg_route_state *out, sg_router *r)
{
    if (!r)
        return SG_EINVAL;
    if (!out)
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_state: out is NULL");
    memset(out, 0, sizeof *out);
    int rc = refresh(r);
    if (rc)
        return rc;
    out->known = r->known;
    out->phase = r->known ? r->phase : SG_PHASE_PLANNED;
    out->read_pct = r->r.read_pct;
    out->write_side = r->r.write_side;
    out->read_breaker_open = r->r.breaker_open;
    memcpy(out->salt, r->r.salt, sizeof out->salt);
    char text[100];
    int n = snprintf(text, sizeof text, "%d|%.17g|%d|%s|%d", (int)out->phase,
                     out->read_pct, out->write_side, out->salt, out->read_breaker_open);
    out->version = XXH3_64bits(text, (size_t)n < sizeof text ? (size_t)n : sizeof text);
    out->age_ms = sg_mono_ms() - r->loaded_ms;
    out->max_staleness_ms = r->max_stale_ms;
    out->refresh_ms = r->refresh_ms;
    return 0;
}

int sg_router_read_side(int *side, sg_router *r, const void *key, size_t key_len)
{
    if (!r)
        return SG_EINVAL;
    if (!side || (!key && key_len))
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_read_side: side is NULL, or "
                          "key is NULL with a length");
    return sg_router_read_side_ctx(side, r, key, key_len, NULL, 0);
}

int sg_router_read_side_ctx(int *side, sg_router *r, const void *key, size_t key_len,
                            const sg_route_attr *attrs, size_t n_attrs)
{
    sg_route_state st;
    if (!r)
        return SG_EINVAL;
    if (!side || (!key && key_len) || (!attrs && n_attrs))
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_read_side: side is NULL, or "
                          "key or attrs is NULL with a length");
    int rc = refresh_known(r);
    if (rc)
        return rc;
    /* the state (a hash) only when a segment could decide */
    if (n_attrs && r->segs && !sg_router_state(&st, r) &&
        sg_route_segment(&st, r->segs, attrs, n_attrs, side))
        return 0;
    *side = sg_route_reads_target(sg_route_bucket(r->r.salt, key, key_len),
                                  r->r.read_pct) ? SG_SIDE_TARGET : SG_SIDE_SOURCE;
    return 0;
}

int sg_router_read_side_row(int *side, sg_router *r, const void *key, size_t key_len,
                            const sg_route_attr *attrs, size_t n_attrs,
                            const sg_route_row *row)
{
    if (!r)
        return SG_EINVAL;
    if (!row || !row->table || (!row->key && row->n_key))
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_read_side_row: row or its "
                          "table is NULL, or its key is NULL with a count");
    if (r->ryw_off)
        return sg_err_set(&r->err, SG_ESTATE, "sg_router_read_side_row: read-your-writes "
                          "per key is off for migration '%s'; hint: set "
                          "cutover.read_your_writes: true in its spec before `segue "
                          "start` (it indexes the changelog by key)", r->name);
    if (!r->ryw)
        return sg_err_set(&r->err, SG_ESTATE, "sg_router_read_side_row: read-your-writes "
                          "looks into the source's changelog, which a router opened by "
                          "sg_router_open does not know; hint: open it with "
                          "sg_router_open_migration");
    int rc = sg_router_read_side_ctx(side, r, key, key_len, attrs, n_attrs);
    if (rc)
        return rc;
    /* a read the routing sends to the source, or writes on the target (the
     * target has every write then): no lookup, but the row is checked */
    bool lookup = *side == SG_SIDE_TARGET && r->r.write_side == SG_SIDE_SOURCE;
    bool pending = false;
    rc = lookup ? sg_ryw_pending(r->ryw, row->table, row->n_key, row->key, &pending, &r->err)
                : sg_ryw_check(r->ryw, row->table, row->n_key, &r->err);
    if (rc || pending)
        *side = SG_SIDE_SOURCE;
    return rc;
}

int sg_router_segments(sg_segments **out, sg_router *r)
{
    if (!r)
        return SG_EINVAL;
    if (!out)
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_segments: out is NULL");
    *out = NULL;
    int rc = refresh(r);
    if (!rc && r->segs && !(*out = sg_segments_copy(r->segs)))
        rc = sg_err_set(&r->err, SG_ENOMEM, "out of memory");
    return rc;
}

int sg_router_write_side(int *side, sg_router *r)
{
    if (!r)
        return SG_EINVAL;
    if (!side)
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_write_side: side is NULL");
    int rc = refresh_known(r);
    if (!rc)
        *side = r->r.write_side;
    return rc;
}

int sg_migration_route(int *read_side, int *write_side, uint32_t *bucket,
                       sg_migration *m, const void *key, size_t key_len)
{
    sg_routing r;
    sg_phase phase;
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!read_side || !write_side || !bucket || (!key && key_len))
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_route: an out-parameter "
                          "is NULL, or key is NULL with a length");
    int rc = sg_routing_serve(m->tgt, m->spec->name, &r, &phase, &m->err);
    if (rc)
        return rc;
    *bucket = sg_route_bucket(r.salt, key, key_len);
    *read_side = sg_route_reads_target(*bucket, r.read_pct) ? SG_SIDE_TARGET
                                                            : SG_SIDE_SOURCE;
    *write_side = r.write_side;
    return 0;
}

int sg_router_report(sg_router *r, int side, const char *kind, bool ok, double ms)
{
    if (!r)
        return SG_EINVAL;
    if ((side != SG_SIDE_SOURCE && side != SG_SIDE_TARGET) || !(ms >= 0) || ms > 1e12)
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_report: side must be "
                          "SG_SIDE_SOURCE or SG_SIDE_TARGET and ms a finite duration >= 0");
    int rc = sg_outcome_add(&r->outcomes, side, kind, ok, (int64_t)(ms * 1000 + 0.5), &r->err);
    return !rc && sg_outcome_due(r->outcomes) ? sg_router_flush(r) : rc;
}

int sg_router_flush(sg_router *r)
{
    if (!r)
        return SG_EINVAL;
    int64_t held, dropped;
    sg_outcome_counts(r->outcomes, &held, &dropped);
    if (!held)
        return 0;
    int rc = r->wconn ? 0 : sg_db_open(&r->wconn, r->uri, "target", 0, &r->err);
    if (!rc)
        rc = sg_outcome_flush(r->outcomes, r->wconn, r->name, &r->err);
    if (rc) { /* opened again at the next flush */
        sg_db_close(r->wconn);
        r->wconn = NULL;
    }
    return rc;
}

void sg_router_unrecorded(const sg_router *r, int64_t *held, int64_t *dropped)
{
    *held = *dropped = 0;
    if (r)
        sg_outcome_counts(r->outcomes, held, dropped);
}
