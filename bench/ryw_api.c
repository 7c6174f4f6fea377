/* The cost of read-your-writes per key (bench/pg.sh part ryw_api): a read
 * routed with sg_router_read_side_row (the routing, then one lookup in the
 * source's changelog) and made on the side it names, against the same read
 * routed by sg_router_read_side alone (no lookup), every read on the target
 * (reads at 100 %, nothing pending: the lookup finds nothing, the usual
 * case). The two take turns going first, medians of REPS rounds of N reads.
 *
 *   ryw_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N REPS
 *
 * SQL and keys as in shadow_api.c. Prints one line: routed_us=.. ryw_us=..
 * ratio=.. to_source=.. (µs per read, median; reads the lookup sent to
 * the source). */
#include <segue/segue.h>

#include "point_read.h"

typedef struct bench {
    sg_router *r;
    plain src, tgt;
    const char *table;
    long to_source;
} bench;

/* One routed read of key k; with_row: read-your-writes. */
static int routed_read(bench *b, long k, bool with_row)
{
    char key[32];
    const char *kv[1] = { key };
    int side;
    snprintf(key, sizeof key, "%ld", k);
    sg_route_row row = { b->table, 1, kv };
    int rc = with_row ? sg_router_read_side_row(&side, b->r, key, strlen(key), NULL, 0, &row)
                      : sg_router_read_side(&side, b->r, key, strlen(key));
    if (rc)
        return rc;
    b->to_source += with_row && side == SG_SIDE_SOURCE;
    return plain_read(side == SG_SIDE_TARGET ? &b->tgt : &b->src, k);
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: ryw_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N "
                        "REPS\n");
        return 2;
    }
    long keys = strtol(argv[7], NULL, 10), n = strtol(argv[8], NULL, 10);
    int reps = (int)strtol(argv[9], NULL, 10);
    if (keys < 1 || n < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "ryw_api: KEYS and N above 0, REPS 1..%d\n", MAX_REPS);
        return 2;
    }
    sg_migration *m = NULL;
    bench b = { .table = argv[2] };
    double routed_t[MAX_REPS], ryw_t[MAX_REPS];
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.read_only = true;
    int bad = sg_migration_open_ext(&m, argv[1], &o) || sg_router_open_migration(&b.r, m);
    if (bad)
        fprintf(stderr, "ryw_api: %s\n", b.r ? sg_router_errmsg(b.r) : sg_migration_errmsg(m));
    if (!bad && (plain_open(&b.src, argv[3], argv[4], "s") ||
                 plain_open(&b.tgt, argv[5], argv[6], "t"))) {
        fprintf(stderr, "ryw_api: cannot open or prepare the plain reads\n");
        bad = 1;
    }
    for (int r = 0; !bad && r < reps * 2; r++) {
        bool with_row = (r % 2) != (r / 2 % 2);
        uint64_t seed = 88172645463325252u + (uint64_t)(r / 2);
        double t0 = now_us();
        for (long i = 0; !bad && i < n; i++)
            bad = routed_read(&b, key_at(&seed, keys), with_row);
        (with_row ? ryw_t : routed_t)[r / 2] = (now_us() - t0) / (double)n;
    }
    if (bad && b.r && sg_router_errmsg(b.r)[0])
        fprintf(stderr, "ryw_api: %s\n", sg_router_errmsg(b.r));
    if (!bad) {
        qsort(routed_t, (size_t)reps, sizeof *routed_t, cmp);
        qsort(ryw_t, (size_t)reps, sizeof *ryw_t, cmp);
        printf("routed_us=%.1f ryw_us=%.1f ratio=%.2f to_source=%ld\n", routed_t[reps / 2],
               ryw_t[reps / 2], ryw_t[reps / 2] / routed_t[reps / 2], b.to_source);
    }
    if (m) {
        plain_close(&b.src);
        plain_close(&b.tgt);
    }
    sg_router_close(b.r);
    sg_migration_close(m);
    return bad ? 1 : 0;
}
