/* Statements of a plain SQL text, split at `;` (segue/shadow.h). */
#include <segue/shadow.h>

#include "base/sqllex.h"

bool sg_sql_next_statement(const char *text, size_t *pos, size_t *start, size_t *len)
{
    if (!text || !pos || !start || !len)
        return false;
    for (;;) {
        sg_tok t = sg_sqllex_next_solid(text, *pos);
        if (t.kind == SG_TOK_END) {
            *pos = t.start;
            return false;
        }
        if (t.kind == SG_TOK_PUNCT && text[t.start] == ';') {
            *pos = t.start + 1; /* an empty statement */
            continue;
        }
        *start = t.start;
        size_t end = t.start + t.len;
        for (t = sg_sqllex_next(text, end); t.kind != SG_TOK_END &&
                                            !(t.kind == SG_TOK_PUNCT && text[t.start] == ';');
             t = sg_sqllex_next(text, t.start + t.len))
            if (t.kind != SG_TOK_SPACE)
                end = t.start + t.len;
        *len = end - *start;
        *pos = t.kind == SG_TOK_END ? t.start : t.start + 1;
        return true;
    }
}
