/* Verify: prove target == mapping(source). Per key-range chunk, both sides
 * are hashed (XXH3-128 over the canonical row encoding, in key order); a
 * chunk whose digests or counts differ is compared row by row (order
 * independent: rows are matched by encoded key); each differing key is then
 * re-checked after pending changes are applied, so only persistent
 * differences are reported. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "move/apply.h"
#include "move/capture.h"
#include "switch/cutover.h"
#include "state/control.h"
#include "check/checksum.h"
#include "check/consistency.h"
#include "check/drift.h"
#include "state/phase.h"
#include "state/lease.h"
#include "move/tx.h"

#define RECHECK_ROUNDS 6
/* chunk_rows times this per range where the engines sum the rows; a range
 * whose sums differ is compared again chunk by chunk (descend) */
#define SG_VERIFY_ENGINE_CHUNKS 50

typedef struct cand {
    size_t map;
    sg_row key;
    sg_diff_kind kind;
} cand;

typedef struct cands {
    size_t n, cap;
    cand *v;
} cands;

typedef struct keyed {
    sg_buf key;        /* encoded key */
    sg_row key_row;
    sg_digest row;     /* digest of the whole row */
} keyed;

static int cands_add(cands *c, size_t map, const sg_row *key, sg_diff_kind kind)
{
    if (c->n == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 64;
        cand *p = realloc(c->v, n * sizeof *p);
        if (!p)
            return -1;
        c->v = p;
        c->cap = n;
    }
    c->v[c->n].map = map;
    c->v[c->n].kind = kind;
    if (sg_row_copy(&c->v[c->n].key, key->v, key->n))
        return -1;
    c->n++;
    return 0;
}

static void cands_free(cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        sg_row_free(&c->v[i].key);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.data, y->key.data, n);
    return c ? c : (x->key.len < y->key.len ? -1 : x->key.len > y->key.len);
}

static void keyed_free(keyed *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sg_buf_free(&k[i].key);
        sg_row_free(&k[i].key_row);
    }
    free(k);
}

/* Loads one side of a range as (key, row digest) sorted by encoded key. */
static int load_side(sg_err *e, sg_flow *f, bool to_side, const sg_row *lo,
                     const sg_row *hi, sg_hasher *h, sg_buf *scratch, keyed **out,
                     size_t *n)
{
    sg_stmt *s = NULL;
    sg_value v[SG_MAX_COLS], kv[SG_MAX_KEY];
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = sg_flow_scan(f, to_side, lo, hi, &s, e);
    while (!rc && (rc = sg_db_step(s, e)) == 1) {
        rc = 0;
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            keyed *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                rc = sg_err_set(e, SG_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        keyed *k = &(*out)[*n];
        memset(k, 0, sizeof *k);
        sg_buf_init(&k->key);
        if ((rc = sg_flow_values(f, s, v, false, e)) != 0)
            break;
        for (size_t i = 0; i < f->n_key; i++)
            kv[i] = v[f->key_pos[i]];
        sg_row_encode(&k->key, kv, f->n_key);
        sg_hasher_reset(h);
        sg_hasher_row(h, scratch, v, f->n_cols);
        k->row = sg_hasher_digest(h);
        (*n)++;
        if (sg_buf_failed(&k->key) || sg_row_copy(&k->key_row, kv, f->n_key))
            rc = sg_err_set(e, SG_ENOMEM, "out of memory");
    }
    sg_db_finalize(s);
    if (!rc)
        qsort(*out, *n, sizeof **out, cmp_keyed);
    return rc;
}

/* Row-by-row comparison of one range; adds the differing keys. */
static int diff_range(sg_migration *m, size_t map, const sg_row *lo,
                      const sg_row *hi, sg_hasher *h, sg_buf *scratch, cands *out)
{
    sg_flow *f = &m->maps[map].fwd;
    keyed *a = NULL, *b = NULL;
    size_t na = 0, nb = 0, i = 0, j = 0;
    int rc = load_side(&m->err, f, false, lo, hi, h, scratch, &a, &na);
    if (!rc)
        rc = load_side(&m->err, f, true, lo, hi, h, scratch, &b, &nb);
    while (!rc && (i < na || j < nb)) {
        int c = i == na ? 1 : j == nb ? -1 : cmp_keyed(&a[i], &b[j]);
        if (c < 0)
            rc = cands_add(out, map, &a[i++].key_row, SG_DIFF_MISSING);
        else if (c > 0)
            rc = cands_add(out, map, &b[j++].key_row, SG_DIFF_EXTRA);
        else {
            if (memcmp(&a[i].row, &b[j].row, sizeof a[i].row))
                rc = cands_add(out, map, &a[i].key_row, SG_DIFF_CHANGED);
            i++;
            j++;
        }
        if (rc > 0 || rc == -1)
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    keyed_free(a, na);
    keyed_free(b, nb);
    return rc;
}

static void report_progress(const sg_verify_options *o, sg_migration *m, size_t map,
                            const sg_verify_report *r, int64_t total, int64_t t0)
{
    if (!o->progress)
        return;
    sg_progress p = { 0 };
    double secs = (double)(sg_mono_ms() - t0) / 1000.0;
    p.what = "verify";
    p.backlog = -1;
    p.mapping = m->maps[map].label;
    p.rows_done = r->source_rows;
    p.rows_total = total;
    p.rows_per_sec = secs > 0 ? (double)r->source_rows / secs : 0;
    p.eta_sec = p.rows_per_sec > 0 && total > r->source_rows
                    ? (double)(total - r->source_rows) / p.rows_per_sec : -1;
    o->progress(o->progress_ud, &p);
}

/* Under max_rows_per_second: sleeps until `rows` read since t0 (monotonic
 * ms) are within the cap, in steps that a stop request cuts short. */
static void pace(const sg_verify_options *o, int64_t rows, int64_t t0)
{
    if (o->max_rows_per_second <= 0)
        return;
    int64_t due = t0 + rows * 1000 / o->max_rows_per_second;
    for (int64_t now = sg_mono_ms(); now < due && !(o->stop && *o->stop); now = sg_mono_ms())
        sg_sleep_ms(due - now < 100 ? due - now : 100);
}

/* What a pass over one mapping works with. */
typedef struct scan {
    sg_migration *m;
    size_t map;
    sg_flow *f;
    sg_checksum *ck;
    sg_hasher *h;
    sg_buf scratch;
    cands *out;
} scan;

static bool sums_differ(const sg_side_sum *a, const sg_side_sum *b)
{
    return a->count != b->count || memcmp(&a->digest, &b->digest, sizeof a->digest);
}

/* Range (l, u] compared: checksums, then row by row where they differ. */
static int compare_chunk(scan *sc, const sg_row *l, const sg_row *u)
{
    sg_side_sum a, b;
    int rc = sg_checksum_range(sc->ck, &sc->m->err, sc->f, l, u, &a, &b);
    if (!rc && sums_differ(&a, &b))
        rc = diff_range(sc->m, sc->map, l, u, sc->h, &sc->scratch, sc->out);
    return rc;
}

/* A range whose in-engine sums differed, compared in chunks of `step`
 * source keys (memory and rows read here bounded by a chunk, not by the
 * range): each chunk's end is the key `step` on, unless no key lies
 * between it and u, where the chunk takes the rest (keys are compared by
 * the engine only, in its own order). */
static int descend(scan *sc, const sg_row *l, const sg_row *u, int64_t step)
{
    sg_row lo = { 0 }, hi = { 0 };
    bool more = true, last = false;
    int rc = l && sg_row_copy(&lo, l->v, l->n) ? sg_err_set(&sc->m->err, SG_ENOMEM, "out of memory")
                                               : 0;
    while (!rc && !last) {
        rc = sg_flow_boundary(sc->f, lo.n ? &lo : NULL, step, &hi, &more, &sc->m->err);
        if (!rc && more)
            rc = sg_flow_any_key(sc->f, &hi, u, &more, &sc->m->err);
        last = !more;
        if (!rc)
            rc = compare_chunk(sc, lo.n ? &lo : NULL, last ? u : &hi);
        sg_row_free(&lo);
        lo = hi;
        hi = (sg_row){ 0 };
    }
    sg_row_free(&lo);
    sg_row_free(&hi);
    return rc;
}

static int scan_map(sg_migration *m, size_t map, const sg_verify_options *o,
                    sg_verify_report *r, cands *out, int64_t total, int64_t t0)
{
    scan sc = { m, map, &m->maps[map].fwd, sg_checksum_new(), sg_hasher_new(), SG_BUF_INIT, out };
    sg_row lo = { 0 }, hi = { 0 };
    int64_t step = o->chunk_rows > 0 ? o->chunk_rows : 10000;
    bool more = true;
    int rc = sc.h && sc.ck ? 0 : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc)
        rc = sg_checksum_begin(sc.ck, sc.f, &m->err);
    while (!rc && more) {
        sg_side_sum src, tgt;
        if (o->stop && *o->stop) {
            rc = sg_err_set(&m->err, SG_ESTOPPED, "verify stopped on request");
            break;
        }
        /* a range the engines sum costs a round trip and an index descent,
         * a range hashed here costs its rows: the former are larger */
        bool sums = sg_checksum_in_engine(sc.ck);
        rc = sg_flow_boundary(sc.f, lo.n ? &lo : NULL, sums ? step * SG_VERIFY_ENGINE_CHUNKS : step,
                              &hi, &more, &m->err);
        const sg_row *l = lo.n ? &lo : NULL, *u = more ? &hi : NULL;
        if (!rc)
            rc = sums ? sg_checksum_sums(sc.ck, &m->err, sc.f, l, u, &src, &tgt)
                      : sg_checksum_range(sc.ck, &m->err, sc.f, l, u, &src, &tgt);
        if (rc)
            break;
        r->chunks++;
        r->chunks_in_engine += src.in_engine;
        r->source_rows += src.count;
        r->target_rows += tgt.count;
        if (sums_differ(&src, &tgt)) {
            r->chunks_differing++;
            rc = sums ? descend(&sc, l, u, step) : diff_range(m, map, l, u, sc.h, &sc.scratch, out);
        }
        sg_row_free(&lo);
        lo = hi;
        hi = (sg_row){ 0 };
        report_progress(o, m, map, r, total, t0);
        pace(o, r->source_rows > r->target_rows ? r->source_rows : r->target_rows, t0);
    }
    sg_row_free(&lo);
    sg_row_free(&hi);
    sg_buf_free(&sc.scratch);
    sg_hasher_free(sc.h);
    sg_checksum_free(sc.ck);
    return rc;
}

/* The key's mapped source row (*a, found *fa) and target row (*b, *fb). */
static int read_pair(sg_migration *m, const cand *c, sg_row *a, bool *fa, sg_row *b, bool *fb)
{
    sg_flow *f = &m->maps[c->map].fwd;
    *a = *b = (sg_row){ 0 };
    *fa = *fb = false;
    int rc = sg_flow_read_from(f, c->key.v, a, fa, &m->err);
    return rc ? rc : sg_flow_read_to(f, c->key.v, b, fb, &m->err);
}

/* Whether the key's rows are equal now, how they differ, and (held, may be
 * NULL) whether either side holds it. */
static int key_equal(sg_migration *m, const cand *c, bool *equal, sg_diff_kind *kind,
                     bool *held)
{
    sg_flow *f = &m->maps[c->map].fwd;
    sg_row a, b;
    bool fa, fb;
    int rc = read_pair(m, c, &a, &fa, &b, &fb);
    if (held)
        *held = fa || fb;
    *equal = fa == fb && (!fa || sg_row_equal(a.v, b.v, f->n_cols));
    *kind = fa && !fb ? SG_DIFF_MISSING : !fa && fb ? SG_DIFF_EXTRA : SG_DIFF_CHANGED;
    sg_row_free(&a);
    sg_row_free(&b);
    return rc;
}

/* Applies what is pending when this process may (it holds or can take the
 * lease); otherwise a running worker does it and we wait. */
static int settle(sg_migration *m, int round)
{
    bool got = m->has_lease;
    char holder[128];
    int64_t n;
    int rc = got ? 0 : sg_lease_acquire(m, &got, holder, sizeof holder);
    if (!rc && got)
        rc = sg_apply_drain_all(m, SG_FORWARD, false, &n);
    /* with the lease held, everything captured so far is applied: a short
     * pause lets in-flight writes land; otherwise back off for the worker */
    if (!rc)
        sg_sleep_ms(got ? 10 : 50LL << round);
    return rc;
}

/* A draw from splitmix64 (Steele, Lea, Flood: "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): enough to spread samples. */
static uint64_t draw(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One sampled key: both rows read and compared field by field; a key
 * neither side holds (a gap in an integer key) is no sample (*counted
 * false). */
static int sample_key(sg_migration *m, size_t map, const sg_row *key, sg_verify_report *r,
                      cands *out, bool *counted)
{
    cand c = { .map = map, .key = *key };
    bool eq = true;
    sg_diff_kind kind;
    int rc = key_equal(m, &c, &eq, &kind, counted);
    *counted = *counted && !rc;
    if (*counted) {
        /* a key one side lacks is a row of the other side only */
        r->source_rows += kind != SG_DIFF_EXTRA || eq;
        r->target_rows += kind != SG_DIFF_MISSING || eq;
        if (!eq && cands_add(out, map, key, kind))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    return rc;
}

/* verify --sample: n keys of mapping `map` at random. The keys are walked
 * in key order with random gaps averaging rows / n (rows: the backfill's
 * count), each found as a chunk boundary is (sg_flow_boundary: one index
 * seek for an integer key, an index walk for any other), and the walk
 * starts over at the end until n keys are compared or 4n + 8 draws fail. */
static int sample_map(sg_migration *m, size_t map, int64_t n, int64_t rows,
                      const sg_verify_options *o, sg_verify_report *r, cands *out)
{
    sg_row lo = { 0 }, hi = { 0 };
    uint64_t seed = (uint64_t)sg_now_ms() * 0x2545f4914f6cdd1dULL ^ (uint64_t)getpid();
    uint64_t span = (uint64_t)(rows > n ? 2 * (rows / n) : 2);
    int64_t got = 0;
    int rc = 0;
    for (int64_t tries = 0; !rc && got < n && tries < 4 * n + 8; tries++) {
        bool more = false, counted = false;
        if (o->stop && *o->stop)
            return sg_err_set(&m->err, SG_ESTOPPED, "verify stopped on request");
        rc = sg_flow_boundary(&m->maps[map].fwd, lo.n ? &lo : NULL,
                              1 + (int64_t)(draw(&seed) % span), &hi, &more, &m->err);
        if (!rc && more && (rc = sample_key(m, map, &hi, r, out, &counted)) == 0)
            got += counted;
        sg_row_free(&lo);
        lo = hi; /* empty at the end: the walk starts over */
        hi = (sg_row){ 0 };
    }
    sg_row_free(&lo);
    return rc;
}

/* Samples mapping i into its part of the pass. */
static int sample_part(sg_migration *m, size_t i, const sg_verify_options *o,
                       sg_verify_report *r, cands *c, sg_verify_part *p)
{
    sg_checkpoint cp;
    sg_verify_report before = *r;
    int rc = sg_checkpoint_load(m, i, &cp);
    int64_t rows = cp.rows;
    sg_checkpoint_free(&cp);
    p->started_ms = sg_now_ms();
    if (!rc)
        rc = sample_map(m, i, o->sample, rows, o, r, c);
    p->ended_ms = sg_now_ms();
    p->source_rows = r->source_rows - before.source_rows;
    p->target_rows = r->target_rows - before.target_rows;
    return rc;
}

static int recheck(sg_migration *m, cands *c, sg_verify_report *r)
{
    int rc = 0;
    for (int round = 0; round < RECHECK_ROUNDS && c->n && !rc; round++) {
        if ((rc = settle(m, round)) != 0)
            break;
        size_t w = 0;
        for (size_t i = 0; i < c->n && !rc; i++) {
            bool eq;
            sg_diff_kind kind;
            rc = key_equal(m, &c->v[i], &eq, &kind, NULL);
            r->rechecked += round == 0;
            if (eq)
                sg_row_free(&c->v[i].key);
            else {
                c->v[i].kind = kind;
                c->v[w++] = c->v[i];
            }
        }
        if (!rc)
            c->n = w;
    }
    return rc;
}

static int repair(sg_migration *m, cands *c, sg_verify_report *r)
{
    int rc = sg_tx_begin(m->tgt, &m->err);
    for (size_t i = 0; i < c->n && !rc; i++) {
        rc = sg_flow_sync(&m->maps[c->v[i].map].fwd, c->v[i].key.v, &m->err);
        r->repaired++;
    }
    if (!rc)
        rc = sg_control_audit(m, "repair", "re-synced differing keys", NULL);
    if (!rc)
        return sg_lease_commit(m, m->tgt);
    sg_tx_rollback(m->tgt);
    return rc;
}

/* Columns shown per changed row, and bytes per value. */
#define DIFF_COLUMNS 16
#define DIFF_VALUE_MAX 200

/* v as a SQL literal, cut to DIFF_VALUE_MAX bytes; NULL out of memory. */
static char *literal(const sg_value *v)
{
    sg_buf b = SG_BUF_INIT;
    sg_key_format(&b, v, 1); /* "(x)" */
    char *s = sg_buf_take(&b);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    s[n - 1] = '\0';
    memmove(s, s + 1, n - 1);
    if (strlen(s) > DIFF_VALUE_MAX)
        memcpy(s + DIFF_VALUE_MAX - 3, "...", 4);
    return s;
}

/* For a changed key: the columns whose values differ, both sides. */
static int diff_columns(sg_migration *m, const cand *c, sg_diff *d)
{
    sg_flow *f = &m->maps[c->map].fwd;
    sg_row a, b;
    bool fa, fb;
    int rc = read_pair(m, c, &a, &fa, &b, &fb);
    if (!rc && fa && fb && !(d->columns = calloc(DIFF_COLUMNS, sizeof *d->columns)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && fa && fb && i < f->n_cols && d->n_columns < DIFF_COLUMNS; i++) {
        if (sg_row_equal(&a.v[i], &b.v[i], 1))
            continue;
        sg_diff_column *col = &d->columns[d->n_columns++];
        if (!(col->name = strdup(f->to_cols[i])) || !(col->source = literal(&a.v[i])) ||
            !(col->target = literal(&b.v[i])))
            rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    }
    sg_row_free(&a);
    sg_row_free(&b);
    return rc;
}

/* Lists the first max_keys differing keys (0: 100, negative: all) and
 * counts them all. */
static int fill_report(sg_migration *m, const cands *c, int64_t max_keys,
                       sg_verify_report *r)
{
    size_t n = max_keys < 0 || (size_t)max_keys >= c->n ? c->n
             : max_keys == 0 ? (c->n < 100 ? c->n : 100) : (size_t)max_keys;
    r->differences = (int64_t)c->n;
    r->diffs = calloc(n ? n : 1, sizeof *r->diffs);
    if (!r->diffs)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sg_buf kb = SG_BUF_INIT;
        sg_key_format(&kb, c->v[i].key.v, c->v[i].key.n);
        r->diffs[i].key = sg_buf_take(&kb);
        r->diffs[i].mapping = strdup(m->maps[c->v[i].map].label);
        r->diffs[i].kind = c->v[i].kind;
        r->n_diffs = i + 1;
        if (!r->diffs[i].key || !r->diffs[i].mapping)
            return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
        int rc = c->v[i].kind == SG_DIFF_CHANGED ? diff_columns(m, &c->v[i], &r->diffs[i]) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* The phase a verify with this result moves to from ph, or ph: a clean one
 * makes a backfilled migration verified; differences that persist take a
 * verified (or shadowing) one back to backfilled, so no gate counts on an
 * old clean result. Once reads shift, the phase stays and the read and
 * write cutover gates refuse until a verify is clean again. */
static sg_phase verify_moves_to(sg_phase ph, size_t n_diffs)
{
    if (n_diffs == 0)
        return ph == SG_PHASE_BACKFILLED ? SG_PHASE_VERIFIED : ph;
    return ph == SG_PHASE_VERIFIED || ph == SG_PHASE_SHADOWING ? SG_PHASE_BACKFILLED
                                                               : ph;
}

/* A sample (full false) proves nothing about the keys it did not draw: it
 * never makes the migration verified and is no verify run the gates count,
 * unless it found differences, which count as any verify's do. */
static int record(sg_migration *m, sg_verify_report *r, const sg_verify_part *parts,
                  bool full)
{
    char detail[160];
    sg_phase ph, to;
    snprintf(detail, sizeof detail, "%s%lld source rows, %lld target rows, %zu "
             "differences, %lld repaired", full ? "" : "sample: ", (long long)r->source_rows,
             (long long)r->target_rows, (size_t)r->differences, (long long)r->repaired);
    int rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc)
        rc = sg_phase_lock(m, SG_CMD_VERIFY, &ph);
    int64_t at_ms = sg_now_ms();
    if (!rc && (full || r->differences))
        rc = sg_control_verify_run(m, at_ms, r->source_rows, r->target_rows,
                                   r->differences, detail);
    if (!rc)
        rc = sg_consistency_record(m, at_ms, parts, full, r);
    to = rc || (!full && !r->differences) ? ph : verify_moves_to(ph, (size_t)r->differences);
    if (!rc && to != ph)
        rc = sg_control_transition(m, ph, to, "verify", detail, NULL);
    else if (!rc)
        rc = sg_control_audit(m, "verify", detail, NULL);
    if (!rc)
        return sg_tx_commit(m->tgt, &m->err);
    sg_tx_rollback(m->tgt);
    return rc;
}

/* Scans mapping i into its part of the pass (what r gained meanwhile). */
static int scan_part(sg_migration *m, size_t i, const sg_verify_options *o,
                     sg_verify_report *r, cands *c, int64_t total, int64_t t0,
                     sg_verify_part *p)
{
    sg_verify_report before = *r;
    p->started_ms = sg_now_ms();
    int rc = scan_map(m, i, o, r, c, total, t0);
    p->ended_ms = sg_now_ms();
    p->source_rows = r->source_rows - before.source_rows;
    p->target_rows = r->target_rows - before.target_rows;
    p->chunks = r->chunks - before.chunks;
    p->chunks_differing = r->chunks_differing - before.chunks_differing;
    return rc;
}

/* The keys still differing, counted into their mappings' parts. */
static void count_parts(const cands *c, sg_verify_part *parts)
{
    for (size_t i = 0; i < c->n; i++)
        parts[c->v[i].map].differences++;
}

static int verify(sg_migration *m, const sg_verify_options *o, sg_verify_report *r)
{
    sg_phase ph;
    cands c = { 0 };
    int64_t t0 = sg_mono_ms(), total = 0;
    sg_verify_part *parts = calloc(m->n_maps ? m->n_maps : 1, sizeof *parts);
    int rc = parts ? sg_phase_check(m, SG_CMD_VERIFY, &ph)
                   : sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc)
        rc = sg_drift_check(m);
    for (size_t i = 0; !rc && i < m->n_maps; i++) {
        sg_checkpoint cp;
        rc = sg_checkpoint_load(m, i, &cp);
        total += cp.rows;
        sg_checkpoint_free(&cp);
    }
    for (size_t i = 0; !rc && i < m->n_maps; i++)
        rc = o->sample > 0 ? sample_part(m, i, o, r, &c, &parts[i])
                           : scan_part(m, i, o, r, &c, total, t0, &parts[i]);
    if (!rc)
        rc = recheck(m, &c, r);
    if (!rc && o->repair && c.n) {
        rc = repair(m, &c, r);
        if (!rc)
            rc = recheck(m, &c, r);
    }
    if (!rc)
        rc = fill_report(m, &c, o->max_keys, r);
    if (!rc) {
        count_parts(&c, parts);
        rc = record(m, r, parts, o->sample <= 0);
    }
    cands_free(&c);
    free(parts);
    r->elapsed_ms = (double)(sg_mono_ms() - t0);
    if (!rc && r->differences)
        rc = sg_err_set(&m->err, SG_EDIFF, "verify found %lld difference%s that "
                        "persist%s; hint: inspect the keys, then run verify "
                        "--repair", (long long)r->differences,
                        r->differences == 1 ? "" : "s", r->differences == 1 ? "s" : "");
    return rc;
}

/* The options as this library reads them: a version 1 struct has no
 * max_rows_per_second (and is shorter); false for an unknown version. */
/* The size of a version's options struct. */
static size_t options_size(int version)
{
    return version == 1   ? offsetof(sg_verify_options, max_rows_per_second)
           : version == 2 ? offsetof(sg_verify_options, sample)
                          : sizeof(sg_verify_options);
}

static bool options_of(const sg_verify_options *o, sg_verify_options *full)
{
    *full = (sg_verify_options)SG_VERIFY_OPTIONS_INIT;
    if (!o)
        return true;
    if (o->version < 1 || o->version > SG_VERIFY_OPTIONS_VERSION)
        return false;
    memcpy(full, o, options_size(o->version));
    return true;
}

int sg_verify_run(sg_verify_report **out, sg_migration *m, const sg_verify_options *o)
{
    sg_verify_options full;
    if (!m || !out)
        return sg_bad_arg(m, "sg_verify_run", "out is NULL");
    *out = NULL;
    sg_err_clear(&m->err);
    if (!options_of(o, &full))
        return sg_bad_version(m, "sg_verify_run", o->version, SG_VERIFY_OPTIONS_VERSION);
    *out = calloc(1, sizeof **out);
    if (!*out)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int rc = sg_switch_recover(m);
    if (!rc)
        rc = verify(m, &full, *out);
    sg_lease_release(m);
    return rc;
}

int sg_verify_options_init(sg_verify_options *o, unsigned version)
{
    static const sg_verify_options init = SG_VERIFY_OPTIONS_INIT;
    if (!o || version < 1 || version > SG_VERIFY_OPTIONS_VERSION)
        return SG_EINVAL;
    memcpy(o, &init, options_size((int)version));
    o->version = (int)version;
    return 0;
}

void sg_verify_report_free(sg_verify_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_diffs; i++) {
        free(r->diffs[i].mapping);
        free(r->diffs[i].key);
        for (size_t k = 0; k < r->diffs[i].n_columns; k++) {
            free(r->diffs[i].columns[k].name);
            free(r->diffs[i].columns[k].source);
            free(r->diffs[i].columns[k].target);
        }
        free(r->diffs[i].columns);
    }
    free(r->diffs);
    free(r);
}
