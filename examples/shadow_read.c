/* An application's data access during a migration, with segue's C API:
 * the router says where one user's reads go and where writes go, and a
 * sampled share of the reads is shadowed: the same query runs on both
 * sides and the outcome (match, mismatch, pending, ...) is recorded in
 * segue's control tables, where `segue status`, the dashboard and the
 * shadow gates read it.
 *
 *   cc shadow_read.c $(pkg-config --cflags --libs segue) -o shadow_read
 *   ./shadow_read SPEC USER PCT SQL [PARAM...]
 *
 * USER is the routing key (a user or tenant id); PCT the percentage of
 * users whose reads are shadowed (0..100); SQL one query written for the
 * source's tables, PARAMs bound to its placeholders ($1, ...). Prints
 *
 *   user USER: read from SIDE, write to SIDE
 *   shadow: KIND (source N rows in N us, target N rows in N us)
 *
 * ("shadow: not sampled" when USER is outside PCT), then the detail of a
 * difference. Exits 1 with segue's message when it cannot answer. */
#include <segue/segue.h>
#include <segue/shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *side_name(int side)
{
    return side == SG_SIDE_TARGET ? "target" : "source";
}

/* routes USER's reads and the writes */
static int route(sg_migration *m, const char *user)
{
    sg_router *r = NULL;
    int read_side = SG_SIDE_SOURCE, write_side = SG_SIDE_SOURCE;
    int rc = sg_router_open_migration(&r, m);
    if (!rc)
        rc = sg_router_read_side(&read_side, r, user, strlen(user));
    if (!rc)
        rc = sg_router_write_side(&write_side, r);
    if (rc)
        fprintf(stderr, "shadow_read: %s\n", r ? sg_router_errmsg(r) : sg_migration_errmsg(m));
    else
        printf("user %s: read from %s, write to %s\n", user, side_name(read_side),
               side_name(write_side));
    sg_router_close(r);
    return rc;
}

/* shadows the query when USER is sampled, records the outcome and writes
 * it to the control tables (an application would flush now and then) */
static int shadow(sg_migration *m, const char *user, double pct, const char *sql, size_t n,
                  const char *const *params)
{
    bool sampled = false;
    sg_shadow_result res = { 0 };
    int rc = sg_shadow_sampled(&sampled, m, user, strlen(user), pct);
    if (rc || !sampled) {
        if (!rc)
            printf("shadow: not sampled\n");
        goto done;
    }
    rc = sg_shadow_sql(&res, m, sql, n, params);
    if (rc)
        goto done;
    printf("shadow: %s (source %lld rows in %lld us, target %lld rows in %lld us)\n",
           sg_shadow_kind_name(res.kind), (long long)res.source_rows, (long long)res.source_us,
           (long long)res.target_rows, (long long)res.target_us);
    if (res.detail)
        printf("%s\n", res.detail);
    rc = sg_shadow_record(m, sql, &res);
    if (!rc)
        rc = sg_shadow_flush(m);
done:
    if (rc)
        fprintf(stderr, "shadow_read: %s\n", sg_migration_errmsg(m));
    sg_shadow_result_clear(&res);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: shadow_read SPEC USER PCT SQL [PARAM...]\n");
        return 2;
    }
    char *end = NULL;
    double pct = strtod(argv[3], &end);
    if (end == argv[3] || *end || pct < 0 || pct > 100) {
        fprintf(stderr, "shadow_read: PCT must be a number from 0 to 100, not \"%s\"\n", argv[3]);
        return 2;
    }
    /* writable: the outcomes are written to the control tables */
    sg_migration *m = NULL;
    int rc = sg_migration_open(&m, argv[1]);
    if (rc)
        fprintf(stderr, "shadow_read: %s\n", sg_migration_errmsg(m));
    if (!rc)
        rc = route(m, argv[2]);
    if (!rc)
        rc = shadow(m, argv[2], pct, argv[4], (size_t)(argc - 5), (const char *const *)argv + 5);
    sg_migration_close(m);
    return rc ? 1 : 0;
}
