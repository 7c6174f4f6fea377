/* Test tool: the C API's router as an application calls it. Reads keys one
 * per line on stdin and prints "KEY SIDE" for each read (side "source" or
 * "target"), then "writes SIDE". Exits 0, or 1 with the router's message.
 *
 *   route_keys SPEC < keys */
#include <segue/segue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_router.h"

static const char *side_name(int side)
{
    return side == SG_SIDE_TARGET ? "target" : "source";
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: route_keys SPEC < keys\n");
        return 2;
    }
    sg_migration *m = NULL;
    sg_router *r = NULL;
    int rc = tool_open_router("route_keys", argv[1], &m, &r), failed = rc;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int side;
    while (!rc && (n = getline(&line, &cap, stdin)) >= 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!(rc = sg_router_read_side(&side, r, line, (size_t)n)))
            printf("%s %s\n", line, side_name(side));
    }
    if (!rc && !(rc = sg_router_write_side(&side, r)))
        printf("writes %s\n", side_name(side));
    if (rc && !failed)
        fprintf(stderr, "route_keys: %s\n", sg_router_errmsg(r));
    free(line);
    sg_router_close(r);
    sg_migration_close(m);
    return rc ? 1 : 0;
}
