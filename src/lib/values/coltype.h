/* Portable column types: what a declared column type means independently of
 * the engine, so a move across engines can name the target's type (each
 * driver parses its own spelling into one and spells one back) and bring
 * every value to what the target column holds (sg_conform). */
#ifndef SEGUE_COLTYPE_H
#define SEGUE_COLTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "values/value.h"

typedef enum sg_kind {
    SG_K_ANY = 0,      /* no declared type (SQLite): values stay as they are */
    SG_K_INT,          /* size: 2, 4 or 8 bytes */
    SG_K_REAL,         /* size: 4 or 8 bytes */
    SG_K_NUMERIC,      /* size: precision in digits (0: unbounded); scale */
    SG_K_TEXT,         /* size: most characters (0: unbounded); fixed: char(n) */
    SG_K_BLOB,
    SG_K_BOOL,
    SG_K_DATE,
    SG_K_TIME,         /* without a time zone */
    SG_K_TIMESTAMP,    /* without a time zone */
    SG_K_TIMESTAMPTZ,  /* an instant; values are written in UTC */
    SG_K_OTHER,        /* engine-specific (enum, array, json, uuid...): as text */
} sg_kind;

typedef struct sg_coltype {
    sg_kind kind;
    int size;          /* see sg_kind; 0 when not given */
    int scale;         /* SG_K_NUMERIC: digits after the point, -1 if not given */
    bool fixed;        /* SG_K_TEXT: blank-padded to size (char(n)) */
    bool approx;       /* SG_K_NUMERIC: the engine keeps a number of more
                        * than 15 significant digits as an 8-byte float
                        * (SQLite's NUMERIC affinity) */
    int frac;          /* SG_K_TIME/TIMESTAMP(TZ): digits of a second kept,
                        * 0..6 (6 when not given) */
    bool no_nan;       /* the engine stores a NaN float as NULL (SQLite) */
    bool no_neg_zero;  /* the column stores -0.0 as 0 (SQLite's numeric
                        * affinities keep integral reals as integers) */
} sg_coltype;

/* A portable type with nothing given: SG_K_ANY, scale -1, frac 6. */
#define SG_COLTYPE_INIT { SG_K_ANY, 0, -1, false, false, 6, false, false }

/* Appends a readable name of t ("numeric(10,2)", "text(40)") for messages. */
void sg_coltype_describe(const sg_coltype *t, sg_buf *b);

/* How well a value fits a column type. */
typedef enum sg_fit {
    SG_FIT_EXACT = 0,  /* the target holds the same value */
    SG_FIT_LOSSY = 1,  /* it holds a narrower one (rounded, zone dropped...) */
    SG_FIT_NONE = 2,   /* the target cannot hold it */
} sg_fit;

/* Brings *v to the value a column of type t holds once v is written to it,
 * in one canonical spelling per type, so the two sides of a cross-engine
 * move compare equal exactly when they hold the same value:
 *   int -> SG_V_INT (range-checked); real -> SG_V_REAL (4-byte: rounded to
 *   float); numeric -> SG_V_NUMERIC plain decimal, padded/rounded (half away
 *   from zero) to the scale, without trailing zeros when no scale is given;
 *   text -> SG_V_TEXT (length in characters checked, char(n) padded);
 *   date "YYYY-MM-DD", time "HH:MM:SS[.ffffff]", timestamp
 *   "YYYY-MM-DD HH:MM:SS[.ffffff]", timestamptz the same in UTC followed by
 *   "+00:00", an offset SQLite's date functions read too (SG_V_DATETIME);
 *   bool -> SG_V_BOOL; blob -> SG_V_BLOB.
 * A NaN or a -0.0 float the column would change (no_nan, no_neg_zero) is
 * SG_FIT_NONE: refused, never changed.
 * New bytes go into `scratch` (reset first); *v then points into it and
 * stays valid until scratch changes. On SG_FIT_NONE *v is unchanged. `why`
 * (may be NULL) receives a static reason for LOSSY and NONE. */
sg_fit sg_conform(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                  const char **why);
/* Characters in valid UTF-8 text without NUL bytes; -1 for anything else. */
long sg_utf8_chars(const void *p, size_t n);

/* The date and time kinds of sg_conform (conform_time.c). */
sg_fit sg_conform_time(const sg_coltype *t, sg_value *v, sg_buf *scratch,
                       const char **why);

#endif
