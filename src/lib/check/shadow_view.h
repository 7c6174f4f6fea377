/* The two sides of a shadow read: the query as written, behind common
 * table expressions that shadow each mapped table it names with the new
 * table in the old shape (the target) or with the rows its mapping moves
 * (the source) (shadow_view.c). */
#ifndef SEGUE_SHADOW_VIEW_H
#define SEGUE_SHADOW_VIEW_H

#include "check/sqlparse.h"
#include "internal.h"

/* Appends to `src_out` the statement to run on the source for `sql` (read
 * into q: the query as written, behind a filtering common table
 * expression for each table whose mapping has a `where`) and to `tgt_out`
 * the statement for the target (behind the mapped tables in their old
 * shape; a split's targets joined on the key). Returns 0; 1 when it
 * cannot be shadowed, with the reason in why (a schema-qualified table, a
 * table no mapping moves into another database, a split with a where
 * filter, a where filter under WITH RECURSIVE, a column without a reverse
 * expression); -1 out of memory. */
int sg_shadow_view(const sg_migration *m, const char *sql, const sg_sqlparse *q,
                   sg_buf *src_out, sg_buf *tgt_out, char *why, size_t why_size);

#endif
