/* A growing text for the service's pages (metrics, dashboard). */
#ifndef SEGUE_HTTP_TEXT_H
#define SEGUE_HTTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_text {
    char *p;
    size_t len, cap;
    bool oom;             /* a growth failed: the text is cut */
} http_text;

/* Appends printf-style; on out of memory sets oom and drops the piece. */
void http_text_add(http_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with \, " and newlines escaped as a Prometheus label value. */
void http_text_label(http_text *t, const char *s);
void http_text_free(http_text *t);

#endif
