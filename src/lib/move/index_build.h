/* Secondary indexes of the created target tables, built after the
 * backfill (maintaining them chunk by chunk costs more) and before the
 * migration is backfilled, so reads cannot move to a table that lacks them. */
#ifndef SEGUE_INDEX_BUILD_H
#define SEGUE_INDEX_BUILD_H

#include "internal.h"

/* Where the build stands: the next index to look at. */
typedef struct sg_index_pos {
    size_t map, index;
} sg_index_pos;

/* Builds the next index at or after *pos that is not built yet, and
 * moves *pos past it; *done when none is left. One index per call, so the
 * worker drains the changelog between builds. Logs each build and its
 * time. An index already built is kept (a restarted worker builds none
 * twice). Outside any transaction. Errors: SG_EDB (the target refused:
 * a duplicate for a unique index, a lock it could not take in time). */
int sg_index_build_next(sg_migration *m, sg_index_pos *pos, bool *done);
/* Indexes of the created target tables, all mappings. */
size_t sg_index_count(const sg_migration *m);

#endif
