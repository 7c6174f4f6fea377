/* Segments for the routers (segments.h; the public part in segue.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "move/tx.h"
#include "state/control.h"
#include "switch/breaker.h"
#include "switch/segments.h"

typedef struct segment {
    char *name, *attribute;
    size_t n_values;
    char **values;
    int side;
} segment;

struct sg_segments {
    size_t n;
    segment *v;
};

void sg_segments_free(sg_segments *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t k = 0; k < s->v[i].n_values; k++)
            free(s->v[i].values[k]);
        free(s->v[i].values);
        free(s->v[i].name);
        free(s->v[i].attribute);
    }
    free(s->v);
    free(s);
}

/* One segment as published: {name, attribute, in, reads}. */
static json_t *segment_json(const char *name, const char *attribute,
                            char *const *values, size_t n, bool to_target)
{
    json_t *in = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(in, json_string(values[k]));
    return json_pack("{s:s,s:s,s:o,s:s}", "name", name, "attribute", attribute, "in", in,
                     "reads", to_target ? "target" : "source");
}

static json_t *spec_json(const sg_spec *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_segments; i++) {
        const sg_spec_segment *g = &s->segments[i];
        json_array_append_new(a, segment_json(g->name, g->attribute, g->values,
                                              g->n_values, g->to_target));
    }
    return a;
}

int sg_segments_publish(sg_migration *m)
{
    sg_stmt *s = NULL;
    json_t *j = m->spec->n_segments ? spec_json(m->spec) : NULL;
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (m->spec->n_segments && !text)
        return sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    int rc = sg_read_rules_install(m);
    if (!rc)
        rc = sg_tx_begin(m->tgt, &m->err);
    if (!rc) {
        sg_value v = text ? (sg_value){ .type = SG_V_TEXT, .p = text, .n = strlen(text) }
                          : (sg_value){ .type = SG_V_NULL };
        rc = sg_control_prepare(&m->err, m->tgt, "INSERT INTO @read_rules (migration, "
                                "segments) VALUES ($1, $2) ON CONFLICT (migration) DO "
                                "UPDATE SET segments = $2", &s);
        if (!rc)
            rc = sg_db_bind_text(s, 1, m->spec->name, &m->err) ||
                 sg_db_bind(s, 2, &v, &m->err) ? SG_EDB : 0;
        if (!rc) {
            rc = sg_control_run(&m->err, s);
            s = NULL;
        }
        sg_db_finalize(s);
        if (rc)
            sg_tx_rollback(m->tgt);
        else
            rc = sg_tx_commit(m->tgt, &m->err);
    }
    free(text);
    return rc;
}

int sg_segments_load(sg_conn *c, const char *name, char **json, sg_err *err)
{
    sg_stmt *s = NULL;
    bool present = false;
    *json = NULL;
    int rc = sg_db_control_present(c, "read_rules", &present, err);
    if (rc || !present)
        return rc;
    rc = sg_control_prepare(err, c, "SELECT segments FROM @read_rules WHERE migration = $1",
                            &s);
    if (!rc)
        rc = sg_db_bind_text(s, 1, name, err) ? SG_EDB : 0;
    int step = rc ? 0 : sg_db_step(s, err);
    if (step > 0) {
        sg_value v;
        sg_db_column(s, 0, &v);
        if (v.type == SG_V_TEXT && !(*json = strndup(v.p, v.n)))
            rc = sg_err_set(err, SG_ENOMEM, "out of memory");
    }
    sg_db_finalize(s);
    return rc ? rc : step < 0 ? SG_EDB : 0;
}

/* One segment from its JSON object; false when it is not one. */
static bool parse_one(segment *g, json_t *o)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *attr = json_string_value(json_object_get(o, "attribute"));
    const char *reads = json_string_value(json_object_get(o, "reads"));
    json_t *in = json_object_get(o, "in"), *v;
    size_t k;
    if (!name || !attr || !reads || !json_is_array(in) ||
        !(g->name = strdup(name)) || !(g->attribute = strdup(attr)) ||
        !(g->values = calloc(json_array_size(in) + 1, sizeof *g->values)))
        return false;
    g->side = strcmp(reads, "target") ? SG_SIDE_SOURCE : SG_SIDE_TARGET;
    json_array_foreach(in, k, v) {
        if (!json_is_string(v) || !(g->values[g->n_values] = strdup(json_string_value(v))))
            return false;
        g->n_values++;
    }
    return true;
}

sg_segments *sg_segments_parse(const char *json)
{
    json_t *a = json ? json_loads(json, 0, NULL) : NULL, *o;
    sg_segments *s = json_is_array(a) ? calloc(1, sizeof *s) : NULL;
    size_t i;
    bool ok = s && (s->v = calloc(json_array_size(a) + 1, sizeof *s->v));
    json_array_foreach(a, i, o) {
        if (!ok)
            break;
        ok = parse_one(&s->v[s->n++], o);
    }
    json_decref(a);
    if (!ok) {
        sg_segments_free(s);
        return NULL;
    }
    return s;
}

sg_segments *sg_segments_copy(const sg_segments *s)
{
    if (!s)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, segment_json(s->v[i].name, s->v[i].attribute,
                                              s->v[i].values, s->v[i].n_values,
                                              s->v[i].side == SG_SIDE_TARGET));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    sg_segments *c = sg_segments_parse(text);
    free(text);
    return c;
}

const char *sg_route_segment(const sg_route_state *st, const sg_segments *s,
                             const sg_route_attr *attrs, size_t n_attrs, int *side)
{
    /* segments move reads only while the reads shift (a rollback ends
     * that: every read goes to the source), writes on the source */
    if (!s || !st || !st->known || st->read_breaker_open ||
        st->write_side != SG_SIDE_SOURCE || st->phase != SG_PHASE_READS_SHIFTING)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        for (size_t a = 0; a < n_attrs; a++) {
            if (!attrs[a].name || !attrs[a].value || strcmp(attrs[a].name, s->v[i].attribute))
                continue;
            for (size_t k = 0; k < s->v[i].n_values; k++)
                if (!strcmp(attrs[a].value, s->v[i].values[k])) {
                    *side = s->v[i].side;
                    return s->v[i].name;
                }
        }
    return NULL;
}
