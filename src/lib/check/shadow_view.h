/* The target side of a shadow read: the query as written, behind common
 * table expressions that shadow each mapped table it names with the new
 * table in the old shape (shadow_view.c). */
#ifndef SEGUE_SHADOW_VIEW_H
#define SEGUE_SHADOW_VIEW_H

#include "check/sqlparse.h"
#include "internal.h"

/* Appends to `out` the statement to run on the target for `sql` (read
 * into q). Returns 0; 1 when it cannot run there, with the reason in why
 * (a schema-qualified table, a table no mapping moves into another
 * database, a split, a where filter, a column without a reverse
 * expression); -1 out of memory. */
int sg_shadow_view(const sg_migration *m, const char *sql, const sg_sqlparse *q, sg_buf *out,
                   char *why, size_t why_size);

#endif
