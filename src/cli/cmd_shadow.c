/* segue shadow: replays a file of the application's reads on both sides
 * and reports, per query shape (fingerprint), what matched. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <segue/shadow.h>

#include "cli.h"

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
} fp_stats;

typedef struct report {
    fp_stats *fps;
    size_t n_fps;
    int64_t kinds[SG_SHADOW_KINDS];
    int64_t total;
    int64_t unreadable;     /* log lines that could not be read */
    const char *format;
    double max_ratio;       /* --max-p99-ratio; 0: latency not judged */
    bool keep;              /* record the outcomes in the control tables */
    int64_t slow;           /* fingerprints above it */
    int64_t cpu_us;         /* this process's CPU time replaying (user + system) */
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

/* The log mapped into memory, not read: pages come and go with the page
 * cache, so a log of any length is replayed in bounded memory. */
static const char *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *why = fd < 0 || fstat(fd, &st) != 0 ? strerror(errno)
                      : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
    if (why) {
        fprintf(stderr, "segue shadow: cannot read %s: %s\n", path, why);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *len = (size_t)st.st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : (void *)"";
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "segue shadow: cannot map %s: %s\n", path, strerror(errno));
        return NULL;
    }
    return p;
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

static int record(report *r, const char *query, const sg_shadow_result *res)
{
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
    if (res->detail && res->kind != SG_SHADOW_NONDETERMINISTIC && s->n_examples < EXAMPLES) {
        size_t n = strlen(query) + strlen(res->detail) + 64;
        char *e = malloc(n);
        if (!e)
            return -1;
        snprintf(e, n, "%s: %s -- %s", sg_shadow_kind_name(res->kind), res->detail, query);
        s->examples[s->n_examples++] = e;
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
        json_array_append_new(fps, json_pack("{s:s,s:s?,s:o,s:I,s:I,s:I,s:I,s:f,s:b,s:o}",
                              "fingerprint", s->fingerprint, "query", s->query, "outcomes",
                              kinds_json(s->kinds), "source_p50_us",
                              (json_int_t)sg_hist_percentile(&s->src_us, 50),
                              "source_p99_us", (json_int_t)sp99, "target_p50_us",
                              (json_int_t)sg_hist_percentile(&s->tgt_us, 50),
                              "target_p99_us", (json_int_t)tp99, "p99_ratio",
                              sp99 ? (double)tp99 / (double)sp99 : 0.0, "slow",
                              is_slow(r, s), "examples", ex));
    }
    int64_t slow = 0;
    for (size_t i = 0; i < r->n_fps; i++)
        slow += is_slow(r, &r->fps[i]);
    return json_pack("{s:s?,s:I,s:I,s:I,s:o,s:f,s:I,s:f,s:o}", "format", r->format,
                     "queries", (json_int_t)r->total, "unreadable", (json_int_t)r->unreadable,
                     "compared", (json_int_t)compared(r->kinds), "outcomes",
                     kinds_json(r->kinds), "mismatch_rate", mismatch_rate(r->kinds),
                     "slow_fingerprints", (json_int_t)slow, "cpu_us_per_query",
                     cpu_per_query(r), "fingerprints", fps);
}

static void report_text(report *r)
{
    for (size_t i = 0; i < r->n_fps; i++) {
        fp_stats *s = &r->fps[i];
        const int64_t *k = s->kinds;
        printf("%s  %lld compared: %lld match, %lld mismatch, %lld order-only, %lld pending, "
               "%lld nondeterministic; %lld skipped; errors %lld source, %lld target\n",
               s->fingerprint, (long long)compared(k), (long long)k[SG_SHADOW_MATCH],
               (long long)k[SG_SHADOW_MISMATCH], (long long)k[SG_SHADOW_ORDER_ONLY],
               (long long)k[SG_SHADOW_PENDING], (long long)k[SG_SHADOW_NONDETERMINISTIC],
               (long long)k[SG_SHADOW_SKIPPED], (long long)k[SG_SHADOW_SOURCE_ERROR],
               (long long)k[SG_SHADOW_TARGET_ERROR]);
        printf("  %.200s\n", s->query);
        if (s->src_us.n) {
            int64_t sp50 = sg_hist_percentile(&s->src_us, 50);
            int64_t sp99 = sg_hist_percentile(&s->src_us, 99);
            int64_t tp50 = sg_hist_percentile(&s->tgt_us, 50);
            int64_t tp99 = sg_hist_percentile(&s->tgt_us, 99);
            printf("  latency p50/p99: source %lld/%lld us, target %lld/%lld us, p99 "
                   "ratio %.2f%s\n", (long long)sp50, (long long)sp99, (long long)tp50,
                   (long long)tp99, sp99 ? (double)tp99 / (double)sp99 : 0.0,
                   is_slow(r, s) ? " SLOW (above --max-p99-ratio)" : "");
        }
        for (size_t e = 0; e < s->n_examples; e++)
            printf("  %.600s\n", s->examples[e]);
    }
    const int64_t *k = r->kinds;
    printf("shadow: %lld queries (%s), %lld lines unreadable, %lld compared: %lld match, "
           "%lld mismatch, %lld order-only, %lld pending, %lld nondeterministic; %lld "
           "skipped; mismatch rate %.4f; segue CPU %.0f us/query\n", (long long)r->total,
           r->format, (long long)r->unreadable, (long long)compared(k),
           (long long)k[SG_SHADOW_MATCH], (long long)k[SG_SHADOW_MISMATCH],
           (long long)k[SG_SHADOW_ORDER_ONLY], (long long)k[SG_SHADOW_PENDING],
           (long long)k[SG_SHADOW_NONDETERMINISTIC], (long long)k[SG_SHADOW_SKIPPED],
           mismatch_rate(k), cpu_per_query(r));
}

static void report_free(report *r)
{
    for (size_t i = 0; i < r->n_fps; i++) {
        free(r->fps[i].query);
        for (size_t e = 0; e < r->fps[i].n_examples; e++)
            free(r->fps[i].examples[e]);
    }
    free(r->fps);
}

/* What the replaying threads share, under mu: the log, the report and
 * the handle outcomes are recorded through (NULL: not recorded). */
typedef struct shared {
    pthread_mutex_t mu;
    sg_querylog *log;
    sg_migration *m;
    report *r;
    int code;           /* the first failure's exit code */
} shared;

typedef struct replayer {
    shared *sh;
    sg_migration *rd;   /* this thread's read-only handle */
    pthread_t thread;
} replayer;

/* Takes the outcome of q into the report and the records; under sh->mu. */
static void take(shared *sh, replayer *w, int rc, const sg_logged_query *q,
                 const sg_shadow_result *res)
{
    if (sh->code)
        return;
    if (rc)
        sh->code = cli_fail("shadow", rc, sg_migration_errmsg(w->rd));
    else if (record(sh->r, q->sql, res))
        sh->code = cli_fail("shadow", SG_ENOMEM, "out of memory");
    else if (sh->m && (rc = sg_shadow_record(sh->m, q->sql, res)) != 0)
        sh->code = cli_fail("shadow", rc, sg_migration_errmsg(sh->m));
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
        pthread_mutex_lock(&sh->mu);
        bool got = !cli_stop && !sh->code && sg_querylog_next(sh->log, &q);
        pthread_mutex_unlock(&sh->mu);
        if (!got)
            break;
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
 * (w[i].rd), outcomes recorded through m; 0 or the exit code. */
static int replay(replayer *w, size_t n, sg_migration *m, sg_querylog *log, report *r)
{
    shared sh = { .log = log, .m = m, .r = r };
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
    if (n > 1 && started < n && !sh.code)
        sh.code = cli_fail("shadow", SG_ENOMEM, "cannot start the replaying threads");
    r->unreadable = sg_querylog_unreadable(log);
    r->cpu_us = cpu_now_us() - cpu0;
    int rc = !sh.code && m ? sg_shadow_flush(m) : 0;
    if (rc)
        return cli_fail("shadow", rc, sg_migration_errmsg(m));
    return sh.code ? sh.code : cli_stop ? EXIT_STOPPED : 0;
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

CMD(shadow)
{
    const char *path = cli_get(c, a, "log"), *max = cli_get(c, a, "max-mismatch");
    const char *ratio = cli_get(c, a, "max-p99-ratio");
    sg_querylog_format fmt = SG_QUERYLOG_AUTO;
    double limit = 0;
    if (parse_format(cli_get(c, a, "format"), &fmt))
        return EXIT_USAGE;
    char *end = NULL;
    if (!path) {
        fprintf(stderr, "segue shadow: --log FILE is required (a file of SQL statements "
                        "separated by ;)\n");
        return EXIT_USAGE;
    }
    if (max && ((limit = strtod(max, &end)), end == max || *end || limit < 0 || limit > 1)) {
        fprintf(stderr, "segue shadow: --max-mismatch '%s' is not a rate between 0 and 1\n",
                max);
        return EXIT_USAGE;
    }
    double max_ratio = 0;
    if (ratio && ((max_ratio = strtod(ratio, &end)), end == ratio || *end || max_ratio <= 0)) {
        fprintf(stderr, "segue shadow: --max-p99-ratio '%s' is not a ratio above 0 (1.5: the "
                        "target's p99 may be 50 %% above the source's)\n", ratio);
        return EXIT_USAGE;
    }
    size_t len = 0;
    const char *text = map_file(path, &len);
    if (!text)
        return EXIT_FAIL;
    long long n = 1;
    if (cli_get(c, a, "concurrency") &&
        cli_parse_count("shadow", "concurrency", cli_get(c, a, "concurrency"), &n))
        return EXIT_USAGE;
    if (n < 1 || n > MAX_THREADS) {
        fprintf(stderr, "segue shadow: --concurrency takes 1 to %d\n", MAX_THREADS);
        return EXIT_USAGE;
    }
    replayer w[MAX_THREADS];
    memset(w, 0, sizeof w);
    sg_migration *m = NULL;
    sg_querylog *log = NULL;
    report r = { 0 };
    r.max_ratio = max_ratio;
    r.keep = !cli_has(c, a, "no-record");
    /* the reads through read-only sessions, one handle per thread;
     * outcomes recorded through m */
    cli_args ro = *a;
    ro.access = CLI_READ_ONLY;
    int code = 0;
    for (long long i = 0; i < n && !code; i++)
        code = cli_open(&ro, &w[i].rd);
    if (!code && r.keep)
        code = cli_open(a, &m);
    if (!code && (sg_querylog_open(&log, text, len, fmt) ||
                  sg_querylog_only_database(log, cli_get(c, a, "database"))))
        code = cli_fail("shadow", SG_ENOMEM, "out of memory");
    if (!code) {
        r.format = formats[sg_querylog_format_of(log)];
        code = replay(w, (size_t)n, m, log, &r);
    }
    if (!code || code == EXIT_STOPPED) {
        if (a->json)
            cli_print_json(report_json(&r));
        else
            report_text(&r);
        for (size_t i = 0; i < r.n_fps; i++)
            r.slow += is_slow(&r, &r.fps[i]);
        if (!code && (mismatch_rate(r.kinds) > limit || r.slow))
            code = EXIT_DIFF;
    }
    report_free(&r);
    sg_querylog_free(log);
    for (long long i = 0; i < n; i++)
        sg_migration_close(w[i].rd);
    sg_migration_close(m);
    if (len)
        munmap((void *)text, len);
    return code;
}
