/* Control tables: the durable state of migrations (DESIGN.md "Control
 * objects"). They live in the target database: in SQLite as tables named
 * _segue_*, elsewhere in a `segue` schema (the driver's control_name). */
#ifndef SEGUE_CONTROL_H
#define SEGUE_CONTROL_H

#include "internal.h"

/* Format of the control tables this binary reads and writes. */
#define SG_CONTROL_FORMAT 5

/* Statement templates on connection c (the target's control tables, or
 * the source's changelog side): @name is a control object (quoted and
 * qualified by c's driver), $n a parameter, %INT/%TXT/%BLB/%DBL a column
 * type, %SERIAL an increasing integer key, %LOCK the driver's row lock
 * clause. sg_control_run steps a prepared statement to its end and
 * finalizes it (no rows expected). */
int sg_control_prepare(sg_err *e, sg_conn *c, const char *tmpl, sg_stmt **out);
int sg_control_exec(sg_err *e, sg_conn *c, const char *tmpl);
int sg_control_run(sg_err *e, sg_stmt *s);

/* Creates the control tables if missing and records the format; inside the
 * caller's write transaction on the target. */
int sg_control_install(sg_migration *m);
/* Drops the control tables when no migration row is left in them. */
int sg_control_drop_if_unused(sg_migration *m);
/* Whether the control tables exist; SG_EFORMAT when they were written by an
 * incompatible format. */
int sg_control_present(sg_migration *m, bool *present);

/* Reads the phase; SG_PHASE_PLANNED when there is no row. */
int sg_control_phase(sg_migration *m, sg_phase *out);
/* The same inside a target write transaction, with the migration's row
 * locked until it ends (phase.h). */
int sg_control_phase_locked(sg_migration *m, sg_phase *out);
/* When the migration entered its phase (ms since the epoch; 0 when not
 * known). Errors: SG_EDB. */
int sg_control_phase_since(sg_migration *m, int64_t *ms);
/* Inside a target write transaction: moves the phase from `from` to `to`
 * (compare-and-set: SG_ESTATE, nothing changed, when the phase is no
 * longer `from`) and appends an audit row (who, when, action, from, to,
 * detail, reason). */
int sg_control_transition(sg_migration *m, sg_phase from, sg_phase to,
                          const char *action, const char *detail,
                          const char *reason);
/* Inside a target write transaction: appends an audit row only. */
int sg_control_audit(sg_migration *m, const char *action, const char *detail,
                     const char *reason);
/* Inside a target write transaction: records one verify run (row counts,
 * differences that persisted, a one-line detail) in verify_runs. */
int sg_control_verify_run(sg_migration *m, int64_t at_ms, int64_t source_rows, int64_t target_rows,
                          int64_t differences, const char *detail);
/* A write switch in progress (cutover or rollback; dir is an sg_dir): the
 * highest changelog id per group that the switch applied to the receiving
 * side, saved in the transaction that decides the switch and cleared once
 * both sides committed, so a crash between the two commits can be finished
 * without applying an entry twice (see cutover.c). upto holds n_groups
 * values. Inside a target write transaction, except load. */
/* The last verify run: when (ms since the epoch) and how many differences
 * persisted; *found false when none ran. */
int sg_control_last_verify(sg_migration *m, int64_t *at_ms, int64_t *differences,
                           bool *found);
int sg_control_switch_save(sg_migration *m, int dir, const int64_t *upto);
/* pending[dir] is whether a record of direction dir (an sg_dir) is left:
 * one read, for the worker's every round. */
int sg_control_switch_dirs(sg_migration *m, bool pending[2]);
int sg_control_switch_load(sg_migration *m, int dir, int64_t *upto, bool *found);
int sg_control_switch_clear(sg_migration *m, int dir);
/* Inserts the migration's row (phase planned) and its routing row; a row
 * left by a cleanup is reused. SG_ESTATE when another start made it. */
int sg_control_create(sg_migration *m);
/* Deletes every row of this migration (audit too when purge). */
int sg_control_forget(sg_migration *m, bool purge);

/* Backfill checkpoint of mapping `map`: the last copied key (NULL before the
 * first chunk), rows and chunks done, and whether the mapping is done. */
typedef struct sg_checkpoint {
    sg_row last;     /* n == 0: nothing copied yet */
    int64_t rows;
    int64_t chunks;
    bool done;
} sg_checkpoint;
int sg_checkpoint_load(sg_migration *m, size_t map, sg_checkpoint *out);
/* Inside the target write transaction that wrote the chunk's rows. */
int sg_checkpoint_save(sg_migration *m, size_t map, const sg_checkpoint *cp);
void sg_checkpoint_free(sg_checkpoint *cp);

/* Routing row. */
typedef struct sg_routing {
    double read_pct;
    int write_side;
    char salt[40];
    bool breaker_open;  /* sg_routing_serve only: the read breaker is open
                         * (switch/breaker.h), so read_pct says 0 */
} sg_routing;
int sg_routing_load(sg_conn *c, const char *name, sg_routing *out, bool *found,
                    sg_err *err);
/* What routing serves for migration `name` on c (the database holding the
 * control tables) and its phase: its routing row while it runs; every read
 * and write to the target once it is cleaned up. SG_ESTATE when no
 * migration of that name is known there (a misspelt name is an error,
 * never a silent "source"). */
int sg_routing_serve(sg_conn *c, const char *name, sg_routing *out, sg_phase *phase,
                     sg_err *err);
/* Inside a target write transaction. */
int sg_routing_save(sg_migration *m, const sg_routing *r);

#endif
