/* Commands that report: plan, status, route. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static json_t *strv(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static const char *const verdicts[] = { "same", "changed as the mapping says",
                                         "unexpected" };

/* The schema report: per mapping the counts, then every line that is not
 * the same. */
static void schema_text(const sg_plan *p)
{
    for (size_t i = 0; i < p->n_mappings; i++) {
        size_t n[3] = { 0, 0, 0 };
        for (size_t k = 0; k < p->n_compat; k++)
            if (p->compat[k].mapping == i)
                n[p->compat[k].verdict]++;
        if (!n[0] && !n[1] && !n[2])
            continue;
        printf("schema %s -> %s: %zu same, %zu changed as the mapping says, %zu "
               "unexpected\n", p->mappings[i].from, p->mappings[i].to, n[0], n[1], n[2]);
        for (size_t k = 0; k < p->n_compat; k++) {
            const sg_plan_compat *c = &p->compat[k];
            if (c->mapping == i && c->verdict != SG_COMPAT_SAME)
                printf("  %s: %s %s: %s\n", verdicts[c->verdict], c->what, c->name,
                       c->detail);
        }
    }
}

static json_t *schema_json(const sg_plan *p)
{
    json_t *a = json_array();
    for (size_t k = 0; k < p->n_compat; k++) {
        const sg_plan_compat *c = &p->compat[k];
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s}", "mapping",
                              p->mappings[c->mapping].from, "what", c->what, "name",
                              c->name, "verdict", c->verdict == SG_COMPAT_SAME ? "same"
                              : c->verdict == SG_COMPAT_MAPPED ? "mapped" : "unexpected",
                              "detail", c->detail));
    }
    return a;
}

static void plan_text(const sg_plan *p)
{
    for (size_t i = 0; i < p->n_mappings; i++) {
        const sg_plan_mapping *pm = &p->mappings[i];
        printf("mapping %s -> %s: %lld source rows\n", pm->from, pm->to,
               (long long)pm->source_rows);
        if (pm->target_ddl)
            printf("  %s;\n", pm->target_ddl);
        for (size_t k = 0; k < pm->n_indexes; k++)
            printf("  %s;  -- after the backfill\n", pm->index_ddl[k]);
        for (size_t k = 0; k < pm->n_fk_ddl; k++)
            printf("  %s;  -- at the write cutover\n", pm->fk_ddl[k]);
        for (size_t k = 0; k < pm->n_sequences; k++)
            printf("  sequence %s: made as the source has it, the column's default; "
                   "moved up to the source's value at the write cutover\n",
                   pm->sequences[k]);
        for (size_t k = 0; k < pm->n_numbered; k++)
            printf("  numbered: %s by the target when an insert leaves it out, as on the "
                   "source; moved past the source's numbers at the write cutover\n",
                   pm->numbered[k]);
        if (pm->roles)
            printf("  roles: %s\n", pm->roles);
        if (pm->dependents)
            printf("  depends on %s: %s (cleanup --drop-source refuses while they "
                   "exist)\n", pm->from, pm->dependents);
    }
    schema_text(p);
    for (size_t i = 0; i < p->n_warnings; i++)
        printf("warning: %s\n", p->warnings[i]);
    for (size_t i = 0; i < p->n_blockers; i++)
        printf("blocker: %s\n", p->blockers[i]);
    printf("%zu mapping%s, %zu warning%s, %zu blocker%s\n", p->n_mappings,
           p->n_mappings == 1 ? "" : "s", p->n_warnings,
           p->n_warnings == 1 ? "" : "s", p->n_blockers, p->n_blockers == 1 ? "" : "s");
}

static json_t *plan_json(const sg_plan *p)
{
    json_t *maps = json_array();
    for (size_t i = 0; i < p->n_mappings; i++) {
        const sg_plan_mapping *pm = &p->mappings[i];
        json_array_append_new(maps, json_pack("{s:s,s:s,s:I,s:s?,s:o,s:o,s:o,s:o,s:i,s:s?,s:s?}",
                              "from", pm->from, "to", pm->to, "source_rows",
                              (json_int_t)pm->source_rows, "target_ddl",
                              pm->target_ddl, "index_ddl",
                              strv(pm->index_ddl, pm->n_indexes), "sequences",
                              strv(pm->sequences, pm->n_sequences), "numbered",
                              strv(pm->numbered, pm->n_numbered), "foreign_key_ddl",
                              strv(pm->fk_ddl, pm->n_fk_ddl), "reverse_columns",
                              pm->reverse_columns, "roles", pm->roles, "dependents",
                              pm->dependents));
    }
    return json_pack("{s:o,s:o,s:o,s:o,s:I}", "mappings", maps, "warnings",
                     strv(p->warnings, p->n_warnings), "blockers",
                     strv(p->blockers, p->n_blockers), "schema", schema_json(p),
                     "unexpected", (json_int_t)p->n_unexpected);
}

/* The last verify: when, and what it found; differences that persist are
 * what a write that bypassed segue's capture or guard leaves. */
static void print_last_verify(const sg_status *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ago = (long long)now.tv_sec - (long long)(st->verify_at_ms / 1000);
    if (st->verify_differences == 0)
        printf("  last verify      clean, %llds ago\n", ago);
    else
        printf("  last verify      %lld difference%s, %llds ago: source and target "
               "disagree (a write that bypassed segue's capture or guard leaves one); "
               "hint: `segue verify` names the keys, `--repair` re-syncs them\n",
               (long long)st->verify_differences,
               st->verify_differences == 1 ? "" : "s", ago);
}

static json_t *status_json(sg_migration *m, const sg_status *st)
{
    json_t *j = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:f,s:s,s:b,s:s,s:s,s:s,s:I,s:s,s:I,s:I}",
        "migration", sg_migration_name(m), "phase", sg_phase_name(st->phase),
        "backfill_complete", st->backfill_complete, "backfill_rows",
        (json_int_t)st->backfill_rows, "pending_changes",
        (json_int_t)st->pending_changes, "lag_ms", (json_int_t)st->lag_ms,
        "read_pct", st->read_pct, "write_side",
        st->write_side == SG_SIDE_TARGET ? "target" : "source",
        "worker_alive", st->worker_alive, "worker", st->worker,
        "not_copied", st->not_copied, "drift", st->drift, "set_aside", (json_int_t)st->set_aside,
        "set_aside_keys", st->set_aside_keys, "last_verify_at_ms",
        (json_int_t)st->verify_at_ms, "last_verify_differences",
        (json_int_t)st->verify_differences);
    json_object_set_new(j, "backfill_total", json_integer(st->backfill_total));
    json_object_set_new(j, "backfill_rows_per_sec", json_real(st->backfill_rate));
    json_object_set_new(j, "backfill_eta_sec", json_real(st->backfill_eta_sec));
    json_object_set_new(j, "applied", json_integer(st->applied));
    json_object_set_new(j, "heartbeat_lag_ms", st->heartbeat_lag_ms < 0
                                                   ? json_null()
                                                   : json_integer(st->heartbeat_lag_ms));
    json_object_set_new(j, "heartbeat_at_ms", json_integer(st->heartbeat_at_ms));
    json_object_set_new(j, "worker_error", json_string(st->worker_error));
    json_object_set_new(j, "worker_error_at_ms", json_integer(st->worker_error_at_ms));
    json_object_set_new(j, "shadow", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:s,s:s}",
        "window_ms", (json_int_t)st->shadow_window_ms, "compared",
        (json_int_t)st->shadow_compared, "mismatches", (json_int_t)st->shadow_mismatches,
        "pending", (json_int_t)st->shadow_pending, "nondeterministic",
        (json_int_t)st->shadow_nondeterministic, "skipped", (json_int_t)st->shadow_skipped,
        "errors", (json_int_t)st->shadow_errors, "p99_ratio", st->shadow_p99_ratio,
        "worst", st->shadow_worst, "example", st->shadow_example));
    return j;
}

/* "shadow reads     120 compared in 15m: 2 mismatches (1.67%), ..." */
static void shadow_text(const sg_status *st)
{
    if (!st->shadow_compared && !st->shadow_skipped && !st->shadow_errors)
        return;
    printf("  shadow reads     %lld compared in the last %lldm: %lld mismatch%s (%.2f%%), "
           "%lld pending, %lld nondeterministic, %lld skipped, %lld errors; p99 target/source "
           "%.2f\n", (long long)st->shadow_compared,
           (long long)(st->shadow_window_ms / 60000), (long long)st->shadow_mismatches,
           st->shadow_mismatches == 1 ? "" : "es",
           st->shadow_compared ? 100.0 * (double)st->shadow_mismatches /
                                     (double)st->shadow_compared : 0.0,
           (long long)st->shadow_pending, (long long)st->shadow_nondeterministic,
           (long long)st->shadow_skipped, (long long)st->shadow_errors, st->shadow_p99_ratio);
    if (st->shadow_worst[0])
        printf("  worst shapes     %s\n", st->shadow_worst);
    if (st->shadow_example[0])
        printf("  latest example   %s\n", st->shadow_example);
}

/* "not complete, 1200/3503 rows (34.3%), 498 rows/s, ETA 5s" */
static void backfill_text(const sg_status *st, char *out, size_t n)
{
    char total[32] = "?", eta[32], rate[48] = "";
    if (st->backfill_complete) {
        snprintf(out, n, "complete, %lld rows copied", (long long)st->backfill_rows);
        return;
    }
    if (st->backfill_total >= 0)
        snprintf(total, sizeof total, "%lld", (long long)st->backfill_total);
    double pct = st->backfill_total > 0 ? 100.0 * (double)st->backfill_rows /
                                              (double)st->backfill_total : 0;
    cli_fmt_secs(eta, sizeof eta, st->backfill_eta_sec);
    if (st->backfill_rate > 0)
        snprintf(rate, sizeof rate, ", %.0f rows/s, ETA %s", st->backfill_rate, eta);
    snprintf(out, n, "not complete, %lld/%s rows (%.1f%%)%s", (long long)st->backfill_rows,
             total, pct > 100 ? 100 : pct, rate);
}

static void status_text(sg_migration *m, const sg_status *st)
{
    char bf[160];
    backfill_text(st, bf, sizeof bf);
    printf("migration %s\n  phase            %s\n  backfill         %s\n"
           "  pending changes  %lld (lag %lld ms)\n  reads to target  %g%%\n"
           "  writes to        %s\n  worker           %s\n",
           sg_migration_name(m), sg_phase_name(st->phase), bf,
           (long long)st->pending_changes, (long long)st->lag_ms, st->read_pct,
           st->write_side == SG_SIDE_TARGET ? "target" : "source",
           st->worker_alive ? st->worker : "none");
    if (st->heartbeat_lag_ms >= 0)
        printf("  heartbeat lag    %lld ms\n", (long long)st->heartbeat_lag_ms);
    if (st->worker_error[0]) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        printf("  worker error     %llds ago: %s\n", (long long)now.tv_sec -
               (long long)(st->worker_error_at_ms / 1000), st->worker_error);
    }
    if (st->set_aside)
        printf("  set aside        %lld key%s: %s\n", (long long)st->set_aside,
               st->set_aside == 1 ? "" : "s", st->set_aside_keys);
    if (st->verify_at_ms)
        print_last_verify(st);
    shadow_text(st);
    if (st->drift[0])
        printf("  schema drift     %s\n", st->drift);
    if (st->not_copied[0])
        printf("  not copied       %s (columns added since start)\n", st->not_copied);
}

CMD(plan)
{
    sg_migration *m = NULL;
    sg_plan *p = NULL;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_plan(&p, m);
    if (rc)
        code = cli_fail("plan", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(plan_json(p));
    else
        plan_text(p);
    if (!rc && p->n_blockers)
        code = EXIT_STATE;
    else if (!rc && p->n_unexpected && cli_has(c, a, "check"))
        code = EXIT_DIFF;
    sg_plan_free(p);
    sg_migration_close(m);
    return code;
}

CMD(status)
{
    sg_migration *m = NULL;
    sg_status st;
    (void)c;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_status(&st, m);
    if (rc)
        code = cli_fail("status", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(status_json(m, &st));
    else
        status_text(m, &st);
    sg_migration_close(m);
    return code;
}

/* Whether the migration is cleaned up: the target serves everything. */
static bool complete(sg_migration *m)
{
    sg_status st;
    return sg_migration_status(&st, m) == 0 && st.phase == SG_PHASE_CLEANED;
}

/* --context: the attributes a read's context has (cutover.segments). */
typedef struct route_ctx {
    sg_route_attr attrs[16];
    size_t n;
    char text[1024];          /* the option's text, cut at '=' and ',' */
    sg_router *router;        /* reads the segments, when attributes are given */
    sg_route_state st;
    sg_segments *segs;
    const char *vals[16];     /* --row: the row's key values */
    char row_text[1024];
    sg_route_row row;         /* table NULL: no --row */
} route_ctx;

/* --row "TABLE=V1,V2" into ctx; EXIT_USAGE when malformed. */
static int parse_row(route_ctx *ctx, const char *opt)
{
    snprintf(ctx->row_text, sizeof ctx->row_text, "%s", opt);
    char *eq = strchr(ctx->row_text, '=');
    if (!eq || eq == ctx->row_text) {
        fprintf(stderr, "segue route: --row takes TABLE=KEY[,KEY...] (the source table "
                "and the row's key values), not \"%s\"\n", opt);
        return EXIT_USAGE;
    }
    *eq = '\0';
    ctx->row.table = ctx->row_text;
    for (char *save = NULL, *p = strtok_r(eq + 1, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        if (ctx->row.n_key == sizeof ctx->vals / sizeof ctx->vals[0]) {
            fprintf(stderr, "segue route: --row has more than 16 key values\n");
            return EXIT_USAGE;
        }
        ctx->vals[ctx->row.n_key++] = p;
    }
    ctx->row.key = ctx->vals;
    return 0;
}

/* "name=value,name=value" into ctx; EXIT_USAGE when malformed. */
static int parse_context(route_ctx *ctx, const char *opt)
{
    snprintf(ctx->text, sizeof ctx->text, "%s", opt);
    for (char *save = NULL, *p = strtok_r(ctx->text, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '=');
        if (!eq || eq == p || ctx->n == sizeof ctx->attrs / sizeof ctx->attrs[0]) {
            fprintf(stderr, "segue route: --context takes NAME=VALUE pairs separated by "
                    "commas (at most 16), not \"%s\"\n", opt);
            return EXIT_USAGE;
        }
        *eq = '\0';
        ctx->attrs[ctx->n++] = (sg_route_attr){ p, eq + 1 };
    }
    return 0;
}

/* The routing and segments the C API's router applies now. */
static int context_open(route_ctx *ctx, sg_migration *m)
{
    int rc = sg_router_open_migration(&ctx->router, m);
    if (!rc)
        rc = sg_router_state(&ctx->st, ctx->router);
    if (!rc)
        rc = sg_router_segments(&ctx->segs, ctx->router);
    return rc ? cli_fail("route", rc, sg_router_errmsg(ctx->router)) : 0;
}

/* One key's routing, printed as `route` prints it. */
static int route_one(sg_migration *m, const cli_args *a, const char *key, bool done,
                     const route_ctx *ctx)
{
    int rs, ws;
    uint32_t bucket;
    int rc = sg_migration_route(&rs, &ws, &bucket, m, key, strlen(key));
    if (rc)
        return cli_fail("route", rc, sg_migration_errmsg(m));
    const char *seg = ctx->router ? sg_route_segment(&ctx->st, ctx->segs, ctx->attrs,
                                                     ctx->n, &rs) : NULL;
    int routed = rs;
    if (ctx->row.table &&
        (rc = sg_router_read_side_row(&rs, ctx->router, key, strlen(key), ctx->attrs,
                                      ctx->n, &ctx->row)) != 0)
        return cli_fail("route", rc, sg_router_errmsg(ctx->router));
    bool pending = routed != rs; /* the row's change is not on the target yet */
    if (a->json)
        cli_print_json(json_pack("{s:s,s:i,s:s?,s:s,s:s,s:b,s:s?,s:b}", "key", key,
                                 "bucket", (int)bucket, "salt",
                                 ctx->router && ctx->st.known ? ctx->st.salt : NULL,
                                 "read", rs ? "target" : "source",
                                 "write", ws ? "target" : "source", "complete", done,
                                 "segment", seg, "row_pending", pending));
    else
        printf("key %s (bucket %u%s%s): read from %s%s, write to %s%s\n", key, bucket,
               seg ? ", segment " : "", seg ? seg : "", rs ? "target" : "source",
               pending ? " (the row has a change not yet on the target)" : "",
               ws ? "target" : "source", done ? " (the migration is complete)" : "");
    return 0;
}

/* Each line of FILE ("-": stdin) as a key. */
static int route_file(sg_migration *m, const cli_args *a, const char *file, bool done,
                      const route_ctx *ctx)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f) {
        fprintf(stderr, "segue route: --keys %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int code = 0;
    while (!code && (n = getline(&line, &cap, f)) >= 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        code = route_one(m, a, line, done, ctx);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return code;
}

CMD(route)
{
    sg_migration *m = NULL;
    const char *keys = cli_get(c, a, "keys");
    if ((a->n_pos != 1) == !keys) {
        fprintf(stderr, "segue route: give one routing key, or --keys FILE: segue route "
                "SPEC KEY\n");
        return EXIT_USAGE;
    }
    route_ctx ctx = { .n = 0 };
    const char *context = cli_get(c, a, "context"), *row = cli_get(c, a, "row");
    int code = context ? parse_context(&ctx, context) : 0;
    if (!code && row)
        code = parse_row(&ctx, row);
    if (!code)
        code = cli_open(a, &m);
    if (code)
        return code;
    bool done = complete(m);
    if (context || row || a->json) /* (--json shows the salt: docs/routing.md) */
        code = context_open(&ctx, m);
    if (!code)
        code = keys ? route_file(m, a, keys, done, &ctx)
                    : route_one(m, a, a->pos[0], done, &ctx);
    sg_segments_free(ctx.segs);
    sg_router_close(ctx.router);
    sg_migration_close(m);
    return code;
}
