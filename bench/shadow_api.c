/* The C API's cost (bench/pg.sh part shadow_api, bench/run.sh): a point
 * read shadowed with sg_shadow_key against the two plain reads an
 * application would otherwise make (the old row on the source, the new
 * row on the target, each a prepared statement reused), the sides taking
 * turns (which goes first alternates: the second finds the rows cached),
 * medians of REPS rounds of N reads.
 *
 *   shadow_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N REPS
 *
 * SRC_SQL and TGT_SQL read one row by a key parameter ($1 on PostgreSQL,
 * ?1 on SQLite); keys are drawn from 1..KEYS, the same ones on both sides.
 * URIs: sqlite:PATH or a libpq connection URI. Prints one line:
 * plain_us=.. shadow_us=.. ratio=.. (µs per read, median). */
#include <segue/segue.h>
#include <segue/shadow.h>

#include "point_read.h"

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: shadow_api SPEC TABLE SRC_URI SRC_SQL TGT_URI TGT_SQL KEYS N "
                        "REPS\n");
        return 2;
    }
    long keys = strtol(argv[7], NULL, 10), n = strtol(argv[8], NULL, 10);
    int reps = (int)strtol(argv[9], NULL, 10);
    if (keys < 1 || n < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "shadow_api: KEYS and N above 0, REPS 1..%d\n", MAX_REPS);
        return 2;
    }
    sg_migration *m = NULL;
    plain src, tgt;
    double plain_t[MAX_REPS], shadow_t[MAX_REPS];
    int64_t kinds[SG_SHADOW_KINDS] = { 0 };
    int bad = sg_migration_open(&m, argv[1]);
    if (bad)
        fprintf(stderr, "shadow_api: %s\n", sg_migration_errmsg(m));
    if (!bad && (plain_open(&src, argv[3], argv[4], "s") ||
                 plain_open(&tgt, argv[5], argv[6], "t"))) {
        fprintf(stderr, "shadow_api: cannot open or prepare the plain reads\n");
        bad = 1;
    }
    /* each round reads its own keys twice, one side after the other, the
     * side going first taking turns (the second finds the rows cached) */
    for (int r = 0; !bad && r < reps * 2; r++) {
        bool shadowed = (r % 2) != (r / 2 % 2);
        uint64_t seed = 88172645463325252u + (uint64_t)(r / 2);
        double t0 = now_us();
        for (long i = 0; !bad && !shadowed && i < n; i++) {
            long k = key_at(&seed, keys);
            bad = plain_read(&src, k) || plain_read(&tgt, k);
        }
        if (!shadowed) {
            plain_t[r / 2] = (now_us() - t0) / (double)n;
            continue;
        }
        for (long i = 0; !bad && i < n; i++) {
            char key[32];
            const char *kv[1] = { key };
            snprintf(key, sizeof key, "%ld", key_at(&seed, keys));
            sg_shadow_result res;
            bad = sg_shadow_key(&res, m, argv[2], 1, kv);
            if (!bad)
                kinds[res.kind]++;
            sg_shadow_result_clear(&res);
        }
        shadow_t[r / 2] = (now_us() - t0) / (double)n;
    }
    if (bad && m && sg_migration_errmsg(m)[0])
        fprintf(stderr, "shadow_api: %s\n", sg_migration_errmsg(m));
    if (!bad) {
        qsort(plain_t, (size_t)reps, sizeof *plain_t, cmp);
        qsort(shadow_t, (size_t)reps, sizeof *shadow_t, cmp);
        printf("plain_us=%.1f shadow_us=%.1f ratio=%.2f match=%lld other=%lld\n",
               plain_t[reps / 2], shadow_t[reps / 2], shadow_t[reps / 2] / plain_t[reps / 2],
               (long long)kinds[SG_SHADOW_MATCH],
               (long long)(n * reps - kinds[SG_SHADOW_MATCH]));
    }
    if (m) {
        plain_close(&src);
        plain_close(&tgt);
    }
    sg_migration_close(m);
    return bad ? 1 : 0;
}
