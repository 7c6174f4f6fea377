/* segue shadow: replays a file of the application's reads on both sides
 * and reports, per query shape (fingerprint), what matched. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <segue/shadow.h>

#include "cli.h"
#include "shadow_feed.h"

#define EXAMPLES 3
/* --concurrency at most */
#define MAX_THREADS 64

typedef struct fp_stats {
    char fingerprint[17];
    char *query;                    /* the first of its queries */
    int64_t kinds[SG_SHADOW_KINDS];
    sg_hist src_us, tgt_us;         /* compared runs' times */
    char *examples[EXAMPLES];       /* mismatches, skips, errors */
    size_t n_examples;
    size_t lesser_at[EXAMPLES];     /* which examples are no mismatch */
    size_t n_lesser;
} fp_stats;

/* Distinct reasons to skip counted; more are counted together. */
#define MAX_REASONS 20

typedef struct report {
    fp_stats *fps;
    size_t n_fps;
    int64_t kinds[SG_SHADOW_KINDS];
    int64_t total;
    int64_t unreadable;     /* log lines that could not be read */
    int64_t sampled_out;    /* statements --sample passed over */
    struct { char *why; int64_t n; } reasons[MAX_REASONS]; /* skipped, by why */
    size_t n_reasons;
    int64_t other_reasons;
    const char *format;
    double max_ratio;       /* --max-p99-ratio; 0: latency not judged */
    bool keep;              /* record the outcomes in the control tables */
    int64_t slow;           /* fingerprints above it */
    int64_t cpu_us;         /* this process's CPU time replaying (user + system) */
    int64_t unrecorded;     /* outcomes the control tables did not get */
    int64_t dropped;        /* ... of them dropped before the end */
    char record_error[512]; /* why, or "" */
} report;

/* Compared reads a fingerprint needs before its p99 ratio is judged. */
#define RATIO_MIN_SAMPLES 5

static double p99_ratio(const fp_stats *s)
{
    int64_t sp99 = sg_hist_percentile(&s->src_us, 99);
    return sp99 ? (double)sg_hist_percentile(&s->tgt_us, 99) / (double)sp99 : 0;
}

static bool is_slow(const report *r, const fp_stats *s)
{
    return r->max_ratio > 0 && s->src_us.n >= RATIO_MIN_SAMPLES && p99_ratio(s) > r->max_ratio;
}

static fp_stats *stats_of(report *r, const char *fp, const char *query)
{
    for (size_t i = 0; i < r->n_fps; i++)
        if (strcmp(r->fps[i].fingerprint, fp) == 0)
            return &r->fps[i];
    fp_stats *p = realloc(r->fps, (r->n_fps + 1) * sizeof *p);
    if (!p)
        return NULL;
    r->fps = p;
    fp_stats *s = &p[r->n_fps++];
    memset(s, 0, sizeof *s);
    snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fp);
    s->query = strdup(query);
    return s;
}

/* ` [$1 = 'v', $2 = NULL]` after an example's query: its parameters */
static void params_text(const sg_logged_query *q, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q->n_params && n < size; i++) {
        const char *v = q->params[i];
        n += (size_t)snprintf(out + n, size - n, "%s$%zu = %s%s%s%s", i ? ", " : " [", i + 1,
                              v ? "'" : "", v ? v : "NULL", v ? "'" : "",
                              i + 1 == q->n_params ? "]" : "");
    }
}

/* Counts why statements were skipped, by the reason's text. */
static int count_reason(report *r, const char *why)
{
    size_t i = 0;
    while (i < r->n_reasons && strcmp(r->reasons[i].why, why) != 0)
        i++;
    if (i == r->n_reasons) {
        if (i == MAX_REASONS) {
            r->other_reasons++;
            return 0;
        }
        if (!(r->reasons[i].why = strdup(why)))
            return -1;
        r->n_reasons++;
    }
    r->reasons[i].n++;
    return 0;
}

/* Whether outcome k is shown as an example: what a reader must look at. */
static bool example_kind(sg_shadow_kind k)
{
    return k == SG_SHADOW_MISMATCH || k == SG_SHADOW_ORDER_ONLY || k == SG_SHADOW_SKIPPED ||
           k == SG_SHADOW_SOURCE_ERROR || k == SG_SHADOW_TARGET_ERROR;
}

static int record(report *r, const sg_logged_query *q, const sg_shadow_result *res)
{
    const char *query = q->sql;
    fp_stats *s = stats_of(r, *res->fingerprint ? res->fingerprint : "-", query);
    if (!s)
        return -1;
    s->kinds[res->kind]++;
    r->kinds[res->kind]++;
    r->total++;
    if (res->kind != SG_SHADOW_SKIPPED && res->kind != SG_SHADOW_SOURCE_ERROR &&
        res->kind != SG_SHADOW_TARGET_ERROR) {
        sg_hist_add(&s->src_us, res->source_us);
        sg_hist_add(&s->tgt_us, res->target_us);
    }
    if (res->kind == SG_SHADOW_SKIPPED && res->detail && count_reason(r, res->detail))
        return -1;
    /* a mismatch takes the place of a lesser example */
    bool worse = res->kind == SG_SHADOW_MISMATCH && s->n_examples == EXAMPLES &&
                 s->n_lesser > 0;
    if (res->detail && example_kind(res->kind) && (s->n_examples < EXAMPLES || worse)) {
        char ps[256];
        params_text(q, ps, sizeof ps);
        size_t n = strlen(query) + strlen(res->detail) + strlen(ps) + 64;
        char *e = malloc(n);
        if (!e)
            return -1;
        snprintf(e, n, "%s: %s -- %s%s", sg_shadow_kind_name(res->kind), res->detail, query,
                 ps);
        size_t at = s->n_examples;
        if (worse) { /* the last lesser one goes */
            at = s->lesser_at[--s->n_lesser];
            free(s->examples[at]);
        } else {
            s->n_examples++;
        }
        s->examples[at] = e;
        if (res->kind != SG_SHADOW_MISMATCH)
            s->lesser_at[s->n_lesser++] = at;
    }
    return 0;
}

static int64_t compared(const int64_t *k)
{
    return k[SG_SHADOW_MATCH] + k[SG_SHADOW_MISMATCH] + k[SG_SHADOW_ORDER_ONLY] +
           k[SG_SHADOW_PENDING] + k[SG_SHADOW_NONDETERMINISTIC];
}

static double mismatch_rate(const int64_t *k)
{
    int64_t n = compared(k);
    return n ? (double)(k[SG_SHADOW_MISMATCH] + k[SG_SHADOW_ORDER_ONLY]) / (double)n : 0;
}

static json_t *kinds_json(const int64_t *k)
{
    json_t *o = json_object();
    for (int i = 0; i < SG_SHADOW_KINDS; i++)
        json_object_set_new(o, sg_shadow_kind_name((sg_shadow_kind)i), json_integer(k[i]));
    return o;
}

/* segue's own CPU time per query of the log, the databases' left out
 * (they run in other processes; libpq and system calls are in). */
static double cpu_per_query(const report *r)
{
    return r->total ? (double)r->cpu_us / (double)r->total : 0;
}

static int64_t cpu_now_us(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return ((int64_t)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
           u.ru_stime.tv_usec;
}

/* This process's peak resident memory, kB (bounded whatever the log's
 * length and the results' sizes). */
static int64_t max_rss_kb(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? (int64_t)u.ru_maxrss : 0;
}

/* {"p50": .., "p95": .., "p99": ..} of a histogram, µs */
static json_t *latency_json(const sg_hist *h)
{
    return json_pack("{s:I,s:I,s:I}", "p50", (json_int_t)sg_hist_percentile(h, 50), "p95",
                     (json_int_t)sg_hist_percentile(h, 95), "p99",
                     (json_int_t)sg_hist_percentile(h, 99));
}

static json_t *reasons_json(const report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_reasons; i++)
        json_array_append_new(a, json_pack("{s:s,s:I}", "reason", r->reasons[i].why, "count",
                                           (json_int_t)r->reasons[i].n));
    if (r->other_reasons)
        json_array_append_new(a, json_pack("{s:s,s:I}", "reason", "(other reasons)", "count",
                                           (json_int_t)r->other_reasons));
    return a;
}

static json_t *report_json(report *r)
{
    json_t *fps = json_array();
    for (size_t i = 0; i < r->n_fps; i++) {
        fp_stats *s = &r->fps[i];
        json_t *ex = json_array();
        for (size_t e = 0; e < s->n_examples; e++)
            json_array_append_new(ex, json_string(s->examples[e]));
        int64_t sp99 = sg_hist_percentile(&s->src_us, 99);
        int64_t tp99 = sg_hist_percentile(&s->tgt_us, 99);
        json_array_append_new(fps, json_pack("{s:s,s:s?,s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:f,s:b,s:o}",
                              "fingerprint", s->fingerprint, "query", s->query, "outcomes",
                              kinds_json(s->kinds), "source_p50_us",
                              (json_int_t)sg_hist_percentile(&s->src_us, 50),
                              "source_p99_us", (json_int_t)sp99, "target_p50_us",
                              (json_int_t)sg_hist_percentile(&s->tgt_us, 50),
                              "target_p99_us", (json_int_t)tp99, "source_us",
                              latency_json(&s->src_us), "target_us", latency_json(&s->tgt_us),
                              "p99_ratio", sp99 ? (double)tp99 / (double)sp99 : 0.0, "slow",
                              is_slow(r, s), "examples", ex));
    }
    int64_t slow = 0;
    for (size_t i = 0; i < r->n_fps; i++)
        slow += is_slow(r, &r->fps[i]);
    return json_pack("{s:s?,s:I,s:I,s:I,s:I,s:o,s:f,s:I,s:o,s:f,s:I,s:I,s:o}", "format",
                     r->format, "queries", (json_int_t)r->total, "unreadable",
                     (json_int_t)r->unreadable, "sampled_out", (json_int_t)r->sampled_out,
                     "compared", (json_int_t)compared(r->kinds), "outcomes",
                     kinds_json(r->kinds), "mismatch_rate", mismatch_rate(r->kinds),
                     "slow_fingerprints", (json_int_t)slow, "skipped_reasons",
                     reasons_json(r), "cpu_us_per_query", cpu_per_query(r), "unrecorded",
                     (json_int_t)r->unrecorded, "max_rss_kb", (json_int_t)max_rss_kb(),
                     "fingerprints", fps);
}

/* "p50/p95/p99 a/b/c us" of a histogram */
static void latency_text(const char *side, const sg_hist *h)
{
    printf("%s %lld/%lld/%lld us", side, (long long)sg_hist_percentile(h, 50),
           (long long)sg_hist_percentile(h, 95), (long long)sg_hist_percentile(h, 99));
}

/* One block per query shape that ran (shapes only skipped are counted
 * under their reasons at the end), then the reasons and the totals. */
static void report_text(report *r)
{
    for (size_t i = 0; i < r->n_fps; i++) {
        fp_stats *s = &r->fps[i];
        const int64_t *k = s->kinds;
        if (!s->src_us.n && !k[SG_SHADOW_SOURCE_ERROR] && !k[SG_SHADOW_TARGET_ERROR])
            continue;
        printf("%s  %lld compared: %lld match, %lld mismatch, %lld order-only, %lld pending, "
               "%lld nondeterministic; %lld skipped; errors %lld source, %lld target\n",
               s->fingerprint, (long long)compared(k), (long long)k[SG_SHADOW_MATCH],
               (long long)k[SG_SHADOW_MISMATCH], (long long)k[SG_SHADOW_ORDER_ONLY],
               (long long)k[SG_SHADOW_PENDING], (long long)k[SG_SHADOW_NONDETERMINISTIC],
               (long long)k[SG_SHADOW_SKIPPED], (long long)k[SG_SHADOW_SOURCE_ERROR],
               (long long)k[SG_SHADOW_TARGET_ERROR]);
        printf("  %.200s\n", s->query);
        if (s->src_us.n) {
            int64_t sp99 = sg_hist_percentile(&s->src_us, 99);
            int64_t tp99 = sg_hist_percentile(&s->tgt_us, 99);
            printf("  latency p50/p95/p99: ");
            latency_text("source", &s->src_us);
            latency_text(", target", &s->tgt_us);
            printf("; p99 ratio %.2f%s\n", sp99 ? (double)tp99 / (double)sp99 : 0.0,
                   is_slow(r, s) ? " SLOW (above --max-p99-ratio)" : "");
        }
        for (size_t e = 0; e < s->n_examples; e++)
            printf("  %.600s\n", s->examples[e]);
    }
    for (size_t i = 0; i < r->n_reasons; i++)
        printf("skipped %lld: %.300s\n", (long long)r->reasons[i].n, r->reasons[i].why);
    if (r->other_reasons)
        printf("skipped %lld for other reasons\n", (long long)r->other_reasons);
    const int64_t *k = r->kinds;
    if (r->sampled_out)
        printf("shadow: --sample passed over %lld statements\n", (long long)r->sampled_out);
    printf("shadow: %lld queries (%s), %lld lines unreadable, %lld compared: %lld match, "
           "%lld mismatch, %lld order-only, %lld pending, %lld nondeterministic; %lld "
           "skipped; mismatch rate %.4f; segue CPU %.0f us/query, peak memory %lld MB\n",
           (long long)r->total,
           r->format, (long long)r->unreadable, (long long)compared(k),
           (long long)k[SG_SHADOW_MATCH], (long long)k[SG_SHADOW_MISMATCH],
           (long long)k[SG_SHADOW_ORDER_ONLY], (long long)k[SG_SHADOW_PENDING],
           (long long)k[SG_SHADOW_NONDETERMINISTIC], (long long)k[SG_SHADOW_SKIPPED],
           mismatch_rate(k), cpu_per_query(r), (long long)(max_rss_kb() / 1024));
}

static void report_free(report *r)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        free(r->reasons[i].why);
    for (size_t i = 0; i < r->n_fps; i++) {
        free(r->fps[i].query);
        for (size_t e = 0; e < r->fps[i].n_examples; e++)
            free(r->fps[i].examples[e]);
    }
    free(r->fps);
}

/* Outcomes are written to the control tables at least this often while
 * a replay runs (--follow runs for days). */
#define FLUSH_EVERY_US (10 * 1000000)
/* How often a thread with nothing to read looks at a followed log. */
#define FOLLOW_POLL_MS 100

/* What the replaying threads share, under mu: the log, the report and
 * the handle outcomes are recorded through (NULL: not recorded). */
typedef struct shared {
    pthread_mutex_t mu;
    shadow_feed *feed;
    sg_migration *m;
    report *r;
    cli_reporter progress;
    int64_t flushed_us;
    int64_t unflushed;  /* outcomes recorded since */
    int64_t started_us;
    int code;           /* the first failure's exit code */
    bool record_failed; /* said once; the outcomes stay held, retried */
} shared;

typedef struct replayer {
    shared *sh;
    sg_migration *rd;   /* this thread's read-only handle */
    pthread_t thread;
} replayer;

static void sleep_us(int64_t us)
{
    struct timespec t = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
    while (us > 0 && nanosleep(&t, &t) != 0 && !cli_stop)
        ;
}

/* One progress line on stderr (rewritten in place on a terminal); under
 * sh->mu. */
static void progress(shared *sh)
{
    cli_reporter *p = &sh->progress;
    int64_t now = feed_now_us();
    if (!p->every_ms || (now / 1000 - p->last_ms < (p->tty ? 250 : p->every_ms)))
        return;
    p->last_ms = now / 1000;
    const report *r = sh->r;
    double secs = (double)(now - sh->started_us) / 1e6, done = feed_done(sh->feed);
    double rate = secs > 0 ? (double)r->total / secs : 0;
    char eta[32] = "following";
    if (!sh->feed->follow)
        cli_fmt_secs(eta, sizeof eta, done > 0 ? secs * (1 - done) / done : -1);
    fprintf(stderr, "%sshadow: %lld read (%.0f%%, %s), %lld compared, %lld mismatch, "
            "%lld skipped; %.0f reads/s%s", p->tty ? "\r" : "", (long long)r->total,
            100 * done, eta, (long long)compared(r->kinds),
            (long long)(r->kinds[SG_SHADOW_MISMATCH] + r->kinds[SG_SHADOW_ORDER_ONLY]),
            (long long)r->kinds[SG_SHADOW_SKIPPED], rate, p->tty ? "\033[K" : "\n");
}

/* Recording failed (the target unreachable): said once, and the replay
 * goes on; what could not be written stays held and is retried. */
static void record_failed(shared *sh)
{
    if (!sh->record_failed)
        fprintf(stderr, "%ssegue shadow: cannot record the outcomes for now (the replay goes "
                "on): %s\n", sh->progress.tty ? "\n" : "", sg_migration_errmsg(sh->m));
    sh->record_failed = true;
}

/* The outcomes recorded so far written to the control tables; under
 * sh->mu. */
static void flush(shared *sh)
{
    sh->flushed_us = feed_now_us();
    if (sh->code || !sh->m || !sh->unflushed)
        return;
    sh->unflushed = 0;
    if (sg_shadow_flush(sh->m) != 0)
        record_failed(sh);
}

/* Takes the outcome of q into the report and the records (written out
 * every FLUSH_EVERY_US); under sh->mu. */
static void take(shared *sh, replayer *w, int rc, const sg_logged_query *q,
                 const sg_shadow_result *res)
{
    if (sh->code)
        return;
    if (rc)
        sh->code = cli_fail("shadow", rc, sg_migration_errmsg(w->rd));
    else if (record(sh->r, q, res))
        sh->code = cli_fail("shadow", SG_ENOMEM, "out of memory");
    else if (sh->m && sg_shadow_record(sh->m, q->sql, res) != 0)
        record_failed(sh);
    sh->unflushed++;
    if (feed_now_us() - sh->flushed_us >= FLUSH_EVERY_US)
        flush(sh);
    progress(sh);
}

/* Statements taken from the shared log one at a time, each shadowed
 * through this thread's handle, until the log ends, a failure or a stop. */
static void *replay_loop(void *arg)
{
    replayer *w = arg;
    shared *sh = w->sh;
    for (;;) {
        sg_logged_query q;
        sg_shadow_result res;
        int64_t at = 0;
        pthread_mutex_lock(&sh->mu);
        int got = cli_stop || sh->code ? 0 : feed_next(sh->feed, &q, &at);
        if (got == -2 && !sh->code)
            sh->code = EXIT_FAIL;
        if (got == -1) { /* caught up with a followed log: what it read is out */
            flush(sh);
            progress(sh);
        }
        pthread_mutex_unlock(&sh->mu);
        if (got == -1) {
            sleep_us(FOLLOW_POLL_MS * 1000);
            continue;
        }
        if (got != 1)
            break;
        sleep_us(at - feed_now_us());
        int rc = sg_shadow_sql(&res, w->rd, q.sql, q.n_params, (const char *const *)q.params);
        pthread_mutex_lock(&sh->mu);
        take(sh, w, rc, &q, &res);
        pthread_mutex_unlock(&sh->mu);
        sg_shadow_result_clear(&res);
        sg_logged_query_clear(&q);
    }
    return NULL;
}

/* The log replayed by n threads, each through its own read-only handle
 * (w[i].rd), outcomes recorded through m; 0 or the exit code. A stop by
 * signal ends a --follow normally. */
static int replay(replayer *w, size_t n, sg_migration *m, shadow_feed *feed, report *r,
                  const cli_reporter *progress_to)
{
    shared sh = { .feed = feed, .m = m, .r = r, .progress = *progress_to };
    sh.started_us = sh.flushed_us = feed_now_us();
    int64_t cpu0 = cpu_now_us();
    pthread_mutex_init(&sh.mu, NULL);
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
        w[i].sh = &sh;
        if (n > 1 && pthread_create(&w[i].thread, NULL, replay_loop, &w[i]) != 0)
            break;
        started++;
    }
    if (n == 1)
        replay_loop(&w[0]);
    for (size_t i = 0; n > 1 && i < started; i++)
        pthread_join(w[i].thread, NULL);
    pthread_mutex_destroy(&sh.mu);
    if (sh.progress.tty && sh.progress.every_ms && r->total)
        fputc('\n', stderr);
    if (n > 1 && started < n && !sh.code)
        sh.code = cli_fail("shadow", SG_ENOMEM, "cannot start the replaying threads");
    r->unreadable = feed_unreadable(feed);
    r->sampled_out = feed->sampled_out;
    r->cpu_us = cpu_now_us() - cpu0;
    if (!sh.code && m && sg_shadow_flush(m) != 0) {
        sg_shadow_unrecorded(m, &r->unrecorded, &r->dropped);
        r->unrecorded += r->dropped;
        snprintf(r->record_error, sizeof r->record_error, "%s", sg_migration_errmsg(m));
    }
    return sh.code ? sh.code : cli_stop && !feed->follow ? EXIT_STOPPED : 0;
}

static const char *const formats[] = { "auto", "sql", "jsonlog", "csvlog" };

static int parse_format(const char *s, sg_querylog_format *f)
{
    for (size_t i = 0; s && i < sizeof formats / sizeof *formats; i++)
        if (strcmp(s, formats[i]) == 0) {
            *f = (sg_querylog_format)i;
            return 0;
        }
    if (!s)
        return 0;
    fprintf(stderr, "segue shadow: --format '%s' is not auto, sql, jsonlog or csvlog\n", s);
    return EXIT_USAGE;
}

/* Option opt as a number above lo (or from lo, with lo_ok) up to hi into
 * *out (left as it is when not given); EXIT_USAGE said. */
static int parse_real(const char *opt, const char *s, double lo, bool lo_ok, double hi,
                      double *out, const char *what)
{
    char *end = NULL;
    if (!s)
        return 0;
    *out = strtod(s, &end);
    if (end == s || *end || !(lo_ok ? *out >= lo : *out > lo) || !(*out <= hi)) {
        fprintf(stderr, "segue shadow: --%s '%s' is not %s\n", opt, s, what);
        return EXIT_USAGE;
    }
    return 0;
}

/* The command line into feed, r and *n (threads); EXIT_USAGE said. */
static int parse_options(const cli_cmd *c, cli_args *a, shadow_feed *feed, report *r,
                         long long *n, double *limit)
{
    feed->path = cli_get(c, a, "log");
    feed->database = cli_get(c, a, "database");
    feed->follow = cli_has(c, a, "follow");
    feed->from_end = cli_has(c, a, "from-end");
    if (feed->from_end && !feed->follow) {
        fprintf(stderr, "segue shadow: --from-end goes with --follow (it skips what the log "
                        "holds now and replays what is written from then on)\n");
        return EXIT_USAGE;
    }
    feed->sample = 1;
    if (!feed->path) {
        fprintf(stderr, "segue shadow: --log FILE is required (a PostgreSQL jsonlog or "
                        "csvlog, or SQL statements separated by ;)\n");
        return EXIT_USAGE;
    }
    *n = 1;
    int code = parse_format(cli_get(c, a, "format"), &feed->format);
    if (!code)
        code = parse_real("max-mismatch", cli_get(c, a, "max-mismatch"), 0, true, 1, limit,
                          "a rate between 0 and 1");
    if (!code)
        code = parse_real("max-p99-ratio", cli_get(c, a, "max-p99-ratio"), 0, false, 1e300,
                          &r->max_ratio, "a ratio above 0 (1.5: the target's p99 may be "
                          "50 % above the source's)");
    if (!code)
        code = parse_real("sample", cli_get(c, a, "sample"), 0, false, 1, &feed->sample,
                          "a share above 0 and at most 1 (0.1: one statement in ten)");
    if (!code)
        code = parse_real("rate", cli_get(c, a, "rate"), 0, false, 1e9, &feed->rate,
                          "a number of reads per second above 0");
    if (!code && cli_get(c, a, "duration"))
        code = cli_parse_duration("shadow", "duration", cli_get(c, a, "duration"),
                                  &feed->duration_ms);
    if (!code && cli_get(c, a, "concurrency"))
        code = cli_parse_count("shadow", "concurrency", cli_get(c, a, "concurrency"), n);
    if (!code && (*n < 1 || *n > MAX_THREADS)) {
        fprintf(stderr, "segue shadow: --concurrency takes 1 to %d\n", MAX_THREADS);
        code = EXIT_USAGE;
    }
    r->keep = !cli_has(c, a, "no-record");
    return code;
}

CMD(shadow)
{
    shadow_feed feed = { .fd = -1 };
    report r = { 0 };
    long long n = 1;
    double limit = 0;
    cli_reporter progress_to;
    if (parse_options(c, a, &feed, &r, &n, &limit) || cli_reporter_from(&progress_to, c, a))
        return EXIT_USAGE;
    replayer w[MAX_THREADS];
    memset(w, 0, sizeof w);
    sg_migration *m = NULL;
    /* the reads through read-only sessions, one handle per thread;
     * outcomes recorded through m */
    cli_args ro = *a;
    ro.access = CLI_READ_ONLY;
    int code = 0;
    for (long long i = 0; i < n && !code; i++)
        code = cli_open(&ro, &w[i].rd);
    if (!code && r.keep)
        code = cli_open(a, &m);
    if (!code)
        code = feed_open(&feed) ? EXIT_FAIL : 0;
    if (!code) {
        r.format = formats[feed.format];
        code = replay(w, (size_t)n, m, &feed, &r, &progress_to);
    }
    if (!code || code == EXIT_STOPPED) {
        if (a->json)
            cli_print_json(report_json(&r));
        else
            report_text(&r);
        for (size_t i = 0; i < r.n_fps; i++)
            r.slow += is_slow(&r, &r.fps[i]);
        if (!code && (mismatch_rate(r.kinds) > limit || r.slow ||
                      r.kinds[SG_SHADOW_TARGET_ERROR]))
            code = EXIT_DIFF;
        if (r.unrecorded) {
            fprintf(stderr, "segue shadow: %lld outcomes could not be recorded (%lld dropped "
                    "before the end): %s\n", (long long)r.unrecorded, (long long)r.dropped,
                    r.record_error);
            code = EXIT_FAIL;
        }
    }
    report_free(&r);
    feed_close(&feed);
    for (long long i = 0; i < n; i++)
        sg_migration_close(w[i].rd);
    sg_migration_close(m);
    return code;
}
