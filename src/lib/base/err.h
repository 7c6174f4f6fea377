/* Error state kept on a handle: an sg_error code and a designed message
 * (what was being done, which endpoint, SQLSTATE, hint). */
#ifndef SEGUE_ERR_H
#define SEGUE_ERR_H

#include <stdarg.h>
#include <stdbool.h>

#define SG_ERRMSG_MAX 2048

typedef struct sg_err {
    int code;                 /* 0 or a negative sg_error */
    bool transient;           /* the database may accept the same work again
                               * (deadlock, serialization, lock timeout) */
    bool data;                /* the database refused the values themselves
                               * (a constraint, a type, a range): the row's
                               * fault, not the schema's or the session's */
    bool unique;              /* of those, a unique index other than the key
                               * refused a value another row holds */
    char msg[SG_ERRMSG_MAX];  /* NUL-terminated, truncated to fit */
} sg_err;

/* Sets code and message; returns code so callers can `return sg_err_set(..)`. */
int sg_err_set(sg_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sg_err_vset(sg_err *e, int code, const char *fmt, va_list ap);
/* Prepends context ("starting migration 'x': ") to the current message. */
void sg_err_prefix(sg_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sg_err_clear(sg_err *e);

#endif
