/* The SQL lexer of sqllex.h. */
#include "base/sqllex.h"

#include <string.h>
#include <strings.h>

static bool word_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool word_char(unsigned char c)
{
    return word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* End of a quoted run opened at text[pos] and closed by `close`; a doubled
 * close is an escaped one (except for ]), and with `backslash` (PostgreSQL's
 * E'...') a backslash escapes the byte after it. */
static size_t quoted_end(const char *text, size_t pos, char close, bool backslash)
{
    size_t i = pos + 1;
    while (text[i]) {
        if (backslash && text[i] == '\\' && text[i + 1]) {
            i += 2;
            continue;
        }
        if (text[i] == close) {
            if (close != ']' && text[i + 1] == close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return i;
}

static size_t space_end(const char *text, size_t i)
{
    for (;;) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' ||
            text[i] == '\f' || text[i] == '\v') {
            i++;
        } else if (text[i] == '-' && text[i + 1] == '-') {
            while (text[i] && text[i] != '\n')
                i++;
        } else if (text[i] == '/' && text[i + 1] == '*') {
            const char *e = strstr(text + i + 2, "*/");
            i = e ? (size_t)(e - text) + 2 : i + strlen(text + i);
        } else {
            return i;
        }
    }
}

static size_t number_end(const char *text, size_t i)
{
    while (digit((unsigned char)text[i]) || text[i] == '.')
        i++;
    if ((text[i] == 'e' || text[i] == 'E') &&
        (digit((unsigned char)text[i + 1]) ||
         ((text[i + 1] == '+' || text[i + 1] == '-') && digit((unsigned char)text[i + 2])))) {
        i += 2;
        while (digit((unsigned char)text[i]))
            i++;
    }
    return i;
}

sg_tok sg_sqllex_next(const char *text, size_t pos)
{
    sg_tok t = { SG_TOK_END, pos, 0 };
    unsigned char c = (unsigned char)text[pos];
    size_t end = pos;
    if (!c)
        return t;
    if ((end = space_end(text, pos)) > pos) {
        t.kind = SG_TOK_SPACE;
    } else if (c == '\'') {
        t.kind = SG_TOK_STRING;
        end = quoted_end(text, pos, '\'', false);
    } else if (c == '"' || c == '`' || c == '[') {
        t.kind = SG_TOK_QIDENT;
        end = quoted_end(text, pos, c == '[' ? ']' : (char)c, false);
    } else if (strchr("eEnNxXbB", (char)c) && text[pos + 1] == '\'') {
        t.kind = SG_TOK_STRING;
        end = quoted_end(text, pos + 1, '\'', c == 'e' || c == 'E');
    } else if (word_start(c)) {
        t.kind = SG_TOK_IDENT;
        for (end = pos + 1; word_char((unsigned char)text[end]); end++)
            ;
    } else if (digit(c) || (c == '.' && digit((unsigned char)text[pos + 1]))) {
        t.kind = SG_TOK_NUMBER;
        end = number_end(text, pos);
    } else {
        t.kind = SG_TOK_PUNCT;
        end = pos + (c == ':' && text[pos + 1] == ':' ? 2 : 1);
    }
    t.len = end - pos;
    return t;
}

sg_tok sg_sqllex_next_solid(const char *text, size_t pos)
{
    sg_tok t = sg_sqllex_next(text, pos);
    while (t.kind == SG_TOK_SPACE)
        t = sg_sqllex_next(text, t.start + t.len);
    return t;
}

void sg_sqllex_name(const char *text, sg_tok t, char *out, size_t size)
{
    size_t n = 0;
    if (!size)
        return;
    if (t.kind != SG_TOK_QIDENT) {
        n = t.len < size - 1 ? t.len : size - 1;
        memcpy(out, text + t.start, n);
        out[n] = '\0';
        return;
    }
    char close = text[t.start] == '[' ? ']' : text[t.start];
    for (size_t i = t.start + 1; i < t.start + t.len && n + 1 < size; i++) {
        if (text[i] == close) {
            if (close == ']' || i + 1 >= t.start + t.len || text[i + 1] != close)
                break;
            i++;
        }
        out[n++] = text[i];
    }
    out[n] = '\0';
}

bool sg_sqllex_is(const char *text, sg_tok t, const char *word)
{
    return t.kind == SG_TOK_IDENT && strlen(word) == t.len &&
           strncasecmp(text + t.start, word, t.len) == 0;
}
