/* The demo's rollout (demo_rollout.h). */
#include "demo_rollout.h"

#include <segue/drill.h>
#include <segue/gates.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void demo_rollout_log(void *ud, int level, const char *msg)
{
    const bool *json = ud;
    (void)level;
    if (*json || (strncmp(msg, "rollout: ", 9) && strncmp(msg, "drill", 5)))
        return;
    printf("demo: %s\n", msg);
    fflush(stdout);
}

/* The values of the last rollout_advance in the audit: "verify_clean
 * 0.1/3600 (pass); ..." */
static void last_values(sg_migration *m, char *out, size_t size)
{
    sg_audit_entry *v = NULL;
    size_t n = 0;
    out[0] = '\0';
    if (sg_migration_audit(&v, &n, m, NULL))
        return;
    for (size_t i = n; i-- > 0;) {
        const char *at = v[i].detail ? strstr(v[i].detail, "values: ") : NULL;
        if (!strcmp(v[i].action, "rollout_advance") && at) {
            snprintf(out, size, "%s", at + 8);
            break;
        }
    }
    sg_audit_free(v, n);
}

int demo_rollout_wait(sg_migration *m, const volatile int *worker_rc, int64_t deadline_ms,
                      char *values, size_t size)
{
    sg_rollout_info ri;
    for (int64_t waited = 0;; waited += 100) {
        int rc = sg_migration_rollout(&ri, m);
        if (rc)
            return rc;
        if (*worker_rc)
            return *worker_rc;
        if (!strcmp(ri.mode, "done")) {
            last_values(m, values, size);
            return 0;
        }
        if (strcmp(ri.mode, "walking") || waited >= deadline_ms) {
            fprintf(stderr, "segue demo: the rollout is %s at step %d of %d%s; see "
                    "`segue gates` and `segue log`\n", ri.mode, ri.step, ri.steps,
                    waited >= deadline_ms ? " after the demo's time ran out" : "");
            return SG_ESTATE;
        }
        usleep(100000);
    }
}

int demo_drill(sg_migration *m, const char *ofrep_url, bool *json, sg_drill_report *r)
{
    sg_drill_options o = SG_DRILL_OPTIONS_INIT;
    o.writes = true;
    o.ofrep_url = ofrep_url;
    o.reason = "the demo's rollback drill";
    sg_migration_set_log(m, demo_rollout_log, json);
    int rc = sg_migration_drill(r, m, &o);
    if (!rc)
        rc = sg_migration_resume(m, "the drill is over: the rollout walks");
    return rc;
}
