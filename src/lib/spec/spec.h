/* The spec file: YAML, version 1 (docs/spec.md). Parsing checks syntax,
 * shapes and settings and keeps the line of every item, so that later checks
 * against the database (mapping.c) can point at file:line too. */
#ifndef SEGUE_SPEC_H
#define SEGUE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct sg_spec_column {
    char *name;  /* target column */
    char *expr;  /* SQL expression over the source row */
    char *type;  /* declared target type, or NULL to infer */
    int line;
} sg_spec_column;

typedef struct sg_spec_reverse {
    char *column; /* source column */
    char *expr;   /* SQL expression over the target row */
    int line;
} sg_spec_reverse;

/* An index given by hand (indexes:), in the target's terms. */
typedef struct sg_spec_index {
    char *name;       /* or NULL: named after the table and its parts */
    size_t n;
    char **parts;     /* target columns or expressions over the target row */
    bool unique;
    char *where;      /* a partial index's condition, or NULL */
    int line;
} sg_spec_index;

typedef struct sg_spec_mapping {
    char *from, *to;
    int line, from_line, to_line, key_line, columns_line, where_line;
    size_t n_key;
    char **key;            /* source key columns; n_key == 0: primary key */
    bool create;
    size_t n_cols;
    sg_spec_column *cols;  /* n_cols == 0: every source column, same name */
    char *where;           /* filter over the source row, or NULL */
    size_t n_reverse;
    sg_spec_reverse *reverse;
    bool no_reverse;       /* reverse: none: no way back after the write
                            * cutover, on purpose */
    size_t n_indexes;      /* indexes: built after the backfill with the
                            * carried ones (create: true only); not part of
                            * the spec's hash (they may change before then) */
    sg_spec_index *indexes;
    int indexes_line;
    bool foreign_keys;     /* foreign_keys: true (create: true only): the
                            * source's foreign keys among mapped tables;
                            * not part of the spec's hash either */
    int foreign_keys_line;
} sg_spec_mapping;

/* The gate checks (gates.checks; docs/spec.md "Gates"). Each is judged
 * pass, fail or inconclusive (too few samples) by state/gate.c. */
typedef enum sg_check_kind {
    SG_CHECK_VERIFY_CLEAN,         /* a clean verify within `within` */
    SG_CHECK_LAG,                  /* oldest pending change younger than max */
    SG_CHECK_HEARTBEAT_LAG,        /* the heartbeat's transit at most max */
    SG_CHECK_SHADOW_MISMATCH_RATE, /* shadow reads that mismatch, over window */
    SG_CHECK_ERROR_RATE,           /* application outcomes on one side */
    SG_CHECK_LATENCY_RATIO,        /* target/source latency percentile */
    SG_CHECK_SET_ASIDE_KEYS,       /* keys set aside, at most max */
    SG_CHECK_SQL,                  /* a read-only query's single value */
    SG_CHECK_PROMETHEUS,           /* a PromQL instant query's value */
    SG_CHECK_COUNT
} sg_check_kind;

/* One check's parameters; which fields a kind reads is in settings.c's
 * table of check parameters (one row per kind and parameter). */
typedef struct sg_spec_check {
    bool on;              /* judged: named in the spec, or on by default
                           * (verify_clean, lag, set_aside_keys) */
    int line;             /* where gates.checks names it; 0: not named */
    int64_t within_ms;    /* verify_clean */
    int64_t max_ms;       /* lag, heartbeat_lag */
    int64_t max_count;    /* set_aside_keys */
    double max;           /* rates (0..1), ratios, sql and prometheus values */
    int64_t window_ms;    /* the outcomes or shadow reads judged */
    int64_t min_samples;  /* fewer in the window: inconclusive */
    int64_t percentile;   /* latency_ratio: 50, 90, 95 or 99 */
    int64_t side;         /* error_rate: SG_SIDE_SOURCE or SG_SIDE_TARGET */
    double max_p99_ratio; /* shadow_mismatch_rate: target/source p99 of the
                           * shadow reads, 0: not judged */
    char *query;          /* sql (read-only SQL), prometheus (PromQL) */
    char *url;            /* prometheus: the server's base URL */
} sg_spec_check;

/* A rollout step (cutover.reads): read percent, then a hold during which
 * every check must pass before the next step. */
typedef struct sg_spec_step {
    int64_t pct;      /* 1..100, rising from step to step */
    int64_t hold_ms;  /* at least gates.interval */
    int line;
} sg_spec_step;

/* A segment (cutover.segments): keys whose evaluation context attribute is
 * one of `values` read from one side whatever the percentage. */
typedef struct sg_spec_segment {
    char *name, *attribute;
    size_t n_values;
    char **values;
    bool to_target;   /* reads: target (else source) */
    int line;
} sg_spec_segment;

typedef enum sg_on_fail { SG_ON_FAIL_ROLLBACK, SG_ON_FAIL_PAUSE } sg_on_fail;

typedef struct sg_spec {
    char *path;
    int version;
    char *name;
    char *source, *target;
    int name_line, source_line, target_line;
    size_t n_mappings;
    sg_spec_mapping *mappings;  /* with `all`: filled when the migration is
                                 * opened (sg_mapping_expand_all) */
    bool all;                   /* mappings: all */
    bool all_foreign_keys;      /* ... with foreign_keys: true */
    int all_line, exclude_line;
    size_t n_exclude;
    char **exclude;             /* source tables `all` leaves out */
    int64_t chunk_time_ms;        /* backfill.chunk_time */
    int64_t max_rows_per_second;  /* backfill.max_rows_per_second, 0 = no cap */
    int64_t pause_ms;             /* backfill.pause */
    int64_t lease_ttl_ms;         /* worker.lease_ttl */
    int64_t idle_timeout_ms;      /* worker.idle_timeout */
    int64_t heartbeat_ms;         /* worker.heartbeat: 0 = no heartbeat */
    sg_spec_check checks[SG_CHECK_COUNT]; /* gates.checks, by kind; the
                                   * older gates.verify_max_age, gates.max_lag
                                   * and gates.shadow.* fill the same fields */
    int64_t gate_interval_ms;     /* gates.interval */
    int64_t failure_limit;        /* gates.failure_limit */
    int64_t on_fail;              /* gates.on_fail: sg_on_fail */
    bool cutover_auto;            /* cutover.auto: `segue run` advances */
    size_t n_steps;
    sg_spec_step *steps;          /* cutover.reads */
    int steps_line;
    size_t n_segments;
    sg_spec_segment *segments;    /* cutover.segments */
    bool writes_auto;             /* cutover.writes.auto */
    int64_t max_fence_ms;         /* cutover.writes.max_fence */
    int64_t bake_ms;              /* cutover.bake */
    int64_t max_read_lag_ms;      /* cutover.max_read_lag, 0: none */
    bool read_your_writes;        /* cutover.read_your_writes: changelogs
                                   * indexed by key, row reads looked up */
    size_t n_hook_argv;
    char **hook_argv;             /* on_rollback.command, or NULL */
    char *webhook;                /* on_rollback.webhook, or NULL */
    int on_rollback_line;
    int64_t verify_every_ms;      /* verify.every: 0 = no background passes */
    int64_t verify_max_rows_per_second; /* verify.max_rows_per_second, 0 = no cap */
    int64_t serve_refresh_ms;     /* serve.refresh */
    int64_t serve_max_staleness_ms; /* serve.max_staleness */
} sg_spec;

/* Reads and checks the spec at `path`. *out is owned by the caller
 * (sg_spec_free). Errors: SG_ESPEC with "path:line: what; hint: ...". */
int sg_spec_load(sg_spec **out, const char *path, sg_err *err);
/* Same, from text in memory; `path` names it in messages. */
int sg_spec_parse(sg_spec **out, const char *path, const char *text, size_t len,
                  sg_err *err);
void sg_spec_free(sg_spec *s);

/* Parses a duration: "500ms", "2s", "1.5s", "3m" (or "3min"), "2h", "7d",
 * "250" (ms). Returns 0 and *ms, or -1. */
int sg_parse_duration_ms(const char *s, int64_t *ms);
/* Parses a non-negative integer with range check. Returns 0 or -1. */
int sg_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A hex digest of the gate configuration (checks, steps, interval, limit,
 * on_fail): 16 chars + NUL, carried by every rollout audit row. */
void sg_spec_gates_hash(const sg_spec *s, char out[17]);

/* A hex digest of what defines the mappings (tables, keys, columns, filters,
 * reverse expressions), not the tunable settings: 32 chars + NUL. */
void sg_spec_hash(const sg_spec *s, char out[33]);

#endif
