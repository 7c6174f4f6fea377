/* SQLite declared types <-> portable column types. Names are matched as
 * SQLite's own affinity rules match them (datatype3.html, 3.1), after the
 * date, time and boolean names SQLite itself leaves to NUMERIC affinity. */
#include "driver/sqlite/sqlite_int.h"

#include <string.h>

static bool has(const char *name, const char *word)
{
    return strstr(name, word) != NULL;
}

static bool starts(const char *name, const char *word)
{
    return strncmp(name, word, strlen(word)) == 0;
}

/* Date, time and boolean spellings; false for anything else. */
static bool temporal(const char *name, sg_coltype *out)
{
    if (has(name, "bool"))
        out->kind = SG_K_BOOL;
    else if (has(name, "timestamptz") || has(name, "with time zone"))
        out->kind = starts(name, "time") && !starts(name, "timestamp")
                        ? SG_K_OTHER : SG_K_TIMESTAMPTZ;
    else if (starts(name, "datetime") || starts(name, "timestamp"))
        out->kind = SG_K_TIMESTAMP;
    else if (strcmp(name, "date") == 0)
        out->kind = SG_K_DATE;
    else if (strcmp(name, "time") == 0)
        out->kind = SG_K_TIME;
    else
        return false;
    return true;
}

void sg_sq_type_parse(const char *decl, sg_coltype *out)
{
    char name[128];
    int mods[2];
    sg_std_type_split(decl, name, sizeof name, mods);
    *out = (sg_coltype)SG_COLTYPE_INIT;
    out->no_nan = true; /* SQLite binds a NaN as NULL, whatever the column */
    if (!*name || temporal(name, out))
        return;
    if (has(name, "int")) {
        out->kind = SG_K_INT; /* every SQLite integer is 8 bytes */
        out->size = 8;
    } else if (has(name, "char") || has(name, "clob") || has(name, "text")) {
        out->kind = SG_K_TEXT; /* CHAR(n) is not blank-padded in SQLite */
        out->size = mods[0] > 0 ? mods[0] : 0;
    } else if (has(name, "blob")) {
        out->kind = SG_K_BLOB;
    } else if (has(name, "real") || has(name, "floa") || has(name, "doub")) {
        out->kind = SG_K_REAL;
        out->size = 8;
    } else if (starts(name, "numeric") || starts(name, "decimal")) {
        out->kind = SG_K_NUMERIC;
        out->approx = true;
        if (mods[1] >= 0) { /* NUMERIC(p) says nothing of the scale in SQLite */
            out->size = mods[0];
            out->scale = mods[1];
        }
    } else {
        out->kind = SG_K_OTHER;
    }
    /* integer, real and numeric affinities store an integral real as an
     * integer: -0.0 would come back as 0 */
    out->no_neg_zero = out->kind == SG_K_INT || out->kind == SG_K_REAL ||
                       out->kind == SG_K_NUMERIC;
}

void sg_sq_type_decl(const sg_coltype *t, sg_buf *b)
{
    switch (t->kind) {
    case SG_K_ANY: return;
    case SG_K_INT: sg_buf_puts(b, "INTEGER"); return;
    case SG_K_REAL: sg_buf_puts(b, "REAL"); return;
    case SG_K_NUMERIC:
        sg_buf_puts(b, "NUMERIC");
        if (t->size && t->scale >= 0)
            sg_buf_printf(b, "(%d,%d)", t->size, t->scale);
        return;
    case SG_K_TEXT:
        sg_buf_puts(b, !t->size ? "TEXT" : t->fixed ? "CHAR" : "VARCHAR");
        if (t->size)
            sg_buf_printf(b, "(%d)", t->size);
        return;
    case SG_K_BLOB: sg_buf_puts(b, "BLOB"); return;
    case SG_K_BOOL: sg_buf_puts(b, "BOOLEAN"); return;
    case SG_K_DATE: sg_buf_puts(b, "DATE"); return;
    case SG_K_TIME: sg_buf_puts(b, "TIME"); return;
    case SG_K_TIMESTAMP: sg_buf_puts(b, "TIMESTAMP"); return;
    case SG_K_TIMESTAMPTZ: sg_buf_puts(b, "TIMESTAMPTZ"); return;
    default: sg_buf_puts(b, "TEXT"); return;
    }
}

/* What SQLite's built-in scalar and aggregate functions return
 * (sqlite.org/lang_corefunc.html, lang_datefunc.html, lang_aggfunc.html):
 * the declared type a column made from one should get. */
static const struct { const char *fn, *type; } function_types[] = {
    { "lower", "TEXT" },   { "upper", "TEXT" },     { "trim", "TEXT" },
    { "ltrim", "TEXT" },   { "rtrim", "TEXT" },     { "substr", "TEXT" },
    { "substring", "TEXT" }, { "replace", "TEXT" }, { "printf", "TEXT" },
    { "format", "TEXT" },  { "hex", "TEXT" },       { "quote", "TEXT" },
    { "char", "TEXT" },    { "group_concat", "TEXT" }, { "string_agg", "TEXT" },
    { "date", "TEXT" },    { "time", "TEXT" },      { "datetime", "TEXT" },
    { "strftime", "TEXT" }, { "typeof", "TEXT" },   { "concat", "TEXT" },
    { "concat_ws", "TEXT" }, { "soundex", "TEXT" },
    { "length", "INTEGER" }, { "octet_length", "INTEGER" }, { "instr", "INTEGER" },
    { "unicode", "INTEGER" }, { "count", "INTEGER" }, { "sign", "INTEGER" },
    { "unixepoch", "INTEGER" }, { "random", "INTEGER" },
    { "julianday", "REAL" }, { "round", "REAL" },   { "avg", "REAL" },
    { "total", "REAL" },
    { "abs", "" },         { "coalesce", "" },      { "ifnull", "" },
    { "nullif", "" },      { "max", "" },           { "min", "" },
    { "likely", "" },      { "unlikely", "" },
};

const char *sg_sq_function_type(const char *fn)
{
    for (size_t i = 0; i < sizeof function_types / sizeof function_types[0]; i++)
        if (sqlite3_stricmp(function_types[i].fn, fn) == 0)
            return function_types[i].type;
    return NULL;
}
