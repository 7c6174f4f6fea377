/* segue: the rollback drill (`segue drill`). On a live migration whose
 * worker (`segue run`) drives a rollout, it shifts reads (and with `writes`
 * the writes) to the target, makes a gate fail on purpose, lets the
 * rollout's automatic rollback happen and measures it: the time from the
 * failure to the rollback, until the C API's router and the OFREP service
 * answered the new routing, the write fence, and the writes made and lost.
 *
 * The ledger: while the drill runs it writes to `rows` rows of the first
 * mapping's source table (one text column, each value unique to the
 * drill), through the routing as an application would, and remembers the
 * last value it wrote to each. After the rollback every row must hold that
 * value on the source: a row holding an older value of the drill's, or
 * the value from before the drill, lost a write. A row holding another
 * value was overwritten by the application (counted apart, not a loss).
 * The rows get their values from before the drill back at the end, where
 * nothing else wrote them meanwhile. A verify pass follows.
 *
 * Conventions as in segue.h. */
#ifndef SEGUE_DRILL_H
#define SEGUE_DRILL_H

#include <segue/segue.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_DRILL_OPTIONS_VERSION 1

typedef struct sg_drill_options {
    int version;              /* SG_DRILL_OPTIONS_VERSION */
    double reads_pct;         /* reads shifted to the target before the
                               * failure, 0 < pct <= 100; default: the first
                               * step's percentage (100 with writes) */
    bool writes;              /* also move the writes (reads go to 100 %) */
    int64_t rows;             /* rows the ledger writes to; default 20 */
    const char *column;       /* the text column it writes; NULL: the first
                               * text column, not a key, that the target
                               * copies as it is */
    const char *ofrep_url;    /* `segue serve`'s base URL, to time the OFREP
                               * bulk evaluation's change; NULL: not timed */
    int64_t timeout_ms;       /* the longest wait for each stage; default
                               * (failure_limit + 3) x interval + 60 s */
    const char *reason;       /* for the audit rows; may be NULL */
} sg_drill_options;

#define SG_DRILL_OPTIONS_INIT { SG_DRILL_OPTIONS_VERSION, 0, false, 0, NULL, NULL, 0, NULL }
int sg_drill_options_init(sg_drill_options *o, unsigned version);

/* What a drill measured. Times in ms; -1 when not measured. */
typedef struct sg_drill_report {
    int64_t id;               /* the drill's number in the migration */
    int64_t started_ms;       /* when it started (ms since the epoch) */
    int64_t finished_ms;
    double reads_pct;         /* reads shifted to the target */
    bool writes;              /* writes moved to the target and back */
    double fence_in_ms;       /* the write fence moving writes to the target */
    int64_t to_rollback_ms;   /* the failure to the rollback's commit */
    int64_t to_router_ms;     /* ... until the C API's router answered it */
    int64_t to_ofrep_ms;      /* ... until the OFREP bulk evaluation (its ETag)
                               * answered it */
    double fence_ms;          /* the write fence of the rollback (writes) */
    int64_t limit_ms;         /* interval x failure_limit + one interval: the
                               * rollback's aim */
    int64_t writes_made;      /* the ledger's writes during the drill */
    int64_t writes_on_target; /* of those, while the writes were on the target */
    int64_t writes_lost;      /* ledger rows whose last write is not on the
                               * source after the rollback: must be 0 */
    int64_t overwritten;      /* ledger rows the application wrote since */
    int64_t differences;      /* the verify pass after the rollback */
    int64_t verified_rows;
    char column[128];         /* the ledger's table.column */
    char outcome[300];        /* "passed", or what failed */
} sg_drill_report;

/* Runs a drill on m (a handle that may write). Needs: a rollout in the
 * spec (cutover.reads with cutover.auto and gates.on_fail: rollback), a
 * worker holding the lease (it rolls back), reads at 0 % and writes on the
 * source, and the gates that cutover steps need. Blocks until done: about
 * failure_limit x interval, plus the verify. Progress goes to m's log.
 * The drill's audit rows are drill_start and drill_done; its figures are
 * kept (sg_migration_last_drill). The rollout is left in the mode it was
 * found in. Returns 0 when the drill ran, also when it found a loss or a
 * difference (see the report); SG_ESTATE when it could not start or the
 * rollback did not come within the timeout (reads and writes were then
 * put back by hand), SG_EDB, SG_EINVAL (options), SG_ENOMEM. */
int sg_migration_drill(sg_drill_report *out, sg_migration *m, const sg_drill_options *o);

/* The last drill that finished, *found false when none. Reads only.
 * Errors: SG_EINVAL, SG_EDB. */
int sg_migration_last_drill(sg_drill_report *out, bool *found, sg_migration *m);

#ifdef __cplusplus
}
#endif

#endif
