/* /healthz for load balancers and the JSON API under /api/v1/. */
#include <stdio.h>
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
    return json_pack("{s:s,s:s,s:b,s:I,s:I,s:f,s:I,s:I,s:f,s:s,s:b,s:s,s:I,s:I,s:I,s:I,"
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
