/* Test-only points: named places in long operations where a test tool
 * (tests/tools/crashpoint) kills or stops the process, to make a crash or
 * a race happen exactly there instead of by timing. */
#ifndef SEGUE_TESTPOINT_H
#define SEGUE_TESTPOINT_H

#include <stdbool.h>

/* When set, called with the point's name at each point. NULL in normal use.
 * The points:
 *   cutover:checked, rollback:checked, abort:checked
 *       after the command's first phase check, before its transaction;
 *   cutover:fenced, rollback:fenced
 *       inside the switch's transactions, fence held, before the commits;
 *   cutover:between-commits, rollback:between-commits,
 *   recover:between-commits
 *       after the first of a write switch's two commits;
 *   lease:read
 *       a worker read the lease, inside the transaction that may take it;
 *   worker:round
 *       at the start of each worker round, after the lease was renewed;
 *   apply:checked
 *       inside an apply transaction, before the changed rows are read;
 *   apply:synced
 *       inside an apply transaction, after the rows were written (their
 *       locks held), before the commit;
 *   apply:committed
 *       the rows committed in the other database than the changelog's,
 *       before the applied entries are deleted there;
 *   index:build
 *       the backfill copied every row, before each secondary index of a
 *       created table is built. */
extern void (*sg_test_hook)(const char *where);

/* Calls sg_test_hook when it is set. */
void sg_test_point(const char *where);

/* When set, asked at each fault point whether to fail there on purpose
 * (a test proving that a check catches a loss). NULL in normal use: no
 * fault ever. The points:
 *   apply:lose-reverse
 *       a batch of the reverse flow (target -> source) is about to be
 *       applied: true drops it, its entries deleted all the same (writes
 *       made on the target lost). */
extern bool (*sg_test_fault)(const char *where);
bool sg_test_faulty(const char *where);

#endif
