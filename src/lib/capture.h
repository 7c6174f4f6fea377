/* Capture (the dual-write done by the database), guards (the side that must
 * not take application writes rejects them) and draining changelogs. */
#ifndef SEGUE_CAPTURE_H
#define SEGUE_CAPTURE_H

#include "internal.h"

/* Which way changes flow: forward (source -> target, before a write
 * cutover) or reverse (target -> source, after it). */
typedef enum sg_dir { SG_FORWARD = 0, SG_REVERSE = 1 } sg_dir;

/* Install or remove the triggers of one direction: forward capture sits on
 * the source tables and logs into the source; reverse capture on the target
 * tables, logging into the target. Inside the caller's transaction on that
 * database. Installing is idempotent. */
int sg_capture_install(sg_migration *m, sg_dir d);
int sg_capture_remove(sg_migration *m, sg_dir d);
/* Drops the changelog tables of one direction. */
int sg_capture_drop_logs(sg_migration *m, sg_dir d);

/* Guards on side SG_SIDE_SOURCE (the source tables, after a write cutover)
 * or SG_SIDE_TARGET (the target tables, before it). Inside the caller's
 * transaction on that database. Installing is idempotent. */
int sg_guard_install(sg_migration *m, int side);
int sg_guard_remove(sg_migration *m, int side);
/* Around a bulk write to mapping `map`'s target table inside segue's own
 * target transaction: lift its guard (lift) and put it back (!lift) before
 * the commit, so the guard costs nothing per copied row where the driver can
 * do that invisibly to other sessions (see sg_driver.guard_lift). Only
 * while the target guard is installed: from start to the write cutover. */
int sg_guard_lift(sg_migration *m, size_t map, bool lift);

/* Drains up to `limit` changelog entries of every group in direction d:
 * fetch, dedupe keys, sync each key through every mapping of its table,
 * commit, delete the drained entries by id (DESIGN.md items 2-4).
 * *applied receives the number of entries drained. With in_tx the caller
 * already holds write transactions on both databases (the write fence).
 * A batch found stale (a cutover or rollback switched the direction after
 * it was fetched) is left in place, uncounted, and is not an error: the
 * next call drains the new direction. */
int sg_apply_drain(sg_migration *m, sg_dir d, int64_t limit, bool in_tx,
                   int64_t *applied);
/* sg_apply_drain until the changelog of direction d is empty; *total
 * receives the number of entries drained. */
int sg_apply_drain_all(sg_migration *m, sg_dir d, bool in_tx, int64_t *total);
/* Inside the caller's transactions (a write switch): applies every entry of
 * direction d with id > after[g] (after NULL: all) to the other side and
 * deletes none. upto[g] (n_groups of them, caller-owned) receives the
 * highest id applied, or after[g] when there was none; *applied the count. */
int sg_apply_keep(sg_migration *m, sg_dir d, const int64_t *after, int64_t *upto,
                  int64_t *applied);
/* In the caller's transaction on the log side of direction d: deletes the
 * entries with id <= upto[g]. */
int sg_apply_forget(sg_migration *m, sg_dir d, const int64_t *upto);
/* Whether a failed sync is the row's own fault (the receiving side refused
 * its data), not the schema's, the connection's, a lock's or the lease's. */
bool sg_apply_data_error(sg_migration *m, int rc);
/* Syncs each of n keys of group g (direction d) alone, in its own
 * transaction: a key whose sync fails on its data is set aside (aside.h)
 * and the others go on. The backfill's way past a chunk that failed on its
 * data. Errors: anything but a data error (SG_EDB, SG_ELEASE, ...). */
int sg_apply_each(sg_migration *m, sg_dir d, size_t g, const sg_row *keys, size_t n);
/* Pending entries and the age of the oldest (ms; 0 when none). */
int sg_apply_pending(sg_migration *m, sg_dir d, int64_t *pending, int64_t *lag_ms);

#endif
