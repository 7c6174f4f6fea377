/* Capture (the dual-write done by the database) and guards (the side that
 * must not take application writes rejects them). Draining what capture
 * logged is apply.h. */
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

/* Whether the source's guard is installed (committed, or in this
 * transaction): writes have moved away from the source. */
int sg_guard_on_source(sg_migration *m, bool *out);
/* Guards on side SG_SIDE_SOURCE (the source tables, after a write cutover)
 * or SG_SIDE_TARGET (the target tables, before it). Inside the caller's
 * transaction on that database. Installing is idempotent. */
int sg_guard_install(sg_migration *m, int side);
int sg_guard_remove(sg_migration *m, int side);
/* Around a bulk write to mapping `map`'s target table inside segue's own
 * target transaction: lift its guard (lift) and put it back (!lift) before
 * the commit, so the guard costs nothing per copied row where the driver can
 * do that invisibly to other sessions (see sg_driver.guard_lift); *lifted
 * (may be NULL) says whether it does. Only
 * while the target guard is installed: from start to the write cutover. */
int sg_guard_lift(sg_migration *m, size_t map, bool lift, bool *lifted);

#endif
