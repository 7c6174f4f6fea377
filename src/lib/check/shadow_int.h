/* Inside the shadow-read module: one comparison of two statements
 * (shadow.c), for the entry points of shadow_api.c; the read-only
 * sessions they run in (shadow_session.c). */
#ifndef SEGUE_SHADOW_INT_H
#define SEGUE_SHADOW_INT_H

#include <segue/shadow.h>

#include "internal.h"

/* The sessions of a handle's shadow reads: read-only sessions of their
 * own, opened on first use (or, on a handle opened read_only, the handle's
 * own), and statements kept per slot. */
typedef struct sg_shadow_sessions sg_shadow_sessions;

/* The slot of mapping i's statement on one side (sg_shadow_key's). */
#define SG_SHADOW_SLOT(i, source) (2 * (i) + ((source) ? 0 : 1))

/* The handle's sessions, opened when first asked for. Errors: SG_ENOMEM,
 * SG_EDB (cannot connect), in m->err. */
int sg_shadow_sessions_get(sg_migration *m, sg_shadow_sessions **out);
sg_conn *sg_shadow_session(const sg_shadow_sessions *s, bool source);
/* The handle's cache of parsed query shapes (check/sqlparse.h). */
struct sg_sqlparse_cache **sg_shadow_parse_cache(sg_shadow_sessions *s);
/* A side's session, replaced when its server went away (every kept
 * statement finalized first). Errors: the reconnection's, in err. */
int sg_shadow_session_check(sg_shadow_sessions *s, bool source, sg_err *err);
/* The statement kept in `slot`, prepared from `sql` on the slot's side
 * when not yet (or no longer) kept; borrowed: reset it after use, never
 * finalize it. Errors: the prepare's, in err. */
int sg_shadow_slot(sg_shadow_sessions *s, size_t slot, const char *sql, sg_stmt **out,
                   sg_err *err);

/* Runs src_sql on the source and tgt_sql on the target with the same text
 * parameters and classifies the outcome into *out (kind, counts, times,
 * detail; the fingerprint is the caller's). `ordered`: the order of rows
 * counts (an ORDER BY). Errors as sg_shadow_sql. */
int sg_shadow_compare(sg_migration *m, const char *src_sql, const char *tgt_sql,
                      size_t n_params, const char *const *params, bool ordered,
                      sg_shadow_result *out);
/* As sg_shadow_compare, the statements kept in slots SG_SHADOW_SLOT(map,
 * true / false) (prepared from the SQL the first time). */
int sg_shadow_compare_kept(sg_migration *m, size_t map, const char *src_sql,
                           const char *tgt_sql, size_t n_params, const char *const *params,
                           sg_shadow_result *out);

#endif
