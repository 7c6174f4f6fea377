/* segue's own write transactions. Each one marks its writes as segue's (the
 * no-echo marker, DESIGN.md item 7) right after BEGIN and unmarks them right
 * before COMMIT, so the marker itself never commits. */
#ifndef SEGUE_TX_H
#define SEGUE_TX_H

#include "driver/driver.h"

/* BEGIN (taking the write lock) and set the marker. On failure nothing is
 * left open. */
int sg_tx_begin(sg_conn *c, sg_err *err);
/* BEGIN (taking the write lock) without the marker, for a transaction
 * whose writes fire no trigger of segue's (a backfill chunk into a table
 * whose guard is lifted): setting the marker first and clearing it after a
 * large write made SQLite write the chunk's pages twice once its page
 * cache spilled. sg_tx_mark sets it later, before a write that needs it. */
int sg_tx_begin_unmarked(sg_conn *c, sg_err *err);
int sg_tx_mark(sg_conn *c, sg_err *err);
/* Clear the marker (if set) and COMMIT; on failure the transaction is
 * rolled back. */
int sg_tx_commit(sg_conn *c, sg_err *err);
/* Roll back if a transaction is open. */
void sg_tx_rollback(sg_conn *c);

/* Write transactions on two databases, begun and committed in the order
 * given (`second` may equal `first`, or be NULL: one database). Committing
 * `first` first decides which half a crash between the commits can lose, so
 * callers pick the order that leaves a loud, not a silent, failure. */
/* Savepoints inside the open transaction (standard SQL both engines
 * share): a statement that fails after sg_tx_savepoint can be undone with
 * sg_tx_undo_to_savepoint, and the transaction goes on (PostgreSQL would
 * otherwise refuse every later statement). sg_tx_release forgets the last
 * savepoint, keeping what was done after it. */
int sg_tx_savepoint(sg_conn *c, sg_err *err);
int sg_tx_undo_to_savepoint(sg_conn *c, sg_err *err);
int sg_tx_release(sg_conn *c, sg_err *err);
int sg_tx_begin_pair(sg_conn *first, sg_conn *second, sg_err *err);
int sg_tx_commit_pair(sg_conn *first, sg_conn *second, sg_err *err);
void sg_tx_rollback_pair(sg_conn *first, sg_conn *second);

#endif
