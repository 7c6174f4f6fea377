/* Displacement: a change applied before the change that freed its value.
 * A unique index of the receiving table (other than the key) refuses a row
 * because another row there still holds the value. That row is stale: the
 * sending side has the same unique index, so its row there has changed
 * since, and its change waits in the changelog. Displacement deletes the
 * receiving rows that hold the row's unique values, syncs the key, then
 * syncs the displaced keys from the sending side (their new values, or
 * their deletion), all in the caller's one transaction. */
#ifndef SEGUE_DISPLACE_H
#define SEGUE_DISPLACE_H

#include "move/capture.h"

/* Syncs `key` of group g in direction d through every mapping of the group,
 * displacing the rows that hold its unique values (and, up to a few levels,
 * theirs). *done is false, and nothing is written, when no row holds them
 * (the refusal was something else); a displaced row that cannot be written
 * either fails with its error. Only unique indexes on plain columns the
 * flow writes are looked at. Inside the caller's write transaction on the
 * receiving side. */
int sg_displace_sync(sg_migration *m, sg_dir d, size_t g, const sg_row *key, bool *done);

#endif
