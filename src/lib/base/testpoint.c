#include "base/testpoint.h"

#include <stddef.h>

void (*sg_test_hook)(const char *where);

void sg_test_point(const char *where)
{
    if (sg_test_hook)
        sg_test_hook(where);
}

bool (*sg_test_fault)(const char *where);

bool sg_test_faulty(const char *where)
{
    return sg_test_fault && sg_test_fault(where);
}
