/* Point reads as an application makes them, for the C API benchmarks
 * (shadow_api.c, ryw_api.c): one prepared statement per side, reused, on
 * SQLite (sqlite:PATH) or PostgreSQL (a libpq URI); rounds timed in µs. */
#ifndef SEGUE_BENCH_POINT_READ_H
#define SEGUE_BENCH_POINT_READ_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
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

static inline double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int plain_open(plain *p, const char *uri, const char *sql, const char *name)
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
static inline int plain_read(plain *p, long k)
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

static inline void plain_close(plain *p)
{
    sqlite3_finalize(p->st);
    sqlite3_close(p->db);
    PQfinish(p->pg);
}

static inline int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline long key_at(uint64_t *s, long keys)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (long)(*s % (uint64_t)keys) + 1;
}

#endif
