/* Reading and deleting changelog entries: entries of one changed key each,
 * and statement entries holding the keys of one statement that changed many
 * rows (where the driver has them: sg_driver.stmtlog_sql). Drains and write
 * switches (apply.c) decide what to apply; this module only moves entries.
 * Each function reports failure on the error it is given. */
#ifndef SEGUE_CHANGELOG_H
#define SEGUE_CHANGELOG_H

#include "internal.h"

/* Changed keys to apply, deduplicated, and the entries they came from. */
typedef struct sg_batch {
    size_t n;         /* per-key entries fetched */
    int64_t *ids;     /* their ids */
    size_t n_keys;    /* distinct keys */
    sg_row *keys;
    int64_t stmt_id;  /* the statement entry the keys came from, or 0 */
    int64_t stmt_n;   /* its key count */
    int64_t stmt_end; /* keys of that entry read up to here (1-based, inclusive) */
    bool stmt_last;   /* the keys end that entry: sg_changelog_delete deletes it */
} sg_batch;

void sg_batch_free(sg_batch *b);

/* Up to `limit` per-key entries of changelog `log` (n_key key columns) with
 * id > after, oldest first, keys deduplicated, into an empty batch. */
int sg_changelog_fetch(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                       int64_t after, int64_t limit, sg_batch *b);
/* The next `limit` keys of the statement entries at *pos into an empty
 * batch (none: b->stmt_id stays 0). Does not move *pos: sg_changelog_advance does
 * once the keys are applied. */
int sg_changelog_fetch_stmt(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                            const sg_stmt_pos *pos, int64_t limit, sg_batch *b);
/* Moves *pos past the keys of b (applied). With `advance` a finished entry
 * also raises pos->after to its id (only where no entry with a lower id can
 * still commit: behind a write fence). */
void sg_changelog_advance(sg_stmt_pos *pos, const sg_batch *b, bool advance);
/* Deletes the per-key entries of b by id, and its statement entry when b
 * finishes it. */
int sg_changelog_delete(sg_err *e, sg_conn *c, const char *log, const sg_batch *b);
/* Deletes every entry (of both kinds) with id <= upto. */
int sg_changelog_forget(sg_err *e, sg_conn *c, const char *log, int64_t upto);
/* Keys pending in the changelog (both kinds) added to *pending, and the
 * capture times of the oldest and newest entries (ms since the epoch, the
 * capturing database's clock) folded into *oldest_at and *newest_at (0:
 * none yet; newest_at may be NULL). */
int sg_changelog_pending(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                         int64_t *pending, int64_t *oldest_at, int64_t *newest_at);
/* The capture time of the first entry (lowest id) folded into *oldest_at
 * as sg_changelog_pending does, by one index probe instead of a count: an
 * entry committed late with an earlier capture time may be missed. */
int sg_changelog_oldest(sg_err *e, sg_conn *c, const char *log, size_t n_key,
                        int64_t *oldest_at);
/* Appends to q a query that returns a row when the key bound to parameters
 * 1..n_key has an entry pending in changelog `log`, or any statement entry
 * is pending (their keys are not searched: a conservative yes). Values
 * bound as text compare as the key columns' own types (PostgreSQL infers
 * them; SQLite's changelog columns have the table's affinities), and the
 * capture's index on the key columns makes it one probe. */
void sg_changelog_key_sql(const sg_conn *c, const char *log, size_t n_key, sg_buf *q);
/* Appends an entry for key (a change to apply again), as capture would. */
int sg_changelog_push(sg_err *e, sg_conn *c, const char *log, const sg_row *key);
/* Drops the changelog and its statement entries. */
int sg_changelog_drop(sg_err *e, sg_conn *c, const char *log);

#endif
