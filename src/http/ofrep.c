/* OFREP, the OpenFeature Remote Evaluation Protocol (open-feature/protocol,
 * service/openapi.yaml): POST /ofrep/v1/evaluate/flags/{key} and the bulk
 * POST /ofrep/v1/evaluate/flags with ETag / If-None-Match.
 *
 * Flags per migration: segue.<name>.reads (boolean, true = read from the
 * target, by the targeting key's bucket exactly as sg_route_bucket and
 * `segue route` give it) and segue.<name>.writes ("source" or "target").
 * A routing older than serve.max_staleness is never served: the answer is
 * a GENERAL error, so the SDK returns the application's code default. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "server_int.h"

const char *http_eval_name(http_eval e)
{
    static const char *const names[HTTP_EVAL_N] = {
        "STATIC", "SPLIT", "DISABLED", "TARGETING_KEY_MISSING", "INVALID_CONTEXT",
        "GENERAL", "TARGETING_MATCH" };
    return e < HTTP_EVAL_N ? names[e] : "?";
}

/* One evaluation: a success object, or an error with its HTTP status. */
typedef struct eval {
    json_t *body;
    unsigned status;
} eval;

static eval failure(const char *key, http_eval code, unsigned status, const char *details)
{
    return (eval){ json_pack("{s:s,s:s,s:s}", "key", key, "errorCode", http_eval_name(code),
                             "errorDetails", details), status };
}

/* "segue.<name>.reads" / ".writes": the migration's index and the flag. */
static bool find_flag(http_server *s, const char *key, size_t *mig, int *flag)
{
    static const char *const suffix[HTTP_FLAG_N] = { ".reads", ".writes" };
    size_t n = strlen(key);
    if (strncmp(key, "segue.", 6))
        return false;
    for (int f = 0; f < HTTP_FLAG_N; f++) {
        size_t sl = strlen(suffix[f]);
        if (n <= 6 + sl || strcmp(key + n - sl, suffix[f]))
            continue;
        for (size_t i = 0; i < s->n_migs; i++)
            if (strlen(s->migs[i].name) == n - 6 - sl &&
                !strncmp(key + 6, s->migs[i].name, n - 6 - sl)) {
                *mig = i;
                *flag = f;
                return true;
            }
    }
    return false;
}

static json_t *metadata(const char *name, const sg_route_state *st)
{
    char version[20];
    snprintf(version, sizeof version, "%016llx", (unsigned long long)st->version);
    return json_pack("{s:s,s:f,s:b,s:s,s:s,s:s,s:I}", "migration", name,
                     "readPercent", st->read_pct, "readBreakerOpen", st->read_breaker_open,
                     "writeSide", st->write_side == SG_SIDE_TARGET ? "target" : "source",
                     "phase", st->known ? sg_phase_name(st->phase) : "not started",
                     "routingVersion", version,
                     "maxStalenessSeconds", (json_int_t)(st->max_staleness_ms / 1000));
}

static eval success(const char *key, const char *name, const sg_route_state *st,
                    json_t *value, const char *variant, http_eval reason, json_t *more)
{
    json_t *meta = metadata(name, st);
    if (more) {
        json_object_update(meta, more);
        json_decref(more);
    }
    return (eval){ json_pack("{s:s,s:o,s:s,s:s,s:o,s:b}", "key", key, "value", value,
                             "reason", http_eval_name(reason), "variant", variant,
                             "metadata", meta, "cacheable", 0), 200 };
}

/* The context's string members as attributes (at most n); how many. */
static size_t context_attrs(json_t *ctx, sg_route_attr *attrs, size_t n)
{
    const char *k;
    json_t *v;
    size_t got = 0;
    json_object_foreach(ctx, k, v) {
        if (got < n && json_is_string(v) && strcmp(k, "targetingKey"))
            attrs[got++] = (sg_route_attr){ k, json_string_value(v) };
    }
    return got;
}

/* A segment of cutover.segments that decides the read, answered as a
 * TARGETING_MATCH; false when none does. */
static bool eval_segment(http_server *s, size_t i, const char *key, const sg_route_state *st,
                         json_t *ctx, http_eval *reason, eval *e)
{
    sg_route_attr attrs[32];
    char seg[200];
    int side = SG_SIDE_SOURCE;
    size_t n = context_attrs(ctx, attrs, sizeof attrs / sizeof attrs[0]);
    if (!n || !http_segment_side(s, i, st, attrs, n, &side, seg, sizeof seg))
        return false;
    bool target = side == SG_SIDE_TARGET;
    *reason = HTTP_EVAL_TARGETING_MATCH;
    *e = success(key, s->migs[i].name, st, json_boolean(target), target ? "target" : "source",
                 *reason, json_pack("{s:s}", "segment", seg));
    return true;
}

static eval eval_reads(const char *key, const char *name, const sg_route_state *st,
                       json_t *ctx, http_eval *reason)
{
    json_t *tk = ctx ? json_object_get(ctx, "targetingKey") : NULL;
    if (!tk || json_is_null(tk))
        return *reason = HTTP_EVAL_TARGETING_KEY_MISSING,
               failure(key, *reason, 400, "segue routes reads by the targeting key: "
                       "give context.targetingKey (the user, tenant or row key the "
                       "application routes by)");
    if (!json_is_string(tk))
        return *reason = HTTP_EVAL_INVALID_CONTEXT,
               failure(key, *reason, 400, "context.targetingKey must be a string");
    uint32_t bucket = sg_route_bucket(st->salt, json_string_value(tk), json_string_length(tk));
    /* the router's state already says 0 % when not started, 100 % once
     * cleaned up */
    bool target = sg_route_reads_target(bucket, st->read_pct);
    if (!st->known || st->phase == SG_PHASE_CLEANED)
        *reason = HTTP_EVAL_DISABLED;
    else
        *reason = st->read_pct <= 0 || st->read_pct >= 100 ? HTTP_EVAL_STATIC
                                                           : HTTP_EVAL_SPLIT;
    return success(key, name, st, json_boolean(target), target ? "target" : "source",
                   *reason, json_pack("{s:i}", "bucket", (int)bucket));
}

static eval eval_writes(const char *key, const char *name, const sg_route_state *st,
                        http_eval *reason)
{
    bool target = st->write_side == SG_SIDE_TARGET;
    *reason = !st->known || st->phase == SG_PHASE_CLEANED ? HTTP_EVAL_DISABLED
                                                          : HTTP_EVAL_STATIC;
    const char *side = target ? "target" : "source";
    return success(key, name, st, json_string(side), side, *reason, NULL);
}

/* Flag `flag` of migration i for context ctx (may be NULL). */
static eval evaluate(http_server *s, size_t i, int flag, const char *key, json_t *ctx)
{
    sg_route_state st;
    bool fresh;
    int64_t age;
    char err[512];
    http_routing_get(s, i, &st, &fresh, &age, err, sizeof err);
    http_eval reason;
    eval e;
    if (!fresh) {
        char details[768];
        if (age < 0)
            snprintf(details, sizeof details, "no routing read yet: %s", err);
        else
            snprintf(details, sizeof details, "routing not read for %.1f s, past "
                     "serve.max_staleness (%lld s): %s", (double)age / 1000,
                     (long long)(st.max_staleness_ms / 1000), err);
        reason = HTTP_EVAL_GENERAL;
        e = failure(key, reason, 500, details);
    } else if (flag == HTTP_FLAG_READS) {
        if (!ctx || !eval_segment(s, i, key, &st, ctx, &reason, &e))
            e = eval_reads(key, s->migs[i].name, &st, ctx, &reason);
    } else {
        e = eval_writes(key, s->migs[i].name, &st, &reason);
    }
    atomic_fetch_add(&s->migs[i].evals[flag][reason], 1);
    return e;
}

/* The request's body as OFREP's {"context": {...}}; NULL context when the
 * body is empty or has none. False with *bad set when it is not that. */
static bool read_context(http_req *r, json_t **doc, json_t **ctx, const char **code,
                         char *why, size_t why_len)
{
    *doc = *ctx = NULL;
    if (!r->len)
        return true;
    json_error_t je;
    *doc = json_loadb(r->body, r->len, 0, &je);
    *code = "PARSE_ERROR";
    if (!*doc)
        return snprintf(why, why_len, "the body is not JSON: %s (line %d, column %d)",
                        je.text, je.line, je.column), false;
    if (!json_is_object(*doc))
        return snprintf(why, why_len, "the body must be a JSON object "
                        "{\"context\": {...}}"), false;
    *ctx = json_object_get(*doc, "context");
    *code = "INVALID_CONTEXT";
    if (*ctx && !json_is_object(*ctx) && !json_is_null(*ctx))
        return snprintf(why, why_len, "context must be an object"), false;
    if (json_is_null(*ctx))
        *ctx = NULL;
    return true;
}

/* read_context(); when the body is not that, queues the 400 (naming the
 * flag `key` when there is one) and returns false with MHD's result in *rc. */
static bool take_context(http_req *r, const char *key, json_t **doc, json_t **ctx, int *rc)
{
    const char *code;
    char why[320];
    if (read_context(r, doc, ctx, &code, why, sizeof why))
        return true;
    json_decref(*doc);
    json_t *body = json_pack("{s:s,s:s}", "errorCode", code, "errorDetails", why);
    if (key)
        json_object_set_new(body, "key", json_string(key));
    *rc = http_reply_json(r, 400, body);
    return false;
}

int http_ofrep_single(http_req *r, const char *key)
{
    json_t *doc, *ctx;
    int rc;
    if (!take_context(r, key, &doc, &ctx, &rc))
        return rc;
    size_t mig;
    int flag;
    if (!find_flag(r->srv, key, &mig, &flag)) {
        json_decref(doc);
        atomic_fetch_add(&r->srv->flag_not_found, 1);
        return http_reply_json(r, 404, json_pack("{s:s,s:s,s:s}", "key", key, "errorCode",
            "FLAG_NOT_FOUND", "errorDetails", "segue serves segue.<migration>.reads and "
            "segue.<migration>.writes for the migrations it was started with"));
    }
    eval e = evaluate(r->srv, mig, flag, key, ctx);
    json_decref(doc);
    return http_reply_json(r, e.status, e.body);
}

/* Whether If-None-Match names etag (a list, or "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '*' || (!strncmp(p, etag, n) && (p[n] == ',' || p[n] == ' ' || !p[n])))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

int http_ofrep_bulk(http_req *r)
{
    json_t *doc, *ctx;
    int rc;
    if (!take_context(r, NULL, &doc, &ctx, &rc))
        return rc;
    json_t *flags = json_array();
    for (size_t i = 0; i < r->srv->n_migs; i++)
        for (int f = 0; f < HTTP_FLAG_N; f++) {
            char key[300];
            snprintf(key, sizeof key, "segue.%s.%s", r->srv->migs[i].name,
                     f == HTTP_FLAG_READS ? "reads" : "writes");
            json_array_append_new(flags, evaluate(r->srv, i, f, key, ctx).body);
        }
    json_decref(doc);
    json_t *all = json_pack("{s:o}", "flags", flags);
    char *text = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    if (!text)
        return http_reply_error(r, 500, "out of memory");
    char etag[24];
    snprintf(etag, sizeof etag, "\"%016llx\"",
             (unsigned long long)XXH3_64bits(text, strlen(text)));
    rc = etag_matches(http_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)
                 ? http_reply(r, MHD_HTTP_NOT_MODIFIED, NULL, NULL, 0, etag)
                 : http_reply(r, MHD_HTTP_OK, "application/json", text, strlen(text), etag);
    free(text);
    return rc;
}
