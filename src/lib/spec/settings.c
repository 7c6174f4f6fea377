#include "spec/settings.h"

#include <stdio.h>
#include <string.h>

#include "spec/spec.h"

static const sg_setting table[] = {
    { "backfill", "chunk_time", SG_SETTING_DURATION, 10, 60000, 500,
      offsetof(sg_spec, chunk_time_ms),
      "time each backfill chunk aims at; the chunk size adapts to it", 0, 0, 0, NULL, false },
    { "backfill", "max_rows_per_second", SG_SETTING_INT, 0, INT64_MAX, 0,
      offsetof(sg_spec, max_rows_per_second),
      "cap on backfill rows per second; 0 means no cap", 0, 0, 0, NULL, false },
    { "backfill", "pause", SG_SETTING_DURATION, 0, 10000, 100,
      offsetof(sg_spec, pause_ms),
      "longest pause between chunks when source and target are one "
      "database: segue pauses as long as a writer that waited through the "
      "chunk needs to get the write lock (SQLite: its busy handler's "
      "current retry step), at most this", 0, 0, 0, NULL, false },
    { "worker", "lease_ttl", SG_SETTING_DURATION, 1000, 600000, 10000,
      offsetof(sg_spec, lease_ttl_ms),
      "how long a worker's lease lasts without renewal before another "
      "worker may take it over", 0, 0, 0, NULL, false },
    { "worker", "idle_timeout", SG_SETTING_DURATION, 1000, 86400000, 60000,
      offsetof(sg_spec, idle_timeout_ms),
      "how long a segue session may sit in an open transaction with "
      "nothing to do (its process stopped or frozen) before the server "
      "ends it and frees its locks (PostgreSQL: "
      "idle_in_transaction_session_timeout)", 0, 0, 0, NULL, false },
    { "worker", "heartbeat", SG_SETTING_DURATION, 0, 60000, 1000,
      offsetof(sg_spec, heartbeat_ms),
      "how often the worker writes a heartbeat row on the source while "
      "changes flow forward; its arrival in the target gives the heartbeat "
      "lag; 0: no heartbeat (no table of segue's beside the source's)", 0, 0, 0, NULL, false },
    { "gates", "verify_max_age", SG_SETTING_DURATION, 1000, 2592000000LL, 3600000,
      offsetof(sg_spec, checks[SG_CHECK_VERIFY_CLEAN].within_ms),
      "the older spelling of gates.checks.verify_clean.within", 0, 0, 0, NULL, false },
    { "gates", "max_lag", SG_SETTING_DURATION, 0, 3600000, 1000,
      offsetof(sg_spec, checks[SG_CHECK_LAG].max_ms),
      "the older spelling of gates.checks.lag.max", 0, 0, 0, NULL, false },
    { "gates", "interval", SG_SETTING_DURATION, 100, 3600000, 30000,
      offsetof(sg_spec, gate_interval_ms),
      "how often `segue run` evaluates every check during a rollout and "
      "records each evaluation", 0, 0, 0, NULL, false },
    { "gates", "failure_limit", SG_SETTING_INT, 1, 1000, 3,
      offsetof(sg_spec, failure_limit),
      "consecutive failing evaluations of one check that trigger on_fail",
      0, 0, 0, NULL, false },
    { "gates", "on_fail", SG_SETTING_CHOICE, 0, 1, SG_ON_FAIL_ROLLBACK,
      offsetof(sg_spec, on_fail),
      "what `segue run` does past failure_limit with cutover.auto: roll back "
      "(reads to 0 %, writes back to the source) or pause", 0, 0, 0,
      .choices = "rollback|pause" },
    { "gates.shadow", "window", SG_SETTING_DURATION, 60000, 86400000, 900000,
      offsetof(sg_spec, checks[SG_CHECK_SHADOW_MISMATCH_RATE].window_ms),
      "the older spelling of gates.checks.shadow_mismatch_rate.window", 0, 0, 0, NULL, false },
    { "gates.shadow", "min_reads", SG_SETTING_INT, 1, INT64_MAX, 1000,
      offsetof(sg_spec, checks[SG_CHECK_SHADOW_MISMATCH_RATE].min_samples),
      "the older spelling of gates.checks.shadow_mismatch_rate.min_samples",
      0, 0, 0, NULL, false },
    { "gates.shadow", "max_mismatch_rate", SG_SETTING_REAL, 0, 0, 0,
      offsetof(sg_spec, checks[SG_CHECK_SHADOW_MISMATCH_RATE].max),
      "the older spelling of gates.checks.shadow_mismatch_rate.max", 0, 1, 0, NULL, false },
    { "gates.shadow", "max_p99_ratio", SG_SETTING_REAL, 0, 0, 0,
      offsetof(sg_spec, checks[SG_CHECK_SHADOW_MISMATCH_RATE].max_p99_ratio),
      "the older spelling of gates.checks.shadow_mismatch_rate.max_p99_ratio",
      0, 1000, 0, NULL, false },
    { "cutover", "auto", SG_SETTING_BOOL, 0, 1, 0,
      offsetof(sg_spec, cutover_auto),
      "`segue run` walks cutover.reads by itself; false: the gates are "
      "evaluated and shown, a person moves each step", 0, 0, 0, NULL, false },
    { "cutover", "bake", SG_SETTING_DURATION, 0, 2592000000LL, 0,
      offsetof(sg_spec, bake_ms),
      "after the write cutover the source stays current through the reverse "
      "path this long; cleanup is refused until it ends", 0, 0, 0, NULL, false },
    { "cutover", "max_read_lag", SG_SETTING_DURATION, 0, 3600000, 0,
      offsetof(sg_spec, max_read_lag_ms),
      "while the lag is above this, every router sends reads to the source "
      "(read-your-writes); 0: off", 0, 0, 0, NULL, false },
    { "cutover", "read_your_writes", SG_SETTING_BOOL, 0, 1, 0,
      offsetof(sg_spec, read_your_writes),
      "`start` indexes the changelog by key, so that the C API's router can send a "
      "row's reads to the source while it has a change pending "
      "(sg_router_read_side_row); each captured change pays one more index entry",
      0, 0, 0, NULL, false },
    { "cutover.writes", "auto", SG_SETTING_BOOL, 0, 1, 0,
      offsetof(sg_spec, writes_auto),
      "`segue run` moves the writes after the last read step's hold", 0, 0, 0, NULL, false },
    { "cutover.writes", "max_fence", SG_SETTING_DURATION, 100, 60000, 2000,
      offsetof(sg_spec, max_fence_ms),
      "an automatic write move gives up (and writes stay) when the write "
      "fence would last longer than this", 0, 0, 0, NULL, false },
    { "verify", "every", SG_SETTING_DURATION, 0, 604800000LL, 0,
      offsetof(sg_spec, verify_every_ms),
      "continuous reconciliation: `segue run` starts a verify pass this long "
      "after the last one ended, in the background; 0: none", 0, 0, 0, NULL, false },
    { "verify", "max_rows_per_second", SG_SETTING_INT, 0, INT64_MAX, 0,
      offsetof(sg_spec, verify_max_rows_per_second),
      "cap on the rows per second (each side) a background verify pass "
      "reads; 0 means no cap", 0, 0, 0, NULL, false },
    { "serve", "refresh", SG_SETTING_DURATION, 50, 60000, 250,
      offsetof(sg_spec, serve_refresh_ms),
      "how often `segue serve` and the C API's router read the routing "
      "(the longest an application follows a cutover late)", 0, 0, 0, NULL, false },
    { "serve", "max_staleness", SG_SETTING_DURATION, 0, 3600000, 30000,
      offsetof(sg_spec, serve_max_staleness_ms),
      "while the control database cannot be read, routing is answered from "
      "the last read for at most this long, then as an error (the "
      "application's code default): never a guess", 0, 0, 0, NULL, false },
};

#define CHECK_AT(field) offsetof(sg_spec_check, field)

/* The gate checks, in sg_check_kind order. */
static const char *const check_names[SG_CHECK_COUNT] = {
    "verify_clean", "lag", "heartbeat_lag", "shadow_mismatch_rate",
    "error_rate", "latency_ratio", "set_aside_keys", "sql", "prometheus",
};

static const sg_setting check_table[] = {
    { "gates.checks.verify_clean", "within", SG_SETTING_DURATION, 1000,
      2592000000LL, 3600000, CHECK_AT(within_ms),
      "the last verify found no difference and ended no longer ago than "
      "this (a step may not wait on a verify older than its data)", 0, 0, 0, NULL, false },
    { "gates.checks.lag", "max", SG_SETTING_DURATION, 0, 3600000, 1000,
      CHECK_AT(max_ms), "the oldest pending change is younger than this",
      0, 0, 0, NULL, false },
    { "gates.checks.heartbeat_lag", "max", SG_SETTING_DURATION, 0, 3600000,
      2000, CHECK_AT(max_ms),
      "the last heartbeat's transit to the target (growing while none "
      "arrives) is at most this", 0, 0, 0, NULL, false },
    { "gates.checks.shadow_mismatch_rate", "max", SG_SETTING_REAL, 0, 0, 0,
      CHECK_AT(max),
      "the largest share of compared shadow reads that may mismatch "
      "(order-only too)", 0, 1, 0, NULL, false },
    { "gates.checks.shadow_mismatch_rate", "window", SG_SETTING_DURATION, 60000,
      86400000, 900000, CHECK_AT(window_ms),
      "the shadow reads judged are those recorded over this window", 0, 0, 0, NULL, false },
    { "gates.checks.shadow_mismatch_rate", "min_samples", SG_SETTING_INT, 1,
      INT64_MAX, 1000, CHECK_AT(min_samples),
      "fewer compared reads in the window: inconclusive", 0, 0, 0, NULL, false },
    { "gates.checks.shadow_mismatch_rate", "max_p99_ratio", SG_SETTING_REAL, 0,
      0, 0, CHECK_AT(max_p99_ratio),
      "the largest target/source p99 latency ratio of those shadow reads; "
      "0: not judged", 0, 1000, 0, NULL, false },
    { "gates.checks.error_rate", "side", SG_SETTING_CHOICE, 0, 1, 1,
      CHECK_AT(side),
      "the side whose reported application outcomes are judged", 0, 0, 0,
      .choices = "source|target" },
    { "gates.checks.error_rate", "max", SG_SETTING_REAL, 0, 0, 0,
      CHECK_AT(max),
      "the largest share of failed operations on that side", 0, 1, 0,
      .required = true },
    { "gates.checks.error_rate", "window", SG_SETTING_DURATION, 60000, 86400000,
      300000, CHECK_AT(window_ms),
      "the outcomes judged are those reported over this window", 0, 0, 0, NULL, false },
    { "gates.checks.error_rate", "min_samples", SG_SETTING_INT, 1, INT64_MAX,
      500, CHECK_AT(min_samples),
      "fewer outcomes on that side in the window: inconclusive", 0, 0, 0, NULL, false },
    { "gates.checks.latency_ratio", "percentile", SG_SETTING_INT, 1, 99, 99,
      CHECK_AT(percentile),
      "the latency percentile compared, from the reported outcomes", 0, 0, 0, NULL, false },
    { "gates.checks.latency_ratio", "max", SG_SETTING_REAL, 0, 0, 0,
      CHECK_AT(max),
      "the largest target/source ratio of that percentile", 0, 1000, 0,
      .required = true },
    { "gates.checks.latency_ratio", "window", SG_SETTING_DURATION, 60000,
      86400000, 600000, CHECK_AT(window_ms),
      "the outcomes judged are those reported over this window", 0, 0, 0, NULL, false },
    { "gates.checks.latency_ratio", "min_samples", SG_SETTING_INT, 1, INT64_MAX,
      500, CHECK_AT(min_samples),
      "fewer outcomes on either side in the window: inconclusive", 0, 0, 0, NULL, false },
    { "gates.checks.set_aside_keys", "max", SG_SETTING_INT, 0, INT64_MAX, 0,
      CHECK_AT(max_count), "the most keys that may be set aside",
      0, 0, 0, NULL, false },
    { "gates.checks.sql", "query", SG_SETTING_STRING, 0, 0, 0,
      CHECK_AT(query),
      "a query run on the target in a read-only transaction; its single "
      "value is judged", 0, 0, 0, .required = true },
    { "gates.checks.sql", "max", SG_SETTING_REAL, 0, 0, 0, CHECK_AT(max),
      "the largest value the query may return", -1e18, 1e18, 0, NULL, false },
    { "gates.checks.prometheus", "url", SG_SETTING_STRING, 0, 0, 0,
      CHECK_AT(url), "the Prometheus server's base URL (http:// "
      "or https://)", 0, 0, 0, .required = true },
    { "gates.checks.prometheus", "query", SG_SETTING_STRING, 0, 0, 0,
      CHECK_AT(query), "a PromQL instant query giving one value",
      0, 0, 0, .required = true },
    { "gates.checks.prometheus", "max", SG_SETTING_REAL, 0, 0, 0,
      CHECK_AT(max), "the largest value the query may return",
      -1e18, 1e18, 0, .required = true },
};

/* The checks every step needs whether the spec names them or not. */
static const bool check_default_on[SG_CHECK_COUNT] = {
    [SG_CHECK_VERIFY_CLEAN] = true, [SG_CHECK_LAG] = true,
    [SG_CHECK_SET_ASIDE_KEYS] = true,
};

const sg_setting *sg_check_params(size_t *n)
{
    *n = sizeof check_table / sizeof check_table[0];
    return check_table;
}

const sg_setting *sg_check_param_find(const char *check, const char *name)
{
    char section[64];
    snprintf(section, sizeof section, "gates.checks.%s", check);
    for (size_t i = 0; i < sizeof check_table / sizeof check_table[0]; i++)
        if (!strcmp(check_table[i].section, section) &&
            !strcmp(check_table[i].name, name))
            return &check_table[i];
    return NULL;
}

const char *sg_check_name(int kind)
{
    return kind >= 0 && kind < SG_CHECK_COUNT ? check_names[kind] : "?";
}

int sg_check_kind_of(const char *name)
{
    for (int k = 0; k < SG_CHECK_COUNT; k++)
        if (!strcmp(check_names[k], name))
            return k;
    return -1;
}

void sg_check_names(char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < SG_CHECK_COUNT && used < size; k++) {
        int n = snprintf(out + used, size - used, "%s%s", k ? ", " : "",
                         check_names[k]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void sg_duration_text(char *out, size_t n, int64_t ms)
{
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(out, n, "%lldh", (long long)(ms / 3600000));
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, n, "%lldm", (long long)(ms / 60000));
    else if (ms >= 1000 && ms % 1000 == 0)
        snprintf(out, n, "%llds", (long long)(ms / 1000));
    else
        snprintf(out, n, "%lldms", (long long)ms);
}

/* The index-th of "a|b|c" into out. */
void sg_choice_text(char *out, size_t n, const char *choices, int64_t index)
{
    const char *c = choices;
    for (int64_t i = 0; i < index && c; i++)
        if ((c = strchr(c, '|')))
            c++;
    snprintf(out, n, "%.*s", c ? (int)strcspn(c, "|") : 1, c ? c : "?");
}

/* One parameter's value, as the spec writes it. */
static void value_text(const sg_setting *st, const void *base, char *out, size_t n)
{
    const char *at = (const char *)base + st->offset;
    switch (st->type) {
    case SG_SETTING_DURATION:
        sg_duration_text(out, n, *(const int64_t *)at);
        break;
    case SG_SETTING_REAL:
        snprintf(out, n, "%g", *(const double *)at);
        break;
    case SG_SETTING_BOOL:
        snprintf(out, n, "%s", *(const bool *)at ? "true" : "false");
        break;
    case SG_SETTING_CHOICE:
        sg_choice_text(out, n, st->choices, *(const int64_t *)at);
        break;
    case SG_SETTING_STRING:
        snprintf(out, n, "\"%s\"", *(char *const *)at ? *(char *const *)at : "");
        break;
    default:
        snprintf(out, n, "%lld", (long long)*(const int64_t *)at);
    }
}

void sg_check_describe(int kind, const sg_spec_check *c, char *out, size_t size)
{
    char section[64], v[256];
    size_t used = 0;
    out[0] = '\0';
    if (kind < 0 || kind >= SG_CHECK_COUNT)
        return;
    snprintf(section, sizeof section, "gates.checks.%s", check_names[kind]);
    for (size_t i = 0; i < sizeof check_table / sizeof check_table[0] && used < size; i++) {
        if (strcmp(check_table[i].section, section))
            continue;
        value_text(&check_table[i], c, v, sizeof v);
        int w = snprintf(out + used, size - used, "%s%s: %s", used ? ", " : "",
                         check_table[i].name, v);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* One setting's default written into the struct at base. */
static void set_default(const sg_setting *st, void *base)
{
    char *at = (char *)base + st->offset;
    switch (st->type) {
    case SG_SETTING_REAL:
        *(double *)at = st->rdflt;
        break;
    case SG_SETTING_BOOL:
        *(bool *)at = st->dflt != 0;
        break;
    case SG_SETTING_STRING:
        break;
    default:
        *(int64_t *)at = st->dflt;
    }
}

const sg_setting *sg_settings(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const sg_setting *sg_setting_find(const char *section, const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].section, section) && !strcmp(table[i].name, name))
            return &table[i];
    return NULL;
}

bool sg_setting_section_exists(const char *section)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].section, section))
            return true;
    return false;
}

void sg_settings_list(const char *section, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof table / sizeof table[0] && used < size; i++) {
        if (strcmp(table[i].section, section))
            continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "",
                         table[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void sg_settings_defaults(sg_spec *s)
{
    for (int k = 0; k < SG_CHECK_COUNT; k++) {
        char section[64];
        snprintf(section, sizeof section, "gates.checks.%s", check_names[k]);
        for (size_t i = 0; i < sizeof check_table / sizeof check_table[0]; i++)
            if (!strcmp(check_table[i].section, section))
                set_default(&check_table[i], &s->checks[k]);
        s->checks[k].on = check_default_on[k];
    }
    /* after the checks: the older gate settings write the same fields */
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        set_default(&table[i], s);
}
