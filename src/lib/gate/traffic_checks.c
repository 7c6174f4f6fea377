/* The checks of traffic (gate.h): shadow reads and the outcomes the
 * application reported, over each check's window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segue/outcomes.h>

#include "gate/gate.h"

static const char *const side_names[2] = { "source", "target" };

/* The shadow reads recorded over the window: enough of them (else
 * inconclusive), few enough mismatches, and the target's p99 within its
 * ratio of the source's when that is judged. */
int sg_gate_shadow(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    sg_status st;
    char win[32], ratio[48] = "";
    memset(&st, 0, sizeof st);
    sg_gate_fmt_ms(win, sizeof win, c->window_ms);
    int rc = sg_shadow_status(m, c->window_ms, &st);
    double rate = st.shadow_compared ? (double)st.shadow_mismatches /
                                           (double)st.shadow_compared : 0;
    bool enough = st.shadow_compared >= c->min_samples;
    snprintf(g->detail, sizeof g->detail, "%lld reads compared in the last %s%s, %lld "
             "mismatched (%.4g), p99 ratio %.2f", (long long)st.shadow_compared, win,
             enough ? "" : " (inconclusive)", (long long)st.shadow_mismatches, rate,
             st.shadow_p99_ratio);
    if (c->max_p99_ratio > 0)
        snprintf(ratio, sizeof ratio, ", p99 ratio at most %g", c->max_p99_ratio);
    snprintf(g->needs, sizeof g->needs, "at least %lld, mismatch rate at most %g%s",
             (long long)c->min_samples, c->max, ratio);
    g->value = rate;
    g->limit = c->max;
    g->samples = st.shadow_compared;
    snprintf(g->unit, sizeof g->unit, "ratio");
    if (!enough)
        g->state = SG_GATE_INCONCLUSIVE;
    else if (rate <= c->max &&
             (c->max_p99_ratio <= 0 || st.shadow_p99_ratio <= c->max_p99_ratio))
        g->state = SG_GATE_PASS;
    else
        g->state = SG_GATE_FAIL;
    return rc;
}

/* A ratio judged over `samples`: inconclusive below the check's
 * min_samples, else held to its max. */
static void counted(sg_gate_check *g, const sg_spec_check *c, int64_t samples,
                    double ratio)
{
    g->value = samples ? ratio : NAN;
    g->limit = c->max;
    g->samples = samples;
    snprintf(g->unit, sizeof g->unit, "ratio");
    g->state = samples < c->min_samples ? SG_GATE_INCONCLUSIVE
               : ratio <= c->max ? SG_GATE_PASS : SG_GATE_FAIL;
}

/* The outcomes of each side over the window, every query type added up. */
static int side_totals(sg_migration *m, int64_t window_ms, int64_t ok[2],
                       int64_t errors[2], sg_hist *lat)
{
    sg_outcome *out = NULL;
    size_t n = 0;
    int rc = sg_migration_outcomes(&out, &n, m, window_ms);
    for (size_t i = 0; !rc && i < n; i++) {
        int s = out[i].side == SG_SIDE_TARGET;
        ok[s] += out[i].ok;
        errors[s] += out[i].errors;
        if (lat)
            sg_hist_merge(&lat[s], &out[i].latency);
    }
    free(out);
    return rc;
}

int sg_gate_error_rate(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    int64_t ok[2] = { 0, 0 }, errors[2] = { 0, 0 };
    char win[32];
    int s = c->side == SG_SIDE_TARGET;
    int rc = side_totals(m, c->window_ms, ok, errors, NULL);
    int64_t total = ok[s] + errors[s];
    double rate = total ? (double)errors[s] / (double)total : 0;
    sg_gate_fmt_ms(win, sizeof win, c->window_ms);
    snprintf(g->detail, sizeof g->detail, "%lld of %lld operations on the %s failed "
             "in the last %s (%.4g)%s", (long long)errors[s], (long long)total,
             side_names[s], win, rate,
             total < c->min_samples ? " (inconclusive)" : "");
    snprintf(g->needs, sizeof g->needs, "at least %lld operations, error rate at "
             "most %g", (long long)c->min_samples, c->max);
    counted(g, c, total, rate);
    return rc;
}

int sg_gate_latency_ratio(sg_migration *m, const sg_spec_check *c, sg_gate_check *g)
{
    int64_t ok[2] = { 0, 0 }, errors[2] = { 0, 0 };
    sg_hist *lat = calloc(2, sizeof *lat);
    char win[32];
    if (!lat)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int rc = side_totals(m, c->window_ms, ok, errors, lat);
    int64_t fewer = lat[0].n < lat[1].n ? lat[0].n : lat[1].n;
    int64_t src = sg_hist_percentile(&lat[0], (double)c->percentile);
    int64_t tgt = sg_hist_percentile(&lat[1], (double)c->percentile);
    double ratio = (double)tgt / (double)(src > 0 ? src : 1);
    sg_gate_fmt_ms(win, sizeof win, c->window_ms);
    snprintf(g->detail, sizeof g->detail, "p%lld in the last %s: target %.3g ms over "
             "%lld operations, source %.3g ms over %lld (ratio %.3g)%s",
             (long long)c->percentile, win, (double)tgt / 1000.0, (long long)lat[1].n,
             (double)src / 1000.0, (long long)lat[0].n, ratio,
             fewer < c->min_samples ? " (inconclusive)" : "");
    snprintf(g->needs, sizeof g->needs, "at least %lld operations a side, ratio at "
             "most %g", (long long)c->min_samples, c->max);
    counted(g, c, fewer, ratio);
    free(lat);
    return rc;
}
