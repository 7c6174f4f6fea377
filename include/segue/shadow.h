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
 * sides of migration m, each in a read-only transaction, `n_params` text
 * values bound to its placeholders, and classifies the outcome into *out
 * (cleared first; free with sg_shadow_result_clear). A source or target
 * that refuses the query is an outcome, not an error. Thread safety: a
 * handle is used by one thread at a time. Errors: SG_EINVAL (a NULL
 * argument), SG_ENOMEM, SG_EDB (a read-only transaction could not begin). */
int sg_shadow_sql(sg_shadow_result *out, sg_migration *m, const char *sql, size_t n_params,
                  const char *const *params);

/* Frees what *r holds; r may be NULL. */
void sg_shadow_result_clear(sg_shadow_result *r);

/* "match", "mismatch", "order_only", "pending", "nondeterministic",
 * "skipped", "source_error", "target_error"; static. */
const char *sg_shadow_kind_name(sg_shadow_kind k);

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
