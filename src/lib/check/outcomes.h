/* Application outcomes held in memory per minute, query type and side,
 * then added to the control tables (segue/outcomes.h). Used by the router
 * (sg_router_report) and read back by sg_migration_outcomes. */
#ifndef SEGUE_CHECK_OUTCOMES_H
#define SEGUE_CHECK_OUTCOMES_H

#include <segue/outcomes.h>

#include "base/err.h"
#include "driver/driver.h"

typedef struct sg_outcome_agg sg_outcome_agg;

/* Counts one outcome into *a (made on first use). Errors: SG_ENOMEM, or
 * SG_EDB when the cap of held entries is reached (the report is dropped
 * and counted). */
int sg_outcome_add(sg_outcome_agg **a, int side, const char *kind, bool ok, int64_t us,
                   sg_err *err);
/* Whether a flush is due: many entries held, or a second since the last. */
bool sg_outcome_due(const sg_outcome_agg *a);
/* Adds what is held to the control tables on c (a connection that may
 * write) in one transaction; on success nothing is held any more. */
int sg_outcome_flush(sg_outcome_agg *a, sg_conn *c, const char *migration, sg_err *err);
void sg_outcome_counts(const sg_outcome_agg *a, int64_t *held, int64_t *dropped);
void sg_outcome_free(sg_outcome_agg *a);
/* The outcomes of minutes since .. until - 1 (minutes since the epoch;
 * until INT64_MAX: no end). */
int sg_outcome_read(sg_conn *c, const char *migration, int64_t since, int64_t until,
                    sg_outcome **out, size_t *n, sg_err *err);

#endif
