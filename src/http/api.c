/* /healthz for load balancers and the JSON API under /api/v1/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* 200 while every migration's routing is within its max staleness (the
 * flags answer), 503 naming the first that is not. */
int http_healthz(http_req *r)
{
    for (size_t i = 0; i < r->srv->n_migs; i++) {
        sg_route_state st;
        bool fresh;
        int64_t age;
        char err[512];
        http_routing_get(r->srv, i, &st, &fresh, &age, err, sizeof err);
        if (!fresh) {
            char msg[700];
            int n = snprintf(msg, sizeof msg, "routing of %s is not fresh: %s\n",
                             r->srv->migs[i].name, err);
            return http_reply(r, 503, "text/plain; charset=utf-8", msg,
                              n < (int)sizeof msg ? (size_t)n : sizeof msg - 1, NULL);
        }
    }
    return http_reply(r, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL);
}

static json_t *status_json(const char *name, const sg_status *s, int64_t age_ms)
{
    json_t *j = json_pack("{s:s,s:s,s:b,s:I,s:I,s:f,s:I,s:I,s:f,s:s,s:b,s:s,s:I,s:I,s:I,s:I,"
                     "s:f}",
                     "migration", name, "phase", sg_phase_name(s->phase),
                     "backfill_complete", s->backfill_complete,
                     "backfill_rows", (json_int_t)s->backfill_rows,
                     "backfill_total", (json_int_t)s->backfill_total,
                     "backfill_rate", s->backfill_rate,
                     "pending_changes", (json_int_t)s->pending_changes,
                     "lag_ms", (json_int_t)s->lag_ms, "read_pct", s->read_pct,
                     "write_side", s->write_side == SG_SIDE_TARGET ? "target" : "source",
                     "worker_alive", s->worker_alive, "worker_error", s->worker_error,
                     "verify_at_ms", (json_int_t)s->verify_at_ms,
                     "verify_differences", (json_int_t)s->verify_differences,
                     "set_aside", (json_int_t)s->set_aside,
                     "applied", (json_int_t)s->applied,
                     "age_seconds", (double)age_ms / 1000);
    if (j) {
        json_object_set_new(j, "heartbeat_lag_ms", s->heartbeat_lag_ms < 0
                                                       ? json_null()
                                                       : json_integer(s->heartbeat_lag_ms));
        json_object_set_new(j, "heartbeat_at_ms", json_integer(s->heartbeat_at_ms));
    }
    return j;
}

/* GET /api/v1/status: each migration's state as the service last read it. */
int http_api_status(http_req *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->srv->n_migs; i++) {
        sg_status st;
        int64_t age;
        char err[512];
        const char *name = r->srv->migs[i].name;
        json_array_append_new(arr, http_status_get(r->srv, i, &st, &age, err, sizeof err)
                                       ? status_json(name, &st, age)
                                       : json_pack("{s:s,s:s}", "migration", name,
                                                   "error", err));
    }
    return http_reply_json(r, 200, json_pack("{s:o}", "migrations", arr));
}

static json_t *consistency_json(const sg_consistency *c)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:b,s:I,s:I}",
                     "mapping", c->mapping, "checked_at_ms", (json_int_t)c->checked_at_ms,
                     "source_rows", (json_int_t)c->source_rows,
                     "target_rows", (json_int_t)c->target_rows,
                     "previous_at_ms", (json_int_t)c->previous_at_ms,
                     "source_delta", (json_int_t)c->source_delta,
                     "target_delta", (json_int_t)c->target_delta,
                     "chunks", (json_int_t)c->chunks,
                     "chunks_differing", (json_int_t)c->chunks_differing,
                     "differences", (json_int_t)c->differences, "keys", c->keys,
                     "full", c->full, "last_full_clean_ms", (json_int_t)c->last_full_clean_ms,
                     "set_aside", (json_int_t)c->set_aside);
}

/* {"migrations": [{"migration": name, key: fn(i)}, ...]} */
static int per_migration(http_req *r, const char *key, json_t *(*fn)(http_server *, size_t))
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->srv->n_migs; i++)
        json_array_append_new(arr, json_pack("{s:s,s:o}", "migration", r->srv->migs[i].name,
                                             key, fn(r->srv, i)));
    return http_reply_json(r, 200, json_pack("{s:o}", "migrations", arr));
}

static json_t *mig_consistency(http_server *s, size_t i)
{
    sg_consistency *c;
    size_t n;
    http_cons_get(s, i, &c, &n);
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(arr, consistency_json(&c[k]));
    free(c);
    return arr;
}

/* GET /api/v1/consistency: per mapping, what the verify passes left. */
int http_api_consistency(http_req *r)
{
    return per_migration(r, "mappings", mig_consistency);
}

static json_t *mig_audit(http_server *s, size_t i)
{
    http_audit a[HTTP_AUDIT_TAIL];
    size_t n = http_audit_get(s, i, a);
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "at", a[k].at,
                                             "who", a[k].who, "action", a[k].action,
                                             "from", a[k].from, "to", a[k].to,
                                             "detail", a[k].detail, "reason", a[k].reason));
    return arr;
}

/* GET /api/v1/audit: the tail of each migration's audit trail. */
int http_api_audit(http_req *r)
{
    return per_migration(r, "audit", mig_audit);
}

static json_t *mig_shadow(http_server *s, size_t i)
{
    sg_status st;
    int64_t age;
    char err[512];
    if (!http_status_get(s, i, &st, &age, err, sizeof err))
        return json_pack("{s:s}", "error", err);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:s,s:s}",
                     "window_ms", (json_int_t)st.shadow_window_ms,
                     "compared", (json_int_t)st.shadow_compared,
                     "mismatches", (json_int_t)st.shadow_mismatches,
                     "pending", (json_int_t)st.shadow_pending,
                     "nondeterministic", (json_int_t)st.shadow_nondeterministic,
                     "skipped", (json_int_t)st.shadow_skipped,
                     "errors", (json_int_t)st.shadow_errors,
                     "p99_ratio", st.shadow_p99_ratio, "worst", st.shadow_worst,
                     "example", st.shadow_example);
}

/* GET /api/v1/shadow: the shadow reads over the shadow window. */
int http_api_shadow(http_req *r)
{
    return per_migration(r, "shadow", mig_shadow);
}

static json_t *mig_outcomes(http_server *s, size_t i)
{
    sg_outcome *o;
    size_t n;
    http_outcomes_get(s, i, &o, &n);
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:f,s:f}",
            "side", o[k].side == SG_SIDE_TARGET ? "target" : "source", "kind", o[k].kind,
            "ok", (json_int_t)o[k].ok, "errors", (json_int_t)o[k].errors,
            "p50_ms", (double)sg_hist_percentile(&o[k].latency, 50) / 1000,
            "p99_ms", (double)sg_hist_percentile(&o[k].latency, 99) / 1000));
    free(o);
    return arr;
}

/* GET /api/v1/events: the application outcomes reported, per side and
 * query type, since the migration started. */
int http_api_outcomes(http_req *r)
{
    return per_migration(r, "outcomes", mig_outcomes);
}
