#include "base/testpoint.h"

#include <stddef.h>

void (*sg_test_hook)(const char *where);

void sg_test_point(const char *where)
{
    if (sg_test_hook)
        sg_test_hook(where);
}
