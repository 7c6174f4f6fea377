/* SQLite driver: the database's tables, what depends on a table (foreign
 * keys of other tables
 * pointing at it; views, and triggers on other tables, whose SQL names it),
 * and its CHECK constraints, cut from its CREATE TABLE text. */
#include "driver/sqlite/sqlite_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

#include "base/sqllex.h"

/* Foreign keys: one per (table, constraint), named by its columns, as
 * SQLite keeps no constraint names: "InvoiceLine (InvoiceId)". */
#define SQ_FOREIGN_KEYS                                                              \
    "SELECT m.name || ' (' || group_concat(f.\"from\", ', ') || ')', m.name "       \
    "FROM sqlite_schema m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' " \
    "AND f.\"table\" = ?1 COLLATE NOCASE AND m.name <> ?1 COLLATE NOCASE "          \
    "GROUP BY m.name, f.id ORDER BY 1"

/* Views and triggers, except segue's and those on the table itself (they
 * go with it). */
#define SQ_READERS                                                                   \
    "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('view', "   \
    "'trigger') AND sql IS NOT NULL AND name NOT LIKE '\\_segue%' ESCAPE '\\' AND "  \
    "NOT (type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE) ORDER BY type, name"

/* Whether sql names `table` as an identifier (any quoting, any case). */
static bool names_table(const char *sql, const char *table)
{
    char name[256];
    for (sg_tok t = sg_sqllex_next(sql, 0); t.kind != SG_TOK_END;
         t = sg_sqllex_next(sql, t.start + t.len)) {
        if (t.kind != SG_TOK_IDENT && t.kind != SG_TOK_QIDENT)
            continue;
        sg_sqllex_name(sql, t, name, sizeof name);
        if (sqlite3_stricmp(name, table) == 0)
            return true;
    }
    return false;
}

static const char *text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

/* Runs q (?1 = table) and keeps each row the filter takes. */
static int collect(sqlite3 *db, const char *q, const char *table, bool readers,
                   sg_dependent **out, size_t *n)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, q, -1, &s, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        if (!readers)
            rc = sg_dependents_push(out, n, "foreign key", text(s, 0), text(s, 1))
                     ? SQLITE_NOMEM : SQLITE_OK;
        else if (names_table(text(s, 3), table))
            rc = sg_dependents_push(out, n, strcmp(text(s, 0), "view") == 0 ? "view"
                                                                            : "trigger",
                                    text(s, 1), strcmp(text(s, 0), "view") == 0
                                                    ? NULL : text(s, 2))
                     ? SQLITE_NOMEM : SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The first column of each row of q (?1 bound to arg when not NULL). */
static int names_of(sg_conn *c, const char *q, const char *arg, char ***out, size_t *n,
                    sg_err *err)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    int rc = sqlite3_prepare_v2(((sq_conn *)c)->db, q, -1, &s, NULL);
    if (rc == SQLITE_OK && arg)
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        char **p = *n < cap ? *out : realloc(*out, (cap = cap * 2 + 8) * sizeof *p);
        rc = p && (p[*n] = strdup(text(s, 0))) ? SQLITE_OK : SQLITE_NOMEM;
        if (p)
            *out = p;
        if (rc == SQLITE_OK)
            (*n)++;
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return 0;
    sg_names_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == SQLITE_NOMEM ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                              : sg_sq_fail(c, err);
}

int sg_sq_tables(sg_conn *c, char ***out, size_t *n, sg_err *err)
{
    return names_of(c, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                    "LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_segue%' "
                    "ESCAPE '\\' ORDER BY name", NULL, out, n, err);
}

int sg_sq_table_dependents(sg_conn *c, const char *table, sg_dependent **out, size_t *n,
                           sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    int rc = collect(db, SQ_FOREIGN_KEYS, table, false, out, n);
    if (rc == SQLITE_OK)
        rc = collect(db, SQ_READERS, table, true, out, n);
    if (rc == SQLITE_OK)
        return 0;
    sg_dependents_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == SQLITE_NOMEM ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                              : sg_sq_fail(c, err);
}

/* Appends the CHECK at token t of sql (t is CHECK, then a parenthesized
 * condition); name is the CONSTRAINT name before it, or NULL. Returns the
 * position after its closing parenthesis, 0 when it has none. */
static size_t take_check(const char *sql, sg_tok t, const char *name, sg_check_info **out,
                         size_t *n, bool *oom)
{
    sg_tok open = sg_sqllex_next_solid(sql, t.start + t.len);
    if (open.kind != SG_TOK_PUNCT || sql[open.start] != '(')
        return 0;
    int depth = 0;
    for (sg_tok k = open; k.kind != SG_TOK_END; k = sg_sqllex_next(sql, k.start + k.len)) {
        if (k.kind == SG_TOK_PUNCT && sql[k.start] == '(')
            depth++;
        else if (k.kind == SG_TOK_PUNCT && sql[k.start] == ')' && --depth == 0) {
            sg_check_info *p = realloc(*out, (*n + 1) * sizeof *p);
            if (!p) {
                *oom = true;
                return 0;
            }
            *out = p;
            p[*n].name = name ? strdup(name) : NULL;
            p[*n].expr = strndup(sql + open.start + 1, k.start - open.start - 1);
            *oom = !p[*n].expr || (name && !p[*n].name);
            (*n)++;
            return k.start + 1;
        }
    }
    return 0;
}

int sg_sq_table_checks(sg_conn *c, const sg_table_info *t, sg_check_info **out, size_t *n,
                       sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sqlite3_stmt *s = NULL;
    bool oom = false;
    int rc = sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' "
                                "AND name = ?1", -1, &s, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *sql = text(s, 0);
        char name[256] = "";
        sg_tok prev = { SG_TOK_END, 0, 0 }, prev2 = prev;
        for (sg_tok k = sg_sqllex_next_solid(sql, 0); k.kind != SG_TOK_END && !oom;
             k = sg_sqllex_next_solid(sql, k.start + k.len)) {
            if (sg_sqllex_is(sql, k, "CHECK")) {
                if (sg_sqllex_is(sql, prev2, "CONSTRAINT"))
                    sg_sqllex_name(sql, prev, name, sizeof name);
                size_t end = take_check(sql, k, sg_sqllex_is(sql, prev2, "CONSTRAINT")
                                                    ? name : NULL, out, n, &oom);
                if (end)
                    k = (sg_tok){ SG_TOK_PUNCT, end - 1, 1 };
            }
            prev2 = prev;
            prev = k;
        }
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE && !oom)
        return 0;
    sg_check_infos_free(*out, *n);
    *out = NULL;
    *n = 0;
    return oom || rc == SQLITE_NOMEM ? sg_err_set(err, SG_ENOMEM, "%s: out of memory",
                                                  c->endpoint)
                                     : sg_sq_fail(c, err);
}

int sg_sq_table_foreign_keys(sg_conn *c, const sg_table_info *t, sg_fk_info **out, size_t *n,
                             sg_err *err)
{
    sqlite3 *db = ((sq_conn *)c)->db;
    sqlite3_stmt *s = NULL;
    int64_t prev = -1;
    int rc = sqlite3_prepare_v2(db, "SELECT id, \"table\", \"from\", \"to\" FROM "
                                "pragma_foreign_key_list(?1) ORDER BY id, seq", -1, &s, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_text(s, 1, t->name, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        rc = sg_fk_infos_push(out, n, id != prev, NULL, text(s, 1), text(s, 2),
                              sqlite3_column_type(s, 3) == SQLITE_NULL ? NULL : text(s, 3))
                 ? SQLITE_NOMEM : SQLITE_OK;
        prev = id;
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
        return 0;
    sg_fk_infos_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == SQLITE_NOMEM ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                              : sg_sq_fail(c, err);
}

int sg_sq_table_triggers(sg_conn *c, const sg_table_info *t, char ***out, size_t *n,
                         sg_err *err)
{
    return names_of(c, "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = "
                    "?1 COLLATE NOCASE AND name NOT LIKE '\\_segue%' ESCAPE '\\' ORDER BY "
                    "name", t->name, out, n, err);
}
