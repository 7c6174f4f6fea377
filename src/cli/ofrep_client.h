/* A small OFREP client (libcurl): one flag evaluated over HTTP the way an
 * OpenFeature SDK's OFREP provider does it, for the demo's live writer. */
#ifndef SEGUE_OFREP_CLIENT_H
#define SEGUE_OFREP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ofrep_client ofrep_client;

/* A client of the service at base_url ("http://127.0.0.1:8321"); NULL when
 * out of memory. */
ofrep_client *ofrep_client_new(const char *base_url);
void ofrep_client_free(ofrep_client *c);
/* Evaluates flag `key` for targeting key `tkey` (may be NULL): its value
 * as text ("true", "source") in value. False with the reason (the error
 * code and details, or the transport's error) in value. */
bool ofrep_evaluate(ofrep_client *c, const char *key, const char *tkey, char *value,
                    size_t len);

#endif
