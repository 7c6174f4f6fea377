/* PostgreSQL driver (libpq): connections, statements, transactions and
 * dialect. Statements are server-side prepared; results are read in
 * single-row mode, so memory is bounded by one row, never by a result set.
 * Sessions run with TimeZone UTC and ISO dates so values read the same on
 * every connection, and without parallel query (session_setup). */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Built-in type OIDs (pg_type.dat); libpq does not export them. */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
       OID_OID = 26, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_DATE = 1082,
       OID_TIME = 1083, OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184,
       OID_TIMETZ = 1266, OID_NUMERIC = 1700 };

/* SQLSTATE 55P03: lock_timeout expired. */
#define PG_LOCK_NOT_AVAILABLE "55P03"
/* DDL and the fence wait at most this long for a lock (ms), then step out
 * of the lock queue, back off (doubling from PG_LOCK_BACKOFF_MS up to
 * PG_LOCK_BACKOFF_MAX_MS, with jitter) and try again, until the session's
 * lock_wait budget (default PG_LOCK_WAIT_MS) is spent. */
#define PG_LOCK_TIMEOUT_MS 500
#define PG_LOCK_BACKOFF_MS 100
#define PG_LOCK_BACKOFF_MAX_MS 3200
#define PG_LOCK_WAIT_MS 30000
/* Every other statement of segue's sessions waits at most this long for a
 * lock (then fails with SQLSTATE 55P03, which the worker retries and
 * reports), and a session of segue's left idle inside a transaction this
 * long is ended by the server, so a frozen segue process (SIGSTOP, swap)
 * cannot hold locks that its successor waits on forever. */
#define PG_SESSION_LOCK_TIMEOUT "10s"
#define PG_SESSION_IDLE_TIMEOUT "60s"

static void trim_newline(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

int sg_pg_fail(sg_conn *c, const PGresult *r, sg_err *err)
{
    char msg[768];
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (primary)
        snprintf(msg, sizeof msg, "%s%s%s", primary, detail ? "; " : "", detail ? detail : "");
    else
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(((pg_conn *)c)->pg));
    trim_newline(msg);
    if (!state)
        return sg_err_set(err, SG_EDB, "%s: %s", c->endpoint, msg);
    sg_err_set(err, SG_EDB, "%s: %s (SQLSTATE %s)", c->endpoint, msg, state);
    /* class 40 (deadlock, serialization) and lock timeouts pass */
    err->transient = strncmp(state, "40", 2) == 0 || strcmp(state, PG_LOCK_NOT_AVAILABLE) == 0;
    /* class 22 (data exception) and 23 (integrity constraint violation) */
    err->data = strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0;
    err->unique = strcmp(state, "23505") == 0;
    return SG_EDB;
}

PGconn *sg_pg_idle(sg_conn *c)
{
    pg_conn *q = (pg_conn *)c;
    pg_stmt *s = q->active;
    PGresult *r;
    if (!s)
        return q->pg;
    while ((r = PQgetResult(q->pg)) != NULL) {
        PGresult **p = realloc(s->queue, (s->n_queue + 1) * sizeof *p);
        if (!p) {
            PQclear(r);
            s->park_failed = true;
            continue;
        }
        s->queue = p;
        s->queue[s->n_queue++] = r;
    }
    s->parked = true;
    q->active = NULL;
    return q->pg;
}

int sg_pg_exec(sg_conn *c, const char *sql, sg_err *err)
{
    PGresult *r = PQexec(sg_pg_idle(c), sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : sg_pg_fail(c, r, err);
    if (!rc) {
        const char *n = PQcmdTuples(r);
        ((pg_conn *)c)->changes = *n ? strtoll(n, NULL, 10) : 0;
    }
    PQclear(r);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* One try: SAVEPOINT, lock_timeout for this statement only, the statement,
 * then RELEASE; a lock timeout rolls back to the savepoint and says so in
 * *busy (the transaction stays usable). Outside a transaction the setting is
 * the session's, restored afterwards. */
static int try_locking(sg_conn *c, const char *sql, long timeout_ms, bool *busy,
                       sg_err *err)
{
    PGconn *pg = sg_pg_idle(c);
    bool in_tx = PQtransactionStatus(pg) == PQTRANS_INTRANS;
    char set[96];
    snprintf(set, sizeof set, "%sSET %s lock_timeout = %ld", in_tx ? "SAVEPOINT segue_lock; " : "",
             in_tx ? "LOCAL" : "SESSION", timeout_ms);
    int rc = sg_pg_exec(c, set, err);
    if (rc)
        return rc;
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    *busy = state && strcmp(state, PG_LOCK_NOT_AVAILABLE) == 0;
    rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : sg_pg_fail(c, r, err);
    PQclear(r);
    sg_err ignored;
    if (in_tx)
        sg_pg_exec(c, rc ? "ROLLBACK TO SAVEPOINT segue_lock; RELEASE SAVEPOINT segue_lock; "
                        "SET LOCAL lock_timeout = '" PG_SESSION_LOCK_TIMEOUT "'"
                      : "RELEASE SAVEPOINT segue_lock; SET LOCAL lock_timeout = '"
                        PG_SESSION_LOCK_TIMEOUT "'",
                &ignored);
    else
        sg_pg_exec(c, "SET SESSION lock_timeout = '" PG_SESSION_LOCK_TIMEOUT "'", &ignored);
    return rc;
}

/* xorshift32 seeded per process and call, so waiters that collided once
 * spread apart instead of retrying in step */
static unsigned jitter(unsigned *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long deadlock_timeout_ms(sg_conn *c);

/* Whether an autovacuum worker runs in this database now. */
static bool autovacuum_runs(sg_conn *c)
{
    sg_err ignored;
    PGresult *r = sg_pg_query(c, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE "
                              "backend_type = 'autovacuum worker' AND datname = "
                              "current_database())", 0, NULL, &ignored);
    bool runs = r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return runs;
}

/* sg_pg_exec_locking with `timeout_ms` for each try. A try that found the
 * lock taken while an autovacuum runs is followed by tries that wait past
 * deadlock_timeout: only a waiter that long makes the server cancel an
 * autovacuum in its way, which short tries would wait out (a vacuum of a
 * large table held a write fence 20 s). */
static int exec_locking(sg_conn *c, sg_buf *b, long timeout_ms, sg_err *err)
{
    int64_t t0 = mono_ms(), budget = ((pg_conn *)c)->lock_wait_ms;
    budget = budget > 0 ? budget : PG_LOCK_WAIT_MS;
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)t0;
    seed = seed ? seed : 1;
    int rc = sg_buf_failed(b) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
    long wait = PG_LOCK_BACKOFF_MS;
    bool busy = false;
    int tries = 0;
    while (!rc) {
        rc = try_locking(c, sg_buf_str(b), timeout_ms, &busy, err);
        tries++;
        long pause = wait + (long)(jitter(&seed) % (unsigned)(wait / 2 + 1));
        if (busy && autovacuum_runs(c)) {
            long t = deadlock_timeout_ms(c) + PG_LOCK_TIMEOUT_MS;
            timeout_ms = t > timeout_ms ? t : timeout_ms;
        }
        if (!busy || mono_ms() - t0 + pause + timeout_ms > budget)
            break;
        rc = 0;
        sleep_ms(pause);
        wait = wait * 2 > PG_LOCK_BACKOFF_MAX_MS ? PG_LOCK_BACKOFF_MAX_MS : wait * 2;
    }
    if (rc && busy)
        sg_err_prefix(err, "gave up waiting for a lock after %lld ms (%d tries of %d ms "
                      "each, so as not to queue ahead of the application); hint: a "
                      "transaction holds it (see pg_stat_activity); retry when it ends: ",
                      (long long)(mono_ms() - t0), tries, (int)timeout_ms);
    sg_buf_free(b);
    return rc;
}

int sg_pg_exec_locking(sg_conn *c, sg_buf *b, sg_err *err)
{
    return exec_locking(c, b, PG_LOCK_TIMEOUT_MS, err);
}

/* The server's deadlock_timeout (ms); 1000, its default, if unreadable. */
static long deadlock_timeout_ms(sg_conn *c)
{
    sg_err ignored;
    PGresult *r = sg_pg_query(c, "SELECT setting::bigint FROM pg_settings WHERE name = "
                              "'deadlock_timeout'", 0, NULL, &ignored);
    long ms = r && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return ms > 0 && ms < 3600000 ? ms : 1000;
}

int sg_pg_exec_concurrently(sg_conn *c, sg_buf *b, sg_err *err)
{
    long t = deadlock_timeout_ms(c) + PG_LOCK_TIMEOUT_MS;
    return exec_locking(c, b, t > PG_LOCK_TIMEOUT_MS ? t : PG_LOCK_TIMEOUT_MS, err);
}

static int pg_lock_wait(sg_conn *c, int64_t ms, sg_err *err)
{
    (void)err;
    ((pg_conn *)c)->lock_wait_ms = ms;
    return 0;
}

/* libpq takes a URI whole, a key/value string after "postgresql:". */
static const char *conninfo_of(const char *uri, const char *rest)
{
    return strncmp(rest, "//", 2) == 0 ? uri : rest;
}

/* Server notices ("table does not exist, skipping") are not errors. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static const char *const session_setup =
    "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; "
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
    "SET extra_float_digits = 3; SET application_name = 'segue'; "
    "SET lock_timeout = '" PG_SESSION_LOCK_TIMEOUT "'; "
    "SET idle_in_transaction_session_timeout = '" PG_SESSION_IDLE_TIMEOUT "'";

/* Settings every session of segue's starts with. */
static int session_begin(sg_conn *c, sg_err *err)
{
    ((pg_conn *)c)->serial_scans = false; /* a new session (a reconnect too) */
    int rc = sg_pg_exec(c, session_setup, err);
    if (!rc && ((pg_conn *)c)->read_only)
        rc = sg_pg_exec(c, "SET default_transaction_read_only = on", err);
    return rc;
}

static int pg_open(sg_conn **out, const char *uri, const char *rest,
                   const char *endpoint, unsigned flags, sg_err *err)
{
    bool parsed = false;
    pg_conn *q = calloc(1, sizeof *q);
    *out = NULL;
    if (!q || !(q->base.uri = sg_pg_conninfo_display(uri, conninfo_of(uri, rest), &parsed))) {
        free(q);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", endpoint);
    }
    q->base.drv = &sg_driver_postgres;
    q->base.endpoint = endpoint;
    sg_buf_init(&q->stale);
    if (!parsed) {
        int rc = sg_err_set(err, SG_EDB, "%s: cannot connect to %s; hint: in a key/value "
                            "string write key=value pairs and single-quote values with "
                            "spaces ('two words'); in a URI %%-encode reserved characters",
                            endpoint, q->base.uri);
        sg_db_close(&q->base);
        return rc;
    }
    q->pg = PQconnectdb(conninfo_of(uri, rest));
    if (q->pg)
        PQsetNoticeProcessor(q->pg, ignore_notice, NULL);
    if (PQstatus(q->pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", q->pg ? PQerrorMessage(q->pg) : "out of memory");
        trim_newline(msg);
        int rc = sg_err_set(err, SG_EDB, "%s: cannot connect to %s: %s; hint: check "
                            "the URI, the server, and PG* variables or ~/.pgpass "
                            "for the password", endpoint, q->base.uri, msg);
        sg_db_close(&q->base);
        return rc;
    }
    q->read_only = flags & SG_DB_READ_ONLY;
    int rc = session_begin(&q->base, err);
    if (rc) {
        sg_db_close(&q->base);
        return rc;
    }
    *out = &q->base;
    return 0;
}

static bool pg_lost(sg_conn *c)
{
    return PQstatus(((pg_conn *)c)->pg) == CONNECTION_BAD;
}

/* The server ends a session of segue's that sits in an open transaction
 * with nothing to do for ms (a process stopped or frozen), which releases
 * its locks; kept across reconnections. */
static int pg_idle_timeout(sg_conn *c, int64_t ms, sg_err *err)
{
    char set[96];
    ((pg_conn *)c)->idle_ms = ms;
    snprintf(set, sizeof set, "SET idle_in_transaction_session_timeout = %lld", (long long)ms);
    return sg_pg_exec(c, set, err);
}

static int pg_statement_timeout(sg_conn *c, int64_t ms, sg_err *err)
{
    char set[64];
    snprintf(set, sizeof set, "SET statement_timeout = %lld", (long long)ms);
    return sg_pg_exec(c, set, err);
}

/* A new session in place of a lost one (PQreset: same parameters). Every
 * statement prepared on the old one must be finalized first. */
static int pg_reconnect(sg_conn *c, sg_err *err)
{
    pg_conn *q = (pg_conn *)c;
    q->active = NULL;
    sg_buf_reset(&q->stale);
    c->tx_depth = 0;
    PQreset(q->pg);
    if (PQstatus(q->pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(q->pg));
        trim_newline(msg);
        return sg_err_set(err, SG_EDB, "%s: cannot reconnect to %s: %s", c->endpoint,
                          c->uri, msg);
    }
    int rc = session_begin(c, err);
    return rc || !q->idle_ms ? rc : pg_idle_timeout(c, q->idle_ms, err);
}

static void pg_close(sg_conn *c)
{
    pg_conn *q = (pg_conn *)c;
    PQfinish(q->pg);
    sg_buf_free(&q->stale);
    free(c->uri);
    free(q);
}

/* host, port and database a connection string names, defaults applied. */
static bool parse_target(const char *rest, char *out, size_t n)
{
    char *msg = NULL;
    const char *ci = strncmp(rest, "//", 2) == 0 ? NULL : rest;
    char buf[1024];
    if (!ci) {
        snprintf(buf, sizeof buf, "postgresql:%s", rest);
        ci = buf;
    }
    PQconninfoOption *o = PQconninfoParse(ci, &msg), *p;
    const char *host = "", *port = "5432", *db = "", *user = "";
    PQfreemem(msg);
    if (!o)
        return false;
    for (p = o; p->keyword; p++) {
        if (!p->val)
            continue;
        if (!strcmp(p->keyword, "host") || !strcmp(p->keyword, "hostaddr"))
            host = p->val;
        else if (!strcmp(p->keyword, "port"))
            port = p->val;
        else if (!strcmp(p->keyword, "dbname"))
            db = p->val;
        else if (!strcmp(p->keyword, "user"))
            user = p->val;
    }
    snprintf(out, n, "%s|%s|%s", host, port, *db ? db : user);
    PQconninfoFree(o);
    return true;
}

static bool pg_same_database(const char *a, const char *b)
{
    char ta[512], tb[512];
    if (!parse_target(a, ta, sizeof ta) || !parse_target(b, tb, sizeof tb))
        return strcmp(a, b) == 0;
    return strcmp(ta, tb) == 0;
}

static bool pg_same_name(const char *a, const char *b)
{
    return strcmp(a, b) == 0; /* segue always quotes: names are exact */
}

static int pg_prepare(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err)
{
    pg_conn *q = (pg_conn *)c;
    pg_stmt *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    snprintf(s->name, sizeof s->name, "sg%u", ++q->next_stmt);
    sg_buf_init(&s->scratch);
    PGresult *r = PQprepare(sg_pg_idle(c), s->name, sql, 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : sg_pg_fail(c, r, err);
    PQclear(r);
    if (!rc) {
        s->desc = PQdescribePrepared(q->pg, s->name);
        rc = PQresultStatus(s->desc) == PGRES_COMMAND_OK ? 0 : sg_pg_fail(c, s->desc, err);
        s->n_params = rc ? 0 : PQnparams(s->desc);
    }
    if (!rc && s->n_params > 0) {
        s->vals = calloc((size_t)s->n_params, sizeof *s->vals);
        s->lens = calloc((size_t)s->n_params, sizeof *s->lens);
        s->fmts = calloc((size_t)s->n_params, sizeof *s->fmts);
        if (!s->vals || !s->lens || !s->fmts)
            rc = sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    }
    s->base.conn = c;
    if (rc) {
        sg_db_finalize(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

/* A statement run once: parsed, bound and executed in one round trip as
 * the unnamed statement when first stepped, its parameters' types
 * inferred by the server as PQprepare would; nothing to deallocate. */
static int pg_prepare_once(sg_conn *c, const char *sql, sg_stmt **out, sg_err *err)
{
    pg_stmt *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->once = strdup(sql))) {
        free(s);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    }
    sg_buf_init(&s->scratch);
    s->base.conn = c;
    *out = &s->base;
    return 0;
}

/* Room for parameters up to idx in a one-shot statement, whose count
 * nothing described (it sends as many as the highest bound): 0, or -1
 * out of memory. */
static int grow_params(pg_stmt *s, int idx)
{
    int n = idx;
    char **v = realloc(s->vals, (size_t)n * sizeof *v);
    if (v)
        s->vals = v;
    int *l = v ? realloc(s->lens, (size_t)n * sizeof *l) : NULL;
    if (l)
        s->lens = l;
    int *f = l ? realloc(s->fmts, (size_t)n * sizeof *f) : NULL;
    if (!f)
        return -1;
    s->fmts = f;
    for (int i = s->n_params; i < n; i++) {
        s->vals[i] = NULL;
        s->lens[i] = s->fmts[i] = 0;
    }
    s->n_params = n;
    return 0;
}

static int pg_bind(sg_stmt *st, int idx, const sg_value *v, sg_err *err)
{
    pg_stmt *s = (pg_stmt *)st;
    char num[64];
    const void *p = num;
    size_t n = 0;
    if (s->once && idx > s->n_params && idx <= SG_PG_MAX_PARAMS && grow_params(s, idx))
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", st->conn->endpoint);
    if (idx < 1 || idx > s->n_params)
        return sg_err_set(err, SG_EINVAL, "%s: parameter %d of %d", st->conn->endpoint,
                          idx, s->n_params);
    free(s->vals[idx - 1]);
    s->vals[idx - 1] = NULL;
    s->fmts[idx - 1] = v->type == SG_V_BLOB; /* bytes as they are; the rest as text */
    switch (v->type) {
    case SG_V_NULL: return 0;
    case SG_V_INT: n = (size_t)snprintf(num, sizeof num, "%lld", (long long)v->i); break;
    case SG_V_BOOL: n = (size_t)snprintf(num, sizeof num, "%s", v->i ? "true" : "false"); break;
    case SG_V_REAL: n = (size_t)snprintf(num, sizeof num, "%.17g", v->d); break;
    default:
        p = v->p;
        n = v->n;
        if (v->type != SG_V_BLOB && n && memchr(p, 0, n))
            return sg_err_set(err, SG_EINVAL, "%s: a text value holds a NUL byte, "
                              "which PostgreSQL text cannot store", st->conn->endpoint);
        break;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", st->conn->endpoint);
    if (n)
        memcpy(copy, p, n);
    copy[n] = '\0';
    s->vals[idx - 1] = copy;
    s->lens[idx - 1] = (int)n;
    return 0;
}

/* The next result of a running statement: parked, or off the wire. */
static PGresult *next_result(pg_stmt *s)
{
    if (s->parked)
        return s->at_queue < s->n_queue ? s->queue[s->at_queue++] : NULL;
    return PQgetResult(((pg_conn *)s->base.conn)->pg);
}

/* Drops what is left of the running statement's results. */
static void drain(pg_stmt *s)
{
    pg_conn *q = (pg_conn *)s->base.conn;
    PGresult *r;
    PQclear(s->row);
    s->row = NULL;
    while (s->running && (r = next_result(s)) != NULL)
        PQclear(r);
    if (q->active == s)
        q->active = NULL;
    free(s->queue);
    s->queue = NULL;
    s->n_queue = s->at_queue = 0;
    s->running = s->parked = s->park_failed = false;
}

static int pg_step(sg_stmt *st, sg_err *err)
{
    pg_stmt *s = (pg_stmt *)st;
    pg_conn *q = (pg_conn *)st->conn;
    if (!s->running) {
        int sent = s->once ? PQsendQueryParams(sg_pg_idle(st->conn), s->once, s->n_params,
                                               NULL, (const char *const *)s->vals, s->lens,
                                               s->fmts, 0)
                           : PQsendQueryPrepared(sg_pg_idle(st->conn), s->name, s->n_params,
                                                 (const char *const *)s->vals, s->lens,
                                                 s->fmts, 0);
        if (!sent)
            return sg_pg_fail(st->conn, NULL, err);
        PQsetSingleRowMode(q->pg);
        s->running = true;
        q->active = s;
    }
    PQclear(s->row);
    s->row = NULL;
    if (s->park_failed) {
        drain(s);
        return sg_err_set(err, SG_ENOMEM, "%s: out of memory", st->conn->endpoint);
    }
    PGresult *r = next_result(s);
    ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_SINGLE_TUPLE) {
        s->row = r;
        return 1;
    }
    int rc = 0;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        const char *n = PQcmdTuples(r);
        q->changes = *n ? strtoll(n, NULL, 10) : 0;
    } else if (r) {
        rc = sg_pg_fail(st->conn, r, err);
    } else {
        rc = sg_err_set(err, SG_ERR, "%s: statement already done", st->conn->endpoint);
    }
    PQclear(r);
    drain(s);
    return rc;
}

static int pg_column_count(sg_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    return s->row ? PQnfields(s->row) : 0;
}

/* bytea in its text form (libpq decodes hex and escape forms) into the
 * statement's scratch buffer. */
static void bytea_value(pg_stmt *s, const char *t, sg_value *out)
{
    size_t len = 0;
    unsigned char *u = PQunescapeBytea((const unsigned char *)t, &len);
    sg_buf_reset(&s->scratch);
    if (u)
        sg_buf_putn(&s->scratch, u, len);
    PQfreemem(u);
    out->type = SG_V_BLOB;
    out->p = s->scratch.data ? s->scratch.data : "";
    out->n = s->scratch.len;
}

/* An integer column's text, which the server writes as -?[0-9]+ (strtoll's
 * locale handling was 7% of a copy's profile). */
static int64_t int_value(const char *t)
{
    bool neg = *t == '-';
    uint64_t u = 0;
    for (t += neg; *t >= '0' && *t <= '9'; t++)
        u = u * 10 + (uint64_t)(*t - '0');
    return neg ? (int64_t)(0 - u) : (int64_t)u;
}

static void pg_column(sg_stmt *st, int i, sg_value *out)
{
    pg_stmt *s = (pg_stmt *)st;
    memset(out, 0, sizeof *out);
    if (!s->row || PQgetisnull(s->row, 0, i))
        return; /* SG_V_NULL */
    const char *t = PQgetvalue(s->row, 0, i);
    size_t n = (size_t)PQgetlength(s->row, 0, i);
    switch (PQftype(s->row, i)) {
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
        out->type = SG_V_INT;
        out->i = int_value(t);
        return;
    case OID_FLOAT4: case OID_FLOAT8:
        out->type = SG_V_REAL;
        out->d = strtod(t, NULL);
        return;
    case OID_BOOL:
        out->type = SG_V_BOOL;
        out->i = t[0] == 't';
        return;
    case OID_BYTEA:
        bytea_value(s, t, out);
        return;
    case OID_NUMERIC: out->type = SG_V_NUMERIC; break;
    case OID_DATE: case OID_TIME: case OID_TIMETZ: case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: out->type = SG_V_DATETIME; break;
    default: out->type = SG_V_TEXT; break;
    }
    out->p = t;
    out->n = n;
}

/* format_type() of a result column, from the statement's description. */
static const char *pg_column_decltype(sg_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    char oid[16], mod[16];
    if (!s->desc || i < 0 || i >= PQnfields(s->desc))
        return NULL;
    snprintf(oid, sizeof oid, "%u", PQftype(s->desc, i));
    snprintf(mod, sizeof mod, "%d", PQfmod(s->desc, i));
    const char *vals[2] = { oid, mod };
    PGresult *r = PQexecParams(sg_pg_idle(st->conn), "SELECT format_type($1::oid, "
                               "$2::int)", 2, NULL, vals, NULL, NULL, 0);
    free(s->decltype);
    s->decltype = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        s->decltype = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s->decltype;
}

static int pg_reset(sg_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    drain(s);
    for (int i = 0; i < s->n_params; i++) {
        free(s->vals[i]);
        s->vals[i] = NULL;
    }
    return 0;
}

static void pg_finalize(sg_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    pg_conn *q = (pg_conn *)st->conn;
    pg_reset(st);
    /* in an aborted transaction DEALLOCATE fails too: do it after */
    if (!s->once)
        sg_buf_printf(&q->stale, "DEALLOCATE %s; ", s->name);
    if (q->stale.len && PQtransactionStatus(q->pg) != PQTRANS_INERROR) {
        PGresult *r = PQexec(sg_pg_idle(st->conn), sg_buf_str(&q->stale));
        PQclear(r);
        sg_buf_reset(&q->stale);
    }
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->once);
    sg_buf_free(&s->scratch);
    PQclear(s->desc);
    free(s->decltype);
    free(s);
}

static int64_t pg_changes(sg_conn *c)
{
    return ((pg_conn *)c)->changes;
}

static int pg_begin(sg_conn *c, bool write, sg_err *err)
{
    (void)write; /* writers take row locks as they go */
    return sg_pg_exec(c, "BEGIN", err);
}

static int pg_commit(sg_conn *c, sg_err *err)
{
    PGresult *r = PQexec(sg_pg_idle(c), "COMMIT");
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : sg_pg_fail(c, r, err);
    /* COMMIT of a failed transaction reports success and rolls back */
    if (!rc && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = sg_err_set(err, SG_EDB, "%s: the transaction failed earlier and was "
                        "rolled back", c->endpoint);
    PQclear(r);
    return rc;
}

static void pg_rollback(sg_conn *c)
{
    pg_conn *q = (pg_conn *)c;
    if (PQtransactionStatus(sg_pg_idle(c)) != PQTRANS_IDLE)
        PQclear(PQexec(q->pg, "ROLLBACK"));
    if (q->stale.len) {
        PQclear(PQexec(q->pg, sg_buf_str(&q->stale)));
        sg_buf_reset(&q->stale);
    }
}

static int pg_fence(sg_conn *c, size_t n, const char *const *tables, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    if (n == 0)
        return 0;
    sg_buf_puts(&b, "LOCK TABLE ");
    for (size_t i = 0; i < n; i++) {
        sg_buf_puts(&b, i ? ", " : "");
        sg_std_quote_ident(&b, tables[i]);
    }
    sg_buf_puts(&b, " IN EXCLUSIVE MODE");
    return sg_pg_exec_locking(c, &b, err);
}

void sg_pg_control_name(sg_buf *b, const char *name)
{
    sg_buf_puts(b, "segue.");
    sg_std_quote_ident(b, name);
}

static const char *pg_type_name(sg_vtype t)
{
    switch (t) {
    case SG_V_INT: return "bigint";
    case SG_V_BOOL: return "boolean";
    case SG_V_REAL: return "double precision";
    case SG_V_NUMERIC: return "numeric";
    case SG_V_BLOB: return "bytea";
    default: return "text";
    }
}

static void pg_upsert_tail(sg_buf *b, size_t n_keys, const char *const *keys,
                           size_t n_cols, const char *const *cols)
{
    sg_std_upsert_tail(b, n_keys, keys, n_cols, cols, pg_same_name);
}

/* The sum of a 64-bit hash of each row's text (exact: numeric), as
 * pt-table-checksum and data-diff sum or fold a hash per row; a second
 * hash of 64 bits more cost 60 % more time. The row text is deterministic:
 * every session runs with the same settings (UTC, ISO). hashtextextended
 * is PostgreSQL 11's. */
static int pg_range_sum_sql(sg_conn *c, sg_buf *b, const char *inner, sg_err *err)
{
    pg_conn *pc = (pg_conn *)c;
    /* No parallel query on a session that sums ranges: verify reads both
     * sides at once and paces itself, parallel workers come from the pool
     * the application's queries share (max_worker_processes), and the sums
     * ran 2.2x slower with them on a 2-core server (bench/pg.sh
     * verify_speed). Only here: the backfill's chunk reads were ~6 % slower
     * without (an A/B of 6 runs each). */
    if (!pc->serial_scans) {
        int rc = sg_pg_exec(c, "SET max_parallel_workers_per_gather = 0", err);
        if (rc)
            return rc;
        pc->serial_scans = true;
    }
    sg_buf_printf(b, "SELECT count(*), coalesce(sum(hashtextextended(q::text, 0)), 0)::text "
                     "FROM (%s) q", inner);
    return 0;
}

static int64_t pg_yield_ms(int64_t held_ms)
{
    (void)held_ms; /* application writers wait on row locks, not on ours */
    return 0;
}

const sg_driver sg_driver_postgres = {
    .name = "postgresql",
    .scheme = "postgresql",
    .alias = "postgres",
    .open = pg_open,
    .lock_wait = pg_lock_wait,
    .close = pg_close,
    .same_database = pg_same_database,
    .same_name = pg_same_name,
    .exec = sg_pg_exec,
    .prepare = pg_prepare,
    .prepare_once = pg_prepare_once,
    .bind = pg_bind,
    .step = pg_step,
    .column_count = pg_column_count,
    .column = pg_column,
    .column_decltype = pg_column_decltype,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .changes = pg_changes,
    .bulk_begin = sg_pg_bulk_begin,
    .bulk_row = sg_pg_bulk_row,
    .bulk_end = sg_pg_bulk_end,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .fence = pg_fence,
    .quote_ident = sg_std_quote_ident,
    .quote_literal = sg_std_quote_literal,
    .param = sg_std_param,
    .control_name = sg_pg_control_name,
    .type_parse = sg_pg_type_parse,
    .type_decl = sg_pg_type_decl,
    .type_name = pg_type_name,
    .serial_pk = "bigserial PRIMARY KEY",
    .row_lock = " FOR UPDATE",
    .insert_override = " OVERRIDING SYSTEM VALUE",
    .numbered_column = sg_pg_numbered_column,
    .numbering_last = sg_pg_numbering_last,
    .numbering_raise = sg_pg_numbering_raise,
    .upsert_tail = pg_upsert_tail,
    .range_sum_sql = pg_range_sum_sql,
    .table_info = sg_pg_table_info,
    .table_indexes = sg_pg_table_indexes,
    .tables = sg_pg_tables,
    .table_dependents = sg_pg_table_dependents,
    .foreign_key_sql = sg_pg_foreign_key_sql,
    .table_foreign_keys = sg_pg_table_foreign_keys,
    .table_triggers = sg_pg_table_triggers,
    .table_checks = sg_pg_table_checks,
    .index_sql = sg_pg_index_sql,
    .index_build = sg_pg_index_build,
    .row_estimate_sql = PG_ROW_ESTIMATE_SQL,
    .type_copy = sg_pg_type_copy,
    .sequence_copy = sg_pg_sequence_copy,
    .sequence_sync = sg_pg_sequence_sync,
    .control_setup = sg_pg_control_setup,
    .control_teardown = sg_pg_control_teardown,
    .control_share = sg_pg_control_share,
    .lost = pg_lost,
    .reconnect = pg_reconnect,
    .idle_timeout = pg_idle_timeout,
    .statement_timeout = pg_statement_timeout,
    .copy_grants = sg_pg_copy_grants,
    .table_roles = sg_pg_table_roles,
    .control_present = sg_pg_control_present,
    .capture_install = sg_pg_capture_install,
    .stmtlog_sql = sg_pg_stmtlog_sql,
    .capture_remove = sg_pg_capture_remove,
    .guard_install = sg_pg_guard_install,
    .guard_remove = sg_pg_guard_remove,
    .yield_ms = pg_yield_ms,
    .guard_exists = sg_pg_guard_exists,
    .marker_setup = sg_pg_marker_setup,
    .marker_teardown = sg_pg_marker_teardown,
    .marker_on = sg_pg_marker_on,
    .marker_off = sg_pg_marker_off,
};
