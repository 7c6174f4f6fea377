/* The heartbeat (DESIGN.md, "lag"): while changes flow forward, the worker
 * inserts a row into a small table of segue's on the source every
 * worker.heartbeat; capture logs it like any row, and the worker applies it
 * to the target (a row in the control table `heartbeat`) once every change
 * captured before it has been applied. The heartbeat lag is the time from
 * that insert to its arrival: the end-to-end delay of the whole path
 * (trigger, changelog, worker, apply), which the age of the oldest pending
 * change does not show while the changelog is empty.
 *
 * The source holds `_segue_hb_<migration>` (id, written_ms) beside the
 * captured tables, with its own capture triggers and changelog. Its rows are
 * the beats not yet arrived: the drain deletes them (marked as segue's own
 * writes, so not captured) with their changelog entries. Times are ms since
 * the epoch on the worker's clock; the ordering against other changes uses
 * the changelogs' capture times, the source's clock (the same machine for
 * SQLite; synchronised clocks assumed otherwise, as for the lag). */
#ifndef SEGUE_HEARTBEAT_H
#define SEGUE_HEARTBEAT_H

#include "internal.h"

/* Inside the caller's transaction on the source: creates the heartbeat table
 * and changelog, forgets beats left from an earlier forward period, and
 * installs its capture. Nothing when worker.heartbeat is 0. Idempotent. */
int sg_heartbeat_install(sg_migration *m);
/* For a worker, in transactions of its own: the target's table of arrivals,
 * and sg_heartbeat_install (a migration started by a segue without
 * heartbeats gets them; old beats are forgotten). Behind the lease. */
int sg_heartbeat_start(sg_migration *m);
/* Inside the caller's transaction on the source: removes its capture
 * triggers (the table and changelog stay until sg_heartbeat_drop). */
int sg_heartbeat_remove(sg_migration *m);
/* Drops the heartbeat table and its changelog from the source. */
int sg_heartbeat_drop(sg_migration *m);

/* One beat: in a transaction of its own on the source, not marked as
 * segue's (so capture logs it), a row written now; *id (may be NULL) its
 * id, which rises with each beat. Errors: SG_EDB. */
int sg_heartbeat_beat(sg_migration *m, int64_t *id);
/* Applies the beats that have arrived: those captured (an entry in the
 * heartbeat changelog) and written before the oldest change still pending
 * in any changelog of the forward direction. Records the newest in the
 * target's control table, then deletes them and their entries from the
 * source, both behind the lease. *newest (may be NULL) receives the id of
 * the newest beat that has arrived, 0 when none had. Errors: SG_EDB,
 * SG_ELEASE. */
int sg_heartbeat_drain(sg_migration *m, int64_t *newest);

/* The heartbeat as status shows it: *lag_ms, the largest of the last
 * beat's transit time, the age of the oldest beat not arrived yet, and the
 * time since the last arrived beat was written less one interval (so a
 * heartbeat that stopped, with its worker, shows a growing lag); -1 when no
 * beat has been written or heartbeats are off. *at_ms, when the last beat
 * arrived (ms since the epoch; 0: none). Reads only. */
int sg_heartbeat_read(sg_migration *m, int64_t *lag_ms, int64_t *at_ms);

#endif
