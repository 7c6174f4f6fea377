/* A live writer that behaves like an application during a migration:
 * inserts, updates, deletes and key changes at a steady rate, asking segue's
 * routing (the public C API) which side takes writes, and retrying on the
 * other side when a guard rejects a write mid-cutover. Used by `segue demo`,
 * the end-to-end tests and the benchmarks. */
#ifndef SEGUE_WRITER_H
#define SEGUE_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Where the writer writes on each side: a table with an integer key and a
 * text column. */
typedef struct writer_side {
    const char *db_path;    /* SQLite file */
    const char *table;
    const char *key_col;    /* integer key */
    const char *text_col;   /* text column the writer updates */
    const char *insert_sql; /* INSERT with ?1 = key, ?2 = text */
} writer_side;

typedef struct writer_config {
    writer_side side[2];    /* [0] source, [1] target */
    const char *control_uri;/* where the routing row lives */
    const char *migration;
    int rate;               /* operations per second */
    int64_t key_base;       /* new keys start above this */
    uint32_t seed;
    /* When set, the spec of the migration whose shadow reads the writer
     * runs on its own reads while writer_shadow is on (segue/shadow.h:
     * each read run on both sides, the outcomes recorded and flushed
     * every SHADOW_FLUSH_MS and at writer_stop) */
    const char *shadow_spec;
    const char *const *reads;  /* the application's reads, each with one
                                * parameter ?1 = a key of side[0]; NULL-ended */
    /* When set, the side that takes writes comes from this OFREP service
     * (segue serve: flag segue.<migration>.writes), as a non-C application
     * would ask it, instead of the C API's router; every operation's
     * outcome is reported through the router (sg_router_report) */
    const char *ofrep_url;
} writer_config;

typedef struct writer_stats {
    int64_t inserts, updates, deletes, key_changes, reads;
    int64_t rejected_retried; /* writes rejected by a guard, then retried */
    int64_t shadow_failed;    /* shadow reads that failed (not outcomes) */
    int64_t failed;           /* writes that failed otherwise */
    int64_t ofrep_evaluations;/* flags asked over OFREP */
    char last_error[256];
} writer_stats;

typedef struct writer writer;

/* Starts the writer thread. *out is owned by the caller (writer_stop). */
int writer_start(writer **out, const writer_config *cfg);
/* Shadows the writer's reads from its next operation on (on) or stops. */
void writer_shadow(writer *w, bool on);
/* Stops it, joins, copies the stats, frees. */
void writer_stop(writer *w, writer_stats *stats);

#endif
