/* Shadow reads: an application's own query, run unchanged on the source and
 * on the target, the results compared. On the target each table the query
 * names that a mapping moves is shadowed by a common table expression that
 * presents the new table in the old table's shape, from the mapping's
 * reverse expressions:
 *
 *     WITH "Track" AS NOT MATERIALIZED (SELECT "track_id" AS "TrackId", ...
 *     FROM "track") <the query as written>
 *
 * so the old query sees old names over the new data. Rows are compared as
 * multisets of digests of their canonical encoding (docs/canonical-
 * encoding.md, what verify hashes). */
#ifndef SEGUE_SHADOW_H
#define SEGUE_SHADOW_H

#include <segue/segue.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one shadow read found. */
typedef enum sg_shadow_kind {
    SG_SHADOW_MATCH = 0,       /* the same rows (in the same order under an
                                * ORDER BY) */
    SG_SHADOW_MISMATCH,        /* other rows, with nothing pending that could
                                * explain them and the source agreeing with
                                * itself */
    SG_SHADOW_ORDER_ONLY,      /* the same rows in another order under the
                                * query's ORDER BY (a collation, ties) */
    SG_SHADOW_PENDING,         /* other rows while changes wait to be
                                * applied: to be checked again later */
    SG_SHADOW_NONDETERMINISTIC,/* the source gave other rows when run again
                                * (now(), random(), ties under LIMIT) */
    SG_SHADOW_SKIPPED,         /* not run: detail says why (writes, a table
                                * no mapping moves, a column without a
                                * reverse expression, does not parse, ...) */
    SG_SHADOW_SOURCE_ERROR,    /* the source refused it (detail: message) */
    SG_SHADOW_TARGET_ERROR     /* the target refused it (detail: message) */
} sg_shadow_kind;

#define SG_SHADOW_KINDS 8

/* Rows a shadow read holds digests of per side (16 bytes each); a larger
 * result is skipped. */
#define SG_SHADOW_MAX_ROWS 1000000

typedef struct sg_shadow_result {
    sg_shadow_kind kind;
    char fingerprint[17];  /* the query's shape (libpg_query), 16 hex
                            * digits; "" when it does not parse */
    char *detail;          /* owned, NULL for a match: why skipped, the
                            * error, or up to 3 rows only one side has */
    int64_t source_rows, target_rows;
    int64_t source_us, target_us; /* wall time of each side's run, µs */
} sg_shadow_result;

/* Runs `sql` (one statement, written for the source's tables) on both
 * sides of migration m, `n_params` text values bound to its placeholders,
 * and classifies the outcome into *out (cleared first; free with
 * sg_shadow_result_clear). Each side runs in a read-only session (every
 * statement a read-only transaction), one round trip per side: a handle
 * opened read_only lends its own sessions, a writable one opens two of
 * its own on its first shadow read (closed with the handle). Query shapes
 * are parsed once per handle (literals taken out). A source or target
 * that refuses the query, or whose server went away (a new session is
 * tried on the next read), is an outcome, not an error. Thread safety: a
 * handle is used by one thread at a time. Errors: SG_EINVAL (a NULL
 * argument), SG_ENOMEM, SG_EDB (the read-only sessions cannot be opened,
 * the changelog cannot be read while classifying a difference). */
int sg_shadow_sql(sg_shadow_result *out, sg_migration *m, const char *sql, size_t n_params,
                  const char *const *params);

/* A query pair: `old_sql` (written for the source's tables) on the source
 * and `new_sql` (its rewrite for the new schema) on the target, the same
 * text parameters bound to both; otherwise as sg_shadow_sql (the
 * fingerprint is old_sql's; a write on either side is skipped, never run).
 * Errors: SG_EINVAL, SG_ENOMEM, SG_EDB. */
int sg_shadow_pair(sg_shadow_result *out, sg_migration *m, const char *old_sql,
                   const char *new_sql, size_t n_params, const char *const *params);

/* One key's row: the source row of `table` with key values `key` (n_key
 * text values, in key order) through its mapping, against the target row
 * of that key. Under a live writer a difference while the key's change
 * waits in the changelog is pending, never a mismatch. The fingerprint
 * names the mapping. Errors: SG_EINVAL (a NULL argument, no mapping of
 * `table`, another number of key values), SG_ENOMEM, SG_EDB. */
int sg_shadow_key(sg_shadow_result *out, sg_migration *m, const char *table, size_t n_key,
                  const char *const *key);

/* Whether the user (or any routing key) `key` is shadowed at `pct`
 * percent: the routing bucket (sg_route_bucket with the migration's salt,
 * read once per handle) below pct*100, so a key is always or never
 * shadowed, and raising pct only adds keys. Errors: SG_EINVAL, SG_ESTATE
 * (not started), SG_EDB. */
int sg_shadow_sampled(bool *yes, sg_migration *m, const void *key, size_t key_len, double pct);

/* Counts outcome r of query `sql` (for its example; may be NULL) on the
 * handle, per minute and fingerprint: outcome counts, each side's latency
 * histogram, the first mismatch (or order-only, or target error) as an
 * example. Flushes by itself once 256 minute-and-shape entries are held;
 * when that flush fails the outcome is still held (written by a later
 * flush) unless 1024 entries are, then dropped and counted
 * (sg_shadow_unrecorded). Errors: SG_EINVAL, SG_ENOMEM, and
 * sg_shadow_flush's. */
int sg_shadow_record(sg_migration *m, const char *sql, const sg_shadow_result *r);

/* Adds what the handle holds to the control tables in the target, in one
 * transaction (reconnecting first to a server that went away): counts and
 * histogram buckets are added to (several processes flushing the same
 * minute add up), examples kept up to 3 per shape; on failure all of it
 * stays held for the next flush. A verified migration whose reads were
 * compared moves to shadowing (audited). Needs a writable handle. Errors:
 * SG_EDB. */
int sg_shadow_flush(sg_migration *m);

/* Outcomes recorded on the handle and not yet in the control tables:
 * held (a flush will write them) and dropped (flushes failed while the
 * handle held its cap of 1024 minute-and-shape entries, about 10 MB: the
 * target unreachable for long). */
void sg_shadow_unrecorded(const sg_migration *m, int64_t *held, int64_t *dropped);

/* Frees what *r holds; r may be NULL. */
void sg_shadow_result_clear(sg_shadow_result *r);

/* "match", "mismatch", "order_only", "pending", "nondeterministic",
 * "skipped", "source_error", "target_error"; static. */
const char *sg_shadow_kind_name(sg_shadow_kind k);

/* ---- latency histograms ------------------------------------------------ */

/* A latency histogram in µs with bounded memory and relative error below
 * 1/16 (6.25 %): values under 16 exact, then 16 linear sub-buckets per
 * power of two up to 2^40 µs (HdrHistogram's log-linear layout, Gil Tene).
 * Histograms of the same layout add up bucket by bucket (merge), so
 * several processes' histograms combine exactly. */
#define SG_HIST_SUB_BITS 4
#define SG_HIST_BUCKETS ((40 - SG_HIST_SUB_BITS + 1) << SG_HIST_SUB_BITS)

typedef struct sg_hist {
    int64_t n;
    int64_t max_us;
    int64_t counts[SG_HIST_BUCKETS];
} sg_hist;

/* Counts one value (µs; negative as 0, above the range in the top bucket). */
void sg_hist_add(sg_hist *h, int64_t us);
void sg_hist_merge(sg_hist *into, const sg_hist *from);
/* The value at percentile pct (0..100, nearest rank) as the upper bound of
 * its bucket (the exact maximum for 100); 0 when empty. */
int64_t sg_hist_percentile(const sg_hist *h, double pct);
/* How many values fell in buckets wholly at or below us (a Prometheus
 * bucket's cumulative count; within the layout's 6.25 % of us). */
int64_t sg_hist_count_at_most(const sg_hist *h, int64_t us);
/* The sum of the values, each taken as its bucket's middle (µs; within
 * 3.2 % of the exact sum). */
double sg_hist_sum_us(const sg_hist *h);

/* ---- recorded outcomes per query shape ---------------------------------- */

/* One query shape's shadow reads, as recorded (every process added up). */
typedef struct sg_shadow_shape {
    char fingerprint[17];
    int64_t kinds[SG_SHADOW_KINDS]; /* reads per outcome */
    sg_hist latency[2];             /* per side (SG_SIDE_*), µs; max_us is the
                                     * top bucket's bound */
} sg_shadow_shape;

/* The `max` shapes with the most reads over the last window_ms (whole
 * minutes; 0: since the start), most first. *out (free with free()) is
 * NULL when none was recorded.
 * Errors: SG_EINVAL, SG_EDB, SG_ENOMEM. */
int sg_shadow_shapes(sg_shadow_shape **out, size_t *n, sg_migration *m, int64_t window_ms,
                     size_t max);

/* ---- query logs ------------------------------------------------------- */

/* The formats sg_querylog reads. */
typedef enum sg_querylog_format {
    SG_QUERYLOG_AUTO = 0,  /* jsonlog when the first line starts with '{',
                            * csvlog when it starts with a timestamp and a
                            * comma, else SQL */
    SG_QUERYLOG_SQL,       /* statements separated by ; */
    SG_QUERYLOG_JSONLOG,   /* PostgreSQL log_destination = jsonlog */
    SG_QUERYLOG_CSVLOG,    /* PostgreSQL log_destination = csvlog */
} sg_querylog_format;

/* One statement a log holds: with PostgreSQL's logs, those logged with
 * their duration (log_min_duration_statement) as a simple-protocol
 * `statement:` or an extended-protocol `execute`, with the `parameters:`
 * logged beside it (NULL values as NULL pointers). */
typedef struct sg_logged_query {
    char *sql;
    size_t n_params;
    char **params;
} sg_logged_query;

typedef struct sg_querylog sg_querylog;

/* A reader over `text` (len bytes, borrowed until sg_querylog_free; NUL
 * bytes and invalid UTF-8 allowed: such lines are unreadable). Errors:
 * SG_EINVAL (NULL arguments, an unknown format), SG_ENOMEM. */
int sg_querylog_open(sg_querylog **out, const char *text, size_t len, sg_querylog_format f);
/* The next statement into *q (cleared first; free with
 * sg_logged_query_clear); false at the end. Lines that are no statement
 * (connections, errors, parse and bind steps) are passed over; lines that
 * cannot be read (garbage, a cut last line, bad UTF-8) are counted. */
bool sg_querylog_next(sg_querylog *l, sg_logged_query *q);
/* Only statements run in database `name` (PostgreSQL logs; NULL: every
 * database). Statements of segue's own sessions (application_name segue)
 * are never taken. Errors: SG_EINVAL, SG_ENOMEM. */
int sg_querylog_only_database(sg_querylog *l, const char *name);
/* The log grew (a file still written: `segue shadow --follow`): `text`
 * is the whole log again, len bytes (not fewer than before), the bytes
 * given before unchanged though they may have moved; borrowed as in
 * sg_querylog_open. Reading goes on where it stopped. Errors: SG_EINVAL
 * (NULL, shorter), SG_ENOMEM. */
int sg_querylog_grow(sg_querylog *l, const char *text, size_t len);
/* While on, a last jsonlog line or csvlog record with no end yet, or a
 * last SQL statement with no `;` yet, is left for after the next
 * sg_querylog_grow instead of taken (or counted unreadable). */
void sg_querylog_follow(sg_querylog *l, bool on);
/* Passes over everything the log holds now (`segue shadow --follow
 * --from-end`): reading goes on with what is written from here on (a
 * jsonlog or csvlog line still being written is read when it ends). */
void sg_querylog_skip_all(sg_querylog *l);
/* Lines (or, for SQL, statements) that could not be read so far. */
int64_t sg_querylog_unreadable(const sg_querylog *l);
/* Bytes of the log read so far (for progress). */
size_t sg_querylog_offset(const sg_querylog *l);
sg_querylog_format sg_querylog_format_of(const sg_querylog *l);
void sg_querylog_free(sg_querylog *l);
void sg_logged_query_clear(sg_logged_query *q);

/* The next statement of a text of statements separated by `;` (quotes,
 * quoted names and comments respected; empty statements skipped): from
 * byte *pos, its bytes at *start, *len long (no `;`, no surrounding space),
 * and *pos moved past it. false at the end of the text (or a NULL
 * argument). Reentrant. */
bool sg_sql_next_statement(const char *text, size_t *pos, size_t *start, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
