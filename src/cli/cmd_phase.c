/* Commands that move the migration between phases: start, cutover,
 * rollback, cleanup, abort; and pause, resume of its rollout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segue/gates.h>

#include "cli.h"

/* Opens, runs `fn`, reports "what: done" or the failure. */
typedef int (*phase_fn)(sg_migration *m, const cli_cmd *c, const cli_args *a,
                        json_t *out);

static int transition(const cli_cmd *c, const cli_args *a, const char *done_msg,
                      phase_fn fn, json_t *extra)
{
    sg_migration *m = NULL;
    int code = cli_open(a, &m);
    if (code) {
        json_decref(extra);
        return code;
    }
    int rc = fn(m, c, a, extra);
    if (rc) {
        code = cli_fail(c->name, rc, sg_migration_errmsg(m));
        json_decref(extra);
    } else {
        sg_status st;
        const char *phase = sg_migration_status(&st, m) ? "?" : sg_phase_name(st.phase);
        if (a->json) {
            json_object_set_new(extra, "ok", json_true());
            json_object_set_new(extra, "phase", json_string(phase));
            cli_print_json(extra);
        } else {
            json_decref(extra);
            printf("%s: %s (phase %s)\n", sg_migration_name(m), done_msg, phase);
        }
    }
    sg_migration_close(m);
    return code;
}

static int do_start(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    (void)c;
    (void)j;
    return sg_migration_start(m, a->reason);
}

CMD(start)
{
    return transition(c, a, "control tables, target tables and capture "
                      "installed", do_start, json_object());
}

/* --timeout: how long the switch waits for locks the application holds. */
static int lock_wait(sg_migration *m, const cli_cmd *c, const cli_args *a, int64_t *ms)
{
    const char *t = cli_get(c, a, "timeout");
    *ms = 30000;
    if (t)
        cli_parse_duration(c->name, "timeout", t, ms); /* checked before opening */
    return sg_migration_set_lock_wait(m, *ms);
}

static int do_rollback(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    int64_t wait_ms;
    (void)j;
    int rc = lock_wait(m, c, a, &wait_ms);
    return rc ? rc : sg_migration_rollback(m, a->reason);
}

/* A malformed --timeout exits 2 before anything is opened. */
static int check_timeout(const cli_cmd *c, const cli_args *a)
{
    int64_t ms;
    const char *t = cli_get(c, a, "timeout");
    return t ? cli_parse_duration(c->name, "timeout", t, &ms) : 0;
}

CMD(rollback)
{
    if (check_timeout(c, a))
        return EXIT_USAGE;
    return transition(c, a, "reads and writes routed back to the source",
                      do_rollback, json_object());
}

static int do_abort(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    (void)c;
    (void)j;
    return sg_migration_abort(m, a->reason);
}

CMD(abort)
{
    return transition(c, a, "everything segue made was removed", do_abort,
                      json_object());
}

static int do_cleanup(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    sg_cleanup_options o = SG_CLEANUP_OPTIONS_INIT;
    (void)j;
    o.drop_source = cli_has(c, a, "drop-source");
    o.purge = cli_has(c, a, "purge");
    int rc = cli_has(c, a, "force") ? sg_migration_force_gates(m, a->reason) : 0;
    return rc ? rc : sg_migration_cleanup(m, &o, a->reason);
}

CMD(cleanup)
{
    return transition(c, a, cli_has(c, a, "drop-source")
                                ? "capture removed, source tables dropped"
                                : "capture and guards removed",
                      do_cleanup, json_object());
}

static int do_pause(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    (void)c;
    (void)j;
    return sg_migration_pause(m, a->reason);
}

CMD(pause)
{
    return transition(c, a, "the rollout holds where it is until `segue resume`",
                      do_pause, json_object());
}

static int do_resume(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    (void)c;
    (void)j;
    return sg_migration_resume(m, a->reason);
}

CMD(resume)
{
    return transition(c, a, "the rollout walks on as the gates allow", do_resume,
                      json_object());
}

double cli_read_pct(const cli_cmd *c, const cli_args *a)
{
    const char *s = cli_get(c, a, "reads");
    char *end = NULL;
    /* digits and one point: strtod alone would take 0x14, inf and 1e2 */
    if (!s || !*s || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.') ||
        !strcmp(s, "."))
        return -1;
    double pct = strtod(s, &end);
    return !*end && pct >= 0 && pct <= 100 ? pct : -1;
}

/* --force: the step passes refused gates, with --reason for the audit. */
static int force(sg_migration *m, const cli_cmd *c, const cli_args *a)
{
    return cli_has(c, a, "force") ? sg_migration_force_gates(m, a->reason) : 0;
}

static int do_reads(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    double pct = cli_read_pct(c, a);
    json_object_set_new(j, "read_pct", json_real(pct));
    int rc = force(m, c, a);
    return rc ? rc : sg_cutover_reads(m, pct, a->reason);
}

static int do_writes(sg_migration *m, const cli_cmd *c, const cli_args *a, json_t *j)
{
    double fence_ms = 0;
    int rc = force(m, c, a);
    if (!rc && cli_has(c, a, "no-rollback"))
        rc = sg_migration_accept_no_rollback(m);
    int64_t wait_ms;
    sg_status st;
    if (!rc)
        rc = lock_wait(m, c, a, &wait_ms);
    if (!rc)
        rc = sg_migration_status(&st, m);
    if (rc)
        return rc;
    fprintf(stderr, "segue cutover: switching writes: waiting up to %.1f s (--timeout) "
            "for transactions that hold write locks on the source tables; then "
            "source writes wait while %lld pending change%s drain%s and routing "
            "flips\n", (double)wait_ms / 1000.0, (long long)st.pending_changes,
            st.pending_changes == 1 ? "" : "s", st.pending_changes == 1 ? "s" : "");
    rc = sg_cutover_writes(&fence_ms, m, a->reason);
    json_object_set_new(j, "fence_ms", json_real(fence_ms));
    if (!rc && !a->json)
        printf("write fence held source writes for %.1f ms\n", fence_ms);
    return rc;
}

CMD(cutover)
{
    const char *reads = cli_get(c, a, "reads");
    bool writes = cli_has(c, a, "writes");
    char msg[64];
    if (check_timeout(c, a))
        return EXIT_USAGE;
    if (cli_has(c, a, "plan")) {
        if (reads || writes) {
            fprintf(stderr, "segue cutover: --plan shows the plan; it takes no --reads "
                            "or --writes\n");
            return EXIT_USAGE;
        }
        return cli_cutover_plan(a);
    }
    if ((reads != NULL) == writes) {
        fprintf(stderr, "segue cutover: give exactly one of --reads PCT or --writes\n");
        return EXIT_USAGE;
    }
    if (writes)
        return transition(c, a, "writes switched to the target", do_writes,
                          json_object());
    if (cli_read_pct(c, a) < 0) {
        fprintf(stderr, "segue cutover: --reads '%s' is not a percentage from 0 "
                        "to 100\n", reads);
        return EXIT_USAGE;
    }
    snprintf(msg, sizeof msg, "%g%% of reads routed to the target", cli_read_pct(c, a));
    return transition(c, a, msg, do_reads, json_object());
}
