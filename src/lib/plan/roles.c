/* Application roles of a mapping's source table, and whether each keeps
 * working on the target after the cutover. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plan/mapping.h"

/* One role's line for plan, and what fixes it when it would fail. */
static void role_verdict(const sg_migration *m, const sg_map *mp, const sg_role_use *u,
                         sg_buf *roles, sg_buf *why, sg_buf *fix)
{
    sg_buf_printf(roles, "%s%s%s (%s): ", roles->len ? "; " : "", u->role,
                  u->owner ? " (owner)" : "", u->privileges);
    if (u->absent) {
        sg_buf_puts(roles, "fails after the cutover: no such role in the target database");
        sg_buf_printf(why, "%s%s does not exist in the target database",
                      why->len ? "; " : "", u->role);
        sg_buf_printf(fix, "%sCREATE ROLE %s there;", fix->len ? " " : "", u->role);
    } else if (u->lacking && u->lacking[0]) {
        sg_buf_printf(roles, "fails after the cutover: lacks %s on '%s'", u->lacking,
                      mp->fwd.to_table);
        sg_buf_printf(why, "%s%s lacks %s on '%s'", why->len ? "; " : "", u->role,
                      u->lacking, mp->fwd.to_table);
        sg_buf_printf(fix, "%sGRANT %s ON ", fix->len ? " " : "", u->lacking);
        sg_db_ident(m->tgt, fix, mp->fwd.to_table);
        sg_buf_printf(fix, " TO %s;", u->role);
    } else {
        sg_buf_printf(roles, "keeps working%s", u->lacking ? ""
                      : " (start gives the new table these grants)");
    }
}

int sg_mapping_roles(sg_migration *m, size_t i, char **roles, char *msg, size_t size)
{
    const sg_map *mp = &m->maps[i];
    sg_buf list = SG_BUF_INIT, why = SG_BUF_INIT, fix = SG_BUF_INIT;
    sg_table_info *t = NULL;
    sg_role_use *uses = NULL;
    size_t n = 0;
    msg[0] = '\0';
    if (roles)
        *roles = NULL;
    int rc = sg_db_table_info(m->tgt, mp->fwd.to_table, &t, &m->err);
    bool made = t != NULL;
    sg_table_info_free(t);
    if (rc || (!made && !mp->spec->create)) /* a missing target: the target checks */
        return rc;
    rc = sg_db_table_roles(m->src, mp->fwd.from_table, m->tgt,
                           made ? mp->fwd.to_table : NULL, &uses, &n, &m->err);
    for (size_t u = 0; !rc && u < n; u++)
        role_verdict(m, mp, &uses[u], &list, &why, &fix);
    sg_role_uses_free(uses, n);
    if (!rc && (sg_buf_failed(&list) || sg_buf_failed(&why) || sg_buf_failed(&fix)))
        rc = sg_err_set(&m->err, SG_ENOMEM, "out of memory");
    if (!rc && why.len)
        snprintf(msg, size, "%s:%d: %s: roles that use '%s' would fail on '%s' after "
                 "the cutover: %s; hint: %s", m->spec->path, mp->spec->to_line,
                 mp->label, mp->fwd.from_table, mp->fwd.to_table, sg_buf_str(&why),
                 sg_buf_str(&fix));
    if (!rc && roles && n)
        *roles = sg_buf_take(&list);
    sg_buf_free(&list);
    sg_buf_free(&why);
    sg_buf_free(&fix);
    return rc ? rc : msg[0] != '\0';
}

int sg_mapping_check_grants(sg_migration *m)
{
    char msg[1024];
    for (size_t i = 0; i < m->n_maps; i++) {
        int rc = sg_mapping_roles(m, i, NULL, msg, sizeof msg);
        if (rc < 0)
            return rc;
        if (rc)
            return sg_err_set(&m->err, SG_ESPEC, "%s", msg);
    }
    return 0;
}
