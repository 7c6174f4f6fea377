/* cutover.segments for the routers (docs/spec.md "Gates and the rollout"):
 * the worker publishes the spec's segments into the control table
 * read_rules (breaker.h); the C API's router reads them with the routing,
 * `segue serve` takes them from its router. A segment decides a read
 * before the percentage: the first whose attribute, in the request's
 * context, has one of its values. */
#ifndef SEGUE_SEGMENTS_H
#define SEGUE_SEGMENTS_H

#include <segue/segue.h>

#include "internal.h"

/* The spec's segments as the worker publishes them (JSON text; NULL column
 * when the spec has none), in read_rules. Errors: SG_EDB, SG_ENOMEM. */
int sg_segments_publish(sg_migration *m);
/* The published JSON text of migration `name` on control connection c:
 * *json (caller frees) NULL when none. Reads only. */
int sg_segments_load(sg_conn *c, const char *name, char **json, sg_err *err);
/* Segments from that text; NULL when the text is NULL or not segments. */
sg_segments *sg_segments_parse(const char *json);

#endif
