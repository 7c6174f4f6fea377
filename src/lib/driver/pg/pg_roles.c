/* PostgreSQL driver: the roles that use a table. A created target gets the
 * source table's privileges, its owner's included (an application that owns
 * its tables must keep them when segue runs as another role); plan lists
 * each role with what it holds and whether the target will serve it. The
 * privileges come from the table's ACL, or the owner's default one when it
 * has none (aclexplode, acldefault). */
#include "driver/pg/pg_int.h"

#include <segue/segue.h>
#include <stdlib.h>
#include <string.h>

/* role as GRANT spells it, privilege, grantable, role's plain name, owner */
#define PG_TABLE_ACL                                                                 \
    "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) END, " \
    "a.privilege_type, a.is_grantable, coalesce(g.rolname, 'public'), "             \
    "a.grantee = k.relowner FROM pg_class k CROSS JOIN LATERAL "                     \
    "aclexplode(coalesce(k.relacl, acldefault('r', k.relowner))) a LEFT JOIN "      \
    "pg_roles g ON g.oid = a.grantee WHERE k.oid = to_regclass($1) "                 \
    "ORDER BY 1, 2"

static PGresult *table_acl(sg_conn *c, const char *table, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    sg_std_quote_ident(&q, table);
    const char *arg = sg_buf_str(&q);
    PGresult *r = sg_pg_query(c, PG_TABLE_ACL, 1, &arg, err);
    sg_buf_free(&q);
    return r;
}

/* Whether the role (plain name; "public" for everyone) exists in c. */
static int role_exists(sg_conn *c, const char *name, bool *out, sg_err *err)
{
    *out = true;
    if (!strcmp(name, "public"))
        return 0;
    return sg_pg_query_bool(c, "SELECT to_regrole(quote_ident($1)) IS NOT NULL", name, out, err);
}

/* Whether role (a plain name, or "public") holds privilege priv on table. */
static int holds(sg_conn *c, const char *role, const char *table, const char *priv,
                 bool *out, sg_err *err)
{
    sg_buf q = SG_BUF_INIT;
    sg_std_quote_ident(&q, table);
    const char *vals[3] = { role, sg_buf_str(&q), priv };
    PGresult *r = sg_pg_query(c, "SELECT has_table_privilege($1, $2, $3)", 3, vals, err);
    sg_buf_free(&q);
    *out = r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return r ? 0 : SG_EDB;
}

/* One GRANT of a privilege of row i, to a role that exists in `to`. */
static int grant_one(sg_conn *to, const char *table, const PGresult *r, int i,
                     sg_err *err)
{
    bool exists = false;
    int rc = role_exists(to, PQgetvalue(r, i, 3), &exists, err);
    if (rc || !exists)
        return rc;
    sg_buf b = SG_BUF_INIT;
    sg_buf_printf(&b, "GRANT %s ON ", PQgetvalue(r, i, 1));
    sg_std_quote_ident(&b, table);
    sg_buf_printf(&b, " TO %s%s", PQgetvalue(r, i, 0),
                  PQgetvalue(r, i, 2)[0] == 't' ? " WITH GRANT OPTION" : "");
    return sg_pg_exec_locking(to, &b, err);
}

int sg_pg_copy_grants(sg_conn *from, const char *from_table, sg_conn *to,
                   const char *to_table, sg_err *err)
{
    PGresult *r = table_acl(from, from_table, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++)
        rc = grant_one(to, to_table, r, i, err);
    PQclear(r);
    if (rc)
        sg_err_prefix(err, "giving \"%s\" the grants of \"%s\": ", to_table, from_table);
    return rc;
}

/* Starts the entry of the role of row i. */
static int role_begin(sg_role_use *u, const PGresult *r, int i, bool checked)
{
    memset(u, 0, sizeof *u);
    u->role = strdup(PQgetvalue(r, i, 0));
    u->owner = PQgetvalue(r, i, 4)[0] == 't';
    u->lacking = checked ? strdup("") : NULL;
    return u->role && (!checked || u->lacking) ? 0 : -1;
}

static int append(char **list, const char *item)
{
    size_t a = *list ? strlen(*list) : 0, b = strlen(item);
    char *s = realloc(*list, a + b + 3);
    if (!s)
        return -1;
    if (a)
        memcpy(s + a, ", ", 2), a += 2;
    memcpy(s + a, item, b + 1);
    *list = s;
    return 0;
}

/* Adds the privilege of row i to u: held, and whether the target has it. */
static int role_add(sg_conn *to, const char *to_table, sg_role_use *u,
                    const PGresult *r, int i, sg_err *err)
{
    const char *priv = PQgetvalue(r, i, 1);
    bool has = true;
    int rc = 0;
    if (append(&u->privileges, priv))
        return sg_err_set(err, SG_ENOMEM, "out of memory");
    if (!u->lacking || u->absent)
        return 0;
    if ((rc = holds(to, PQgetvalue(r, i, 3), to_table, priv, &has, err)) != 0)
        return rc;
    if (!has && append(&u->lacking, priv))
        return sg_err_set(err, SG_ENOMEM, "out of memory");
    return 0;
}

static int fill_roles(const PGresult *r, sg_conn *to, const char *to_table,
                      sg_role_use *uses, size_t *n, sg_err *err)
{
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        sg_role_use *u = &uses[*n > 0 ? *n - 1 : 0];
        if (!*n || strcmp(u->role, PQgetvalue(r, i, 0)) != 0) {
            u = &uses[(*n)++];
            if (role_begin(u, r, i, to_table != NULL))
                return sg_err_set(err, SG_ENOMEM, "out of memory");
            bool exists = true;
            if ((rc = role_exists(to, PQgetvalue(r, i, 3), &exists, err)) != 0)
                return rc;
            u->absent = !exists;
        }
        rc = role_add(to, to_table, u, r, i, err);
    }
    return rc;
}

int sg_pg_table_roles(sg_conn *from, const char *from_table, sg_conn *to,
                   const char *to_table, sg_role_use **out, size_t *n, sg_err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = table_acl(from, from_table, err);
    if (!r)
        return SG_EDB;
    int rc = 0;
    if (PQntuples(r) && !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
        rc = sg_err_set(err, SG_ENOMEM, "out of memory");
    if (!rc)
        rc = fill_roles(r, to, to_table, *out, n, err);
    PQclear(r);
    if (rc) {
        sg_role_uses_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
