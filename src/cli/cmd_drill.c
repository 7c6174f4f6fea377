/* segue drill: the rollback drill (segue/drill.h). */
#include <segue/drill.h>
#include <stdio.h>

#include "cli.h"

json_t *cli_drill_json(const sg_drill_report *r)
{
    return json_pack("{s:I,s:I,s:I,s:f,s:b,s:f,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,"
                     "s:I,s:s,s:s}", "id", (json_int_t)r->id, "started_ms",
                     (json_int_t)r->started_ms, "finished_ms", (json_int_t)r->finished_ms,
                     "reads_pct", r->reads_pct, "writes", r->writes, "fence_in_ms",
                     r->fence_in_ms, "to_rollback_ms", (json_int_t)r->to_rollback_ms,
                     "to_router_ms", (json_int_t)r->to_router_ms, "to_ofrep_ms",
                     (json_int_t)r->to_ofrep_ms, "fence_ms", r->fence_ms, "limit_ms",
                     (json_int_t)r->limit_ms, "writes_made", (json_int_t)r->writes_made,
                     "writes_on_target", (json_int_t)r->writes_on_target, "writes_lost",
                     (json_int_t)r->writes_lost, "overwritten", (json_int_t)r->overwritten,
                     "differences", (json_int_t)r->differences, "verified_rows",
                     (json_int_t)r->verified_rows, "column", r->column, "outcome",
                     r->outcome);
}

/* "1234 ms", or "not measured" */
static const char *ms(char *out, size_t n, double v)
{
    if (v < 0)
        snprintf(out, n, "not measured");
    else
        snprintf(out, n, "%.0f ms", v);
    return out;
}

void cli_drill_text(FILE *f, const char *indent, const sg_drill_report *r)
{
    char a[32], b[32], c[32], d[32];
    fprintf(f, "%sdrill %lld: %s\n", indent, (long long)r->id, r->outcome);
    fprintf(f, "%s  moved: %g %% of reads%s to the target\n", indent, r->reads_pct,
            r->writes ? " and the writes" : "");
    fprintf(f, "%s  failure to rollback: %s (aim: within %s); C API router: %s; OFREP: "
            "%s\n", indent, ms(a, sizeof a, (double)r->to_rollback_ms),
            ms(b, sizeof b, (double)r->limit_ms), ms(c, sizeof c, (double)r->to_router_ms),
            ms(d, sizeof d, (double)r->to_ofrep_ms));
    if (r->writes)
        fprintf(f, "%s  write fence: %.1f ms to the target, %.1f ms back\n", indent,
                r->fence_in_ms, r->fence_ms);
    fprintf(f, "%s  ledger (%s): %lld writes, %lld while writes were on the target, "
            "%lld lost, %lld overwritten by the application\n", indent, r->column,
            (long long)r->writes_made, (long long)r->writes_on_target,
            (long long)r->writes_lost, (long long)r->overwritten);
    fprintf(f, "%s  verify after the rollback: %lld differences in %lld rows\n", indent,
            (long long)r->differences, (long long)r->verified_rows);
}

static int options(const cli_cmd *c, const cli_args *a, sg_drill_options *o)
{
    long long rows = 0;
    int code = 0;
    if (cli_has(c, a, "reads") && (o->reads_pct = cli_read_pct(c, a)) <= 0) {
        fprintf(stderr, "segue drill: --reads takes a percentage above 0 and up to 100, "
                "not \"%s\"\n", cli_get(c, a, "reads"));
        return EXIT_USAGE;
    }
    if ((code = cli_parse_count("drill", "rows", cli_get(c, a, "rows"), &rows)) != 0 ||
        (cli_has(c, a, "timeout") &&
         (code = cli_parse_duration("drill", "timeout", cli_get(c, a, "timeout"),
                                    &o->timeout_ms)) != 0))
        return code;
    o->rows = rows;
    o->writes = cli_has(c, a, "writes");
    o->column = cli_get(c, a, "column");
    o->ofrep_url = cli_get(c, a, "ofrep");
    o->reason = a->reason;
    return 0;
}

CMD(drill)
{
    sg_drill_options o = SG_DRILL_OPTIONS_INIT;
    sg_drill_report r;
    sg_migration *m = NULL;
    int code = options(c, a, &o);
    if (code || (code = cli_open(a, &m)) != 0)
        return code;
    int rc = sg_migration_drill(&r, m, &o);
    if (rc && !r.id) {
        code = cli_fail("drill", rc, sg_migration_errmsg(m));
    } else {
        if (a->json)
            cli_print_json(cli_drill_json(&r));
        else
            cli_drill_text(stdout, "", &r);
        code = rc ? cli_fail("drill", rc, sg_migration_errmsg(m))
             : r.writes_lost || r.differences ? EXIT_DIFF : EXIT_OK;
    }
    sg_migration_close(m);
    return code;
}
