/* Shadow reads (segue/shadow.h): one query run on both sides, each row
 * reduced to the digest of its canonical encoding, the two results
 * compared as multisets (sorted digests) and, under an ORDER BY, as
 * sequences. A difference is classified before it is called a mismatch:
 * the source run again (nondeterminism), then the changelogs (pending). */
#include <segue/shadow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/clock.h"
#include "check/shadow_int.h"
#include "check/shadow_view.h"
#include "check/sqlparse.h"
#include "internal.h"
#include "move/apply.h"
#include "plan/mapping.h"
#include "state/control.h"

/* Rows of one side shown in a mismatch. */
#define SHOWN_ROWS 3
/* A difference is checked again this many times once the changes captured
 * before it are applied, waiting for them at most RECHECK_WAIT_MS each
 * time, looking every RECHECK_POLL_MS. */
#define RECHECKS 3
#define RECHECK_WAIT_MS 2000
#define RECHECK_POLL_MS 10

typedef struct side {
    sg_digest *seq;     /* in the order the rows came */
    sg_digest *sorted;
    size_t n, cap;
    int64_t us;
    bool too_many;
} side;

static sg_digest row_digest(sg_buf *scratch, const sg_value *v, size_t n)
{
    sg_buf_reset(scratch);
    sg_row_encode(scratch, v, n);
    XXH128_hash_t x = XXH3_128bits(scratch->data, scratch->len);
    return (sg_digest){ x.high64, x.low64 };
}

static int digest_cmp(const void *a, const void *b)
{
    const sg_digest *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool digest_eq(sg_digest a, sg_digest b)
{
    return a.hi == b.hi && a.lo == b.lo;
}

static void side_free(side *s)
{
    free(s->seq);
    free(s->sorted);
    memset(s, 0, sizeof *s);
}

static int push_digest(side *s, sg_digest d)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sg_digest *p = realloc(s->seq, cap * sizeof *p);
        if (!p)
            return -1;
        s->seq = p;
        s->cap = cap;
    }
    s->seq[s->n++] = d;
    return 0;
}

/* A row whose digest is in `want` (sorted, n_want), as the engine gave it
 * (`row`, formatted), appended to `shown` while fewer than SHOWN_ROWS are. */
static void show_row(sg_buf *shown, int *n_shown, const sg_digest *want, size_t n_want,
                     sg_digest d, const sg_buf *row)
{
    if (*n_shown >= SHOWN_ROWS || !bsearch(&d, want, n_want, sizeof d, digest_cmp))
        return;
    sg_buf_puts(shown, (*n_shown)++ ? ", " : "");
    sg_buf_puts(shown, sg_buf_str(row));
}

/* Runs statement `kept` (reset after), or `sql` once, on a read-only
 * session c into out's digests (or, with `want`, renders rows whose
 * digests it holds). 0, or the statement's error (SG_EDB) in err. */
static int run_side(sg_conn *c, sg_stmt *kept, const char *sql, size_t n_params,
                    const char *const *params, bool loose, side *out, const sg_digest *want,
                    size_t n_want, sg_buf *shown, sg_err *err)
{
    sg_stmt *s = kept;
    sg_buf scratch = SG_BUF_INIT, conv = SG_BUF_INIT, row = SG_BUF_INIT;
    sg_value v[SG_MAX_COLS];
    int n_shown = 0, rc = 0;
    int64_t t0 = sg_mono_us();
    if (!kept && (rc = sg_db_prepare_once(c, sql, &s, err)) != 0)
        goto done;
    for (size_t i = 0; i < n_params && !rc; i++)
        rc = sg_db_bind_text(s, (int)i + 1, params[i], err);
    while (!rc && (rc = sg_db_step(s, err)) == 1) {
        /* known once the statement ran (PostgreSQL) */
        int cols = sg_db_column_count(s);
        if (cols > SG_MAX_COLS) {
            rc = sg_err_set(err, SG_EDB, "%d result columns, at most %d compared", cols,
                            SG_MAX_COLS);
            break;
        }
        rc = 0;
        for (int i = 0; i < cols; i++)
            sg_db_column(s, i, &v[i]);
        if (want) { /* shown as this engine gave it */
            sg_buf_reset(&row);
            sg_key_format(&row, v, (size_t)cols);
        }
        if (loose && sg_row_portable(v, (size_t)cols, &conv)) {
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
            break;
        }
        sg_digest d = row_digest(&scratch, v, (size_t)cols);
        if (want) {
            show_row(shown, &n_shown, want, n_want, d, &row);
        } else if (out->n >= SG_SHADOW_MAX_ROWS) {
            out->too_many = true;
            break;
        } else if (push_digest(out, d)) {
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        }
    }
    rc = rc == 1 ? 0 : rc;
    if (!rc && out) {
        out->us = sg_mono_us() - t0;
        if (out->n && !(out->sorted = malloc(out->n * sizeof *out->sorted)))
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
        else if (out->n) {
            memcpy(out->sorted, out->seq, out->n * sizeof *out->sorted);
            qsort(out->sorted, out->n, sizeof *out->sorted, digest_cmp);
        }
    }
done:
    if (kept)
        sg_db_reset(kept);
    else
        sg_db_finalize(s);
    sg_buf_free(&scratch);
    sg_buf_free(&conv);
    sg_buf_free(&row);
    return rc;
}

static bool same_multiset(const side *a, const side *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!digest_eq(a->sorted[i], b->sorted[i]))
            return false;
    return true;
}

static bool same_sequence(const side *a, const side *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (!digest_eq(a->seq[i], b->seq[i]))
            return false;
    return true;
}

/* The digests a has that b lacks (multisets, both sorted) into *out. */
static int difference(const side *a, const side *b, sg_digest **out, size_t *n)
{
    *n = 0;
    *out = malloc((a->n ? a->n : 1) * sizeof **out);
    if (!*out)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && digest_cmp(&b->sorted[j], &a->sorted[i]) < 0)
            j++;
        if (j < b->n && digest_eq(b->sorted[j], a->sorted[i]))
            j++;
        else
            (*out)[(*n)++] = a->sorted[i];
    }
    return 0;
}

static int set_detail(sg_shadow_result *r, const char *text)
{
    free(r->detail);
    r->detail = strdup(text);
    return r->detail ? 0 : SG_ENOMEM;
}

typedef struct shadow_run {
    sg_migration *m;
    sg_shadow_sessions *ses;
    const char *sql, *tsql;
    long map;               /* the kept statements of this mapping; -1 none */
    bool loose;             /* two engines: values in their portable form */
    size_t n_params;
    const char *const *params;
    side src, tgt;
} shadow_run;

/* Runs one side in its read-only session (a new one if the server went
 * away), as it is: the session makes every statement a read-only
 * transaction. 0, or the side's error in err. */
static int one_side(shadow_run *r, bool source, side *out, const sg_digest *want,
                    size_t n_want, sg_buf *shown, sg_err *err)
{
    const char *sql = source ? r->sql : r->tsql;
    sg_stmt *kept = NULL;
    int rc = sg_shadow_session_check(r->ses, source, err);
    if (!rc && r->map >= 0)
        rc = sg_shadow_slot(r->ses, SG_SHADOW_SLOT((size_t)r->map, source), sql, &kept, err);
    if (!rc)
        rc = run_side(sg_shadow_session(r->ses, source), kept, sql, r->n_params, r->params,
                      r->loose, out, want, n_want, shown, err);
    return rc;
}

/* The rows only one side has, up to SHOWN_ROWS each, into r->detail. */
static int show_mismatch(shadow_run *run, sg_shadow_result *r)
{
    sg_digest *only_src = NULL, *only_tgt = NULL;
    size_t n_src = 0, n_tgt = 0;
    sg_buf a = SG_BUF_INIT, b = SG_BUF_INIT, d = SG_BUF_INIT;
    sg_err ignored;
    int rc = difference(&run->src, &run->tgt, &only_src, &n_src) ||
             difference(&run->tgt, &run->src, &only_tgt, &n_tgt) ? SG_ENOMEM : 0;
    if (!rc) {
        one_side(run, true, NULL, only_src, n_src, &a, &ignored);
        one_side(run, false, NULL, only_tgt, n_tgt, &b, &ignored);
        sg_buf_printf(&d, "%zu rows only the source returns%s%s; %zu only the target "
                      "returns%s%s", n_src, n_src ? ": " : "", sg_buf_str(&a), n_tgt,
                      n_tgt ? ": " : "", sg_buf_str(&b));
        rc = sg_buf_failed(&d) ? SG_ENOMEM : set_detail(r, sg_buf_str(&d));
    }
    free(only_src);
    free(only_tgt);
    sg_buf_free(&a);
    sg_buf_free(&b);
    sg_buf_free(&d);
    return rc;
}

/* Both sides run, the source first, into a and b: *failed
 * SG_SHADOW_MATCH, or a side's error kind in *failed and its message in
 * side_err. */
static void run_both(shadow_run *run, side *a, side *b, sg_shadow_kind *failed,
                     sg_err *side_err)
{
    *failed = SG_SHADOW_MATCH;
    if (one_side(run, true, a, NULL, 0, NULL, side_err))
        *failed = SG_SHADOW_SOURCE_ERROR;
    else if (one_side(run, false, b, NULL, 0, NULL, side_err))
        *failed = SG_SHADOW_TARGET_ERROR;
}

/* The changelog of the side taking writes: entries waiting, and the
 * capture times of the oldest and newest (newest may be NULL). */
static int changelog_span(sg_migration *m, int64_t *pending, int64_t *oldest, int64_t *newest)
{
    sg_phase ph = SG_PHASE_PLANNED;
    int rc = sg_control_phase(m, &ph);
    *pending = *oldest = 0;
    if (newest)
        *newest = 0;
    if (!rc && ph != SG_PHASE_CLEANED)
        rc = sg_apply_span(m, ph >= SG_PHASE_WRITES_SWITCHED ? SG_REVERSE : SG_FORWARD,
                           pending, oldest, newest);
    return rc;
}

static int changes_pending(sg_migration *m, int64_t *pending)
{
    int64_t oldest;
    return changelog_span(m, pending, &oldest, NULL);
}

/* Waits until every change captured by now is applied (changes captured
 * later do not hold the re-check up), up to RECHECK_WAIT_MS; *waiting
 * whether some still wait. Once a wait ran out, a difference within
 * RECHECK_WAIT_MS does not wait again (no worker applies: every read would
 * wait in vain). */
static int wait_applied(sg_migration *m, bool *waiting)
{
    int64_t pending = 0, oldest = 0, newest = 0, until = sg_mono_ms() + RECHECK_WAIT_MS;
    int rc = changelog_span(m, &pending, &oldest, &newest);
    *waiting = !rc && pending > 0;
    if (*waiting && sg_mono_ms() < m->shadow_no_wait_until_ms)
        return 0;
    while (!rc && *waiting && sg_mono_ms() < until) {
        sg_sleep_ms(RECHECK_POLL_MS);
        rc = changelog_span(m, &pending, &oldest, NULL);
        *waiting = !rc && pending > 0 && oldest <= newest;
    }
    if (*waiting)
        m->shadow_no_wait_until_ms = sg_mono_ms() + RECHECK_WAIT_MS;
    return rc;
}

static int classified(shadow_run *run, sg_shadow_result *r, sg_shadow_kind k, const char *why)
{
    r->kind = k;
    return k == SG_SHADOW_NONDETERMINISTIC ? set_detail(r, why) : show_mismatch(run, r);
}

/* Rows differ. Nondeterministic when the source, run again at once,
 * disagrees with itself while the changelog stood still; else re-checked
 * once the changes captured until then are applied: a match then was
 * changes in flight (pending); the same difference again, rows unchanged on both
 * sides, a mismatch; rows still moving after RECHECKS tries, or changes
 * not applied within RECHECK_WAIT_MS (no worker), pending. */
static int classify(shadow_run *run, sg_shadow_result *r, sg_err *err)
{
    sg_migration *m = run->m;
    side again = { 0 }, s2 = { 0 }, t2 = { 0 };
    sg_shadow_kind failed = SG_SHADOW_MATCH;
    sg_err side_err = { 0 };
    int64_t pending = 0, before = 0;
    int rc = changes_pending(m, &before);
    if (!rc)
        rc = one_side(run, true, &again, NULL, 0, NULL, err);
    bool stable = !rc && same_multiset(&run->src, &again);
    side_free(&again);
    /* a change captured meanwhile: the source may have moved under us */
    if (!rc && !stable && !(rc = changes_pending(m, &pending)))
        rc = classified(run, r, pending != before ? SG_SHADOW_PENDING
                                                  : SG_SHADOW_NONDETERMINISTIC,
                        "the source returned other rows when run again");
    for (int i = 0; !rc && stable && i < RECHECKS; i++) {
        bool waiting = false;
        if ((rc = wait_applied(m, &waiting)) != 0 || waiting)
            return rc ? rc : classified(run, r, SG_SHADOW_PENDING, NULL);
        run_both(run, &s2, &t2, &failed, &side_err);
        if (failed != SG_SHADOW_MATCH) {
            r->kind = failed;
            rc = set_detail(r, side_err.msg);
            break;
        }
        if (same_multiset(&s2, &t2)) {
            r->kind = SG_SHADOW_PENDING;
            rc = set_detail(r, "matched once the changes in flight were applied");
            break;
        }
        bool same = same_multiset(&s2, &run->src) && same_multiset(&t2, &run->tgt);
        side_free(&run->src);
        side_free(&run->tgt);
        run->src = s2;
        run->tgt = t2;
        memset(&s2, 0, sizeof s2);
        memset(&t2, 0, sizeof t2);
        if (same)
            return classified(run, r, SG_SHADOW_MISMATCH, NULL);
        if (i == RECHECKS - 1)
            rc = classified(run, r, SG_SHADOW_PENDING, NULL);
    }
    side_free(&s2);
    side_free(&t2);
    return rc;
}

/* Both sides run: into r's kind, counts and times. */
static int compare(shadow_run *run, bool ordered, sg_shadow_result *r)
{
    sg_migration *m = run->m;
    sg_err side_err = { 0 };
    sg_shadow_kind failed = SG_SHADOW_MATCH;
    run_both(run, &run->src, &run->tgt, &failed, &side_err);
    if (failed != SG_SHADOW_MATCH) {
        r->kind = failed;
        return set_detail(r, side_err.msg);
    }
    if (run->src.too_many || run->tgt.too_many) {
        r->kind = SG_SHADOW_SKIPPED;
        return set_detail(r, "returns more rows than a shadow read compares");
    }
    r->source_rows = (int64_t)run->src.n;
    r->target_rows = (int64_t)run->tgt.n;
    r->source_us = run->src.us;
    r->target_us = run->tgt.us;
    if (same_multiset(&run->src, &run->tgt)) {
        r->kind = !ordered || same_sequence(&run->src, &run->tgt) ? SG_SHADOW_MATCH
                                                                  : SG_SHADOW_ORDER_ONLY;
        return 0;
    }
    return classify(run, r, &m->err);
}

int sg_shadow_sql(sg_shadow_result *out, sg_migration *m, const char *sql, size_t n_params,
                  const char *const *params)
{
    if (!out || !m || !sql || (n_params && !params))
        return m ? sg_err_set(&m->err, SG_EINVAL, "sg_shadow_sql: a NULL argument") : SG_EINVAL;
    memset(out, 0, sizeof *out);
    sg_err_clear(&m->err);
    const sg_sqlparse *q = NULL;
    sg_err perr = { 0 };
    sg_buf ssql = SG_BUF_INIT, tsql = SG_BUF_INIT;
    char why[SG_ERRMSG_MAX + 32];
    shadow_run run = { m, NULL, sql, NULL, -1, sg_typemap_crossing(m), n_params, params,
                       { 0 }, { 0 } };
    int rc = sg_shadow_sessions_get(m, &run.ses);
    if (rc)
        return rc;
    int v = 0;
    rc = sg_sqlparse_cached(sg_shadow_parse_cache(run.ses), sql, &q, &perr);
    if (rc == SG_EINVAL) {
        out->kind = SG_SHADOW_SKIPPED;
        snprintf(why, sizeof why, "does not parse: %s", perr.msg);
        rc = set_detail(out, why);
        goto done;
    }
    if (rc)
        goto done;
    memcpy(out->fingerprint, q->fingerprint, sizeof out->fingerprint);
    if (!q->read_only) {
        out->kind = SG_SHADOW_SKIPPED;
        rc = set_detail(out, q->why ? q->why : "not a read");
        goto done;
    }
    if (q->n_params > (int)n_params) {
        out->kind = SG_SHADOW_SKIPPED;
        snprintf(why, sizeof why, "takes $%d; %zu parameters given", q->n_params, n_params);
        rc = set_detail(out, why);
        goto done;
    }
    if ((v = sg_shadow_view(m, sql, q, &ssql, &tsql, why, sizeof why)) != 0) {
        out->kind = SG_SHADOW_SKIPPED;
        rc = v < 0 ? SG_ENOMEM : set_detail(out, why);
        goto done;
    }
    run.sql = sg_buf_str(&ssql);
    run.tsql = sg_buf_str(&tsql);
    rc = compare(&run, q->ordered, out);
done:
    if (rc == SG_ENOMEM)
        sg_err_set(&m->err, SG_ENOMEM, "shadow read: out of memory");
    side_free(&run.src);
    side_free(&run.tgt);
    sg_buf_free(&ssql);
    sg_buf_free(&tsql);
    return rc;
}

/* sg_shadow_compare with the kept statements of mapping `map` (-1: none). */
static int compare_sql(sg_migration *m, long map, const char *src_sql, const char *tgt_sql,
                       size_t n_params, const char *const *params, bool ordered,
                       sg_shadow_result *out)
{
    shadow_run run = { m, NULL, src_sql, tgt_sql, map, sg_typemap_crossing(m), n_params, params,
                       { 0 }, { 0 } };
    int rc = sg_shadow_sessions_get(m, &run.ses);
    if (!rc)
        rc = compare(&run, ordered, out);
    if (rc == SG_ENOMEM)
        sg_err_set(&m->err, SG_ENOMEM, "shadow read: out of memory");
    side_free(&run.src);
    side_free(&run.tgt);
    return rc;
}

int sg_shadow_compare(sg_migration *m, const char *src_sql, const char *tgt_sql,
                      size_t n_params, const char *const *params, bool ordered,
                      sg_shadow_result *out)
{
    return compare_sql(m, -1, src_sql, tgt_sql, n_params, params, ordered, out);
}

int sg_shadow_compare_kept(sg_migration *m, size_t map, const char *src_sql,
                           const char *tgt_sql, size_t n_params, const char *const *params,
                           sg_shadow_result *out)
{
    return compare_sql(m, (long)map, src_sql, tgt_sql, n_params, params, false, out);
}

void sg_shadow_result_clear(sg_shadow_result *r)
{
    if (!r)
        return;
    free(r->detail);
    memset(r, 0, sizeof *r);
}

const char *sg_shadow_kind_name(sg_shadow_kind k)
{
    static const char *const names[SG_SHADOW_KINDS] = {
        "match", "mismatch", "order_only", "pending", "nondeterministic", "skipped",
        "source_error", "target_error"
    };
    return (unsigned)k < SG_SHADOW_KINDS ? names[k] : "unknown";
}
