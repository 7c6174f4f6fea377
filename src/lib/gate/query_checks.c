/* The checks that ask someone else (gate.h): the spec's own SQL on the
 * target, read-only, and a PromQL instant query over Prometheus' HTTP API
 * (https://prometheus.io/docs/prometheus/latest/querying/api/). A query
 * that fails is a failing check with its reason, never an error of the
 * evaluation. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "check/sqlparse.h"
#include "driver/driver.h"
#include "gate/gate.h"

#define PROMETHEUS_TIMEOUT_MS 5000
#define PROMETHEUS_MAX_BYTES (4 << 20)
#define SQL_LOCK_WAIT_MS 5000
/* The longest a gate query runs (ms). */
#define SQL_TIMEOUT_MS 5000

static void judged(sg_gate_check *g, double v, double max)
{
    g->value = v;
    g->limit = max;
    snprintf(g->unit, sizeof g->unit, "value");
    g->state = isnan(v) ? SG_GATE_INCONCLUSIVE : v <= max ? SG_GATE_PASS : SG_GATE_FAIL;
}

static void failed(sg_gate_check *g, double max, const char *why)
{
    judged(g, NAN, max);
    g->state = SG_GATE_FAIL;
    snprintf(g->detail, sizeof g->detail, "%s", why);
}

/* A number from the first column of a row: an integer, a real, or text
 * that reads whole as one; else NAN. */
static double number_of(const sg_value *v)
{
    char text[64], *end = NULL;
    switch (v->type) {
    case SG_V_INT:
    case SG_V_BOOL:
        return (double)v->i;
    case SG_V_REAL:
        return v->d;
    case SG_V_NUMERIC:
    case SG_V_TEXT:
        if (v->n == 0 || v->n >= sizeof text)
            return NAN;
        memcpy(text, v->p, v->n);
        text[v->n] = '\0';
        double d = strtod(text, &end);
        return *end ? NAN : d;
    default:
        return NAN;
    }
}

/* The read-only session the check keeps on the handle. */
static int gate_conn(sg_migration *m, sg_conn **out, sg_err *err)
{
    if (!m->gate_conn) {
        int rc = sg_db_open(&m->gate_conn, m->spec->target, "target",
                            SG_DB_READ_ONLY, err);
        if (!rc)
            rc = sg_db_lock_wait(m->gate_conn, SQL_LOCK_WAIT_MS, err);
        /* a slow query fails its check, never holds the rollout's
         * evaluation (and a rollback behind it) */
        if (!rc)
            rc = sg_db_statement_timeout(m->gate_conn, SQL_TIMEOUT_MS, err);
        if (rc) {
            sg_gate_close(m);
            return rc;
        }
    }
    *out = m->gate_conn;
    return 0;
}

void sg_gate_close(sg_migration *m)
{
    sg_db_close(m->gate_conn);
    m->gate_conn = NULL;
}

/* The query's single value, or the reason there is none in err. */
static int run_sql(sg_migration *m, const char *sql, double *v, sg_err *err)
{
    sg_conn *c = NULL;
    sg_stmt *s = NULL;
    sg_value val;
    int rc = gate_conn(m, &c, err);
    if (!rc)
        rc = sg_db_prepare(c, sql, &s, err);
    int step = rc ? 0 : sg_db_step(s, err);
    if (rc || step < 0) {
        rc = rc ? rc : SG_EDB;
        goto done;
    }
    if (step == 0 || sg_db_column_count(s) != 1) {
        rc = sg_err_set(err, SG_EINVAL, "the gate query returned %s; hint: "
                        "return one row with one number", step == 0 ? "no row"
                        : "more than one column");
        goto done;
    }
    sg_db_column(s, 0, &val);
    *v = number_of(&val);
    if (isnan(*v))
        rc = sg_err_set(err, SG_EINVAL, "the gate query's value is %s, not a number",
                        val.type == SG_V_NULL ? "NULL" : "text");
done:
    sg_db_finalize(s);
    if (rc && c && sg_db_lost(c))
        sg_gate_close(m);
    return rc;
}

int sg_gate_sql(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    sg_sqlparse parsed;
    sg_err err = { 0 };
    double v = NAN;
    char why[sizeof g->detail];
    memset(&parsed, 0, sizeof parsed);
    snprintf(g->needs, sizeof g->needs, "at most %g", c->max);
    /* a statement PostgreSQL's grammar does not read (SQLite's own syntax)
     * is left to the read-only session to refuse */
    if (!sg_sqlparse_read(c->query, &parsed, &err) && !parsed.read_only) {
        snprintf(why, sizeof why, "the gate query is not a read (%s); hint: gates "
                 "run one SELECT that changes nothing", parsed.why ? parsed.why : "?");
        failed(g, c->max, why);
        sg_sqlparse_free(&parsed);
        return 0;
    }
    sg_sqlparse_free(&parsed);
    if (run_sql(m, c->query, &v, &err)) {
        snprintf(why, sizeof why, "the gate query failed: %.170s", err.msg);
        failed(g, c->max, why);
        return 0;
    }
    snprintf(g->detail, sizeof g->detail, "the gate query returned %g", v);
    judged(g, v, c->max);
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    sg_buf *b = ud;
    sg_buf_putn(b, p, size * n);
    return sg_buf_failed(b) ? 0 : size * n;
}

/* GET <url>/api/v1/query?query=...; the body in b, or why not in why. */
static int prometheus_get(const sg_spec_check *c, sg_buf *b, char *why, size_t n)
{
    CURL *h = curl_easy_init();
    char *q = h ? curl_easy_escape(h, c->query, 0) : NULL;
    sg_buf url = SG_BUF_INIT;
    long status = 0;
    int rc = -1;
    if (!q) {
        snprintf(why, n, "out of memory");
        goto done;
    }
    sg_buf_printf(&url, "%s%sapi/v1/query?query=%s", c->url,
                  c->url[strlen(c->url) - 1] == '/' ? "" : "/", q);
    curl_easy_setopt(h, CURLOPT_URL, sg_buf_str(&url));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)PROMETHEUS_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        snprintf(why, n, "Prometheus at %s did not answer: %s", c->url,
                 curl_easy_strerror(cc));
    else if (status != 200)
        snprintf(why, n, "Prometheus at %s answered HTTP %ld: %.120s", c->url, status,
                 sg_buf_str(b));
    else
        rc = 0;
done:
    curl_free(q);
    sg_buf_free(&url);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

/* [time, "value"] -> the value */
static double sample_value(json_t *pair)
{
    const char *s = json_string_value(json_array_get(pair, 1));
    char *end = NULL;
    double d = s ? strtod(s, &end) : NAN;
    return s && *s && !*end ? d : NAN;
}

/* The largest value of the answer (a scalar, or a vector's series); *series
 * counts them. -1 with why when the answer is not one of those. */
static int prometheus_value(const char *body, double *v, size_t *series, char *why,
                            size_t n)
{
    json_error_t je;
    json_t *root = json_loads(body, 0, &je), *data = json_object_get(root, "data");
    const char *type = json_string_value(json_object_get(data, "resultType"));
    json_t *result = json_object_get(data, "result");
    int rc = 0;
    *v = NAN;
    *series = 0;
    if (type && !strcmp(type, "scalar")) {
        *v = sample_value(result);
        *series = 1;
    } else if (type && !strcmp(type, "vector")) {
        size_t i;
        json_t *e;
        json_array_foreach(result, i, e) {
            double x = sample_value(json_object_get(e, "value"));
            if (isnan(*v) || x > *v)
                *v = x;
            (*series)++;
        }
    } else {
        snprintf(why, n, "Prometheus answered %s; hint: the query must give a "
                 "scalar or an instant vector", type ? type : "something unreadable");
        rc = -1;
    }
    json_decref(root);
    return rc;
}

int sg_gate_prometheus(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    sg_buf body = SG_BUF_INIT;
    char why[sizeof g->detail];
    double v = NAN;
    body.cap = PROMETHEUS_MAX_BYTES;
    size_t series = 0;
    (void)m;
    snprintf(g->needs, sizeof g->needs, "at most %g", c->max);
    if (prometheus_get(c, &body, why, sizeof why) ||
        prometheus_value(sg_buf_str(&body), &v, &series, why, sizeof why)) {
        failed(g, c->max, why);
    } else {
        if (series == 0)
            snprintf(g->detail, sizeof g->detail, "the query gave no series (nothing "
                     "to judge yet)");
        else
            snprintf(g->detail, sizeof g->detail, "the query gave %g%s", v,
                     series > 1 ? " (the largest of its series)" : "");
        judged(g, v, c->max);
    }
    sg_buf_free(&body);
    return 0;
}
