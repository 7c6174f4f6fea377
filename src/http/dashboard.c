/* GET /: the consistency dashboard. One server-rendered page, readable
 * without JavaScript, that loads nothing from the network: per migration
 * the routing and gate state, inline SVG charts of the last hour, a table
 * per mapping (the same figures as /api/v1/consistency), the shadow reads
 * and the tail of the audit log. It refreshes itself every 5 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"
#include "text.h"

static void esc(http_text *t, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': http_text_add(t, "&amp;"); break;
        case '<': http_text_add(t, "&lt;"); break;
        case '>': http_text_add(t, "&gt;"); break;
        case '"': http_text_add(t, "&quot;"); break;
        default: http_text_add(t, "%c", *s);
        }
}

/* ms since the epoch as "2026-12-03 06:10:02 UTC", or "never". */
static void when(http_text *t, int64_t ms)
{
    if (!ms) {
        http_text_add(t, "never");
        return;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    http_text_add(t, "%s", buf);
}

typedef double (*series_fn)(const http_sample *p, const http_sample *prev);

static double s_lag(const http_sample *p, const http_sample *q) { (void)q; return p->lag_s; }
static double s_heartbeat(const http_sample *p, const http_sample *q)
{
    (void)q;
    return p->heartbeat_lag_s < 0 ? 0 : p->heartbeat_lag_s;
}
static double s_backlog(const http_sample *p, const http_sample *q)
{
    (void)q;
    return (double)p->backlog;
}
static double s_rows(const http_sample *p, const http_sample *q) { (void)q; return (double)p->rows; }
static double s_shadow(const http_sample *p, const http_sample *q)
{
    (void)q;
    return p->shadow_mismatch_rate < 0 ? 0 : p->shadow_mismatch_rate;
}
static double err_rate(const http_sample *p, const http_sample *q, int side)
{
    int64_t ops = q ? p->app_ops[side] - q->app_ops[side] : 0;
    return ops > 0 ? (double)(p->app_errors[side] - q->app_errors[side]) / (double)ops : 0;
}
static double s_err_src(const http_sample *p, const http_sample *q) { return err_rate(p, q, 0); }
static double s_err_tgt(const http_sample *p, const http_sample *q) { return err_rate(p, q, 1); }

/* An inline SVG line chart of fn over the last hour of samples. */
static void chart(http_text *t, const char *title, const http_sample *v, size_t n, series_fn fn,
                  int64_t now_ms)
{
    enum { W = 300, H = 70 };
    double max = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        double y = fn(&v[i], i ? &v[i - 1] : NULL);
        max = y > max ? y : max;
        last = y;
    }
    http_text_add(t, "<figure><figcaption>%s: <b>%.4g</b> (max %.4g)</figcaption>"
                  "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
                  "<rect width=\"%d\" height=\"%d\" class=\"bg\"/><polyline points=\"",
                  title, last, max, W, H, W, H, W, H);
    for (size_t i = 0; i < n; i++) {
        double x = (double)W * (1.0 - (double)(now_ms - v[i].at_ms) / 3600000.0);
        double y = fn(&v[i], i ? &v[i - 1] : NULL);
        http_text_add(t, "%.1f,%.1f ", x < 0 ? 0 : x, (double)H - 4 - (max > 0 ? y / max : 0) * (H - 8));
    }
    http_text_add(t, "\"/></svg></figure>\n");
}

static void charts(http_text *t, http_server *s, size_t i, int64_t now_ms)
{
    http_sample *v = malloc(HTTP_SAMPLES * sizeof *v);
    if (!v)
        return;
    size_t n = http_samples_get(s, i, v);
    http_text_add(t, "<div class=\"charts\">\n");
    chart(t, "lag (s)", v, n, s_lag, now_ms);
    chart(t, "heartbeat lag (s)", v, n, s_heartbeat, now_ms);
    chart(t, "backlog (changes)", v, n, s_backlog, now_ms);
    chart(t, "rows copied", v, n, s_rows, now_ms);
    chart(t, "shadow mismatch rate", v, n, s_shadow, now_ms);
    chart(t, "error rate, source", v, n, s_err_src, now_ms);
    chart(t, "error rate, target", v, n, s_err_tgt, now_ms);
    http_text_add(t, "</div>\n");
    free(v);
}

static void cell_int(http_text *t, const char *field, int64_t v)
{
    http_text_add(t, "<td data-field=\"%s\">%lld</td>", field, (long long)v);
}

/* A cell of escaped text; field names it for tests (NULL: none). */
static void cell_text(http_text *t, const char *field, const char *text)
{
    if (field)
        http_text_add(t, "<td data-field=\"%s\">", field);
    else
        http_text_add(t, "<td>");
    esc(t, text);
    http_text_add(t, "</td>");
}

static void cell_when(http_text *t, const char *field, int64_t ms)
{
    http_text_add(t, "<td data-field=\"%s\">", field);
    when(t, ms);
    http_text_add(t, "</td>");
}

static void mapping_table(http_text *t, http_server *s, size_t i)
{
    sg_consistency *c;
    size_t n;
    http_cons_get(s, i, &c, &n);
    http_text_add(t, "<table class=\"consistency\"><thead><tr><th>mapping</th><th>source rows"
                  "</th><th>target rows</th><th>&Delta; source</th><th>&Delta; target</th>"
                  "<th>chunks differing</th><th>differences</th><th>keys</th><th>set aside"
                  "</th><th>checked</th><th>last full reconciliation</th></tr></thead><tbody>\n");
    for (size_t k = 0; k < n; k++) {
        http_text_add(t, "<tr class=\"%s\">", c[k].differences || c[k].set_aside ? "bad"
                                                                                : "good");
        cell_text(t, "mapping", c[k].mapping);
        cell_int(t, "source_rows", c[k].source_rows);
        cell_int(t, "target_rows", c[k].target_rows);
        cell_int(t, "source_delta", c[k].source_delta);
        cell_int(t, "target_delta", c[k].target_delta);
        cell_int(t, "chunks_differing", c[k].chunks_differing);
        cell_int(t, "differences", c[k].differences);
        cell_text(t, "keys", c[k].keys);
        cell_int(t, "set_aside", c[k].set_aside);
        cell_when(t, "checked_at", c[k].checked_at_ms);
        cell_when(t, "last_full_clean", c[k].last_full_clean_ms);
        http_text_add(t, "</tr>\n");
    }
    http_text_add(t, "</tbody></table>\n");
    free(c);
}

static void state_line(http_text *t, http_server *s, size_t i)
{
    sg_status st;
    int64_t age;
    char err[512];
    sg_route_state rt;
    bool fresh;
    int64_t rage;
    char rerr[512];
    http_routing_get(s, i, &rt, &fresh, &rage, rerr, sizeof rerr);
    if (!http_status_get(s, i, &st, &age, err, sizeof err)) {
        http_text_add(t, "<p class=\"bad\">status not read: ");
        esc(t, err);
        http_text_add(t, "</p>\n");
        return;
    }
    char hb[32] = "none";
    if (st.heartbeat_lag_ms >= 0)
        snprintf(hb, sizeof hb, "%.3f s", (double)st.heartbeat_lag_ms / 1000);
    http_text_add(t, "<p class=\"state\">phase <b data-field=\"phase\">%s</b> &middot; reads "
                  "to target <b data-field=\"read_pct\">%g %%</b> &middot; writes to <b>%s</b>"
                  " &middot; worker <b class=\"%s\">%s</b> &middot; lag <b>%.3f s</b> (%lld "
                  "pending) &middot; heartbeat lag <b data-field=\"heartbeat_lag\">%s</b> "
                  "&middot; routing <b class=\"%s\">%s</b> &middot; last verify: ",
                  sg_phase_name(st.phase), st.read_pct,
                  st.write_side == SG_SIDE_TARGET ? "target" : "source",
                  st.worker_alive ? "good" : "bad", st.worker_alive ? "running" : "none",
                  (double)st.lag_ms / 1000, (long long)st.pending_changes, hb,
                  fresh ? "good" : "bad", fresh ? "fresh" : "stale: flags answer errors");
    when(t, st.verify_at_ms);
    http_text_add(t, ", %lld differences &middot; set aside <b>%lld</b></p>\n",
                  (long long)st.verify_differences, (long long)st.set_aside);
    http_text_add(t, "<p class=\"shadow\">shadow reads (window %lld s): %lld compared, "
                  "%lld mismatches, %lld pending; worst: ", (long long)st.shadow_window_ms / 1000,
                  (long long)st.shadow_compared, (long long)st.shadow_mismatches,
                  (long long)st.shadow_pending);
    esc(t, *st.shadow_worst ? st.shadow_worst : "none");
    http_text_add(t, "</p>\n");
}

static void audit_table(http_text *t, http_server *s, size_t i)
{
    http_audit a[HTTP_AUDIT_TAIL];
    size_t n = http_audit_get(s, i, a);
    http_text_add(t, "<details open><summary>audit log (latest %zu)</summary><table "
                  "class=\"audit\"><tr><th>at</th><th>who</th><th>action</th><th>phase</th>"
                  "<th>detail</th><th>reason</th></tr>\n", n);
    for (size_t k = n; k-- > 0;) {
        char move[64] = "";
        if (*a[k].to)
            snprintf(move, sizeof move, "%s \xe2\x86\x92 %s", a[k].from, a[k].to);
        http_text_add(t, "<tr>");
        cell_text(t, NULL, a[k].at);
        cell_text(t, NULL, a[k].who);
        cell_text(t, NULL, a[k].action);
        cell_text(t, NULL, move);
        cell_text(t, NULL, a[k].detail);
        cell_text(t, NULL, a[k].reason);
        http_text_add(t, "</tr>\n");
    }
    http_text_add(t, "</table></details>\n");
}

static const char style[] =
    "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h2{margin-bottom:.2em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
    "text-align:right}td:first-child,th:first-child{text-align:left}.good{color:#176b2c}"
    ".bad{color:#b00020;font-weight:bold}tr.bad td{background:#fde7ea}.charts{display:flex;"
    "flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:12px}.bg{fill:#f6f6f6}"
    "polyline{fill:none;stroke:#3060c0;stroke-width:1.5}.audit td{text-align:left;"
    "font-size:12px}";

int http_dashboard(http_req *r)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    http_text t = { 0 };
    http_text_add(&t, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta http-equiv=\"refresh\" content=\"5\"><title>segue</title><style>%s"
                  "</style></head><body>\n<h1>segue %s</h1><p>as of ", style, SEGUE_VERSION);
    when(&t, now_ms);
    http_text_add(&t, "; refreshes every 5 s; the same data as JSON under <a href=\"/api/v1/"
                  "consistency\">/api/v1/</a>, metrics at <a href=\"/metrics\">/metrics</a>"
                  "</p>\n");
    for (size_t i = 0; i < r->srv->n_migs; i++) {
        http_text_add(&t, "<section data-migration=\"");
        esc(&t, r->srv->migs[i].name);
        http_text_add(&t, "\"><h2>");
        esc(&t, r->srv->migs[i].name);
        http_text_add(&t, "</h2>\n");
        state_line(&t, r->srv, i);
        charts(&t, r->srv, i, now_ms);
        mapping_table(&t, r->srv, i);
        audit_table(&t, r->srv, i);
        http_text_add(&t, "</section>\n");
    }
    http_text_add(&t, "</body></html>\n");
    int rc = t.oom ? http_reply_error(r, 500, "out of memory")
                   : http_reply(r, 200, "text/html; charset=utf-8", t.p, t.len, NULL);
    http_text_free(&t);
    return rc;
}
