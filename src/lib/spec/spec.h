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
    int64_t verify_max_age_ms;    /* gates.verify_max_age */
    int64_t max_lag_ms;           /* gates.max_lag */
    bool shadow_gate;             /* gates.shadow is given: cutover --reads
                                   * needs the shadow reads to match */
    int64_t shadow_window_ms;     /* gates.shadow.window */
    int64_t shadow_min_reads;     /* gates.shadow.min_reads */
    double shadow_max_mismatch_rate; /* gates.shadow.max_mismatch_rate */
    double shadow_max_p99_ratio;  /* gates.shadow.max_p99_ratio, 0: none */
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

/* Parses a duration: "500ms", "2s", "1.5s", "3m", "250" (ms). Returns 0 and
 * *ms, or -1. */
int sg_parse_duration_ms(const char *s, int64_t *ms);
/* Parses a non-negative integer with range check. Returns 0 or -1. */
int sg_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A hex digest of what defines the mappings (tables, keys, columns, filters,
 * reverse expressions), not the tunable settings: 32 chars + NUL. */
void sg_spec_hash(const sg_spec *s, char out[33]);

#endif
