/* PostgreSQL declared types (format_type spellings and the usual aliases)
 * <-> portable column types. Arrays, enums, domains, json, uuid and the
 * rest are SG_K_OTHER: they travel as text. */
#include "driver/pg/pg_int.h"

#include <string.h>

typedef struct pg_named {
    const char *name;
    sg_kind kind;
    int size;
    bool fixed;       /* character(n): blank-padded; n is 1 when not given */
} pg_named;

static const pg_named named[] = {
    { "smallint", SG_K_INT, 2, false }, { "int2", SG_K_INT, 2, false },
    { "integer", SG_K_INT, 4, false }, { "int", SG_K_INT, 4, false },
    { "int4", SG_K_INT, 4, false }, { "serial", SG_K_INT, 4, false },
    { "bigint", SG_K_INT, 8, false }, { "int8", SG_K_INT, 8, false },
    { "bigserial", SG_K_INT, 8, false }, { "oid", SG_K_INT, 8, false },
    { "real", SG_K_REAL, 4, false }, { "float4", SG_K_REAL, 4, false },
    { "double precision", SG_K_REAL, 8, false }, { "float8", SG_K_REAL, 8, false },
    { "float", SG_K_REAL, 8, false },
    { "numeric", SG_K_NUMERIC, 0, false }, { "decimal", SG_K_NUMERIC, 0, false },
    { "character varying", SG_K_TEXT, 0, false }, { "varchar", SG_K_TEXT, 0, false },
    { "character", SG_K_TEXT, 1, true }, { "char", SG_K_TEXT, 1, true },
    { "bpchar", SG_K_TEXT, 1, true }, { "text", SG_K_TEXT, 0, false },
    { "citext", SG_K_TEXT, 0, false }, { "name", SG_K_TEXT, 0, false },
    { "bytea", SG_K_BLOB, 0, false }, { "boolean", SG_K_BOOL, 0, false },
    { "bool", SG_K_BOOL, 0, false },
    { "date", SG_K_DATE, 0, false },
    { "time", SG_K_TIME, 0, false }, { "time without time zone", SG_K_TIME, 0, false },
    { "timestamp", SG_K_TIMESTAMP, 0, false },
    { "timestamp without time zone", SG_K_TIMESTAMP, 0, false },
    { "timestamptz", SG_K_TIMESTAMPTZ, 0, false },
    { "timestamp with time zone", SG_K_TIMESTAMPTZ, 0, false },
};

void sg_pg_type_parse(const char *decl, sg_coltype *out)
{
    char name[128];
    int mods[2];
    sg_std_type_split(decl, name, sizeof name, mods);
    *out = (sg_coltype)SG_COLTYPE_INIT;
    out->kind = SG_K_OTHER;
    if (strchr(name, '[') || strstr(name, " array"))
        return;
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        if (strcmp(name, named[i].name) != 0)
            continue;
        out->kind = named[i].kind;
        out->size = named[i].size;
        out->fixed = named[i].fixed;
        break;
    }
    if (out->kind == SG_K_NUMERIC && mods[0] > 0) {
        out->size = mods[0];
        out->scale = mods[1] >= 0 ? mods[1] : 0; /* numeric(p) is numeric(p,0) */
    } else if (out->kind == SG_K_TEXT && mods[0] > 0) {
        out->size = mods[0];
    } else if (out->kind >= SG_K_TIME && out->kind <= SG_K_TIMESTAMPTZ &&
               mods[0] >= 0 && mods[0] < 6) {
        out->frac = mods[0];
    }
}

static void frac_mod(const sg_coltype *t, sg_buf *b)
{
    if (t->frac >= 0 && t->frac < 6)
        sg_buf_printf(b, "(%d)", t->frac);
}

void sg_pg_type_decl(const sg_coltype *t, sg_buf *b)
{
    switch (t->kind) {
    case SG_K_INT:
        sg_buf_puts(b, t->size == 2 ? "smallint" : t->size == 4 ? "integer" : "bigint");
        return;
    case SG_K_REAL: sg_buf_puts(b, t->size == 4 ? "real" : "double precision"); return;
    case SG_K_NUMERIC:
        sg_buf_puts(b, "numeric");
        if (t->size && t->scale >= 0)
            sg_buf_printf(b, "(%d,%d)", t->size, t->scale);
        return;
    case SG_K_TEXT:
        sg_buf_puts(b, !t->size ? "text" : t->fixed ? "character" : "character varying");
        if (t->size)
            sg_buf_printf(b, "(%d)", t->size);
        return;
    case SG_K_BLOB: sg_buf_puts(b, "bytea"); return;
    case SG_K_BOOL: sg_buf_puts(b, "boolean"); return;
    case SG_K_DATE: sg_buf_puts(b, "date"); return;
    case SG_K_TIME: sg_buf_puts(b, "time"); frac_mod(t, b); return;
    case SG_K_TIMESTAMP: sg_buf_puts(b, "timestamp"); frac_mod(t, b); return;
    case SG_K_TIMESTAMPTZ:
        sg_buf_puts(b, "timestamp");
        frac_mod(t, b);
        sg_buf_puts(b, " with time zone");
        return;
    default: sg_buf_puts(b, "text"); return;
    }
}
