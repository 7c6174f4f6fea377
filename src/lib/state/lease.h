/* The worker lease, and the fence that makes it hold.
 *
 * One worker per migration holds the lease: a row in the target's control
 * tables (holder "pid@host", expiry in ms since the epoch, token). Taking
 * it is a compare-and-set on the token and expiry just read, so of workers
 * started at once exactly one wins; every take increments the token.
 *
 * A lease alone cannot stop a worker that was paused past its expiry
 * (SIGSTOP, swapping, a frozen VM) from committing rows it read before the
 * pause. So every transaction that writes rows or checkpoints proves the
 * token inside itself (sg_lease_check): on the target by renewing the lease
 * row only where the token is still its own; on the source (rows of a
 * reverse flow) by raising the source's fence token, which refuses a token
 * lower than one it has seen. A worker whose proof fails rolls back and
 * stops (SG_EBUSY). This is the fencing token of M. Kleppmann, "How to do
 * distributed locking" (2016), with the databases as the storage that
 * checks it; PostgreSQL's row lock on the lease or fence row, and SQLite's
 * write lock, keep a take from passing a transaction mid-commit. */
#ifndef SEGUE_LEASE_H
#define SEGUE_LEASE_H

#include "internal.h"

/* Takes the lease if it is free, expired, or held by a process of this
 * host that is gone. *got is false (holder names the live holder) when
 * another worker holds it or won a race for it. Own transaction. */
int sg_lease_acquire(sg_migration *m, bool *got, char *holder, size_t holder_size);

/* Extends the lease when a third of its ttl has passed (own transaction);
 * SG_EBUSY when it was lost. Does nothing when the lease is not held. */
int sg_lease_renew(sg_migration *m);

/* Inside the caller's write transaction on c (the target or the source):
 * proves this worker still holds the lease (see above). SG_EBUSY, with the
 * lease marked lost, when it does not; nothing to prove when this handle
 * never took the lease (a command, not a worker). */
int sg_lease_check(sg_migration *m, sg_conn *c);

/* Commits segue's write transaction on dst after proving the lease in it;
 * on failure dst is rolled back. */
int sg_lease_commit(sg_migration *m, sg_conn *dst);

/* Gives the lease up (its token stays, so a later take counts on). */
void sg_lease_release(sg_migration *m);

/* Reads the holder ("pid@host", "" if none) and whether it is alive. */
int sg_lease_holder(sg_migration *m, char *holder, size_t size, bool *alive);

/* In the caller's write transaction on the source, when it is another
 * database: creates / removes the source's fence row store. */
int sg_fence_install(sg_migration *m);
int sg_fence_remove(sg_migration *m);

#endif
