/* Shared by the commands: opening the migration, reporting errors, JSON
 * output, progress, signals. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, long long *out)
{
    char *end = NULL;
    *out = s && isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : 0;
    if (s && (!end || *end || *out < 1)) {
        fprintf(stderr, "segue %s: --%s '%s' is not a positive whole number\n",
                cmd, opt, s);
        return EXIT_USAGE;
    }
    return 0;
}

int cli_fail(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "segue%s%s: %s\n", *what ? " " : "", what,
            msg && *msg ? msg : sg_error_name(rc));
    switch (rc) {
    case SG_ESPEC:
    case SG_EINVAL: return EXIT_USAGE;
    case SG_EDIFF: return EXIT_DIFF;
    case SG_ESTATE:
    case SG_EFORMAT: return EXIT_STATE;
    case SG_EBUSY: return EXIT_BUSY;
    case SG_ESTOPPED: return EXIT_STOPPED;
    default: return EXIT_FAIL;
    }
}

/* The library's warnings (a retried deadlock, ...) go to stderr. */
static void log_to_stderr(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level >= SG_LOG_WARN)
        fprintf(stderr, "segue: warning: %s\n", msg);
}

int cli_open(const cli_args *a, sg_migration **m)
{
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.read_only = a->access == CLI_READ_ONLY;
    o.create_target = a->access == CLI_CREATE;
    int rc = sg_migration_open_ext(m, a->spec, &o);
    if (*m)
        sg_migration_set_log(*m, log_to_stderr, NULL);
    if (!rc && a->actor)
        rc = sg_migration_set_actor(*m, a->actor);
    if (rc) {
        int code = cli_fail("", rc, sg_migration_errmsg(*m));
        sg_migration_close(*m);
        *m = NULL;
        return code;
    }
    return 0;
}

void cli_print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

static void fmt_eta(char *out, size_t n, double secs)
{
    if (secs < 0)
        snprintf(out, n, "--");
    else if (secs < 60)
        snprintf(out, n, "%.0fs", secs);
    else if (secs < 3600)
        snprintf(out, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)secs / 3600, ((int)secs % 3600) / 60);
}

void cli_progress(void *ud, const sg_progress *p)
{
    char eta[32];
    (void)ud;
    if (!isatty(STDERR_FILENO))
        return;
    fmt_eta(eta, sizeof eta, p->eta_sec);
    double pct = p->rows_total > 0 ? 100.0 * (double)p->rows_done / (double)p->rows_total : 0;
    fprintf(stderr, "\r%s %-32.32s %10lld/%lld rows %5.1f%% %9.0f rows/s ETA %-8s",
            p->what, p->mapping, (long long)p->rows_done, (long long)p->rows_total,
            pct > 100 ? 100 : pct, p->rows_per_sec, eta);
    fflush(stderr);
}
