#include "cli.h"
#include <stdio.h>
CMD(demo)
{
    (void)c; (void)a;
    fprintf(stderr, "segue demo: not built yet\n");
    return EXIT_FAIL;
}
