/* Test tool: application outcomes reported through the C API as an
 * application would: COUNT operations of query type KIND on SIDE (source
 * or target), each ok (1) or failed (0), taking MS milliseconds; the
 * router is closed at the end, which writes what it holds. Exits 0, or 1
 * with the router's message.
 *
 *   report_outcomes SPEC SIDE KIND OK MS COUNT */
#include <segue/outcomes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_router.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: report_outcomes SPEC SIDE KIND OK MS COUNT\n");
        return 2;
    }
    sg_migration *m = NULL;
    sg_router *r = NULL;
    int rc = tool_open_router("report_outcomes", argv[1], &m, &r);
    int side = strcmp(argv[2], "target") ? SG_SIDE_SOURCE : SG_SIDE_TARGET;
    long n = strtol(argv[6], NULL, 10);
    for (long i = 0; !rc && i < n; i++)
        if ((rc = sg_router_report(r, side, argv[3], !strcmp(argv[4], "1"),
                                   strtod(argv[5], NULL))))
            fprintf(stderr, "report_outcomes: %s\n", sg_router_errmsg(r));
    if (!rc && (rc = sg_router_flush(r)))
        fprintf(stderr, "report_outcomes: %s\n", sg_router_errmsg(r));
    sg_router_close(r);
    sg_migration_close(m);
    return rc ? 1 : 0;
}
