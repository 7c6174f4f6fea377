#include "spec/settings.h"

#include <stdio.h>
#include <string.h>

#include "spec/spec.h"

static const sg_setting table[] = {
    { "backfill", "chunk_time", SG_SETTING_DURATION, 10, 60000, 500,
      offsetof(sg_spec, chunk_time_ms),
      "time each backfill chunk aims at; the chunk size adapts to it", 0, 0, 0 },
    { "backfill", "max_rows_per_second", SG_SETTING_INT, 0, INT64_MAX, 0,
      offsetof(sg_spec, max_rows_per_second),
      "cap on backfill rows per second; 0 means no cap", 0, 0, 0 },
    { "backfill", "pause", SG_SETTING_DURATION, 0, 10000, 100,
      offsetof(sg_spec, pause_ms),
      "longest pause between chunks when source and target are one "
      "database: segue pauses as long as a writer that waited through the "
      "chunk needs to get the write lock (SQLite: its busy handler's "
      "current retry step), at most this", 0, 0, 0 },
    { "worker", "lease_ttl", SG_SETTING_DURATION, 1000, 600000, 10000,
      offsetof(sg_spec, lease_ttl_ms),
      "how long a worker's lease lasts without renewal before another "
      "worker may take it over", 0, 0, 0 },
    { "worker", "idle_timeout", SG_SETTING_DURATION, 1000, 86400000, 60000,
      offsetof(sg_spec, idle_timeout_ms),
      "how long a segue session may sit in an open transaction with "
      "nothing to do (its process stopped or frozen) before the server "
      "ends it and frees its locks (PostgreSQL: "
      "idle_in_transaction_session_timeout)", 0, 0, 0 },
    { "worker", "heartbeat", SG_SETTING_DURATION, 0, 60000, 1000,
      offsetof(sg_spec, heartbeat_ms),
      "how often the worker writes a heartbeat row on the source while "
      "changes flow forward; its arrival in the target gives the heartbeat "
      "lag; 0: no heartbeat (no table of segue's beside the source's)", 0, 0, 0 },
    { "gates", "verify_max_age", SG_SETTING_DURATION, 1000, 2592000000LL, 3600000,
      offsetof(sg_spec, verify_max_age_ms),
      "cutover --reads and --writes need a clean verify no older than this", 0, 0, 0 },
    { "gates", "max_lag", SG_SETTING_DURATION, 0, 3600000, 1000,
      offsetof(sg_spec, max_lag_ms),
      "cutover --reads and --writes need the oldest pending change to be "
      "younger than this", 0, 0, 0 },
    { "gates.shadow", "window", SG_SETTING_DURATION, 60000, 86400000, 900000,
      offsetof(sg_spec, shadow_window_ms),
      "the shadow gate judges the shadow reads recorded over this window", 0, 0, 0 },
    { "gates.shadow", "min_reads", SG_SETTING_INT, 1, INT64_MAX, 1000,
      offsetof(sg_spec, shadow_min_reads),
      "fewer compared reads in the window leave the shadow gate inconclusive "
      "(it refuses)", 0, 0, 0 },
    { "gates.shadow", "max_mismatch_rate", SG_SETTING_REAL, 0, 0, 0,
      offsetof(sg_spec, shadow_max_mismatch_rate),
      "the largest share of compared reads that may mismatch (order-only "
      "too)", 0, 1, 0 },
    { "gates.shadow", "max_p99_ratio", SG_SETTING_REAL, 0, 0, 0,
      offsetof(sg_spec, shadow_max_p99_ratio),
      "the largest target/source p99 latency ratio; 0: latency not judged",
      0, 1000, 0 },
    { "verify", "every", SG_SETTING_DURATION, 0, 604800000LL, 0,
      offsetof(sg_spec, verify_every_ms),
      "continuous reconciliation: `segue run` starts a verify pass this long "
      "after the last one ended, in the background; 0: none", 0, 0, 0 },
    { "verify", "max_rows_per_second", SG_SETTING_INT, 0, INT64_MAX, 0,
      offsetof(sg_spec, verify_max_rows_per_second),
      "cap on the rows per second (each side) a background verify pass "
      "reads; 0 means no cap", 0, 0, 0 },
    { "serve", "refresh", SG_SETTING_DURATION, 50, 60000, 250,
      offsetof(sg_spec, serve_refresh_ms),
      "how often `segue serve` and the C API's router read the routing "
      "(the longest an application follows a cutover late)", 0, 0, 0 },
    { "serve", "max_staleness", SG_SETTING_DURATION, 0, 3600000, 30000,
      offsetof(sg_spec, serve_max_staleness_ms),
      "while the control database cannot be read, routing is answered from "
      "the last read for at most this long, then as an error (the "
      "application's code default): never a guess", 0, 0, 0 },
};

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
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].type == SG_SETTING_REAL)
            *(double *)((char *)s + table[i].offset) = table[i].rdflt;
        else
            *(int64_t *)((char *)s + table[i].offset) = table[i].dflt;
}
