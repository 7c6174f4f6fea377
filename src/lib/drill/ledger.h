/* The drill's ledger (segue/drill.h): a writer that changes one text
 * column of a few rows of the first mapping's source table through the
 * routing, as an application would, and remembers the last value it wrote
 * to each row; then the check of those rows on the source, and putting
 * their values from before the drill back. Runs on connections of its own. */
#ifndef SEGUE_DRILL_LEDGER_H
#define SEGUE_DRILL_LEDGER_H

#include "internal.h"

typedef struct sg_ledger sg_ledger;

/* Picks the column (`column`, or the first text column, not a key, that
 * the target copies as it is) and the first `rows` rows by key, and reads
 * their values. *out is the caller's (sg_ledger_free). Errors on m:
 * SG_ESTATE (no such column, or none fits; no rows), SG_EDB, SG_ENOMEM. */
int sg_ledger_open(sg_ledger **out, sg_migration *m, const char *column, int64_t rows,
                   int64_t drill_id);
/* "table.column" it writes. */
const char *sg_ledger_column(const sg_ledger *l);
/* Starts (or stops, joining) the writing thread. Start: SG_ENOMEM. */
int sg_ledger_start(sg_ledger *l);
void sg_ledger_stop(sg_ledger *l);
/* Writes made so far, and of them while the writes were on the target. */
int64_t sg_ledger_writes(const sg_ledger *l, int64_t *on_target);
/* The writer's error ("" while none): it stops at the first error that is
 * not a guard's refusal. */
const char *sg_ledger_error(const sg_ledger *l);
/* After the writer stopped and the changes arrived: each row on the
 * source, judged (segue/drill.h): *lost and *overwritten counted, the
 * first lost row said in first (size bytes). Errors: SG_EDB. */
int sg_ledger_check(sg_ledger *l, int64_t *lost, int64_t *overwritten, char *first,
                    size_t size);
/* Puts back each row's value from before the drill where it still holds
 * the drill's last value, through the side that takes writes. SG_EDB. */
int sg_ledger_restore(sg_ledger *l);
void sg_ledger_free(sg_ledger *l);

#endif
