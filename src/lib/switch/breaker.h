/* The read breaker (cutover.max_read_lag, read-your-writes): while the
 * apply's lag is above max_read_lag, every router (the C API's, OFREP)
 * sends reads to the source, the one side that has every write; they go
 * back to the percentage once the lag is down to half of it. The worker
 * measures and decides; routers read the decision from the control table
 * `read_rules` (shared with the application's role, like the routing),
 * and treat a decision older than max_read_lag + SG_BREAKER_STALE_MS (a
 * worker that stopped deciding: the lag is unknown) as open. Audited
 * (read_breaker_open, read_breaker_close). */
#ifndef SEGUE_BREAKER_H
#define SEGUE_BREAKER_H

#include "internal.h"

/* Makes the control table read_rules when missing: per migration, what
 * routers apply to reads beside the percentage (cutover.segments as the
 * worker published them, and the read breaker). SG_EDB. */
int sg_read_rules_install(sg_migration *m);

/* Slack for clocks that differ between the worker's and a router's host. */
#define SG_BREAKER_STALE_MS 5000

/* The worker's side: its last decision and when it measured. */
typedef struct sg_breaker {
    bool known;          /* the row was read (or written) once */
    bool open;
    int64_t next_ms;     /* monotonic: the next measurement */
} sg_breaker;

/* One measurement when due (every max_read_lag / 4, at least 100 ms, at
 * most 1 s) while writes are on the source: the lag of the oldest pending
 * change, the breaker opened or closed on it (an audit row, said through
 * m's log), and the row's measurement time renewed. Nothing without
 * cutover.max_read_lag. Errors: SG_EDB (the worker's round retries). */
int sg_breaker_tick(sg_migration *m, sg_breaker *b);

/* A router's side: whether reads go to the source whatever the routing
 * says, from the row on control connection c (*open false when the table
 * or the row is missing, or the breaker is off). now_ms: the router's
 * clock (ms since the epoch). Reads only. */
int sg_breaker_read(sg_conn *c, const char *name, int64_t now_ms, bool *open, sg_err *err);

#endif
