/* Schema drift (DESIGN.md "Safety rules"): the columns a migration relies
 * on are fixed at start. `start` records, per mapping, the source columns
 * its expressions and filter name and the target columns it writes, with
 * their declared types, in the control table `columns`. Afterwards a
 * recorded column that is gone (dropped or renamed) or declared with
 * another type, on either side, is drift: the worker and verify stop once
 * on it, naming the table, the column and what to do; with the column
 * restored as it was, they go on. A column added later is not drift (a
 * created table's new source columns are not copied: sg_map.not_copied). */
#ifndef SEGUE_DRIFT_H
#define SEGUE_DRIFT_H

#include "internal.h"

/* Records the columns of every mapping; inside start's target write
 * transaction, after the target tables exist. Errors: SG_EDB, SG_ENOMEM. */
int sg_drift_record(sg_migration *m);
/* Compares the recorded columns with both catalogs now (outside any
 * transaction, or inside a healthy one): SG_ESTATE naming the first
 * drift, with a hint; 0 when none (or nothing was recorded). Errors:
 * SG_EDB. */
int sg_drift_check(sg_migration *m);

#endif
