/* Write switches (cutover --writes, rollback) that span two databases. */
#ifndef SEGUE_CUTOVER_H
#define SEGUE_CUTOVER_H

#include "internal.h"

/* Finishes a write cutover or rollback whose second commit was lost (a
 * crash between the commits on the target and on the source), from the
 * record the first commit left in the control tables; does nothing when
 * there is none. Cheap when nothing is pending: one read. Called by the
 * worker every round and by every command that changes the phase. */
int sg_switch_recover(sg_migration *m);

/* Inside write transactions: holds off application writers of the source
 * tables (source_tables) or of the target tables on connection c until
 * commit (DESIGN.md item 8). */
int sg_fence(sg_migration *m, sg_conn *c, bool source_tables);

#endif
