/* How long each write switch held application writers (the write fence):
 * one row per cutover --writes and per rollback of writes, kept in the
 * control table `fences`, read back by sg_migration_fences. */
#ifndef SEGUE_FENCES_H
#define SEGUE_FENCES_H

#include "internal.h"

/* Records a fence of `ms` on the side `to_target` says (true: a cutover
 * that held the source's writers; false: a rollback that held the
 * target's), in a transaction of its own on the control database. Called
 * after the switch committed: a failure is only logged (the switch stands)
 * and leaves the handle's error as it was. */
void sg_fence_record(sg_migration *m, bool to_target, double ms);

#endif
