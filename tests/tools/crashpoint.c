/* Test tool: runs one segue operation and kills (or stops) itself at a
 * named test point (src/lib/base/testpoint.h), so that a crash or a race happens
 * exactly there, not by timing.
 *
 *   crashpoint [--stop | --lose | --hold DIR] [--force] SPEC POINT
 *              cutover|rollback|abort|run
 *
 * Without --stop the process SIGKILLs itself at POINT (a kill shows as exit
 * 137). With --stop it SIGSTOPs itself the first time it reaches POINT and
 * goes on when sent SIGCONT; the test sees it stopped in /proc/PID/stat.
 * With --hold DIR only the thread that reaches POINT waits there, the first
 * time: it creates DIR/reached, then goes on once DIR/go exists (the
 * other threads run on, so no lock of theirs is held meanwhile).
 * With --lose POINT is a fault point instead (testpoint.h: sg_test_fault),
 * where the operation fails on purpose each time it is reached.
 * --force passes a cutover's refused gates (audited as a test's).
 * `run` is the worker (`segue run`) until SIGTERM. Exits 0 when the
 * operation succeeded, 1 on an error (the message on stderr). */
#include <segue/segue.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/testpoint.h"

static const char *point;
static bool stop_mode, stopped_once, force, lose_mode, lost_once;
static const char *hold_dir;
static volatile sig_atomic_t stop_flag;

static void at_point(const char *where)
{
    if (strcmp(where, point) != 0)
        return;
    if (hold_dir) {
        char path[4096];
        struct timespec tick = { 0, 10 * 1000 * 1000 };
        if (stopped_once)
            return;
        stopped_once = true;
        snprintf(path, sizeof path, "%s/reached", hold_dir);
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
        snprintf(path, sizeof path, "%s/go", hold_dir);
        while (access(path, F_OK) != 0)
            nanosleep(&tick, NULL);
        return;
    }
    if (!stop_mode)
        raise(SIGKILL);
    if (!stopped_once) {
        stopped_once = true;
        raise(SIGSTOP);
    }
}

static bool lose_at(const char *where)
{
    if (strcmp(where, point) != 0)
        return false;
    if (!lost_once)
        fprintf(stderr, "crashpoint: the fault at %s fires\n", where);
    lost_once = true;
    return true;
}

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int operate(sg_migration *m, const char *op)
{
    if (!strcmp(op, "cutover")) {
        int rc = force ? sg_migration_force_gates(m, "crashpoint test") : 0;
        return rc ? rc : sg_cutover_writes(NULL, m, "crash test");
    }
    if (!strcmp(op, "rollback"))
        return sg_migration_rollback(m, "crash test");
    if (!strcmp(op, "abort"))
        return sg_migration_abort(m, "crash test");
    sg_worker_options o = SG_WORKER_OPTIONS_INIT;
    o.stop = &stop_flag;
    signal(SIGTERM, on_term);
    int rc = sg_worker_run(m, &o);
    return rc == SG_ESTOPPED ? 0 : rc;
}

int main(int argc, char **argv)
{
    sg_migration *m = NULL;
    int a = 1;
    for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
        if (!strcmp(argv[a], "--stop"))
            stop_mode = true;
        else if (!strcmp(argv[a], "--lose"))
            lose_mode = true;
        else if (!strcmp(argv[a], "--hold") && a + 1 < argc)
            hold_dir = argv[++a];
        else if (!strcmp(argv[a], "--force"))
            force = true;
        else
            break;
    }
    if (argc - a != 3 || (strcmp(argv[a + 2], "cutover") && strcmp(argv[a + 2], "rollback") &&
                          strcmp(argv[a + 2], "abort") && strcmp(argv[a + 2], "run"))) {
        fprintf(stderr, "usage: crashpoint [--stop | --lose | --hold DIR] [--force] SPEC "
                        "POINT cutover|rollback|abort|run\n");
        return 2;
    }
    point = argv[a + 1];
    if (lose_mode)
        sg_test_fault = lose_at;
    else
        sg_test_hook = at_point;
    int rc = sg_migration_open(&m, argv[a]);
    if (!rc)
        rc = operate(m, argv[a + 2]);
    if (rc)
        fprintf(stderr, "crashpoint: %s\n", m ? sg_migration_errmsg(m) : "out of memory");
    sg_migration_close(m);
    return rc ? 1 : 0;
}
