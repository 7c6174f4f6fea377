/* PostgreSQL driver: the connection string as messages show it. libpq
 * parses it (PQconninfoParse: key/value strings with quoting and spaces
 * around '=', URIs with %-encoding and query parameters), and the string
 * is rebuilt from what it found, with every option libpq marks as secret
 * (dispchar '*': password, sslpassword) shown as ***. Nothing of the
 * original spelling is copied, so no spelling can carry a secret through. */
#include "driver/pg/pg_int.h"

#include <stdlib.h>
#include <string.h>

/* value of keyword in opts, or NULL when not given */
static const char *opt(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (!strcmp(o->keyword, keyword))
            return o->val && *o->val ? o->val : NULL;
    return NULL;
}

static bool secret(const PQconninfoOption *o)
{
    return o->dispchar && o->dispchar[0] == '*';
}

/* A key/value value, single-quoted when it holds a space, a quote or a
 * backslash, or is empty. */
static void put_value(sg_buf *b, const char *v)
{
    if (*v && !strpbrk(v, " '\\")) {
        sg_buf_puts(b, v);
        return;
    }
    sg_buf_putc(b, '\'');
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            sg_buf_putc(b, '\\');
        sg_buf_putc(b, *v);
    }
    sg_buf_putc(b, '\'');
}

/* The options a URI's authority and path do not hold, as key/value pairs
 * after `lead` ("?" then "&" for a URI, " " for key/value). */
static void put_rest(sg_buf *b, const PQconninfoOption *opts, bool uri)
{
    static const char *const in_uri[] = { "user", "password", "host", "port", "dbname" };
    bool first = true;
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        bool skip = false;
        for (size_t i = 0; uri && i < sizeof in_uri / sizeof in_uri[0]; i++)
            skip |= !strcmp(o->keyword, in_uri[i]);
        if (skip || !o->val || (!*o->val && !secret(o)))
            continue;
        sg_buf_puts(b, uri ? (first ? "?" : "&") : (first ? "" : " "));
        sg_buf_printf(b, "%s=", o->keyword);
        if (secret(o))
            sg_buf_puts(b, "***");
        else
            put_value(b, o->val);
        first = false;
    }
}

static void put_uri(sg_buf *b, const char *scheme, const PQconninfoOption *opts)
{
    const char *user = opt(opts, "user"), *host = opt(opts, "host");
    const char *port = opt(opts, "port"), *db = opt(opts, "dbname");
    sg_buf_printf(b, "%s://", scheme);
    if (user || opt(opts, "password"))
        sg_buf_printf(b, "%s%s@", user ? user : "", opt(opts, "password") ? ":***" : "");
    sg_buf_printf(b, "%s%s%s", host ? host : "", port ? ":" : "", port ? port : "");
    if (db)
        sg_buf_printf(b, "/%s", db);
    put_rest(b, opts, true);
}

char *sg_pg_conninfo_display(const char *uri, const char *conninfo, bool *parsed)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    sg_buf b = SG_BUF_INIT;
    *parsed = opts != NULL;
    PQfreemem(errmsg); /* it may quote a piece of the string: never shown */
    size_t scheme = strcspn(uri, ":");
    if (!opts) {
        sg_buf_printf(&b, "%.*s:(a connection string libpq cannot read)", (int)scheme, uri);
    } else if (conninfo == uri) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(scheme < 31 ? scheme : 31), uri);
        put_uri(&b, name, opts);
    } else {
        sg_buf_printf(&b, "%.*s:", (int)scheme, uri);
        put_rest(&b, opts, false);
    }
    PQconninfoFree(opts);
    char *out = sg_buf_failed(&b) ? NULL : strdup(sg_buf_str(&b));
    sg_buf_free(&b);
    return out;
}
