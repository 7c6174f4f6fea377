/* PostgreSQL declared types (format_type spellings and the usual aliases)
 * <-> portable column types. Arrays, enums, domains, json, uuid and the
 * rest are SG_K_OTHER: they travel as text. */
#include "pg_int.h"

#include <string.h>

typedef struct pg_named {
    const char *name;
    sg_kind kind;
    int size;
} pg_named;

static const pg_named named[] = {
    { "smallint", SG_K_INT, 2 }, { "int2", SG_K_INT, 2 },
    { "integer", SG_K_INT, 4 }, { "int", SG_K_INT, 4 }, { "int4", SG_K_INT, 4 },
    { "serial", SG_K_INT, 4 }, { "bigint", SG_K_INT, 8 }, { "int8", SG_K_INT, 8 },
    { "bigserial", SG_K_INT, 8 }, { "oid", SG_K_INT, 8 },
    { "real", SG_K_REAL, 4 }, { "float4", SG_K_REAL, 4 },
    { "double precision", SG_K_REAL, 8 }, { "float8", SG_K_REAL, 8 },
    { "float", SG_K_REAL, 8 },
    { "numeric", SG_K_NUMERIC, 0 }, { "decimal", SG_K_NUMERIC, 0 },
    { "character varying", SG_K_TEXT, 0 }, { "varchar", SG_K_TEXT, 0 },
    { "character", SG_K_TEXT, 1 }, { "char", SG_K_TEXT, 1 },
    { "bpchar", SG_K_TEXT, 1 }, { "text", SG_K_TEXT, 0 },
    { "citext", SG_K_TEXT, 0 }, { "name", SG_K_TEXT, 0 },
    { "bytea", SG_K_BLOB, 0 }, { "boolean", SG_K_BOOL, 0 }, { "bool", SG_K_BOOL, 0 },
    { "date", SG_K_DATE, 0 },
    { "time", SG_K_TIME, 0 }, { "time without time zone", SG_K_TIME, 0 },
    { "timestamp", SG_K_TIMESTAMP, 0 },
    { "timestamp without time zone", SG_K_TIMESTAMP, 0 },
    { "timestamptz", SG_K_TIMESTAMPTZ, 0 },
    { "timestamp with time zone", SG_K_TIMESTAMPTZ, 0 },
};

void pg_type_parse(const char *decl, sg_coltype *out)
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
        break;
    }
    if (out->kind == SG_K_NUMERIC && mods[0] > 0) {
        out->size = mods[0];
        out->scale = mods[1] >= 0 ? mods[1] : 0; /* numeric(p) is numeric(p,0) */
    } else if (out->kind == SG_K_TEXT) {
        out->fixed = out->size == 1; /* character(n): blank-padded */
        out->size = mods[0] > 0 ? mods[0] : out->size;
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

void pg_type_decl(const sg_coltype *t, sg_buf *b)
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
