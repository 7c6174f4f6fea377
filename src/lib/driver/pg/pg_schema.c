/* PostgreSQL driver: introspection, capture and guard triggers, no-echo
 * marker. The marker is a transaction-local setting, `segue.applying`, that
 * segue's triggers test (DESIGN.md item 7). */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

PGresult *sg_pg_query(sg_conn *c, const char *sql, int n, const char *const *vals,
                   sg_err *err)
{
    PGresult *r = PQexecParams(sg_pg_idle(c), sql, n, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sg_pg_fail(c, r, err);
        PQclear(r);
        return NULL;
    }
    return r;
}

int sg_pg_query_bool(sg_conn *c, const char *sql, const char *arg, bool *out,
                  sg_err *err)
{
    PGresult *r = sg_pg_query(c, sql, 1, &arg, err);
    *out = r && PQntuples(r) > 0 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return r ? 0 : SG_EDB;
}

int sg_pg_control_present(sg_conn *c, const char *name, bool *out, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_pg_control_name(&b, name);
    int rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "out of memory")
                               : sg_pg_query_bool(c, "SELECT to_regclass($1) IS NOT NULL",
                                                  sg_buf_str(&b), out, err);
    sg_buf_free(&b);
    return rc;
}

int sg_pg_control_setup(sg_conn *c, sg_err *err)
{
    return sg_pg_exec(c, "CREATE SCHEMA IF NOT EXISTS segue", err);
}

int sg_pg_control_teardown(sg_conn *c, sg_err *err)
{
    return sg_pg_exec(c, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class k JOIN "
                      "pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = "
                      "'segue') THEN DROP SCHEMA IF EXISTS segue; END IF; END $$", err);
}

/* USAGE on the schema lets a role name its tables, not read them: only
 * the shared ones are granted; the changelogs and the marker's secret stay
 * segue's. */
int sg_pg_control_share(sg_conn *c, const char *name, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_buf_puts(&b, "GRANT USAGE ON SCHEMA segue TO PUBLIC; GRANT SELECT ON ");
    sg_pg_control_name(&b, name);
    sg_buf_puts(&b, " TO PUBLIC");
    int rc = sg_buf_failed(&b) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                               : sg_pg_exec(c, sg_buf_str(&b), err);
    sg_buf_free(&b);
    return rc;
}

int sg_pg_guard_exists(sg_conn *c, const sg_guard *g, bool *out, sg_err *err)
{
    sg_buf name = SG_BUF_INIT;
    sg_buf_printf(&name, "%s_guard", g->trigger_prefix);
    int rc = sg_buf_failed(&name) ? sg_err_set(err, SG_ENOMEM, "%s: out of memory",
                                               c->endpoint)
                                  : sg_pg_query_bool(c, "SELECT EXISTS (SELECT 1 FROM "
                                                  "pg_trigger WHERE NOT tgisinternal AND "
                                                  "tgname = $1)", sg_buf_str(&name), out, err);
    sg_buf_free(&name);
    return rc;
}


/* A column's collation as sg_column_info.order spells it; NULL for a type
 * without one (attcollation 0 matches no pg_collation row). The default
 * collation is the database's. Locale columns are read through to_jsonb so
 * that one query serves servers before and after their renaming
 * (PostgreSQL 15: daticulocale, colliculocale; 17: datlocale, colllocale). */
#define PG_COLUMN_ORDER                                                              \
    "(SELECT CASE WHEN l.provider = 'i' THEN 'icu:' || l.icu "                      \
    "WHEN l.collate IN ('C', 'POSIX') THEN 'bytes' "                                \
    "ELSE 'libc:' || l.collate END "                                                \
    "FROM (SELECT CASE WHEN co.collprovider = 'd' THEN d.provider ELSE "           \
    "co.collprovider::text END AS provider, CASE WHEN co.collprovider = 'd' THEN " \
    "d.collate ELSE co.collcollate END AS collate, CASE WHEN co.collprovider = "   \
    "'d' THEN d.icu ELSE coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> " \
    "'colliculocale') END AS icu "                                                  \
    "FROM pg_collation co, (SELECT coalesce(to_jsonb(db) ->> 'datlocprovider', "   \
    "'c') AS provider, db.datcollate AS collate, coalesce(to_jsonb(db) ->> "       \
    "'datlocale', to_jsonb(db) ->> 'daticulocale') AS icu FROM pg_database db "    \
    "WHERE db.datname = current_database()) d WHERE co.oid = a.attcollation) l)"

/* The sequence a column's default depends on (serial, nextval). */
#define PG_COLUMN_SEQUENCE                                                           \
    "(SELECT sq.oid::regclass::text FROM pg_attrdef ad JOIN pg_depend dp ON "        \
    "dp.classid = 'pg_attrdef'::regclass AND dp.objid = ad.oid AND dp.refclassid = " \
    "'pg_class'::regclass JOIN pg_class sq ON sq.oid = dp.refobjid AND sq.relkind = " \
    "'S' WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum LIMIT 1)"

/* sg_column_info.numbered: an identity's kind, 'd' for a serial (a
 * sequence owned by the column and its default). */
#define PG_COLUMN_NUMBERED                                                           \
    "CASE WHEN a.attidentity <> '' THEN a.attidentity::text WHEN "                  \
    "pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) IS NOT NULL "    \
    "THEN 'd' ELSE '' END"

static int load_columns(sg_conn *c, const char *oid, sg_table_info *t, sg_err *err)
{
    const char *vals[1] = { oid };
    PGresult *r = sg_pg_query(c, "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
                           "attgenerated <> '', coalesce(" PG_COLUMN_ORDER ", ''), "
                           "atthasdef OR attidentity <> '', "
                           "(SELECT pg_get_expr(d.adbin, d.adrelid, true) FROM pg_attrdef d "
                           "WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND "
                           "a.attgenerated = '') , " PG_COLUMN_SEQUENCE ", "
                           PG_COLUMN_NUMBERED " FROM pg_attribute a WHERE attrelid = $1::oid "
                           "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", 1, vals, err);
    if (!r)
        return SG_EDB;
    int n = PQntuples(r), rc = 0;
    bool oom = !(t->cols = calloc((size_t)(n ? n : 1), sizeof *t->cols));
    for (int i = 0; !oom && i < n; i++) {
        sg_column_info *col = &t->cols[t->n_cols++];
        col->name = strdup(PQgetvalue(r, i, 0));
        col->decl_type = strdup(PQgetvalue(r, i, 1));
        col->notnull = PQgetvalue(r, i, 2)[0] == 't';
        col->generated = PQgetvalue(r, i, 3)[0] == 't';
        col->order = strdup(PQgetvalue(r, i, 4));
        col->has_default = PQgetvalue(r, i, 5)[0] == 't';
        if (!PQgetisnull(r, i, 6))
            oom = !(col->default_sql = strdup(PQgetvalue(r, i, 6)));
        if (!PQgetisnull(r, i, 7))
            oom = oom || !(col->sequence = strdup(PQgetvalue(r, i, 7)));
        col->numbered = PQgetvalue(r, i, 8)[0];
        oom = oom || !col->name || !col->decl_type || !col->order;
    }
    if (oom)
        rc = sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
    PQclear(r);
    return rc;
}

static int col_index(const sg_table_info *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The primary key and the unique indexes that are neither partial nor on
 * expressions, each with its columns in index order. */
static int load_keys(sg_conn *c, const char *oid, sg_table_info *t, sg_err *err)
{
    const char *vals[1] = { oid };
    PGresult *r = sg_pg_query(c, "SELECT i.indexrelid, i.indisprimary, a.attname "
                           "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) "
                           "WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON "
                           "a.attrelid = i.indrelid AND a.attnum = k.attnum "
                           "WHERE i.indrelid = $1::oid AND i.indisunique AND "
                           "i.indpred IS NULL AND i.indexprs IS NULL "
                           "ORDER BY i.indisprimary DESC, i.indexrelid, k.ord", 1, vals, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    const char *cur = "";
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        bool primary = PQgetvalue(r, i, 1)[0] == 't';
        int col = col_index(t, PQgetvalue(r, i, 2));
        bool fresh = strcmp(cur, PQgetvalue(r, i, 0)) != 0;
        cur = PQgetvalue(r, i, 0);
        if (primary) {
            if (sg_cols_push(&t->pk, &t->n_pk, col))
                rc = SG_ENOMEM;
            else if (col >= 0)
                t->cols[col].pk_pos = (int)t->n_pk;
            continue;
        }
        if (fresh) {
            sg_unique_info *u = realloc(t->uniques, (t->n_unique + 1) * sizeof *u);
            if (!u) {
                rc = SG_ENOMEM;
                break;
            }
            t->uniques = u;
            t->uniques[t->n_unique++] = (sg_unique_info){ 0, NULL };
        }
        sg_unique_info *u = &t->uniques[t->n_unique - 1];
        if (sg_cols_push(&u->cols, &u->n, col))
            rc = SG_ENOMEM;
    }
    PQclear(r);
    return rc ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint) : 0;
}

/* The DDL that makes type `name` (an enum or a domain of `from`) elsewhere,
 * into *ddl; *base receives a domain's base type, or stays empty. */
static int type_ddl(sg_conn *from, const char *name, sg_buf *ddl, sg_buf *base, sg_err *err)
{
    PGresult *r = sg_pg_query(from,
        "SELECT t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull, "
        "(SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
        "   FROM pg_enum e WHERE e.enumtypid = t.oid), "
        "(SELECT string_agg(pg_get_constraintdef(k.oid), ' ') FROM pg_constraint k "
        "   WHERE k.contypid = t.oid) "
        "FROM pg_type t WHERE t.oid = to_regtype($1) AND t.typtype IN ('e', 'd')",
        1, &name, err);
    if (!r)
        return SG_EDB;
    if (PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'e') {
        sg_buf_printf(ddl, "CREATE TYPE %s AS ENUM (%s)", name, PQgetvalue(r, 0, 3));
    } else if (PQntuples(r) == 1) {
        sg_buf_printf(ddl, "CREATE DOMAIN %s AS %s%s %s", name, PQgetvalue(r, 0, 1),
                      PQgetvalue(r, 0, 2)[0] == 't' ? " NOT NULL" : "", PQgetvalue(r, 0, 4));
        sg_buf_puts(base, PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return 0;
}

/* Makes `decl`'s user type in `to` if it lacks it, a domain's base first. */
static int ensure_type(sg_conn *from, sg_conn *to, const char *decl, int depth, sg_err *err)
{
    char name[256];
    bool exists = false;
    /* "mpaa_rating[]" -> mpaa_rating; "character varying(20)" is built in;
     * a type given in a spec may name a collation: 'text COLLATE "C"' */
    snprintf(name, sizeof name, "%s", decl);
    name[strcspn(name, "[(")] = '\0';
    char *collate = strcasestr(name, " collate ");
    if (collate)
        *collate = '\0';
    if (!*name || depth > 8)
        return 0;
    int rc = sg_pg_query_bool(to, "SELECT to_regtype($1) IS NOT NULL", name, &exists, err);
    if (rc || exists)
        return rc;
    sg_buf ddl = SG_BUF_INIT, base = SG_BUF_INIT;
    rc = type_ddl(from, name, &ddl, &base, err);
    if (!rc && base.len)
        rc = ensure_type(from, to, sg_buf_str(&base), depth + 1, err);
    if (!rc && ddl.len)
        rc = sg_pg_exec(to, sg_buf_str(&ddl), err);
    sg_buf_free(&ddl);
    sg_buf_free(&base);
    return rc;
}

int sg_pg_type_copy(sg_conn *from, sg_conn *to, const char *decl, sg_err *err)
{
    int rc = ensure_type(from, to, decl, 0, err);
    if (rc)
        sg_err_prefix(err, "creating type %s in the target: ", decl);
    return rc;
}

int sg_pg_table_info(sg_conn *c, const char *table, sg_table_info **out, sg_err *err)
{
    const char *vals[1] = { table };
    sg_table_info *t = NULL;
    *out = NULL;
    /* an ordinary or partitioned table on the search_path, by exact name */
    PGresult *r = sg_pg_query(c, "SELECT c.oid, c.relname FROM pg_class c WHERE c.relname = $1 "
                           "AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)",
                        1, vals, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    if (PQntuples(r) == 1) {
        t = calloc(1, sizeof *t);
        if (!t || !(t->name = strdup(PQgetvalue(r, 0, 1))))
            rc = sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint);
        if (!rc)
            rc = load_columns(c, PQgetvalue(r, 0, 0), t, err);
        if (!rc)
            rc = load_keys(c, PQgetvalue(r, 0, 0), t, err);
    }
    PQclear(r);
    if (rc) {
        sg_table_info_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* true inside segue's own transactions: the no-echo marker holds this
 * database's secret, which only segue's role can read (sg_pg_marker_setup) */
#define PG_APPLYING "current_setting('segue.applying', true) = " \
                    "(SELECT s.secret FROM segue.secret s)"
/* dollar quote for function bodies; a body holding it is refused */
#define BODY_TAG "$segue_body$"

/* segue."<prefix>_<sfx>" */
static void function_name(sg_buf *b, const char *prefix, const char *sfx)
{
    sg_buf n = SG_BUF_INIT;
    sg_buf_printf(&n, "%s_%s", prefix, sfx);
    sg_pg_control_name(b, sg_buf_str(&n));
    sg_buf_free(&n);
}

/* CREATE OR REPLACE FUNCTION segue."<prefix>_<sfx>"() ... AS $tag$ body $tag$,
 * then (re)creates the trigger "<prefix>_<sfx>" on `table` that executes it
 * on `events`; `tail` is the rest ("REFERENCING ... FOR EACH STATEMENT",
 * "FOR EACH ROW WHEN (...)").
 * The function runs with its owner's rights (SECURITY DEFINER, the role
 * that installed it) and a fixed search_path, so any role that may write
 * the table can write its changelog without a grant on segue's schema, and
 * no role can slip its own objects in by name; a trigger function cannot
 * be called any other way. The trigger fires ALWAYS: also under
 * session_replication_role = replica (logical replication, pg_restore
 * --disable-triggers leaves ALWAYS triggers alone only when asked). */
static int install_trigger(sg_conn *c, const char *table, const char *prefix,
                           const char *sfx, const char *events, const char *tail,
                           const char *body, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    if (strstr(body, BODY_TAG))
        return sg_err_set(err, SG_EINVAL, "%s: a name holds %s; hint: rename it",
                          c->endpoint, BODY_TAG);
    sg_buf_puts(&b, "CREATE OR REPLACE FUNCTION ");
    function_name(&b, prefix, sfx);
    sg_buf_puts(&b, "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET "
                    "search_path = pg_catalog, pg_temp AS " BODY_TAG " BEGIN ");
    sg_buf_puts(&b, body);
    sg_buf_puts(&b, " END " BODY_TAG "; DROP TRIGGER IF EXISTS ");
    sg_std_quote_joined(&b, prefix, sfx);
    sg_buf_puts(&b, " ON ");
    sg_std_quote_ident(&b, table);
    sg_buf_puts(&b, "; CREATE TRIGGER ");
    sg_std_quote_joined(&b, prefix, sfx);
    sg_buf_printf(&b, " %s ON ", events);
    sg_std_quote_ident(&b, table);
    sg_buf_printf(&b, " %s EXECUTE FUNCTION ", tail);
    function_name(&b, prefix, sfx);
    sg_buf_puts(&b, "(); ALTER TABLE ");
    sg_std_quote_ident(&b, table);
    sg_buf_puts(&b, " ENABLE ALWAYS TRIGGER ");
    sg_std_quote_joined(&b, prefix, sfx);
    return sg_pg_exec_locking(c, &b, err);
}

static int drop_trigger(sg_conn *c, const char *table, const char *prefix,
                        const char *sfx, sg_err *err)
{
    sg_buf b = SG_BUF_INIT;
    sg_buf_puts(&b, "DROP TRIGGER IF EXISTS ");
    sg_std_quote_joined(&b, prefix, sfx);
    sg_buf_puts(&b, " ON ");
    sg_std_quote_ident(&b, table);
    sg_buf_puts(&b, "; DROP FUNCTION IF EXISTS ");
    function_name(&b, prefix, sfx);
    sg_buf_puts(&b, "()");
    return sg_pg_exec_locking(c, &b, err);
}

/* The key columns, "k0", "k1" or with a row prefix: <row>."k0", ... */
static void key_list(sg_buf *b, const sg_capture *cap, const char *row)
{
    for (size_t i = 0; i < cap->n_keys; i++) {
        sg_buf_puts(b, i ? ", " : "");
        if (row)
            sg_buf_printf(b, "%s.", row);
        sg_std_quote_ident(b, cap->keys[i]);
    }
}

/* Every role that may read `table` may read its changelog (both tables):
 * an application's router looks its own writes up there (read-your-writes,
 * switch/ryw.c), and learns nothing the table does not show it. Roles
 * granted the table later are not covered: their lookups fail, with a
 * hint. */
static int share_log(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    sg_buf b = SG_BUF_INIT, table = SG_BUF_INIT, log = SG_BUF_INIT;
    sg_std_quote_ident(&table, cap->table);
    sg_buf_printf(&log, "%s_stmt", cap->log_table);
    sg_buf_puts(&b, "DO $sg$ DECLARE r text; BEGIN FOR r IN SELECT DISTINCT CASE WHEN "
                "a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) END FROM "
                "pg_class k CROSS JOIN LATERAL aclexplode(coalesce(k.relacl, "
                "acldefault('r', k.relowner))) a LEFT JOIN pg_roles g ON g.oid = "
                "a.grantee WHERE k.oid = to_regclass(");
    sg_std_quote_literal(&b, sg_buf_str(&table));
    sg_buf_puts(&b, ") AND a.privilege_type = 'SELECT' LOOP EXECUTE "
                "format('GRANT USAGE ON SCHEMA segue TO %s; GRANT SELECT ON segue.%I, "
                "segue.%I TO %s', r, ");
    sg_std_quote_literal(&b, cap->log_table);
    sg_buf_puts(&b, ", ");
    sg_std_quote_literal(&b, sg_buf_str(&log));
    sg_buf_puts(&b, ", r); END LOOP; END $sg$");
    sg_buf_free(&table);
    sg_buf_free(&log);
    return sg_pg_exec_locking(c, &b, err);
}

/* The changelog and the table of its statement entries, key columns typed
 * as the table's; *stmt_ok: whether the keys may be logged as arrays. */
static int create_log(sg_conn *c, const sg_capture *cap, bool *stmt_ok, sg_err *err)
{
    sg_table_info *t = NULL;
    const char *types[SG_MAX_KEY];
    int rc = sg_pg_table_info(c, cap->table, &t, err);
    if (!rc && !t)
        rc = sg_err_set(err, SG_EDB, "%s: table \"%s\" does not exist", c->endpoint, cap->table);
    if (!rc && cap->n_keys > SG_MAX_KEY)
        rc = sg_err_set(err, SG_EINVAL, "%s: \"%s\" has more than %d key columns",
                        c->endpoint, cap->table, SG_MAX_KEY);
    if (!rc)
        rc = sg_pg_control_setup(c, err); /* the schema, when the source has none */
    sg_buf b = SG_BUF_INIT;
    sg_buf_puts(&b, "CREATE TABLE IF NOT EXISTS ");
    sg_pg_control_name(&b, cap->log_table);
    sg_buf_puts(&b, " (id bigserial PRIMARY KEY, at bigint NOT NULL");
    for (size_t i = 0; !rc && i < cap->n_keys; i++) {
        int col = col_index(t, cap->keys[i]);
        if (col < 0)
            rc = sg_err_set(err, SG_EDB, "%s: key column \"%s\" is not in \"%s\"",
                            c->endpoint, cap->keys[i], cap->table);
        else
            sg_buf_printf(&b, ", k%zu %s", i, (types[i] = t->cols[col].decl_type));
    }
    sg_buf_puts(&b, ")");
    if (cap->key_index) { /* a read-your-writes lookup (switch/ryw.c): one probe */
        sg_buf_printf(&b, "; CREATE INDEX IF NOT EXISTS \"%s_key\" ON ", cap->log_table);
        sg_pg_control_name(&b, cap->log_table);
        sg_buf_puts(&b, " (");
        for (size_t i = 0; i < cap->n_keys; i++)
            sg_buf_printf(&b, "%sk%zu", i ? ", " : "", i);
        sg_buf_puts(&b, ")");
    }
    if (!rc)
        rc = sg_pg_exec_locking(c, &b, err);
    else
        sg_buf_free(&b);
    if (!rc)
        rc = sg_pg_stmtlog_create(c, cap, types, err);
    if (!rc)
        rc = share_log(c, cap, err);
    *stmt_ok = !rc && sg_pg_stmtlog_usable(types, cap->n_keys);
    sg_table_info_free(t);
    return rc;
}

/* Skip segue's own writes, then (after the statement entry branch, when
 * given) "INSERT INTO log (at, k0, ...) " */
static void log_head(sg_buf *b, const sg_capture *cap, const char *branch)
{
    sg_buf_puts(b, "IF " PG_APPLYING " THEN RETURN NULL; END IF; ");
    sg_buf_puts(b, branch ? branch : "");
    sg_buf_puts(b, "INSERT INTO ");
    sg_pg_control_name(b, cap->log_table);
    sg_buf_puts(b, " (at");
    for (size_t k = 0; k < cap->n_keys; k++)
        sg_buf_printf(b, ", k%zu", k);
    sg_buf_puts(b, ") ");
}

/* The body of a statement trigger: "INSERT INTO log ... SELECT now, <keys>
 * FROM <from>", where from is a transition table ("n") or a subquery aliased
 * s, %K standing for the key columns; with stmt, a statement of
 * PG_STMTLOG_ROWS rows or more (counted in the transition table
 * count_from) logs one statement entry instead. */
static void log_from(sg_buf *b, const sg_capture *cap, const char *from,
                     const char *count_from, bool stmt)
{
    sg_buf src = SG_BUF_INIT, branch = SG_BUF_INIT;
    for (const char *p = from; *p; p++) {
        if (p[0] == '%' && p[1] == 'K') {
            key_list(&src, cap, NULL);
            p++;
        } else {
            sg_buf_putc(&src, *p);
        }
    }
    if (stmt)
        sg_pg_stmtlog_branch(&branch, cap, count_from, sg_buf_str(&src));
    log_head(b, cap, stmt ? sg_buf_str(&branch) : NULL);
    /* the time is read once per statement, not once per row */
    sg_buf_puts(b, "SELECT clk.t, ");
    key_list(b, cap, strchr(from, ' ') ? "s" : from);
    sg_buf_printf(b, " FROM (SELECT " PG_NOW_MS " AS t) clk, %s; RETURN NULL;",
                  sg_buf_str(&src));
    sg_buf_free(&src);
    sg_buf_free(&branch);
}

/* A row trigger for the rare UPDATE that changes the key: it logs the old
 * key (the statement trigger logs the new one). It fires only when the
 * UPDATE names a key column, and then only for rows whose key changed. */
static int install_key_change(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    sg_buf body = SG_BUF_INIT, events = SG_BUF_INIT, tail = SG_BUF_INIT;
    log_head(&body, cap, NULL);
    sg_buf_puts(&body, "VALUES (" PG_NOW_MS ", ");
    key_list(&body, cap, "OLD");
    sg_buf_puts(&body, "); RETURN NULL;");
    sg_buf_puts(&events, "AFTER UPDATE OF ");
    key_list(&events, cap, NULL);
    sg_buf_puts(&tail, "FOR EACH ROW WHEN (");
    for (size_t k = 0; k < cap->n_keys; k++) {
        sg_buf_puts(&tail, k ? " OR OLD." : "OLD.");
        sg_std_quote_ident(&tail, cap->keys[k]);
        sg_buf_puts(&tail, " IS DISTINCT FROM NEW.");
        sg_std_quote_ident(&tail, cap->keys[k]);
    }
    sg_buf_puts(&tail, ")");
    int rc = sg_buf_failed(&body) || sg_buf_failed(&events) || sg_buf_failed(&tail)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : install_trigger(c, cap->table, cap->trigger_prefix, "key", sg_buf_str(&events),
                                   sg_buf_str(&tail), sg_buf_str(&body), err);
    sg_buf_free(&body);
    sg_buf_free(&events);
    sg_buf_free(&tail);
    return rc;
}

/* The table's schema-qualified, quoted name (trigger bodies run with a
 * fixed search_path). */
static int qualified(sg_conn *c, const char *table, sg_buf *out, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    sg_std_quote_ident(&q, table);
    const char *arg = sg_buf_str(&q);
    PGresult *r = sg_pg_query(c, "SELECT quote_ident(n.nspname) || '.' || quote_ident(k.relname) "
                           "FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace "
                           "WHERE k.oid = to_regclass($1)", 1, &arg, err);
    sg_buf_free(&q);
    if (!r)
        return SG_EDB;
    int rc = PQntuples(r) == 1 ? 0 : sg_err_set(err, SG_EDB, "%s: table \"%s\" does not "
                                                "exist", c->endpoint, table);
    if (!rc)
        sg_buf_puts(out, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* TRUNCATE leaves no transition table, so a trigger before it logs every
 * key the table holds (one statement entry when there are many): apply then
 * finds each row gone and deletes it from the target, in order with every
 * other change. A partitioned table's trigger reads all its partitions;
 * TRUNCATE ... CASCADE fires the trigger of every table it empties. */
static int install_truncate(sg_conn *c, const sg_capture *cap, bool stmt, sg_err *err)
{
    sg_buf name = SG_BUF_INIT, from = SG_BUF_INIT, body = SG_BUF_INIT;
    int rc = qualified(c, cap->table, &name, err);
    if (!rc) {
        sg_buf_printf(&from, "(SELECT %%K FROM %s) s", sg_buf_str(&name));
        log_from(&body, cap, sg_buf_str(&from), sg_buf_str(&name), stmt);
        rc = sg_buf_failed(&body)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : install_trigger(c, cap->table, cap->trigger_prefix, "trunc",
                                   "BEFORE TRUNCATE", "FOR EACH STATEMENT",
                                   sg_buf_str(&body), err);
    }
    sg_buf_free(&name);
    sg_buf_free(&from);
    sg_buf_free(&body);
    return rc;
}

static int is_partitioned(sg_conn *c, const char *table, bool *out, sg_err *err)
{
    return sg_pg_query_bool(c, "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1 AND "
                         "relkind = 'p' AND pg_table_is_visible(oid))", table, out, err);
}

/* Statement-level triggers with transition tables: one INSERT ... SELECT per
 * statement, however many rows it touched; the new keys of an UPDATE, and
 * the old key only when it changed (install_key_change). A 500k-row UPDATE
 * pays for one 500k-row insert into the changelog, no join or sort. On a
 * partitioned table an UPDATE that moves a row to another partition fires
 * no row UPDATE trigger, so there the UPDATE logs the old and the new keys
 * of every row, deduplicated. */
int sg_pg_capture_install(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    static const char *const op[][4] = {
        { "ins", "AFTER INSERT", "REFERENCING NEW TABLE AS n FOR EACH STATEMENT", "n" },
        { "upd", "AFTER UPDATE", "REFERENCING NEW TABLE AS n FOR EACH STATEMENT", "n" },
        { "del", "AFTER DELETE", "REFERENCING OLD TABLE AS o FOR EACH STATEMENT", "o" },
        { "upd", "AFTER UPDATE", "REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT",
          "(SELECT %K FROM o UNION SELECT %K FROM n) s" },
    };
    bool partitioned = false, stmt = false;
    int rc = create_log(c, cap, &stmt, err);
    if (!rc)
        rc = is_partitioned(c, cap->table, &partitioned, err);
    for (size_t j = 0; j < 3 && !rc; j++) {
        size_t i = j == 1 && partitioned ? 3 : j;
        sg_buf body = SG_BUF_INIT;
        log_from(&body, cap, op[i][3], i == 2 ? "o" : "n", stmt);
        rc = sg_buf_failed(&body)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : install_trigger(c, cap->table, cap->trigger_prefix, op[i][0],
                                   op[i][1], op[i][2], sg_buf_str(&body), err);
        sg_buf_free(&body);
    }
    if (!rc && !partitioned)
        rc = install_key_change(c, cap, err);
    if (!rc)
        rc = install_truncate(c, cap, stmt, err);
    return rc;
}

int sg_pg_capture_remove(sg_conn *c, const sg_capture *cap, sg_err *err)
{
    static const char *const sfx[] = { "ins", "upd", "del", "key", "trunc" };
    int rc = 0;
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0] && !rc; i++)
        rc = drop_trigger(c, cap->table, cap->trigger_prefix, sfx[i], err);
    return rc;
}

/* One statement-level trigger before any write, TRUNCATE included. */
int sg_pg_guard_install(sg_conn *c, const sg_guard *g, sg_err *err)
{
    sg_buf body = SG_BUF_INIT;
    sg_buf_puts(&body, "IF " PG_APPLYING " THEN RETURN NULL; END IF; RAISE EXCEPTION "
                       "USING ERRCODE = 'P0001', MESSAGE = ");
    sg_std_quote_literal(&body, g->message);
    sg_buf_puts(&body, "; RETURN NULL;");
    int rc = sg_buf_failed(&body)
                 ? sg_err_set(err, SG_ENOMEM, "%s: out of memory", c->endpoint)
                 : install_trigger(c, g->table, g->trigger_prefix, "guard",
                                   "BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE",
                                   "FOR EACH STATEMENT", sg_buf_str(&body), err);
    sg_buf_free(&body);
    return rc;
}

int sg_pg_guard_remove(sg_conn *c, const sg_guard *g, sg_err *err)
{
    return drop_trigger(c, g->table, g->trigger_prefix, "guard", err);
}

/* The marker's secret: a random value in segue.secret, which only the
 * role that made it (segue's) can read; segue's sessions copy it into
 * segue.applying inside the server, so it never crosses the wire, and the
 * triggers (running as that role) compare. An application session cannot
 * set the marker without reading the table: one that runs as segue's own
 * role can, which docs/cli.md states. */
int sg_pg_marker_setup(sg_conn *c, sg_err *err)
{
    int rc = sg_pg_control_setup(c, err);
    if (!rc)
        rc = sg_pg_exec(c, "CREATE TABLE IF NOT EXISTS segue.secret (secret text NOT NULL); "
                        "REVOKE ALL ON segue.secret FROM PUBLIC; "
                        "INSERT INTO segue.secret SELECT md5(random()::text || "
                        "clock_timestamp()::text) || gen_random_uuid()::text "
                        "WHERE NOT EXISTS (SELECT 1 FROM segue.secret)", err);
    return rc ? rc : sg_pg_marker_on(c, err);
}

/* The secret goes with the last of segue's trigger functions here. */
int sg_pg_marker_teardown(sg_conn *c, sg_err *err)
{
    return sg_pg_exec(c, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN "
                      "pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = "
                      "'segue') THEN DROP TABLE IF EXISTS segue.secret; END IF; END $$",
                   err);
}

int sg_pg_marker_on(sg_conn *c, sg_err *err)
{
    return sg_pg_exec(c, "DO $$ BEGIN IF to_regclass('segue.secret') IS NOT NULL THEN "
                      "PERFORM set_config('segue.applying', (SELECT secret FROM "
                      "segue.secret LIMIT 1), true); END IF; END $$", err);
}

int sg_pg_marker_off(sg_conn *c, sg_err *err)
{
    (void)c; (void)err;
    return 0; /* set_config(..., true) ends with the transaction */
}
