/* Running totals of the application outcomes (server_int.h): the minutes
 * older than TOTALS_SETTLE_MS are read once and kept, and only the later
 * ones each time, so a service that runs for days does not read every
 * minute since the start every second. Reports a router held while the
 * control tables could not be written land later in an older minute: an
 * hourly full read takes them in (totals only grow, as counters must). */
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* Minutes this old take no more reports but held ones. */
enum { TOTALS_SETTLE_MS = 5 * 60000, TOTALS_RESYNC_MS = 60 * 60000 };

/* Where (side, kind) is or goes in v, ordered by side then kind. */
static size_t slot(const sg_outcome *v, size_t n, const sg_outcome *o, bool *found)
{
    size_t i = 0;
    int c = 1;
    for (; i < n; i++) {
        c = v[i].side != o->side ? (v[i].side < o->side ? -1 : 1) : strcmp(v[i].kind, o->kind);
        if (c >= 0)
            break;
    }
    *found = i < n && c == 0;
    return i;
}

/* Adds from's entries into *into (growing it). -1 when out of memory. */
static int merge(sg_outcome **into, size_t *n, const sg_outcome *from, size_t n_from)
{
    for (size_t k = 0; k < n_from; k++) {
        bool found;
        size_t i = slot(*into, *n, &from[k], &found);
        if (found) {
            (*into)[i].ok += from[k].ok;
            (*into)[i].errors += from[k].errors;
            sg_hist_merge(&(*into)[i].latency, &from[k].latency);
            continue;
        }
        sg_outcome *p = realloc(*into, (*n + 1) * sizeof *p);
        if (!p)
            return -1;
        memmove(&p[i + 1], &p[i], (*n - i) * sizeof *p);
        p[i] = from[k];
        *into = p;
        (*n)++;
    }
    return 0;
}

/* Reads minutes [from_ms, to_ms) (to_ms 0: no end) and adds them to *into. */
static int add_minutes(sg_outcome **into, size_t *n, sg_migration *m, int64_t from_ms,
                       int64_t to_ms)
{
    sg_outcome *o = NULL;
    size_t no = 0;
    int rc = sg_migration_outcomes_between(&o, &no, m, from_ms, to_ms);
    if (!rc && merge(into, n, o, no))
        rc = SG_ENOMEM;
    free(o);
    return rc;
}

int http_totals_read(http_totals *t, sg_migration *m, int64_t now_ms, sg_outcome **out,
                     size_t *n)
{
    int64_t cut = (now_ms - TOTALS_SETTLE_MS) / 60000 * 60000;
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (!t->to_ms || now_ms >= t->resync_ms) { /* all settled minutes again */
        sg_outcome *fresh = NULL;
        size_t nf = 0;
        if ((rc = add_minutes(&fresh, &nf, m, 0, cut)) != 0) {
            free(fresh);
            return rc;
        }
        free(t->settled);
        t->settled = fresh;
        t->n_settled = nf;
        t->to_ms = cut;
        t->resync_ms = now_ms + TOTALS_RESYNC_MS;
    } else if (cut > t->to_ms) {
        if ((rc = add_minutes(&t->settled, &t->n_settled, m, t->to_ms, cut)) != 0) {
            t->to_ms = 0; /* perhaps added in part: all again next time */
            return rc;
        }
        t->to_ms = cut;
    }
    if (t->n_settled && !(*out = malloc(t->n_settled * sizeof **out)))
        return SG_ENOMEM;
    if (t->n_settled)
        memcpy(*out, t->settled, t->n_settled * sizeof **out);
    *n = t->n_settled;
    if ((rc = add_minutes(out, n, m, t->to_ms, 0)) != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void http_totals_free(http_totals *t)
{
    free(t->settled);
    memset(t, 0, sizeof *t);
}
