/* Test tool: runs a write switch and SIGKILLs itself at a named point
 * between its two commits, to test that the next command finishes it.
 *
 *   crashpoint SPEC POINT cutover|rollback
 *
 * POINT is one of the names in src/lib/cutover.h. Exits 0 when the switch
 * completed without reaching POINT, 1 on an error; a kill shows as 137. */
#include <segue/segue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cutover.h"

static const char *point;

static void maybe_crash(const char *where)
{
    if (strcmp(where, point) == 0)
        raise(SIGKILL);
}

int main(int argc, char **argv)
{
    sg_migration *m = NULL;
    if (argc != 4 || (strcmp(argv[3], "cutover") && strcmp(argv[3], "rollback"))) {
        fprintf(stderr, "usage: crashpoint SPEC POINT cutover|rollback\n");
        return 2;
    }
    point = argv[2];
    sg_crash_point = maybe_crash;
    int rc = sg_migration_open(&m, argv[1]);
    if (!rc)
        rc = strcmp(argv[3], "cutover") == 0 ? sg_cutover_writes(m, "crash test", NULL)
                                             : sg_migration_rollback(m, "crash test");
    if (rc)
        fprintf(stderr, "crashpoint: %s\n", m ? sg_migration_errmsg(m) : "out of memory");
    sg_migration_close(m);
    return rc ? 1 : 0;
}
