/* Load generator for the SQLite benchmarks (bench/run.sh); no segue code.
 *
 *   sqlite_load DB latency N          N single-row UPDATEs by random key, one
 *                                     transaction each; prints latency
 *   sqlite_load DB load SECONDS RATE  mixed writes (70% update, 15% insert,
 *                                     10% delete, 5% key change) at RATE
 *                                     ops/s (0 = as fast as it can)
 *
 * Works on a table `accounts (aid INTEGER PRIMARY KEY, bid, abalance,
 * filler)`. Prints one line of key=value pairs: ops, changes (changelog
 * entries the writes make: a key change logs two keys), secs, ops_per_sec,
 * p50_us, p99_us, max_us, mean_us. The connection uses WAL, synchronous=NORMAL and
 * a 60 s busy timeout, as an application would. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct load {
    sqlite3 *db;
    sqlite3_stmt *upd, *ins, *del, *move, *max;
    int64_t max_key, next_key;
    uint64_t rng;
    double *lat;
    size_t n_lat, cap_lat;
    int64_t ops, changes;
} load;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint64_t rnd(load *l)
{
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return l->rng;
}

static int prep(load *l, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(l->db, sql, -1, s, NULL) == SQLITE_OK)
        return 0;
    fprintf(stderr, "sqlite_load: %s: %s\n", sql, sqlite3_errmsg(l->db));
    return -1;
}

static int open_load(load *l, const char *path)
{
    memset(l, 0, sizeof *l);
    l->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
    if (sqlite3_open(path, &l->db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_load: cannot open %s\n", path);
        return -1;
    }
    sqlite3_busy_timeout(l->db, 60000);
    if (sqlite3_exec(l->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK ||
        prep(l, "UPDATE accounts SET abalance = abalance + ?2 WHERE aid = ?1", &l->upd) ||
        prep(l, "INSERT INTO accounts (aid, bid, abalance, filler) VALUES (?1, 1, ?2, 'new')", &l->ins) ||
        prep(l, "DELETE FROM accounts WHERE aid = ?1", &l->del) ||
        prep(l, "UPDATE accounts SET aid = ?2 WHERE aid = ?1", &l->move) ||
        prep(l, "SELECT max(aid) FROM accounts", &l->max))
        return -1;
    if (sqlite3_step(l->max) == SQLITE_ROW)
        l->max_key = sqlite3_column_int64(l->max, 0);
    sqlite3_reset(l->max);
    l->next_key = l->max_key + 1000000;
    return 0;
}

static void close_load(load *l)
{
    sqlite3_finalize(l->upd);
    sqlite3_finalize(l->ins);
    sqlite3_finalize(l->del);
    sqlite3_finalize(l->move);
    sqlite3_finalize(l->max);
    sqlite3_close(l->db);
    free(l->lat);
}

/* Runs one prepared write with up to two integer parameters; records its
 * latency. Returns the number of rows changed, or -1. */
static int run_timed(load *l, sqlite3_stmt *s, int64_t a, int64_t b)
{
    double t0 = now_us();
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "sqlite_load: %s\n", sqlite3_errmsg(l->db));
        return -1;
    }
    if (l->n_lat == l->cap_lat) {
        l->cap_lat = l->cap_lat ? l->cap_lat * 2 : 4096;
        double *p = realloc(l->lat, l->cap_lat * sizeof *p);
        if (!p)
            return -1;
        l->lat = p;
    }
    l->lat[l->n_lat++] = now_us() - t0;
    l->ops++;
    return sqlite3_changes(l->db);
}

static int64_t some_key(load *l)
{
    return (int64_t)(rnd(l) % (uint64_t)(l->max_key > 0 ? l->max_key : 1)) + 1;
}

static int one_op(load *l)
{
    unsigned r = (unsigned)(rnd(l) % 100);
    int n;
    if (r < 70) {
        n = run_timed(l, l->upd, some_key(l), 1);
        l->changes += n > 0 ? n : 0;
    } else if (r < 85) {
        n = run_timed(l, l->ins, l->next_key++, 0);
        l->changes += n > 0 ? n : 0;
    } else if (r < 95) {
        n = run_timed(l, l->del, some_key(l), 0);
        l->changes += n > 0 ? n : 0;
    } else {
        n = run_timed(l, l->move, some_key(l), l->next_key++);
        l->changes += n > 0 ? 2 * n : 0;
    }
    return n < 0 ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(load *l, double secs)
{
    double sum = 0;
    qsort(l->lat, l->n_lat, sizeof *l->lat, cmp_double);
    for (size_t i = 0; i < l->n_lat; i++)
        sum += l->lat[i];
    double p50 = l->n_lat ? l->lat[l->n_lat / 2] : 0;
    double p99 = l->n_lat ? l->lat[(l->n_lat * 99) / 100] : 0;
    double max = l->n_lat ? l->lat[l->n_lat - 1] : 0;
    printf("ops=%lld changes=%lld secs=%.3f ops_per_sec=%.0f p50_us=%.1f p99_us=%.1f "
           "max_us=%.1f mean_us=%.1f\n", (long long)l->ops, (long long)l->changes, secs,
           secs > 0 ? (double)l->ops / secs : 0, p50, p99, max,
           l->n_lat ? sum / (double)l->n_lat : 0);
}

int main(int argc, char **argv)
{
    load l;
    int rc = 1;
    if (argc < 4 || (strcmp(argv[2], "latency") && strcmp(argv[2], "load")) ||
        (!strcmp(argv[2], "load") && argc < 5)) {
        fprintf(stderr, "usage: sqlite_load DB latency N | sqlite_load DB load SECONDS RATE\n");
        return 2;
    }
    if (open_load(&l, argv[1]))
        goto done;
    double t0 = now_us();
    if (!strcmp(argv[2], "latency")) {
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++)
            if ((l.changes += run_timed(&l, l.upd, some_key(&l), 1)) < 0)
                goto done;
    } else {
        double secs = atof(argv[3]), rate = atof(argv[4]);
        for (;;) {
            double t = now_us() - t0;
            if (t >= secs * 1e6)
                break;
            if (rate > 0 && (double)l.ops >= t / 1e6 * rate) {
                struct timespec ts = { 0, 200000 };
                nanosleep(&ts, NULL);
                continue;
            }
            if (one_op(&l))
                goto done;
        }
    }
    report(&l, (now_us() - t0) / 1e6);
    rc = 0;
done:
    close_load(&l);
    return rc;
}
