/* The SQL lexer that carries index expressions and predicates between
 * schemas: quoting, literals, comments and casts are told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/sqllex.h"

/* The kinds of the solid tokens of text, one letter each: i ident, q quoted
 * ident, s string, n number, p punctuation. */
static void kinds(const char *text, char *out, size_t size)
{
    static const char letter[] = { 0, ' ', 'i', 'q', 's', 'n', 'p' };
    size_t n = 0;
    for (sg_tok t = sg_sqllex_next_solid(text, 0); t.kind != SG_TOK_END && n + 1 < size;
         t = sg_sqllex_next_solid(text, t.start + t.len))
        out[n++] = letter[t.kind];
    out[n] = '\0';
}

static void tells_tokens_apart(void **state)
{
    (void)state;
    char k[64];
    kinds("lower(\"Na\"\"me\") || 'it''s' -- comment\n + 1.5e3", k, sizeof k);
    assert_string_equal(k, "ipqpppspn");
    kinds("[my col] = `x` AND E'a\\'b' IS NOT NULL /* c */", k, sizeof k);
    assert_string_equal(k, "qpqisiii");
    kinds("(abalance % 7)::bigint", k, sizeof k);
    assert_string_equal(k, "pipnppi");
}

static void names_without_quotes(void **state)
{
    (void)state;
    char name[32];
    const char *text = "\"a\"\"b\" [c d] x1";
    sg_tok t = sg_sqllex_next_solid(text, 0);
    sg_sqllex_name(text, t, name, sizeof name);
    assert_string_equal(name, "a\"b");
    t = sg_sqllex_next_solid(text, t.start + t.len);
    sg_sqllex_name(text, t, name, sizeof name);
    assert_string_equal(name, "c d");
    t = sg_sqllex_next_solid(text, t.start + t.len);
    assert_true(sg_sqllex_is(text, t, "X1"));
    sg_sqllex_name(text, t, name, 2); /* cut to fit */
    assert_string_equal(name, "x");
}

static void unterminated_runs_to_the_end(void **state)
{
    (void)state;
    const char *text = "'open";
    sg_tok t = sg_sqllex_next(text, 0);
    assert_int_equal(t.kind, SG_TOK_STRING);
    assert_int_equal(t.len, strlen(text));
    assert_int_equal(sg_sqllex_next(text, t.len).kind, SG_TOK_END);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tells_tokens_apart),
        cmocka_unit_test(names_without_quotes),
        cmocka_unit_test(unterminated_runs_to_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
