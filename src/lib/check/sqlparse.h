/* What a shadow read needs to know about an application's query, read
 * from PostgreSQL's own parser (libpg_query, Debian libpg-query-dev): is
 * it a read, which tables and columns it names, where a common table
 * expression goes, and its fingerprint (the query with its constants
 * taken out, so one query shape with other values is one group). */
#ifndef SEGUE_SQLPARSE_H
#define SEGUE_SQLPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct sg_sqlparse {
    bool read_only;     /* one SELECT (or VALUES) that writes nothing, locks
                         * no row and calls no function known to change
                         * state (nextval, setval, advisory locks, ...) */
    char *why;          /* when not read_only, why ("writes: UPDATE") */
    char fingerprint[17]; /* libpg_query's fingerprint, 16 hex digits */
    size_t n_tables;
    char **tables;      /* tables named, unqualified, as the parser read
                         * them (an unquoted name in lower case); common
                         * table expressions of the query left out */
    size_t n_qualified;
    char **qualified;   /* tables named with a schema ("s.t") */
    size_t n_columns;
    char **columns;     /* column names referenced (the last part of each
                         * reference; * left out) */
    bool ordered;       /* the statement has a top-level ORDER BY */
    int with_at;        /* a top-level WITH: the byte offset of its first
                         * common table expression's name, where another
                         * goes ahead of it; else -1 */
    bool recursive;     /* that WITH is WITH RECURSIVE */
    int n_params;       /* the highest $n placeholder, 0 if none */
} sg_sqlparse;

/* Parses `sql` (one statement, UTF-8, NUL-terminated) into *out; free it
 * with sg_sqlparse_free whatever the result. Thread safety: libpg_query
 * keeps per-thread memory; any thread may call. Errors: SG_EINVAL when the
 * text is not one statement PostgreSQL's grammar reads (the parser's
 * message and byte offset in err), SG_ENOMEM. */
int sg_sqlparse_read(const char *sql, sg_sqlparse *out, sg_err *err);
void sg_sqlparse_free(sg_sqlparse *p);

/* sg_sqlparse_read through a cache of what it said by query shape (the
 * text with its string and number literals taken out, $n kept): a shape
 * seen before is not parsed again. *out is borrowed, valid until the next
 * call with the same cache; *cache is made on first use (free it with
 * sg_sqlparse_cache_free), up to 512 shapes, then started over. Not
 * thread-safe: one cache per thread (per handle). Errors: as
 * sg_sqlparse_read (a statement that does not parse is not kept). */
typedef struct sg_sqlparse_cache sg_sqlparse_cache;
int sg_sqlparse_cached(sg_sqlparse_cache **cache, const char *sql, const sg_sqlparse **out,
                       sg_err *err);
void sg_sqlparse_cache_free(sg_sqlparse_cache *c);

#endif
