/* The audit trail, read back: who did what, when, and why. Rows are
 * written by sg_control_transition (control.c). */
#include <stdlib.h>
#include <string.h>

#include "state/control.h"

/* Column i as a new C string; NULL for SQL NULL. *oom set on failure. */
static char *column_str(sg_stmt *s, int i, bool *oom)
{
    sg_value v;
    sg_db_column(s, i, &v);
    if (v.type == SG_V_NULL)
        return NULL;
    char *out = strndup(v.p ? v.p : "", v.n);
    *oom |= out == NULL;
    return out;
}

static int grow(sg_audit_entry **v, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 32;
    sg_audit_entry *p = realloc(*v, c * sizeof *p);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* Appends the current row of s to *v (n entries, room for cap). */
static int take_row(sg_err *e, sg_stmt *s, sg_audit_entry **v, size_t *n,
                    size_t *cap)
{
    bool oom = false;
    if (grow(v, *n, cap))
        return sg_err_set(e, SG_ENOMEM, "out of memory");
    sg_audit_entry *a = &(*v)[(*n)++];
    a->id = sg_db_column_int(s, 0);
    char **fields[] = { &a->at, &a->who, &a->action, &a->from_phase,
                        &a->to_phase, &a->detail, &a->reason };
    for (int i = 0; i < 7; i++)
        *fields[i] = column_str(s, i + 1, &oom);
    return oom ? sg_err_set(e, SG_ENOMEM, "out of memory") : 0;
}

static int read_rows(sg_migration *m, const char *since, sg_audit_entry **v,
                     size_t *n)
{
    sg_stmt *s = NULL;
    size_t cap = 0;
    int rc = sg_control_prepare(&m->err, m->tgt, "SELECT id, at, who, action, from_phase, "
                                "to_phase, detail, reason FROM @audit WHERE "
                                "migration = $1 AND at >= $2 ORDER BY id", &s);
    if (!rc && !(rc = sg_db_bind_text(s, 1, m->spec->name, &m->err)))
        rc = sg_db_bind_text(s, 2, since ? since : "", &m->err);
    while (!rc && (rc = sg_db_step(s, &m->err)) == 1)
        rc = take_row(&m->err, s, v, n, &cap);
    sg_db_finalize(s);
    return rc > 0 ? 0 : rc;
}

int sg_migration_audit(sg_audit_entry **out, size_t *n, sg_migration *m,
                       const char *since)
{
    bool present = false;
    if (!out || !n || !m)
        return SG_EINVAL;
    *out = NULL;
    *n = 0;
    sg_err_clear(&m->err);
    int rc = sg_control_present(m, &present);
    if (!rc && present)
        rc = read_rows(m, since, out, n);
    if (rc) {
        sg_audit_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void sg_audit_free(sg_audit_entry *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++) {
        sg_audit_entry *e = &entries[i];
        char *fields[] = { e->at, e->who, e->action, e->from_phase, e->to_phase,
                           e->detail, e->reason };
        for (int f = 0; f < 7; f++)
            free(fields[f]);
    }
    free(entries);
}
