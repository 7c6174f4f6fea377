/* The C API's cost (bench/pg.sh part shadow_api, bench/run.sh): a point
 * read shadowed with sg_shadow_key against the two plain reads an
 * application would otherwise make (the old row on the source, the new
 * row on the target, each a prepared statement reused), the sides taking
 * turns (which goes first alternates: the second finds the rows cached),
 * medians of REPS rounds of N reads.
 *
 *   shadow_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N REPS
 *
 * SRC_SQL and TGT_SQL read one row by a key parameter ($1 on PostgreSQL,
 * ?1 on SQLite); keys are drawn from 1..KEYS, the same ones on both sides.
 * URIs: sqlite:PATH or a libpq connection URI. Prints one line:
 * plain_us=.. shadow_us=.. ratio=.. (µs per read, median). */
#include <libpq-fe.h>
#include <segue/segue.h>
#include <segue/shadow.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REPS 31

typedef struct plain {
    sqlite3 *db;
    sqlite3_stmt *st;
    PGconn *pg;
    char name[8];
} plain;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int plain_open(plain *p, const char *uri, const char *sql, const char *name)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (strncmp(uri, "sqlite:", 7) == 0)
        return sqlite3_open_v2(uri + 7, &p->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
               sqlite3_prepare_v2(p->db, sql, -1, &p->st, NULL) != SQLITE_OK;
    p->pg = PQconnectdb(uri);
    if (PQstatus(p->pg) != CONNECTION_OK)
        return 1;
    PGresult *r = PQprepare(p->pg, p->name, sql, 0, NULL);
    int bad = PQresultStatus(r) != PGRES_COMMAND_OK;
    PQclear(r);
    return bad;
}

/* One read of key k; the row's columns touched as an application would. */
static int plain_read(plain *p, long k)
{
    size_t bytes = 0;
    if (p->db) {
        sqlite3_bind_int64(p->st, 1, k);
        while (sqlite3_step(p->st) == SQLITE_ROW)
            for (int i = 0; i < sqlite3_column_count(p->st); i++)
                bytes += (size_t)sqlite3_column_bytes(p->st, i);
        return sqlite3_reset(p->st) != SQLITE_OK;
    }
    char key[32];
    const char *v[1] = { key };
    snprintf(key, sizeof key, "%ld", k);
    PGresult *r = PQexecPrepared(p->pg, p->name, 1, v, NULL, NULL, 0);
    int bad = PQresultStatus(r) != PGRES_TUPLES_OK;
    for (int i = 0; !bad && i < PQntuples(r); i++)
        for (int c = 0; c < PQnfields(r); c++)
            bytes += (size_t)PQgetlength(r, i, c);
    PQclear(r);
    return bad || bytes == (size_t)-1;
}

static void plain_close(plain *p)
{
    sqlite3_finalize(p->st);
    sqlite3_close(p->db);
    PQfinish(p->pg);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long key_at(uint64_t *s, long keys)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (long)(*s % (uint64_t)keys) + 1;
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: shadow_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N "
                        "REPS\n");
        return 2;
    }
    long keys = strtol(argv[7], NULL, 10), n = strtol(argv[8], NULL, 10);
    int reps = (int)strtol(argv[9], NULL, 10);
    if (keys < 1 || n < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "shadow_api: KEYS and N above 0, REPS 1..%d\n", MAX_REPS);
        return 2;
    }
    sg_migration *m = NULL;
    plain src, tgt;
    double plain_t[MAX_REPS], shadow_t[MAX_REPS];
    int64_t kinds[SG_SHADOW_KINDS] = { 0 };
    int bad = sg_migration_open(&m, argv[1]);
    if (bad)
        fprintf(stderr, "shadow_api: %s\n", sg_migration_errmsg(m));
    if (!bad && (plain_open(&src, argv[3], argv[4], "s") ||
                 plain_open(&tgt, argv[5], argv[6], "t"))) {
        fprintf(stderr, "shadow_api: cannot open or prepare the plain reads\n");
        bad = 1;
    }
    /* each round reads its own keys twice, one side after the other, the
     * side going first taking turns (the second finds the rows cached) */
    for (int r = 0; !bad && r < reps * 2; r++) {
        bool shadowed = (r % 2) != (r / 2 % 2);
        uint64_t seed = 88172645463325252u + (uint64_t)(r / 2);
        double t0 = now_us();
        for (long i = 0; !bad && !shadowed && i < n; i++) {
            long k = key_at(&seed, keys);
            bad = plain_read(&src, k) || plain_read(&tgt, k);
        }
        if (!shadowed) {
            plain_t[r / 2] = (now_us() - t0) / (double)n;
            continue;
        }
        for (long i = 0; !bad && i < n; i++) {
            char key[32];
            const char *kv[1] = { key };
            snprintf(key, sizeof key, "%ld", key_at(&seed, keys));
            sg_shadow_result res;
            bad = sg_shadow_key(&res, m, argv[2], 1, kv);
            if (!bad)
                kinds[res.kind]++;
            sg_shadow_result_clear(&res);
        }
        shadow_t[r / 2] = (now_us() - t0) / (double)n;
    }
    if (bad && m && sg_migration_errmsg(m)[0])
        fprintf(stderr, "shadow_api: %s\n", sg_migration_errmsg(m));
    if (!bad) {
        qsort(plain_t, (size_t)reps, sizeof *plain_t, cmp);
        qsort(shadow_t, (size_t)reps, sizeof *shadow_t, cmp);
        printf("plain_us=%.1f shadow_us=%.1f ratio=%.2f match=%lld other=%lld\n",
               plain_t[reps / 2], shadow_t[reps / 2], shadow_t[reps / 2] / plain_t[reps / 2],
               (long long)kinds[SG_SHADOW_MATCH],
               (long long)(n * reps - kinds[SG_SHADOW_MATCH]));
    }
    if (m) {
        plain_close(&src);
        plain_close(&tgt);
    }
    sg_migration_close(m);
    return bad ? 1 : 0;
}
