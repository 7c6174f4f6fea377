/* The phase table (DESIGN.md "Phases"): for each command that moves a
 * migration, the phases it may start from and the phase it moves to.
 *
 * Every such command checks the phase twice: early, before any long work
 * (sg_phase_check), and again inside the transaction that acts, with the
 * migration's row locked (sg_phase_lock); the move itself is a
 * compare-and-set (sg_control_transition updates exactly one row or fails).
 * Of two commands run at once, one wins and the other is refused with the
 * phase it found. */
#ifndef SEGUE_PHASE_H
#define SEGUE_PHASE_H

#include "internal.h"

typedef enum sg_cmd {
    SG_CMD_START = 0,
    SG_CMD_BACKFILL,     /* the first chunk: started -> backfilling */
    SG_CMD_BACKFILLED,   /* the last chunk: backfilling -> backfilled */
    SG_CMD_VERIFY,       /* clean: backfilled -> verified; differences that
                          * persist: verified or shadowing -> backfilled */
    SG_CMD_READS,        /* cutover --reads */
    SG_CMD_WRITES,       /* cutover --writes */
    SG_CMD_ROLLBACK,
    SG_CMD_CLEANUP,
    SG_CMD_ABORT,
    SG_CMD_SHADOW,       /* shadow reads compared: verified -> shadowing */
    SG_CMD_BAKE,         /* the write cutover with cutover.bake:
                          * writes_switched -> baking */
    SG_CMD_COUNT
} sg_cmd;

/* One bit per phase, for sg_rule.from. */
#define SG_PH(p) (1u << (unsigned)(p))

typedef struct sg_rule {
    const char *name;    /* the command as typed: "cutover --writes" */
    const char *action;  /* its name in the audit log: "cutover_writes" */
    unsigned from;       /* SG_PH() bits: the phases it may start from */
    int to;              /* the phase it moves to; -1: it decides (verify) */
} sg_rule;

/* The rule of a command. Static. */
const sg_rule *sg_rule_of(sg_cmd cmd);

/* Outside a transaction: reads the phase into *out and checks that `cmd`
 * may start from it. SG_ESTATE names the command, the phase found and the
 * phases it needs. */
int sg_phase_check(sg_migration *m, sg_cmd cmd, sg_phase *out);

/* Inside the caller's write transaction on the target: the same, with the
 * migration's row locked until the transaction ends, so no other command
 * moves the phase in between (PostgreSQL: SELECT ... FOR UPDATE; SQLite:
 * the write transaction already excludes every other writer). */
int sg_phase_lock(sg_migration *m, sg_cmd cmd, sg_phase *out);

/* Inside the caller's target write transaction, after sg_phase_lock: moves
 * the migration from `from` to the phase the rule of cmd names
 * (sg_control_transition, audited under the rule's action). */
int sg_phase_move(sg_migration *m, sg_cmd cmd, sg_phase from, const char *detail,
                  const char *reason);

#endif
