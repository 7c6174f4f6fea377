/* The rollout's state in the control tables (rollout.h), made on first
 * use and removed with the migration's other rows by purge. */
#ifndef SEGUE_ROLLOUT_STORE_H
#define SEGUE_ROLLOUT_STORE_H

#include "rollout/rollout.h"

/* Makes the tables when missing. Errors: SG_EDB. */
int sg_rollout_install(sg_migration *m);
/* The saved state, or the initial one (*found false) when none is saved.
 * Reads only. Errors: SG_EDB. */
int sg_rollout_load(sg_migration *m, sg_rollout_state *st, bool *found);
/* What sg_rollout_save writes beside the state. */
typedef struct sg_rollout_record {
    const sg_gate_check *v;  /* an evaluation, or NULL */
    size_t n;
    int step;                /* the step it was made at (before acting on it) */
    const char *action;      /* an audit row (action, detail, reason), or NULL */
    const char *detail, *reason;
} sg_rollout_record;

/* Before a step moves: writes st over the version it was read at (as
 * sg_rollout_save does, the state alone; st->version then names the new
 * one), so that a pause or resume saved since it was read, during the
 * evaluation, stops the move. SG_ESTATE when one was.
 * Errors: SG_EDB, SG_ESTATE. */
int sg_rollout_claim(sg_migration *m, sg_rollout_state *st, const char *hash);
/* In one transaction of its own on the control database: the state, each
 * check's record, the evaluation (at st->last_eval_ms) and the audit row
 * of r. `hash` names the gate configuration. SG_ESTATE when another
 * process saved the state since it was read. Errors: SG_EDB, SG_ESTATE. */
int sg_rollout_save(sg_migration *m, const sg_rollout_state *st, const char *hash,
                    const sg_rollout_record *r);

/* Changes the saved state (st, as read) and says what to record beside it
 * (r: an audit row; its step is st's as read); returns 0 to save, or an
 * error, when nothing is written. */
typedef int (*sg_rollout_edit_fn)(sg_migration *m, sg_rollout_state *st,
                                  sg_rollout_record *r, void *ctx);
/* A person's change of the rollout (pause, resume, a drill's mode): reads
 * the state, holding its row, lets `edit` change it and writes it, in one
 * transaction on the control database, so that an evaluation the worker
 * saves meanwhile cannot make it fail (the worker's own saves wait, and its
 * claim of a move then finds the state changed). Errors: edit's, SG_EDB. */
int sg_rollout_update(sg_migration *m, sg_rollout_edit_fn edit, void *ctx);

/* Evaluations are kept this long (7 days), then pruned. */
#define SG_ROLLOUT_EVALS_KEEP_MS (7LL * 24 * 3600 * 1000)

/* Deletes the migration's evaluations older than SG_ROLLOUT_EVALS_KEEP_MS
 * before now_ms (ms since the epoch); *deleted (may be NULL) how many.
 * Errors: SG_EDB. */
int sg_rollout_prune(sg_migration *m, int64_t now_ms, int64_t *deleted);

#endif
