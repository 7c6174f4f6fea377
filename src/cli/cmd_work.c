/* Commands that do long work: backfill, run, verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"

static void end_progress_line(void)
{
    if (isatty(STDERR_FILENO))
        fputc('\n', stderr);
}

CMD(backfill)
{
    sg_migration *m = NULL;
    sg_backfill_options o = SG_BACKFILL_OPTIONS_INIT;
    long long max_chunks;
    cli_reporter rep;
    int code = cli_parse_count("backfill", "max-chunks", cli_get(c, a, "max-chunks"),
                           &max_chunks);
    if (!code)
        code = cli_reporter_from(&rep, c, a);
    if (code || (code = cli_open(a, &m)) != 0)
        return code;
    rep.name = sg_migration_name(m);
    o.progress = cli_progress;
    o.progress_ud = &rep;
    o.stop = &cli_stop;
    o.max_chunks = max_chunks;
    int rc = sg_backfill_run(m, &o);
    end_progress_line();
    sg_status st;
    if (!rc && (rc = sg_migration_status(&st, m)) == 0) {
        if (a->json)
            cli_print_json(json_pack("{s:b,s:s,s:b,s:I,s:I,s:s}", "ok", 1, "phase",
                                     sg_phase_name(st.phase), "backfill_complete",
                                     st.backfill_complete, "backfill_rows",
                                     (json_int_t)st.backfill_rows, "set_aside",
                                     (json_int_t)st.set_aside, "set_aside_keys",
                                     st.set_aside_keys));
        else
            printf("%s: backfill %s, %lld rows copied (phase %s)\n",
                   sg_migration_name(m), st.backfill_complete ? "complete" : "paused",
                   (long long)st.backfill_rows, sg_phase_name(st.phase));
        if (st.set_aside)
            fprintf(stderr, "segue backfill: warning: %lld key%s set aside, which the "
                    "target refused: %s; hint: fix the rows, then `segue retry`; the "
                    "cutover waits until none is left\n", (long long)st.set_aside,
                    st.set_aside == 1 ? " is" : "s are", st.set_aside_keys);
    }
    if (rc)
        code = cli_fail("backfill", rc, sg_migration_errmsg(m));
    sg_migration_close(m);
    return code;
}

CMD(run)
{
    sg_migration *m = NULL;
    sg_worker_options o = SG_WORKER_OPTIONS_INIT;
    const char *until = cli_get(c, a, "until");
    if (until && strcmp(until, "caught-up")) {
        fprintf(stderr, "segue run: --until '%s' is not known; hint: --until caught-up\n",
                until);
        return EXIT_USAGE;
    }
    cli_reporter rep;
    int code = cli_reporter_from(&rep, c, a);
    if (code || (code = cli_open(a, &m)) != 0)
        return code;
    rep.name = sg_migration_name(m);
    o.until_caught_up = until != NULL;
    o.wait_for_lease = cli_has(c, a, "wait");
    o.progress = cli_progress;
    o.progress_ud = &rep;
    o.stop = &cli_stop;
    http_server *srv = NULL; /* --http: segue serve in this process */
    const char *specs[1] = { a->spec };
    if (cli_get(c, a, "http") &&
        (code = cli_http_start(&srv, "run", cli_get(c, a, "http"),
                               cli_get(c, a, "token-file"), specs, 1)) != 0) {
        sg_migration_close(m);
        return code;
    }
    int rc = sg_worker_run(m, &o);
    end_progress_line();
    http_stop(srv);
    if (rc == SG_ESTOPPED && !o.until_caught_up)
        rc = 0; /* a signal is how a long-lived worker is meant to end */
    if (rc)
        code = cli_fail("run", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(json_pack("{s:b}", "ok", 1));
    else
        printf("%s: worker stopped%s\n", sg_migration_name(m),
               o.until_caught_up ? " (caught up)" : "");
    sg_migration_close(m);
    return code;
}

static const char *kind_name(sg_diff_kind k)
{
    return k == SG_DIFF_MISSING ? "missing" : k == SG_DIFF_EXTRA ? "extra" : "different";
}

/* The differing keys, with data-diff's - and + rows per column. */
static void verify_diffs_print(const sg_verify_report *r)
{
    for (size_t i = 0; i < r->n_diffs; i++) {
        const sg_diff *d = &r->diffs[i];
        printf("%s %s: %s\n", d->mapping, d->key, kind_name(d->kind));
        for (size_t k = 0; k < d->n_columns; k++)
            printf("  - %s = %s\n  + %s = %s\n", d->columns[k].name, d->columns[k].source,
                   d->columns[k].name, d->columns[k].target);
    }
    if ((int64_t)r->n_diffs < r->differences)
        printf("... and %lld more differing keys (--max-keys N lists more, "
               "--json too)\n", (long long)(r->differences - (int64_t)r->n_diffs));
}

static void verify_print(const sg_verify_report *r, bool json, bool sample)
{
    if (json) {
        json_t *d = json_array();
        for (size_t i = 0; i < r->n_diffs; i++) {
            json_t *cols = json_array();
            for (size_t k = 0; k < r->diffs[i].n_columns; k++)
                json_array_append_new(cols, json_pack("{s:s,s:s,s:s}", "column",
                                      r->diffs[i].columns[k].name, "source",
                                      r->diffs[i].columns[k].source, "target",
                                      r->diffs[i].columns[k].target));
            json_array_append_new(d, json_pack("{s:s,s:s,s:s,s:o}", "mapping",
                                  r->diffs[i].mapping, "key", r->diffs[i].key,
                                  "kind", kind_name(r->diffs[i].kind), "columns", cols));
        }
        cli_print_json(json_pack("{s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:o}", "sample",
                       sample, "clean",
                       r->differences == 0, "difference_count",
                       (json_int_t)r->differences, "source_rows", (json_int_t)r->source_rows,
                       "target_rows", (json_int_t)r->target_rows, "chunks",
                       (json_int_t)r->chunks, "chunks_in_engine",
                       (json_int_t)r->chunks_in_engine, "chunks_differing",
                       (json_int_t)r->chunks_differing, "rechecked",
                       (json_int_t)r->rechecked, "repaired", (json_int_t)r->repaired,
                       "elapsed_ms", r->elapsed_ms, "differences", d));
        return;
    }
    if (sample) {
        verify_diffs_print(r);
        printf("verify --sample: %lld keys found in the source, %lld in the target, "
               "compared field by field, %lld re-checked, %lld repaired: %zu difference%s "
               "(%.0f ms; the other keys were not compared: a full `segue verify` proves "
               "them)\n", (long long)r->source_rows, (long long)r->target_rows,
               (long long)r->rechecked, (long long)r->repaired, (size_t)r->differences,
               r->differences == 1 ? "" : "s", r->elapsed_ms);
        return;
    }
    verify_diffs_print(r);
    printf("verify: %lld source rows, %lld target rows, %lld chunks (%lld summed "
           "in-engine, %lld differed at first), %lld keys re-checked, %lld repaired: %zu "
           "difference%s (%.0f ms)\n", (long long)r->source_rows,
           (long long)r->target_rows, (long long)r->chunks,
           (long long)r->chunks_in_engine, (long long)r->chunks_differing, (long long)r->rechecked,
           (long long)r->repaired, (size_t)r->differences,
           r->differences == 1 ? "" : "s",
           r->elapsed_ms);
}

CMD(verify)
{
    sg_migration *m = NULL;
    sg_verify_options o = SG_VERIFY_OPTIONS_INIT;
    sg_verify_report *r = NULL;
    long long chunk, max_keys, cap, sample;
    int code = cli_parse_count("verify", "chunk-rows", cli_get(c, a, "chunk-rows"), &chunk);
    cli_reporter rep;
    if (!code)
        code = cli_parse_count("verify", "max-keys", cli_get(c, a, "max-keys"), &max_keys);
    if (!code)
        code = cli_parse_count("verify", "max-rows-per-second",
                               cli_get(c, a, "max-rows-per-second"), &cap);
    if (!code)
        code = cli_parse_count("verify", "sample", cli_get(c, a, "sample"), &sample);
    if (!code)
        code = cli_reporter_from(&rep, c, a);
    if (code || (code = cli_open(a, &m)) != 0)
        return code;
    rep.name = sg_migration_name(m);
    o.progress_ud = &rep;
    o.repair = cli_has(c, a, "repair");
    o.chunk_rows = chunk;
    o.max_keys = max_keys;
    o.max_rows_per_second = cap;
    o.sample = sample;
    o.progress = cli_progress;
    o.stop = &cli_stop;
    int rc = sg_verify_run(&r, m, &o);
    end_progress_line();
    if (r && (rc == 0 || rc == SG_EDIFF))
        verify_print(r, a->json, sample > 0);
    if (rc)
        code = cli_fail("verify", rc, sg_migration_errmsg(m));
    sg_verify_report_free(r);
    sg_migration_close(m);
    return code;
}

CMD(retry)
{
    sg_migration *m = NULL;
    int64_t n = 0;
    (void)c;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_retry(&n, m);
    if (rc)
        code = cli_fail("retry", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(json_pack("{s:b,s:I}", "ok", 1, "keys", (json_int_t)n));
    else
        printf("%s: %lld set-aside key%s back in the changelog; the worker applies "
               "%s\n", sg_migration_name(m), (long long)n, n == 1 ? "" : "s",
               n == 1 ? "it" : "them");
    sg_migration_close(m);
    return code;
}
