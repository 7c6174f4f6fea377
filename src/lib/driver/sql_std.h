/* Standard SQL pieces that SQLite and PostgreSQL spell alike: identifier and
 * literal quoting, the $n parameter marker, ON CONFLICT upserts. Shared by
 * their drivers; not part of the vtable. */
#ifndef SEGUE_SQL_STD_H
#define SEGUE_SQL_STD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* "id" with inner double quotes doubled. */
void sg_std_quote_ident(sg_buf *b, const char *id);
/* "<prefix>_<suffix>" quoted as one identifier (trigger and function names). */
void sg_std_quote_joined(sg_buf *b, const char *prefix, const char *suffix);
/* 'text' with inner single quotes doubled (standard_conforming_strings). */
void sg_std_quote_literal(sg_buf *b, const char *s);
/* $n (1-based). */
void sg_std_param(sg_buf *b, int n);
/* " ON CONFLICT (keys) DO UPDATE SET c = excluded.c, ..." for every column
 * not among the keys (same_name compares names by the engine's rules), or
 * " DO NOTHING" when every column is a key. */
void sg_std_upsert_tail(sg_buf *b, size_t n_keys, const char *const *keys,
                        size_t n_cols, const char *const *cols,
                        bool (*same_name)(const char *, const char *));

struct sg_index_def;
/* "CREATE [UNIQUE] INDEX <how>"name" ON "table" [USING m] (parts [DESC]...)
 * [WHERE ...]"; how is "" or "CONCURRENTLY " (with its space). */
void sg_std_index_sql(sg_buf *b, const struct sg_index_def *d, const char *how);

/* A declared type split for matching: `name` gets it lower-cased with the
 * parenthesised modifiers cut out and runs of spaces made one ("timestamp(3)
 * with time zone" -> "timestamp with time zone"), cut to fit `cap`; mods
 * gets up to two numbers from the parentheses (-1 where absent). */
void sg_std_type_split(const char *decl, char *name, size_t cap, int mods[2]);

#endif
