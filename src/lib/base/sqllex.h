/* A lexer for the SQL texts segue carries between schemas (index parts,
 * partial-index predicates, defaults): it tells identifiers, quoted
 * identifiers, string literals and numbers from the rest, in the spelling
 * SQLite and PostgreSQL share ('' and "" doubling, [..] and `..` quoted
 * identifiers from SQLite, E'..'-style prefixed literals from PostgreSQL,
 * -- and block comments). It judges nothing: unknown bytes are punctuation. */
#ifndef SEGUE_SQLLEX_H
#define SEGUE_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sg_tok_kind {
    SG_TOK_END = 0,
    SG_TOK_SPACE,    /* whitespace and comments */
    SG_TOK_IDENT,    /* a bare word (keywords too) */
    SG_TOK_QIDENT,   /* "x", [x] or `x` */
    SG_TOK_STRING,   /* 'x', and E'x', N'x', X'x', B'x' */
    SG_TOK_NUMBER,
    SG_TOK_PUNCT,    /* one byte, or "::" */
} sg_tok_kind;

typedef struct sg_tok {
    sg_tok_kind kind;
    size_t start;    /* byte offset into the text */
    size_t len;      /* bytes; an unterminated quote runs to the end */
} sg_tok;

/* The token at text + pos (pos <= strlen(text)); END at the end. */
sg_tok sg_sqllex_next(const char *text, size_t pos);
/* The next token at or after pos that is not SPACE. */
sg_tok sg_sqllex_next_solid(const char *text, size_t pos);
/* A quoted identifier's name without its quotes (doubled quotes made
 * one), or a bare word as written, into out (size bytes, cut to fit). */
void sg_sqllex_name(const char *text, sg_tok t, char *out, size_t size);
/* Whether token t is the bare word `word`, any case. */
bool sg_sqllex_is(const char *text, sg_tok t, const char *word);

#endif
