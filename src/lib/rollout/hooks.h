/* on_rollback (docs/spec.md): who gets paged when the rollout rolls back
 * or pauses by itself. */
#ifndef SEGUE_ROLLOUT_HOOKS_H
#define SEGUE_ROLLOUT_HOOKS_H

#include <segue/gates.h>

#include "internal.h"

/* The facts of a page. Borrowed for the call. */
typedef struct sg_rollout_page {
    const char *migration;
    const char *action;        /* "rollback", "pause", or "drill" (a drill's
                                * rollback: segue/drill.h) */
    const char *why;           /* the decision's text, values included */
    int step;                  /* 1-based step it acted at */
    int64_t pct;               /* reads routed to the target then (%) */
    const sg_gate_check *v;    /* the evaluation that decided it */
    size_t n;
} sg_rollout_page;

/* Runs on_rollback.command (argv, "{name}" in an argument replaced by the
 * migration's name; its environment adds SEGUE_MIGRATION, SEGUE_ACTION,
 * SEGUE_STEP, SEGUE_PCT, SEGUE_REASON) and POSTs on_rollback.webhook, on a
 * thread of their own: returns at once, never fails (a hook that cannot
 * run is said through m's log). Nothing when neither is set. */
void sg_rollout_page_send(sg_migration *m, const sg_rollout_page *pg);

#endif
