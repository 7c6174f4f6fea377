/* POST /api/v1/events: application outcomes, a batch of {migration, side,
 * kind, ok, ms} (a JSON array, or {"events": [...]}). The batch is checked
 * whole (one bad event refuses all, naming it), queued, and reported by
 * the status thread through each migration's router (sg_router_report),
 * into the same per-minute tables as the C API's reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* Event i of the batch into *e and its migration's index; false with why. */
static bool take_event(http_server *s, json_t *j, http_event *e, size_t *mig, char *why,
                       size_t n)
{
    const char *name = json_string_value(json_object_get(j, "migration"));
    const char *side = json_string_value(json_object_get(j, "side"));
    json_t *kind = json_object_get(j, "kind"), *ok = json_object_get(j, "ok");
    json_t *ms = json_object_get(j, "ms");
    if (!json_is_object(j))
        return snprintf(why, n, "not an object"), false;
    *mig = s->n_migs;
    for (size_t i = 0; name && i < s->n_migs; i++)
        if (!strcmp(s->migs[i].name, name))
            *mig = i;
    if (*mig == s->n_migs)
        return snprintf(why, n, "migration: %s", name ? "not one this service serves"
                                                      : "missing (a string)"), false;
    if (!side || (strcmp(side, "source") && strcmp(side, "target")))
        return snprintf(why, n, "side: \"source\" or \"target\""), false;
    if (kind && !json_is_string(kind))
        return snprintf(why, n, "kind: a string (the query type), or left out"), false;
    if (!json_is_boolean(ok))
        return snprintf(why, n, "ok: true or false"), false;
    if (!json_is_number(ms) || !(json_number_value(ms) >= 0) || json_number_value(ms) > 1e9)
        return snprintf(why, n, "ms: a duration in milliseconds, >= 0"), false;
    *e = (http_event){ .side = strcmp(side, "target") ? SG_SIDE_SOURCE : SG_SIDE_TARGET,
                       .ok = json_is_true(ok), .ms = json_number_value(ms) };
    snprintf(e->kind, sizeof e->kind, "%s", kind ? json_string_value(kind) : "");
    return true;
}

/* Queues the checked batch; false when a queue is full (nothing queued). */
static bool enqueue(http_server *s, const http_event *ev, const size_t *mig, size_t n)
{
    pthread_mutex_lock(&s->lock);
    bool room = true;
    for (size_t i = 0; i < s->n_migs && room; i++) {
        size_t add = 0;
        for (size_t k = 0; k < n; k++)
            add += mig[k] == i;
        http_mig *g = &s->migs[i];
        http_event *p = add && g->n_events + add <= HTTP_EVENTS_QUEUED
                            ? realloc(g->events, (g->n_events + add) * sizeof *p) : g->events;
        room = !add || (g->n_events + add <= HTTP_EVENTS_QUEUED && p);
        if (p)
            g->events = p;
    }
    for (size_t k = 0; k < n && room; k++) {
        http_mig *g = &s->migs[mig[k]];
        g->events[g->n_events++] = ev[k];
        atomic_fetch_add(&g->events_taken[ev[k].side][ev[k].ok], 1);
    }
    pthread_mutex_unlock(&s->lock);
    return room;
}

int http_api_events(http_req *r)
{
    json_error_t je;
    json_t *doc = r->len ? json_loadb(r->body, r->len, 0, &je) : NULL;
    json_t *arr = json_is_object(doc) ? json_object_get(doc, "events") : doc;
    if (!json_is_array(arr)) {
        json_decref(doc);
        return http_reply_error(r, 400, "expected a JSON array of events, or {\"events\": "
                                "[...]}: each {\"migration\", \"side\", \"kind\", \"ok\", "
                                "\"ms\"}");
    }
    size_t n = json_array_size(arr), bad = n;
    http_event *ev = calloc(n ? n : 1, sizeof *ev);
    size_t *mig = calloc(n ? n : 1, sizeof *mig);
    char why[200] = "out of memory";
    for (size_t i = 0; ev && mig && i < n && bad == n; i++)
        if (!take_event(r->srv, json_array_get(arr, i), &ev[i], &mig[i], why, sizeof why))
            bad = i;
    json_decref(doc);
    int rc;
    if (!ev || !mig)
        rc = http_reply_error(r, 500, "out of memory");
    else if (bad < n)
        rc = http_reply_error(r, 400, "event %zu: %s; nothing was recorded", bad, why);
    else if (!enqueue(r->srv, ev, mig, n))
        rc = http_reply_error(r, 503, "too many events wait to be recorded (the control "
                              "database is slow or down); nothing was recorded, retry later");
    else
        rc = http_reply_json(r, 202, json_pack("{s:I}", "accepted", (json_int_t)n));
    free(ev);
    free(mig);
    return rc;
}

void http_events_drain(http_server *s, http_mig *g)
{
    pthread_mutex_lock(&s->lock);
    http_event *ev = g->events;
    size_t n = g->n_events;
    g->events = NULL;
    g->n_events = 0;
    pthread_mutex_unlock(&s->lock);
    /* a report that cannot be written stays held in the router (up to its
     * cap), so the queue is always emptied */
    int rc = 0;
    for (size_t i = 0; i < n && (!rc || rc == SG_EDB); i++)
        rc = sg_router_report(g->reporter, ev[i].side, ev[i].kind, ev[i].ok, ev[i].ms);
    if (!rc)
        rc = sg_router_flush(g->reporter);
    pthread_mutex_lock(&s->lock);
    snprintf(g->events_err, sizeof g->events_err, "%s", rc ? sg_router_errmsg(g->reporter) : "");
    pthread_mutex_unlock(&s->lock);
    free(ev);
}
