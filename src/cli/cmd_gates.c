/* segue gates: every check now, with its value, threshold and state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <segue/gates.h>

#include "cli.h"

static json_t *check_json(const sg_gate_check *g)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", g->name, "state",
                          sg_gate_state_name(g->state), "unit", g->unit, "detail",
                          g->detail, "needs", g->needs, "blocks", g->blocks);
    json_object_set_new(o, "value", isnan(g->value) ? json_null() : json_real(g->value));
    json_object_set_new(o, "limit", json_real(g->limit));
    json_object_set_new(o, "samples", g->samples < 0 ? json_null()
                                                     : json_integer(g->samples));
    json_object_set_new(o, "line", g->line ? json_integer(g->line) : json_null());
    return o;
}

static void check_text(const sg_gate_check *g)
{
    const char *state = sg_gate_state_name(g->state);
    printf("%-22s %-13s %s; needs %s\n", g->name, g->blocks ? state : "waits",
           g->detail, g->needs);
}

/* Every check that blocks passes. */
static bool all_pass(const sg_gate_check *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].blocks && v[i].state != SG_GATE_PASS)
            return false;
    return true;
}

CMD(gates)
{
    sg_migration *m = NULL;
    sg_gate_check *v = NULL;
    size_t n = 0;
    (void)c;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_gates(&v, &n, m);
    if (rc) {
        code = cli_fail("gates", rc, sg_migration_errmsg(m));
    } else if (a->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, check_json(&v[i]));
        cli_print_json(json_pack("{s:o,s:b}", "checks", arr, "pass", all_pass(v, n)));
    } else {
        for (size_t i = 0; i < n; i++)
            check_text(&v[i]);
    }
    if (!rc && !all_pass(v, n))
        code = EXIT_STATE;
    free(v);
    sg_migration_close(m);
    return code;
}
