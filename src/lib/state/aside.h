/* Keys set aside (DESIGN.md "Safety rules added with the decision layer"):
 * a key whose sync fails on its data (a row the receiving side refuses: a
 * CHECK, a NOT NULL, a type) is recorded here with the error, in the
 * target's control tables, and apply goes on with every other key. The
 * record is the key's pending change: its changelog entries are dropped
 * only once it is written, and `segue retry` puts it back into its
 * changelog after the data was fixed (the worker then syncs it; a key that
 * syncs again clears its record). While any key is set aside, the write
 * cutover, rollback and cleanup refuse, naming the keys, and the read
 * cutover's set_aside_keys gate refuses. */
#ifndef SEGUE_ASIDE_H
#define SEGUE_ASIDE_H

#include "move/capture.h"

/* Records key (of group g, direction d) with its error; own target
 * transaction. */
int sg_aside_record(sg_migration *m, sg_dir d, size_t g, const sg_row *key,
                    const char *error);
/* Removes the record of key, if any; inside the caller's target write
 * transaction. */
int sg_aside_clear(sg_migration *m, sg_dir d, size_t g, const sg_row *key);
/* Whether any key of group g, direction d, is set aside (one read). */
int sg_aside_any(sg_migration *m, sg_dir d, size_t g, bool *any);
/* For a router (read-your-writes), through control connection c, which
 * may be the application's role: aside[g] for each of n_groups groups,
 * whether group g has forward keys set aside (the shared table read_aside,
 * kept with set_aside). Fails on e. */
int sg_aside_groups(sg_err *e, sg_conn *c, const char *name, size_t n_groups, bool *aside);
/* How many keys are set aside, and "(k) in Table: error; ..." for the
 * first few into first (size bytes; "" when none). */
int sg_aside_count(sg_migration *m, int64_t *n, char *first, size_t size);
/* SG_ESTATE naming the keys when any is set aside: `command` cannot run. */
int sg_aside_refuse(sg_migration *m, const char *command);

#endif
