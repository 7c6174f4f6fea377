/* Growable byte buffer with a size cap and a sticky error.
 *
 * Every append is bounded; once an append fails (cap reached or out of
 * memory) the buffer stays failed and further appends are no-ops, so a caller
 * can build a whole statement and check sg_buf_failed() once at the end.
 * The idea follows curl's dynbuf and libpq's PQExpBuffer. */
#ifndef SEGUE_BUF_H
#define SEGUE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Default cap of a buffer: 64 MiB, far above any statement or key segue
 * builds; a row value larger than this is refused, never truncated. */
#define SG_BUF_DEFAULT_CAP ((size_t)64 << 20)

typedef struct sg_buf {
    char *data;    /* owned; always NUL-terminated when len > 0 or after init */
    size_t len;    /* bytes used, excluding the terminating NUL */
    size_t alloc;  /* bytes allocated */
    size_t cap;    /* maximum len allowed */
    bool failed;   /* sticky: an append did not fit or allocation failed */
} sg_buf;

#define SG_BUF_INIT { NULL, 0, 0, SG_BUF_DEFAULT_CAP, false }

void sg_buf_init(sg_buf *b);
void sg_buf_free(sg_buf *b);
/* Empties the buffer but keeps its memory; clears the sticky error. */
void sg_buf_reset(sg_buf *b);
void sg_buf_putn(sg_buf *b, const void *p, size_t n);
void sg_buf_puts(sg_buf *b, const char *s);
void sg_buf_putc(sg_buf *b, char c);
void sg_buf_printf(sg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sg_buf_vprintf(sg_buf *b, const char *fmt, va_list ap);
/* Returns the text (never NULL: "" for an empty buffer). Borrowed: valid
 * until the next append, reset or free. */
const char *sg_buf_str(const sg_buf *b);
bool sg_buf_failed(const sg_buf *b);
/* Moves the contents out: the caller owns the returned string and frees it
 * with free(); the buffer is left empty. Returns NULL if the buffer failed. */
char *sg_buf_take(sg_buf *b);

#endif
