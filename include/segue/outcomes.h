/* segue: application outcomes. What the application saw when it ran an
 * operation on one side (its query type, success, latency), reported
 * through its router (or POST /api/v1/events of `segue serve`) and kept
 * per minute in the control tables, so that the error-rate and latency
 * gates and the dashboard see every process's reports added up.
 *
 * Conventions as in segue.h. */
#ifndef SEGUE_OUTCOMES_H
#define SEGUE_OUTCOMES_H

#include <segue/segue.h>
#include <segue/shadow.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest query type kept (bytes); a longer one is cut. */
#define SG_OUTCOME_KIND_MAX 64
/* Distinct query types one router keeps per migration; reports of further
 * ones are counted under "other" (bounded label cardinality). */
#define SG_OUTCOME_KINDS 100

/* Records one operation the application ran: on `side` (SG_SIDE_SOURCE or
 * SG_SIDE_TARGET), of query type `kind` (the application's name for it,
 * "get_order"; NULL or "" as "other"), whether it succeeded, and how long
 * it took (ms). Held in memory per minute and written to the control
 * tables (through a connection of the router's own that may write) once
 * a second at the next report, or by sg_router_flush. While they cannot
 * be written, reports stay held up to a cap, then are dropped and counted.
 * Errors: SG_EINVAL (side, or a negative or non-finite ms), SG_EDB (the
 * write failed; the reports stay held), SG_ENOMEM. */
int sg_router_report(sg_router *r, int side, const char *kind, bool ok, double ms);
/* Writes the reports held now. Errors: SG_EINVAL, SG_EDB. */
int sg_router_flush(sg_router *r);
/* Reports held (not yet written) and dropped (never written). */
void sg_router_unrecorded(const sg_router *r, int64_t *held, int64_t *dropped);

/* The outcomes of one query type on one side over a window. */
typedef struct sg_outcome {
    char kind[SG_OUTCOME_KIND_MAX + 1];
    int side;
    int64_t ok;                /* operations that succeeded */
    int64_t errors;            /* ... and that failed */
    sg_hist latency;           /* both, in µs (max_us is the top bucket's bound) */
} sg_outcome;

/* The outcomes reported over the last window_ms (whole minutes; 0: since
 * the migration started), one entry per query type and side, ordered by
 * side then kind. *out (free with free()) is NULL when there are none.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_migration_outcomes(sg_outcome **out, size_t *n, sg_migration *m, int64_t window_ms);
/* The outcomes of the minutes from the one holding from_ms up to, not
 * including, the one holding to_ms (ms since the epoch; to_ms 0: no end),
 * as sg_migration_outcomes gives them: a reader that keeps running totals
 * reads the settled minutes once and only the latest again. Reports held
 * by a router while the control tables could not be written land later in
 * the minute they were made.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_migration_outcomes_between(sg_outcome **out, size_t *n, sg_migration *m,
                                  int64_t from_ms, int64_t to_ms);

#ifdef __cplusplus
}
#endif
#endif
