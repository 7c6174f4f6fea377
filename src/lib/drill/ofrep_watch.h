/* How the drill times the OFREP service: its bulk evaluation (POST
 * /ofrep/v1/evaluate/flags) asked as an OpenFeature SDK's OFREP provider
 * asks it, with the last ETag in If-None-Match, for one targeting key. */
#ifndef SEGUE_DRILL_OFREP_WATCH_H
#define SEGUE_DRILL_OFREP_WATCH_H

#include <stdbool.h>

#include "base/err.h"

typedef struct sg_ofrep_watch sg_ofrep_watch;

/* A watch of migration `name`'s flags at base_url for targeting key tkey
 * (copied). *out is the caller's (sg_ofrep_watch_free). SG_ENOMEM. */
int sg_ofrep_watch_open(sg_ofrep_watch **out, const char *base_url, const char *name,
                        const char *tkey, sg_err *e);
/* One bulk evaluation: *changed when it answered a new ETag (not 304);
 * then *reads_target is the reads flag for the key and *writes_target
 * whether the writes flag says "target". SG_EDB with the reason (no
 * answer, an HTTP error, a body without the flags). */
int sg_ofrep_watch_poll(sg_ofrep_watch *w, bool *changed, bool *reads_target,
                        bool *writes_target, sg_err *e);
void sg_ofrep_watch_free(sg_ofrep_watch *w);

#endif
