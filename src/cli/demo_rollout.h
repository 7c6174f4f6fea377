/* The demo's rollout: `segue run`'s thread walks the read steps of the
 * demo's spec by itself (cutover.auto); the demo shows each decision as it
 * happens and waits until the walk is done. */
#ifndef SEGUE_DEMO_ROLLOUT_H
#define SEGUE_DEMO_ROLLOUT_H

#include <segue/segue.h>
#include <stdbool.h>

/* A log callback for the demo's worker and drill: the rollout's decisions
 * and the drill's steps printed as "demo: rollout: ..." and "demo: drill
 * ..." on stdout (ud: a bool *, true for --json: quiet). */
void demo_rollout_log(void *ud, int level, const char *msg);

/* Waits until the rollout is done (every step taken), at most deadline_ms.
 * SG_ESTATE (message on m) when it rolled back, paused or ran out of time;
 * *worker_rc is watched too (the worker thread failed: returned as is).
 * On success `values` holds the checks that moved the last step. */
int demo_rollout_wait(sg_migration *m, const volatile int *worker_rc, int64_t deadline_ms,
                      char *values, size_t size);

/* The rollback drill on the demo's live migration (the rollout paused
 * before it): reads and writes to the target and back by the worker's
 * automatic rollback, timed also through OFREP at ofrep_url; then the
 * rollout resumes. Its steps are shown through demo_rollout_log (json as
 * there, borrowed while m lives). 0, or the error on m; *r is the report
 * (a loss or a difference shows there, not as an error). */
struct sg_drill_report;
int demo_drill(sg_migration *m, const char *ofrep_url, bool *json,
               struct sg_drill_report *r);

#endif
