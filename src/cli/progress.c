/* Progress of long work: on a terminal, one line rewritten in place;
 * otherwise (a log file, a service manager's journal) one full line every
 * --status-interval, in the shape gh-ost's status lines made familiar. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_fmt_secs(char *out, size_t n, double secs)
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

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void cli_reporter_init(cli_reporter *r, const char *name, int64_t every_ms)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->every_ms = every_ms;
    r->last_ms = mono_ms(); /* the first line after one interval */
    r->tty = isatty(STDERR_FILENO);
}

static double percent(const sg_progress *p)
{
    double pct = p->rows_total > 0 ? 100.0 * (double)p->rows_done / (double)p->rows_total
                                   : p->rows_total == 0 ? 100 : 0;
    return pct > 100 ? 100 : pct;
}

/* "; applied 340, backlog 0, lag 12 ms; phase backfilling" for the worker */
static void worker_part(char *out, size_t n, const sg_progress *p)
{
    char backlog[32] = "?";
    out[0] = '\0';
    if (!p->phase)
        return;
    if (p->backlog >= 0)
        snprintf(backlog, sizeof backlog, "%lld", (long long)p->backlog);
    snprintf(out, n, "; applied %lld, backlog %s, lag %lld ms; phase %s",
             (long long)p->applied, backlog, (long long)p->lag_ms, p->phase);
}

static void terminal_line(const sg_progress *p)
{
    char eta[32], w[160];
    cli_fmt_secs(eta, sizeof eta, p->eta_sec);
    worker_part(w, sizeof w, p);
    fprintf(stderr, "\r\033[K%s %.32s %lld/%lld rows %.1f%% %.0f rows/s ETA %s%s",
            p->what, p->mapping ? p->mapping : "", (long long)p->rows_done,
            (long long)p->rows_total, percent(p), p->rows_per_sec, eta, w);
    fflush(stderr);
}

static void log_line(const cli_reporter *r, const sg_progress *p)
{
    char eta[32], w[160], at[32], total[32] = "?";
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cli_fmt_secs(eta, sizeof eta, p->eta_sec);
    worker_part(w, sizeof w, p);
    if (p->rows_total >= 0)
        snprintf(total, sizeof total, "%lld", (long long)p->rows_total);
    fprintf(stderr, "%s segue %s %s: %s %lld/%s (%.1f%%), %.0f rows/s%s; ETA %s\n", at,
            p->what, r->name ? r->name : "", strcmp(p->what, "verify") ? "copied"
                                                                      : "compared",
            (long long)p->rows_done, total, percent(p), p->rows_per_sec, w, eta);
    fflush(stderr);
}

void cli_progress(void *ud, const sg_progress *p)
{
    cli_reporter *r = ud;
    if (!r)
        return;
    if (r->tty) {
        terminal_line(p);
        return;
    }
    int64_t now = mono_ms();
    if (r->every_ms <= 0 || now - r->last_ms < r->every_ms)
        return;
    r->last_ms = now;
    log_line(r, p);
}

int cli_reporter_from(cli_reporter *r, const cli_cmd *c, const cli_args *a)
{
    int64_t every = 10000;
    const char *s = cli_get(c, a, "status-interval");
    if (s && cli_parse_duration(c->name, "status-interval", s, &every))
        return EXIT_USAGE;
    cli_reporter_init(r, NULL, every);
    return 0;
}
