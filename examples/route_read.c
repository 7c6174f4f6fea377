/* An application's read path with segue's C API: open the migration a
 * spec describes (read-only, as an application does), then ask the router
 * where a read of one row goes and where writes go. With
 * cutover.read_your_writes in the spec, a row whose change has not reached
 * the target yet is read from the source (sg_router_read_side_row).
 *
 *   cc route_read.c $(pkg-config --cflags --libs segue) -o route_read
 *   ./route_read SPEC TABLE KEY
 *
 * Prints "TABLE KEY: read from SIDE, write to SIDE". Exits 1 with the
 * router's message when it cannot answer. */
#include <segue/segue.h>
#include <stdio.h>
#include <string.h>

static const char *side_name(int side)
{
    return side == SG_SIDE_TARGET ? "target" : "source";
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: route_read SPEC TABLE KEY\n");
        return 2;
    }
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.read_only = true;
    sg_migration *m = NULL;
    sg_router *r = NULL;
    int rc = sg_migration_open_ext(&m, argv[1], &o);
    if (rc) {
        fprintf(stderr, "route_read: %s\n", sg_migration_errmsg(m));
        sg_migration_close(m);
        return 1;
    }
    /* the router keeps its own connection: m may be closed after this */
    rc = sg_router_open_migration(&r, m);
    sg_migration_close(m);
    const char *key[1] = { argv[3] };
    sg_route_row row = { argv[2], 1, key };
    int read_side = SG_SIDE_SOURCE, write_side = SG_SIDE_SOURCE;
    /* the routing key: here the row's own key (an application may route by
     * user or tenant instead) */
    if (!rc)
        rc = sg_router_read_side_row(&read_side, r, argv[3], strlen(argv[3]), NULL, 0, &row);
    if (rc == SG_ESTATE) /* the spec has no read_your_writes: the routing alone */
        rc = sg_router_read_side(&read_side, r, argv[3], strlen(argv[3]));
    if (!rc)
        rc = sg_router_write_side(&write_side, r);
    if (rc)
        fprintf(stderr, "route_read: %s\n", sg_router_errmsg(r));
    else
        printf("%s %s: read from %s, write to %s\n", argv[2], argv[3], side_name(read_side),
               side_name(write_side));
    sg_router_close(r);
    return rc ? 1 : 0;
}
