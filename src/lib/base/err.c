#include "base/err.h"

#include <segue/segue.h>
#include <stdio.h>
#include <string.h>

int sg_err_vset(sg_err *e, int code, const char *fmt, va_list ap)
{
    e->code = code;
    e->transient = false;
    e->data = false;
    e->unique = false;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return code;
}

int sg_err_set(sg_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_err_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

void sg_err_prefix(sg_err *e, const char *fmt, ...)
{
    char head[512];
    char old[SG_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t hl = strlen(head), ol = strnlen(old, sizeof old - 1);
    if (hl > sizeof e->msg - 1)
        hl = sizeof e->msg - 1;
    if (ol > sizeof e->msg - 1 - hl)
        ol = sizeof e->msg - 1 - hl;
    memcpy(e->msg, head, hl);
    memcpy(e->msg + hl, old, ol);
    e->msg[hl + ol] = '\0';
}

void sg_err_clear(sg_err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

const char *sg_error_name(int code)
{
    switch (code) {
    case SG_OK: return "ok";
    case SG_ENOMEM: return "out of memory";
    case SG_EINVAL: return "invalid argument";
    case SG_ESPEC: return "spec";
    case SG_EDB: return "database";
    case SG_ESTATE: return "state";
    case SG_EBUSY: return "busy";
    case SG_EDIFF: return "differences";
    case SG_ENOTSUP: return "not supported";
    case SG_ESTOPPED: return "stopped";
    case SG_EFORMAT: return "format";
    default: return "error";
    }
}
