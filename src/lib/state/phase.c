/* The phase table and the two phase checks every moving command makes. */
#include "state/phase.h"

#include <stdio.h>

#include "state/control.h"

#define BEFORE_WRITES (SG_PH(SG_PHASE_STARTED) | SG_PH(SG_PHASE_BACKFILLING) |   \
                       SG_PH(SG_PHASE_BACKFILLED) | SG_PH(SG_PHASE_VERIFIED) |   \
                       SG_PH(SG_PHASE_SHADOWING) | SG_PH(SG_PHASE_READS_SHIFTING))

static const sg_rule rules[SG_CMD_COUNT] = {
    [SG_CMD_START] = { "start", "start", SG_PH(SG_PHASE_PLANNED) | SG_PH(SG_PHASE_CLEANED),
                       SG_PHASE_STARTED },
    [SG_CMD_BACKFILL] = { "backfill", "backfill", SG_PH(SG_PHASE_STARTED),
                          SG_PHASE_BACKFILLING },
    [SG_CMD_BACKFILLED] = { "backfill", "backfill", SG_PH(SG_PHASE_BACKFILLING),
                            SG_PHASE_BACKFILLED },
    [SG_CMD_VERIFY] = { "verify", "verify", SG_PH(SG_PHASE_BACKFILLED) |
                        SG_PH(SG_PHASE_VERIFIED) | SG_PH(SG_PHASE_SHADOWING) |
                        SG_PH(SG_PHASE_READS_SHIFTING), -1 },
    [SG_CMD_READS] = { "cutover --reads", "cutover_reads", SG_PH(SG_PHASE_VERIFIED) |
                       SG_PH(SG_PHASE_SHADOWING) | SG_PH(SG_PHASE_READS_SHIFTING),
                       SG_PHASE_READS_SHIFTING },
    [SG_CMD_WRITES] = { "cutover --writes", "cutover_writes",
                        SG_PH(SG_PHASE_READS_SHIFTING), SG_PHASE_WRITES_SWITCHED },
    [SG_CMD_ROLLBACK] = { "rollback", "rollback", SG_PH(SG_PHASE_SHADOWING) |
                          SG_PH(SG_PHASE_READS_SHIFTING) |
                          SG_PH(SG_PHASE_WRITES_SWITCHED) | SG_PH(SG_PHASE_BAKING),
                          SG_PHASE_VERIFIED },
    [SG_CMD_CLEANUP] = { "cleanup", "cleanup", SG_PH(SG_PHASE_WRITES_SWITCHED) |
                         SG_PH(SG_PHASE_BAKING), SG_PHASE_CLEANED },
    [SG_CMD_ABORT] = { "abort", "abort", BEFORE_WRITES, SG_PHASE_PLANNED },
    [SG_CMD_SHADOW] = { "shadow", "shadow", SG_PH(SG_PHASE_VERIFIED), SG_PHASE_SHADOWING },
    [SG_CMD_BAKE] = { "bake", "bake", SG_PH(SG_PHASE_WRITES_SWITCHED), SG_PHASE_BAKING },
};

const sg_rule *sg_rule_of(sg_cmd cmd)
{
    return (unsigned)cmd < SG_CMD_COUNT ? &rules[cmd] : &rules[0];
}

/* SG_ESTATE naming the command, the phase found and the phases it needs. */
static int refuse(sg_migration *m, const sg_rule *r, sg_phase found)
{
    char list[256] = "";
    size_t used = 0;
    for (int p = SG_PHASE_PLANNED; p <= SG_PHASE_CLEANED && used < sizeof list; p++) {
        if (!(r->from & SG_PH(p)))
            continue;
        int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                         sg_phase_name((sg_phase)p));
        used += w > 0 ? (size_t)w : 0;
    }
    return sg_err_set(&m->err, SG_ESTATE,
                      "cannot %s: migration '%s' is %s; hint: %s is allowed "
                      "when the migration is %s (see `segue status`)", r->name,
                      m->spec->name, sg_phase_name(found), r->name, list);
}

static int read_and_check(sg_migration *m, sg_cmd cmd, bool lock, sg_phase *out)
{
    const sg_rule *r = sg_rule_of(cmd);
    int rc = lock ? sg_control_phase_locked(m, out) : sg_control_phase(m, out);
    if (!rc && !(r->from & SG_PH(*out)))
        rc = refuse(m, r, *out);
    return rc;
}

int sg_phase_check(sg_migration *m, sg_cmd cmd, sg_phase *out)
{
    return read_and_check(m, cmd, false, out);
}

int sg_phase_lock(sg_migration *m, sg_cmd cmd, sg_phase *out)
{
    return read_and_check(m, cmd, true, out);
}

int sg_phase_move(sg_migration *m, sg_cmd cmd, sg_phase from, const char *detail,
                  const char *reason)
{
    const sg_rule *r = sg_rule_of(cmd);
    return sg_control_transition(m, from, (sg_phase)r->to, r->action, detail, reason);
}
