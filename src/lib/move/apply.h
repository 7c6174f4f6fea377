/* Apply: draining changelogs into the other side (DESIGN.md items 2-4),
 * in batches, in a write switch, or key by key. */
#ifndef SEGUE_APPLY_H
#define SEGUE_APPLY_H

#include "move/capture.h"

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
/* Syncs n keys of group g through every mapping of the group, direction d,
 * inside the caller's write transaction on the receiving side. */
int sg_apply_sync(sg_migration *m, sg_dir d, size_t g, const sg_row *keys, size_t n);
/* Pending entries of direction d and the capture times of the oldest and
 * newest (ms since the epoch, the capturing database's clock; 0 when none;
 * newest_at may be NULL). */
/* The same for group g alone; *has false when it has no changelog that way
 * (reverse: none of its mappings has a way back). */
int sg_apply_group_span(sg_migration *m, sg_dir d, size_t g, bool *has, int64_t *pending,
                        int64_t *oldest_at);
int sg_apply_span(sg_migration *m, sg_dir d, int64_t *pending, int64_t *oldest_at,
                  int64_t *newest_at);
/* The capture time of the oldest entry pending in direction d over every
 * group (ms since the epoch; 0 when none), by sg_changelog_oldest. */
int sg_apply_oldest(sg_migration *m, sg_dir d, int64_t *oldest_at);
/* Pending entries and the age of the oldest (ms; 0 when none). */
int sg_apply_pending(sg_migration *m, sg_dir d, int64_t *pending, int64_t *lag_ms);

#endif
