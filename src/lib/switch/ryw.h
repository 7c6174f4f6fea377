/* Per-key read-your-writes for a router (cutover: the C API's
 * sg_router_read_side_row): while writes go to the source, a read of a row
 * whose change the worker has not applied to the target yet goes to the
 * source. The source's changelog says so: one probe of its key index
 * (capture makes it) per read, on the router's own read-only connection
 * to the source. The apply commits on the target before it deletes an
 * entry, so "no entry" means the target has the change. Statement entries
 * (one statement that changed many rows) and keys set aside (their row
 * could not be written to the target) send every read of their table to
 * the source: the first for as long as the entry waits, the second from the
 * router's next refresh of the routing. */
#ifndef SEGUE_RYW_H
#define SEGUE_RYW_H

#include "internal.h"

typedef struct sg_ryw sg_ryw;

/* What a router needs of migration m: the source's URI, and each mapped
 * source table with its key width and changelog. No connection yet. *out
 * NULL when out of memory (SG_ENOMEM on e). */
int sg_ryw_open(sg_ryw **out, const sg_migration *m, sg_err *e);
void sg_ryw_close(sg_ryw *w);

/* Reads which tables have keys set aside, through control connection c
 * (the router's, at each refresh). SG_EDB. */
int sg_ryw_refresh(sg_ryw *w, sg_conn *c, const char *name, sg_err *e);

/* *pending: whether the row of source table `table` with key values
 * key[0..n_key) (text, in key order) has a change the target lacks.
 * Errors: SG_EINVAL (no mapping of that table, another number of values),
 * SG_EDB (the source cannot be read; its connection is opened again at the
 * next call), SG_ENOMEM. */
int sg_ryw_pending(sg_ryw *w, const char *table, size_t n_key, const char *const *key,
                   bool *pending, sg_err *e);

/* Only the checks of sg_ryw_pending on table and n_key: SG_EINVAL. */
int sg_ryw_check(sg_ryw *w, const char *table, size_t n_key, sg_err *e);

#endif
