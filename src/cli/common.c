/* Shared by the commands: opening the migration, reporting errors, JSON
 * output, progress, signals. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
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

bool cli_duration_ms(const char *s, int64_t *ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
    char *end = NULL;
    long long v = s && isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : -1;
    for (size_t i = 0; v >= 0 && v < 1000000000LL && i < sizeof units / sizeof *units; i++)
        if (!strcmp(end, units[i].unit)) {
            *ms = v * units[i].ms;
            return true;
        }
    return false;
}

int cli_parse_duration(const char *cmd, const char *opt, const char *s, int64_t *ms)
{
    if (cli_duration_ms(s, ms) && *ms > 0)
        return 0;
    fprintf(stderr, "segue %s: --%s '%s' is not a duration; hint: a whole number and "
            "a unit: 500ms, 30s, 5m, 2h, 7d\n", cmd, opt, s ? s : "");
    return EXIT_USAGE;
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

/* The library's notices (an index being built, and its time) and warnings
 * (a retried deadlock, ...) go to stderr. */
static void log_to_stderr(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level >= SG_LOG_INFO)
        fprintf(stderr, "segue: %s%s\n", level >= SG_LOG_WARN ? "warning: " : "", msg);
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


void cli_iso_ms(char *out, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char s[32];
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", s, (int)(ms % 1000));
}
