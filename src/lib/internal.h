/* The migration handle and the resolved mappings, shared by the library's
 * modules (never by the CLI). */
#ifndef SEGUE_INTERNAL_H
#define SEGUE_INTERNAL_H

#include <segue/segue.h>

#include "base/clock.h"
#include "base/err.h"
#include "driver/driver.h"
#include "move/flow.h"
#include "spec/spec.h"

/* A secondary index a created target table gets after the backfill
 * (plan/target_index.c): one of the source's, spelled for the target. */
typedef struct sg_target_index {
    char *name;                   /* on the target, unquoted */
    char *source_name;            /* the source's index it carries */
    bool unique;
    size_t n;
    char **parts;                 /* quoted column or (expression), target spelling */
    bool *desc;
    char *where;                  /* or NULL */
    char *method;                 /* or NULL */
} sg_target_index;

typedef struct sg_map {
    const sg_spec_mapping *spec;
    size_t group;                 /* index into groups */
    bool primary;                 /* first mapping of its source table */
    char *label;                  /* "Customer -> customer" */
    sg_table_info *src;           /* borrowed from the group */
    char *target_ddl;             /* for create: true */
    char **expr_types;            /* per spec column: the source's type of its
                                   * expression, or NULL */
    char **col_types;             /* per target column: the declared type in
                                   * target_ddl, or NULL */
    char **from_types;            /* per target column: the source's type of
                                   * what fills it (column or expression),
                                   * NULL if none or given in the spec */
    sg_flow fwd;
    sg_flow rev;
    size_t n_rev_missing;         /* source columns no reverse reaches */
    char **rev_missing;
    /* create: true with every source column: source columns the target
     * was not made with (added since start: not copied; drift.h) */
    size_t n_not_copied;
    char **not_copied;
    char *trig_rev, *trig_guard;  /* trigger prefixes on the target table */
    /* create: true: the source's secondary indexes the target gets; and
     * what of the source table's schema (indexes, defaults) cannot be
     * carried, each with why ("...; hint: ...") */
    size_t n_indexes;
    sg_target_index *indexes;
    size_t n_carry_notes;
    char **carry_notes;
    /* what the target gets from the source (for the compatibility report
     * too): per target column the DEFAULT text, or NULL; and the CHECKs */
    char **col_defaults;
    char **col_sequences;         /* per target column: the sequence its
                                   * default takes numbers from, made in
                                   * another database like the source's
                                   * (the DEFAULT is set with it), or NULL */
    char **col_numbered;          /* per target column: made numbered by
                                   * the target's engine (an identity, the
                                   * rowid) as the source column of this
                                   * name is, or NULL; its numbering moves
                                   * up at each write switch */
    size_t n_checks;
    char **checks;
    /* foreign_keys: true: the source's foreign keys among mapped tables,
     * in the target's names (target_fk.c); `fk_source` the source key's
     * index in the driver's list, for the report */
    size_t n_fks;
    sg_fk_info *fks;
    size_t *fk_source;
} sg_map;

/* The mappings that read one source table share its capture. */
/* Where a reader stands in the statement entries of one changelog
 * (changelog.h): the entry being read (id 0: none yet), its key count and
 * the keys already applied. Entries are taken oldest first among those with
 * id > after. In memory only: a restart reads an entry again from its first
 * key, which is harmless (a sync is idempotent). */
typedef struct sg_stmt_pos {
    int64_t after, id, n, done;
} sg_stmt_pos;

typedef struct sg_group {
    char *table;                  /* catalog name */
    sg_table_info *info;
    size_t n_key;
    char **key;
    char *log, *rlog;             /* changelog (source), reverse (target) */
    char *trig_capture, *trig_guard; /* trigger prefixes on the source */
    sg_stmt_pos drain_pos[2];     /* the drain's, per direction (sg_dir) */
} sg_group;

struct sg_migration {
    sg_err err;
    sg_spec *spec;
    char spec_hash[33];
    sg_conn *src, *tgt;           /* tgt == src when they are one database */
    size_t n_maps;
    sg_map *maps;
    size_t n_groups;
    sg_group *groups;
    size_t n_keyless;
    char **keyless;               /* mappings: all: source tables it cannot
                                   * take, having no primary key */
    sg_log_fn log;
    void *log_ud;
    char *actor;
    char *force_reason;           /* gates refused in the next step pass
                                   * (gate.h); NULL: none */
    bool no_rollback_ok;          /* the next write cutover may leave no way
                                   * back (reverse: none) */
    bool control_ok;              /* control tables seen, format checked */
    int64_t lock_wait_ms;         /* sg_migration_set_lock_wait; 0: default */
    bool has_lease;
    int64_t lease_token;          /* the token taken (lease.h); 0: none */
    int64_t lease_renewed_ms;
    char route_salt[40];          /* the routing salt, once read
                                   * (sg_shadow_sampled); "" before */
    int64_t shadow_no_wait_until_ms; /* shadow reads: no waiting for the
                                   * changelog to drain until then
                                   * (monotonic ms; a wait ran out: no
                                   * worker applies) */
    bool read_only;               /* opened read_only: every session's
                                   * transactions are read-only */
    struct sg_shadow_sessions *shadow_sessions; /* where shadow reads run
                                   * (check/shadow_session.c), or NULL */
    struct sg_shadow_agg *shadow; /* shadow outcomes not yet flushed
                                   * (check/shadow_stats.c) */
    sg_conn *gate_conn;           /* the sql gate check's read-only session
                                   * on the target (gate/query_checks.c),
                                   * or NULL */
};

/* Frees the handle's unflushed shadow outcomes (shadow_stats.c). */
void sg_shadow_agg_free(sg_migration *m);
/* Closes the handle's shadow-read sessions (shadow_session.c). */
void sg_shadow_sessions_free(sg_migration *m);
/* The shadow_* fields of *out over the last window_ms (shadow_stats.c). */
struct sg_status;
int sg_shadow_status(sg_migration *m, int64_t window_ms, struct sg_status *out);
/* The window status reports shadow reads over: 15 minutes. */
#define SG_SHADOW_WINDOW_MS (15 * 60 * 1000)

/* A bad argument to a public function: SG_EINVAL with "fn: what; hint"
 * on the handle (just SG_EINVAL when m is NULL). */
int sg_bad_arg(sg_migration *m, const char *fn, const char *what);
/* An options struct whose version this library does not know. */
int sg_bad_version(sg_migration *m, const char *fn, int version, int known);

/* Logs through the handle's callback, if any. */
void sg_log(sg_migration *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
