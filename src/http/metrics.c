/* GET /metrics: Prometheus text exposition format 0.0.4. Base units
 * (seconds, ratios), counters end in _total, one sample per migration and
 * a bounded set of label values (phases, flags, reasons, outcomes). Each
 * family is written whole, HELP and TYPE first. */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "text.h"

/* What a scrape reads of one migration, copied under the lock. */
typedef struct snap {
    const char *name;
    bool have_status;
    sg_status st;
    int64_t status_age_ms;
    sg_route_state route;
    bool route_fresh;
    int64_t route_age_ms;
    sg_outcome *outcomes;     /* a copy */
    size_t n_outcomes;
    sg_backlog *backlog;      /* a copy */
    size_t n_backlog;
    sg_shadow_shape *shapes;  /* a copy */
    size_t n_shapes;
    sg_fence_time *fences;    /* a copy */
    size_t n_fences;
} snap;

typedef double (*value_fn)(const snap *s);

typedef struct family {
    const char *name, *type, *help;
    value_fn value;           /* from the status; skipped when none was read */
} family;

static double lag(const snap *s) { return (double)s->st.lag_ms / 1000; }
static double heartbeat_lag(const snap *s)
{
    return s->st.heartbeat_lag_ms < 0 ? NAN : (double)s->st.heartbeat_lag_ms / 1000;
}
static double heartbeat_at(const snap *s)
{
    return s->st.heartbeat_at_ms ? (double)s->st.heartbeat_at_ms / 1000 : NAN;
}
static double read_ratio(const snap *s) { return s->st.read_pct / 100; }
static double writes_target(const snap *s) { return s->st.write_side == SG_SIDE_TARGET; }
static double rows(const snap *s) { return (double)s->st.backfill_rows; }
static double rows_est(const snap *s)
{
    return s->st.backfill_total < 0 ? NAN : (double)s->st.backfill_total;
}
static double backfill_done(const snap *s) { return s->st.backfill_complete; }
static double applied(const snap *s) { return (double)s->st.applied; }
static double set_aside(const snap *s) { return (double)s->st.set_aside; }
static double verify_diffs(const snap *s)
{
    return s->st.verify_at_ms ? (double)s->st.verify_differences : NAN;
}
static double verify_at(const snap *s)
{
    return s->st.verify_at_ms ? (double)s->st.verify_at_ms / 1000 : NAN;
}
static double worker_up(const snap *s) { return s->st.worker_alive; }
static double status_age(const snap *s) { return (double)s->status_age_ms / 1000; }

static const family status_families[] = {
    { "segue_lag_seconds", "gauge",
      "age of the oldest change captured and not yet applied (0 when none)", lag },
    { "segue_heartbeat_lag_seconds", "gauge",
      "the larger of the last heartbeat's transit (written on the source, captured, "
      "applied to the target after every change captured before it) and how late the "
      "next one is; absent after a write cutover or before the first beat", heartbeat_lag },
    { "segue_heartbeat_last_arrival_timestamp_seconds", "gauge",
      "when the last heartbeat arrived in the target (Unix time)", heartbeat_at },
    { "segue_reads_target_ratio", "gauge",
      "share of reads routed to the target (0..1)", read_ratio },
    { "segue_writes_target", "gauge", "1 when writes go to the target", writes_target },
    { "segue_backfill_rows", "gauge", "rows the backfill copied so far", rows },
    { "segue_backfill_rows_estimated", "gauge",
      "rows the backfill expects to copy in all (the worker's estimate)", rows_est },
    { "segue_backfill_complete", "gauge", "1 once every mapping is copied", backfill_done },
    { "segue_applied_changes_total", "counter",
      "changes the current worker applied (resets when a worker starts)", applied },
    { "segue_set_aside_keys", "gauge",
      "keys whose change the other side refused, set aside", set_aside },
    { "segue_verify_differences", "gauge",
      "differences that persisted in the last verify", verify_diffs },
    { "segue_verify_last_run_timestamp_seconds", "gauge",
      "when the last verify ran (Unix time)", verify_at },
    { "segue_worker_up", "gauge", "1 while a worker holds the lease", worker_up },
    { "segue_status_age_seconds", "gauge",
      "how old the state these metrics show is", status_age },
};

static void head(http_text *t, const char *name, const char *type, const char *help)
{
    http_text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(http_text *t, const char *name, const char *mig, const char *labels,
                   double v)
{
    http_text_add(t, "%s{migration=\"", name);
    http_text_label(t, mig);
    if (isnan(v))
        http_text_add(t, "\"%s} NaN\n", labels ? labels : "");
    else
        http_text_add(t, "\"%s} %.17g\n", labels ? labels : "", v);
}

static void status_metrics(http_text *t, const snap *sn, size_t n)
{
    for (size_t f = 0; f < sizeof status_families / sizeof status_families[0]; f++) {
        const family *fm = &status_families[f];
        head(t, fm->name, fm->type, fm->help);
        for (size_t i = 0; i < n; i++)
            if (sn[i].have_status)
                sample(t, fm->name, sn[i].name, NULL, fm->value(&sn[i]));
    }
    head(t, "segue_phase", "gauge", "1 for the phase the migration is in");
    for (size_t i = 0; i < n; i++)
        for (int p = SG_PHASE_PLANNED; p <= SG_PHASE_CLEANED && sn[i].have_status; p++) {
            char labels[64];
            snprintf(labels, sizeof labels, ",phase=\"%s\"", sg_phase_name((sg_phase)p));
            sample(t, "segue_phase", sn[i].name, labels, sn[i].st.phase == (sg_phase)p);
        }
    head(t, "segue_shadow_reads", "gauge", "shadow reads recorded over the shadow window, "
         "by outcome");
    for (size_t i = 0; i < n; i++) {
        if (!sn[i].have_status)
            continue;
        const sg_status *s = &sn[i].st;
        const struct { const char *o; int64_t v; } out[] = {
            { "compared", s->shadow_compared }, { "mismatch", s->shadow_mismatches },
            { "pending", s->shadow_pending }, { "nondeterministic", s->shadow_nondeterministic },
            { "skipped", s->shadow_skipped }, { "error", s->shadow_errors } };
        for (size_t k = 0; k < sizeof out / sizeof out[0]; k++) {
            char labels[48];
            snprintf(labels, sizeof labels, ",outcome=\"%s\"", out[k].o);
            sample(t, "segue_shadow_reads", sn[i].name, labels, (double)out[k].v);
        }
    }
}

static void routing_metrics(http_text *t, http_server *srv, const snap *sn, size_t n)
{
    head(t, "segue_routing_age_seconds", "gauge", "how long ago the routing served was "
         "read from the control database");
    for (size_t i = 0; i < n; i++)
        if (sn[i].route_age_ms >= 0)
            sample(t, "segue_routing_age_seconds", sn[i].name, NULL,
                   (double)sn[i].route_age_ms / 1000);
    head(t, "segue_routing_fresh", "gauge", "1 while the routing served is within "
         "serve.max_staleness (0: flag evaluations answer errors)");
    for (size_t i = 0; i < n; i++)
        sample(t, "segue_routing_fresh", sn[i].name, NULL, sn[i].route_fresh);
    head(t, "segue_read_breaker_open", "gauge", "1 while the apply's lag is above "
         "cutover.max_read_lag, so every read goes to the source");
    for (size_t i = 0; i < n; i++)
        sample(t, "segue_read_breaker_open", sn[i].name, NULL,
               sn[i].route_fresh && sn[i].route.read_breaker_open);
    head(t, "segue_ofrep_evaluations_total", "counter",
         "OFREP flag evaluations answered, by flag and reason (or error code)");
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < HTTP_FLAG_N; f++)
            for (int e = 0; e < HTTP_EVAL_N; e++) {
                char labels[96];
                snprintf(labels, sizeof labels, ",flag=\"%s\",reason=\"%s\"",
                         f == HTTP_FLAG_READS ? "reads" : "writes", http_eval_name(e));
                sample(t, "segue_ofrep_evaluations_total", sn[i].name, labels,
                       (double)atomic_load(&srv->migs[i].evals[f][e]));
            }
    head(t, "segue_ofrep_flag_not_found_total", "counter",
         "OFREP evaluations of a flag this service does not serve");
    http_text_add(t, "segue_ofrep_flag_not_found_total %lld\n",
                  (long long)atomic_load(&srv->flag_not_found));
    head(t, "segue_http_responses_total", "counter", "responses by status class");
    static const char *const cls[] = { "2xx", "3xx", "4xx", "5xx", "413", "401" };
    for (int k = 0; k < 6; k++)
        http_text_add(t, "segue_http_responses_total{code=\"%s\"} %lld\n", cls[k],
                      (long long)atomic_load(&srv->requests[k]));
}

/* Per changelog: what waits, and since when. */
static void backlog_metrics(http_text *t, const snap *sn, size_t n)
{
    static const char *const names[2] = { "segue_changelog_backlog",
                                          "segue_changelog_lag_seconds" };
    static const char *const helps[2] = {
        "changes captured and not yet applied, per source table and direction",
        "age of the oldest of them (0 when none)" };
    for (int f = 0; f < 2; f++) {
        head(t, names[f], "gauge", helps[f]);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < sn[i].n_backlog; k++) {
                const sg_backlog *b = &sn[i].backlog[k];
                http_text_add(t, "%s{migration=\"", names[f]);
                http_text_label(t, sn[i].name);
                http_text_add(t, "\",table=\"");
                http_text_label(t, b->table);
                http_text_add(t, "\",direction=\"%s\"} %.17g\n", b->direction,
                              f ? (double)b->lag_ms / 1000 : (double)b->pending);
            }
    }
}

/* The Prometheus buckets of the latency histograms (seconds). */
static const double le_seconds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25, 0.5, 1, 2.5, 5, 10 };

/* The label set migration="m",k1="v1",... (values escaped) into *out,
 * which the caller frees. kv holds n pairs. */
static void label_set(http_text *out, const char *mig, const char *const *kv, size_t n)
{
    *out = (http_text){ 0 };
    http_text_add(out, "migration=\"");
    http_text_label(out, mig);
    http_text_add(out, "\"");
    for (size_t i = 0; i < n; i++) {
        http_text_add(out, ",%s=\"", kv[2 * i]);
        http_text_label(out, kv[2 * i + 1]);
        http_text_add(out, "\"");
    }
}

/* One histogram sample set of name with labels (a label_set) for h (µs). */
static void histogram(http_text *t, const char *name, const char *labels, const sg_hist *h)
{
    size_t nb = sizeof le_seconds / sizeof *le_seconds;
    for (size_t b = 0; b < nb; b++)
        http_text_add(t, "%s_bucket{%s,le=\"%g\"} %lld\n", name, labels, le_seconds[b],
                      (long long)sg_hist_count_at_most(h, (int64_t)(le_seconds[b] * 1e6)));
    http_text_add(t, "%s_bucket{%s,le=\"+Inf\"} %lld\n", name, labels, (long long)h->n);
    http_text_add(t, "%s_sum{%s} %.17g\n", name, labels, sg_hist_sum_us(h) / 1e6);
    http_text_add(t, "%s_count{%s} %lld\n", name, labels, (long long)h->n);
}

/* Every write fence, as a histogram per direction. */
static void fence_metrics(http_text *t, const snap *sn, size_t n)
{
    head(t, "segue_write_fence_seconds", "histogram", "how long each write switch held "
         "the application's writers (to_target: cutover --writes, held the source's; "
         "to_source: a rollback of writes, held the target's)");
    for (size_t i = 0; i < n; i++)
        for (int to_target = 1; to_target >= 0; to_target--) {
            sg_hist h = { 0 };
            for (size_t k = 0; k < sn[i].n_fences; k++)
                if (sn[i].fences[k].to_target == (to_target == 1))
                    sg_hist_add(&h, (int64_t)(sn[i].fences[k].ms * 1000));
            const char *kv[] = { "direction", to_target ? "to_target" : "to_source" };
            http_text l;
            label_set(&l, sn[i].name, kv, 1);
            histogram(t, "segue_write_fence_seconds", l.p ? l.p : "", &h);
            http_text_free(&l);
        }
}

static const char *side_name(int side)
{
    return side == SG_SIDE_TARGET ? "target" : "source";
}

/* What applications reported (sg_router_report, POST /api/v1/events), all
 * processes added up since the migration started. */
static void outcome_metrics(http_text *t, const snap *sn, size_t n)
{
    head(t, "segue_app_operations_total", "counter", "operations applications reported, "
         "by side, query type and outcome");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sn[i].n_outcomes; k++)
            for (int ok = 0; ok < 2; ok++) {
                const sg_outcome *o = &sn[i].outcomes[k];
                const char *kv[] = { "side", side_name(o->side), "kind", o->kind,
                                     "outcome", ok ? "ok" : "error" };
                http_text l;
                label_set(&l, sn[i].name, kv, 3);
                http_text_add(t, "segue_app_operations_total{%s} %lld\n", l.p ? l.p : "",
                              (long long)(ok ? o->ok : o->errors));
                http_text_free(&l);
            }
    head(t, "segue_app_latency_seconds", "histogram", "latency of the operations "
         "applications reported, by side and query type");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sn[i].n_outcomes; k++) {
            const sg_outcome *o = &sn[i].outcomes[k];
            const char *kv[] = { "side", side_name(o->side), "kind", o->kind };
            http_text l;
            label_set(&l, sn[i].name, kv, 2);
            histogram(t, "segue_app_latency_seconds", l.p ? l.p : "", &o->latency);
            http_text_free(&l);
        }
}

/* The busiest query shapes' shadow reads since the start (at most
 * SHADOW_SHAPES per migration: bounded label cardinality). */
static void shape_metrics(http_text *t, const snap *sn, size_t n)
{
    head(t, "segue_shadow_shape_reads_total", "counter", "shadow reads of the busiest query "
         "shapes since the start, by fingerprint and outcome");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sn[i].n_shapes; k++)
            for (int o = 0; o < SG_SHADOW_KINDS; o++) {
                const char *kv[] = { "fingerprint", sn[i].shapes[k].fingerprint, "outcome",
                                     sg_shadow_kind_name((sg_shadow_kind)o) };
                http_text l;
                label_set(&l, sn[i].name, kv, 2);
                http_text_add(t, "segue_shadow_shape_reads_total{%s} %lld\n", l.p ? l.p : "",
                              (long long)sn[i].shapes[k].kinds[o]);
                http_text_free(&l);
            }
    head(t, "segue_shadow_latency_seconds", "histogram", "latency of the busiest query "
         "shapes' shadow reads, per side");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sn[i].n_shapes; k++)
            for (int side = 0; side < 2; side++) {
                const char *kv[] = { "fingerprint", sn[i].shapes[k].fingerprint, "side",
                                     side_name(side) };
                http_text l;
                label_set(&l, sn[i].name, kv, 2);
                histogram(t, "segue_shadow_latency_seconds", l.p ? l.p : "",
                          &sn[i].shapes[k].latency[side]);
                http_text_free(&l);
            }
}

int http_metrics(http_req *r)
{
    http_server *srv = r->srv;
    snap *sn = calloc(srv->n_migs ? srv->n_migs : 1, sizeof *sn);
    if (!sn)
        return http_reply_error(r, 500, "out of memory");
    char err[512];
    for (size_t i = 0; i < srv->n_migs; i++) {
        sn[i].name = srv->migs[i].name;
        sn[i].have_status = http_status_get(srv, i, &sn[i].st, &sn[i].status_age_ms, err,
                                            sizeof err);
        http_routing_get(srv, i, &sn[i].route, &sn[i].route_fresh, &sn[i].route_age_ms,
                         err, sizeof err);
        http_outcomes_get(srv, i, &sn[i].outcomes, &sn[i].n_outcomes);
        http_backlog_get(srv, i, &sn[i].backlog, &sn[i].n_backlog);
        http_shapes_get(srv, i, &sn[i].shapes, &sn[i].n_shapes);
        http_fences_get(srv, i, &sn[i].fences, &sn[i].n_fences);
    }
    http_text t = { 0 };
    head(&t, "segue_info", "gauge", "the segue version serving");
    http_text_add(&t, "segue_info{version=\"%s\"} 1\n", SEGUE_VERSION);
    status_metrics(&t, sn, srv->n_migs);
    routing_metrics(&t, srv, sn, srv->n_migs);
    outcome_metrics(&t, sn, srv->n_migs);
    backlog_metrics(&t, sn, srv->n_migs);
    shape_metrics(&t, sn, srv->n_migs);
    fence_metrics(&t, sn, srv->n_migs);
    for (size_t i = 0; i < srv->n_migs; i++) {
        free(sn[i].fences);
        free(sn[i].outcomes);
        free(sn[i].backlog);
        free(sn[i].shapes);
    }
    free(sn);
    int rc = t.oom ? http_reply_error(r, 500, "out of memory")
                   : http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", t.p,
                                t.len, NULL);
    http_text_free(&t);
    return rc;
}
