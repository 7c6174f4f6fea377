/* For the test tools that act as an application: a migration opened
 * read-only and a router on it, as an application opens them. */
#ifndef SEGUE_TOOL_ROUTER_H
#define SEGUE_TOOL_ROUTER_H

#include <segue/segue.h>
#include <stdio.h>

/* Opens *m and *r; on failure prints "tool: message" and returns non-zero
 * (the caller closes both in every case). */
static inline int tool_open_router(const char *tool, const char *spec, sg_migration **m,
                                   sg_router **r)
{
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.read_only = true;
    *r = NULL;
    int rc = sg_migration_open_ext(m, spec, &o);
    if (rc)
        fprintf(stderr, "%s: %s\n", tool, sg_migration_errmsg(*m));
    else if ((rc = sg_router_open_migration(r, *m)))
        fprintf(stderr, "%s: %s\n", tool, sg_router_errmsg(*r));
    return rc;
}

#endif
