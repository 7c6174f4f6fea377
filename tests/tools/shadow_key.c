/* Test tool: the C API's shadow read by key, as an application would call
 * it: keys FIRST..LAST of TABLE, each compared (sg_shadow_key) and, with
 * --record, recorded and flushed at the end. Prints the count of each
 * outcome ("match=N mismatch=N ...") and exits 0, or 1 on an error.
 *
 *   shadow_key [--record] SPEC TABLE FIRST LAST */
#include <segue/segue.h>
#include <segue/shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int a = 1;
    bool keep = argc > 1 && !strcmp(argv[1], "--record");
    a += keep;
    if (argc - a != 4) {
        fprintf(stderr, "usage: shadow_key [--record] SPEC TABLE FIRST LAST\n");
        return 2;
    }
    long first = strtol(argv[a + 2], NULL, 10), last = strtol(argv[a + 3], NULL, 10);
    sg_migration *m = NULL;
    int64_t n[SG_SHADOW_KINDS] = { 0 };
    int rc = sg_migration_open(&m, argv[a]);
    for (long k = first; !rc && k <= last; k++) {
        char key[32];
        const char *keys[1] = { key };
        snprintf(key, sizeof key, "%ld", k);
        sg_shadow_result r;
        rc = sg_shadow_key(&r, m, argv[a + 1], 1, keys);
        if (!rc) {
            n[r.kind]++;
            if (r.kind == SG_SHADOW_MISMATCH)
                fprintf(stderr, "mismatch at %ld: %s\n", k, r.detail);
            if (keep)
                rc = sg_shadow_record(m, NULL, &r);
        }
        sg_shadow_result_clear(&r);
    }
    if (!rc && keep)
        rc = sg_shadow_flush(m);
    if (rc)
        fprintf(stderr, "shadow_key: %s\n", sg_migration_errmsg(m));
    for (int i = 0; i < SG_SHADOW_KINDS; i++)
        printf("%s%s=%lld", i ? " " : "", sg_shadow_kind_name((sg_shadow_kind)i), (long long)n[i]);
    printf("\n");
    sg_migration_close(m);
    return rc ? 1 : 0;
}
