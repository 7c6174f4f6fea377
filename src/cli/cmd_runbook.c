/* segue runbook: the migration's plan as a checklist for the team and for
 * auditors, from the spec (sg_migration_rollout_plan) and the control
 * tables (the audit trail, the status): each phase with its command, ticked
 * with when and by whom once done; each read step with its hold and the
 * gates with their real thresholds; the rollback plan and who is paged; the
 * bake. Markdown, or the same as one HTML page (--format html). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segue/gates.h>

#include <segue/drill.h>

#include "cli.h"

/* The last entry with `action` (and, when given, to_phase) after entry
 * `from`; NULL when none. */
static const sg_audit_entry *last_of(const sg_audit_entry *v, size_t n, size_t from,
                                     const char *action, const char *to_phase)
{
    const sg_audit_entry *found = NULL;
    for (size_t i = from; i < n; i++)
        if ((!action || !strcmp(v[i].action, action)) &&
            (!to_phase || (v[i].to_phase && !strcmp(v[i].to_phase, to_phase))))
            found = &v[i];
    return found;
}

/* Where the current attempt began: after the last rollback. */
static size_t attempt_start(const sg_audit_entry *v, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].action, "rollback"))
            from = i + 1;
    return from;
}

/* The cutover_reads entry that set reads to pct, in this attempt. */
static const sg_audit_entry *step_taken(const sg_audit_entry *v, size_t n, size_t from,
                                        int64_t pct)
{
    char to[32];
    snprintf(to, sizeof to, "-> %lld%%", (long long)pct);
    const sg_audit_entry *found = NULL;
    for (size_t i = from; i < n; i++)
        if (!strcmp(v[i].action, "cutover_reads") && v[i].detail) {
            const char *at = strstr(v[i].detail, to);
            if (at && at[strlen(to)] == '\0')
                found = &v[i];
        }
    return found;
}

static void tick(FILE *f, const sg_audit_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tick(FILE *f, const sg_audit_entry *e, const char *fmt, ...)
{
    va_list ap;
    fprintf(f, "- [%c] ", e ? 'x' : ' ');
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (e)
        fprintf(f, " — done %s by %s", e->at, e->who ? e->who : "?");
    fputc('\n', f);
}

static void phases(FILE *f, const char *spec, const sg_rollout_plan *p,
                   const sg_audit_entry *v, size_t n)
{
    size_t from = attempt_start(v, n);
    fprintf(f, "## Checklist\n\n");
    tick(f, last_of(v, n, 0, "start", NULL), "start: capture on, target made — "
         "`segue start %s`", spec);
    tick(f, last_of(v, n, 0, NULL, "backfilled"), "backfill: history copied — "
         "`segue run %s` (the worker; it also applies changes until cleanup)", spec);
    tick(f, last_of(v, n, 0, NULL, "verified"), "verify: target equals the mapping "
         "of the source — `segue verify %s`", spec);
    for (size_t i = 0; i < p->n_steps; i++) {
        char hold[32];
        cli_span(hold, sizeof hold, p->steps[i].hold_ms);
        tick(f, step_taken(v, n, from, p->steps[i].pct), "read step %zu: %lld %% of "
             "reads to the target, then %s with every gate passing — %s", i + 1,
             (long long)p->steps[i].pct, hold, p->automatic ? "taken by `segue run`"
             : "`segue cutover SPEC --reads N`");
    }
    if (!p->n_steps)
        tick(f, step_taken(v, n, from, 100), "reads: 100 %% to the target — "
             "`segue cutover %s --reads 100` in steps", spec);
    tick(f, last_of(v, n, from, "cutover_writes", NULL), "writes to the target — %s",
         p->writes_auto ? "moved by `segue run` within the fence limit"
                        : "`segue cutover SPEC --writes`");
    if (p->bake_ms) {
        char bake[32];
        cli_span(bake, sizeof bake, p->bake_ms);
        tick(f, last_of(v, n, from, "bake", NULL), "bake %s: the source stays "
             "current; cleanup waits", bake);
    }
    tick(f, last_of(v, n, from, NULL, "cleaned"), "cleanup — `segue cleanup %s`", spec);
}

static void gates(FILE *f, const sg_rollout_plan *p)
{
    char every[32];
    cli_span(every, sizeof every, p->interval_ms);
    fprintf(f, "\n## Gates\n\nEvaluated every %s; %lld failing evaluations "
            "in a row %s. A step needs every gate passing for its whole hold; too "
            "few samples hold it.\n\n| gate | thresholds | when |\n|---|---|---|\n",
            every, (long long)p->failure_limit,
            strcmp(p->on_fail, "pause") ? "roll back" : "pause the rollout");
    for (size_t i = 0; i < p->n_checks; i++)
        fprintf(f, "| %s | %s | %s |\n", p->checks[i].name, p->checks[i].params,
                p->checks[i].reads_only ? "read steps" : "every step");
}

/* The last drill's figures, or "none recorded" with how to run one. */
static void last_drill(FILE *f, sg_migration *m, const char *spec)
{
    sg_drill_report r;
    bool found = false;
    if (sg_migration_last_drill(&r, &found, m) || !found) {
        fprintf(f, "- Last drill: none recorded — `segue drill %s` rehearses the "
                "rollback\n", spec);
        return;
    }
    char at[40];
    cli_iso_ms(at, sizeof at, r.finished_ms);
    fprintf(f, "- Last drill: %s\n", at);
    cli_drill_text(f, "  ", &r);
}

static void rollback_plan(FILE *f, sg_migration *m, const char *spec,
                          const sg_rollout_plan *p, const sg_audit_entry *v, size_t n)
{
    fprintf(f, "\n## Rollback\n\n- By hand: `segue rollback %s` routes reads and "
            "writes back to the source; after the write cutover the reverse path "
            "has kept the source current, so no write is lost.\n", spec);
    if (p->automatic)
        fprintf(f, "- By itself: `segue run` %s when a gate fails as above.\n",
                strcmp(p->on_fail, "pause") ? "rolls back" : "pauses");
    if (p->command)
        fprintf(f, "- Pages: runs `%s`\n", p->command);
    if (p->webhook)
        fprintf(f, "- Pages: POSTs an alert to %s\n", p->webhook);
    if (!p->command && !p->webhook)
        fprintf(f, "- Pages: nobody (no on_rollback in the spec)\n");
    const sg_audit_entry *r = last_of(v, n, 0, "rollback", NULL);
    fprintf(f, "- Last rollback: %s%s%s\n", r ? r->at : "none", r && r->reason ? " — "
            : "", r && r->reason ? r->reason : "");
    last_drill(f, m, spec);
}

/* The runbook as Markdown on f. */
static void markdown(FILE *f, sg_migration *m, const char *spec, const sg_rollout_plan *p,
                     const sg_audit_entry *v, size_t n)
{
    sg_status st;
    bool known = sg_migration_status(&st, m) == 0;
    fprintf(f, "# Runbook: migration %s\n\nSpec `%s`; phase **%s**; gate "
            "configuration %s.\n\n", sg_migration_name(m), spec,
            known ? sg_phase_name(st.phase) : "unknown", p->gates_hash);
    phases(f, spec, p, v, n);
    gates(f, p);
    rollback_plan(f, m, spec, p, v, n);
}

/* Text made safe inside HTML; `code` and **bold** marked up. */
static void escaped(FILE *f, const char *s, size_t len)
{
    bool code = false, bold = false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '`') {
            fputs((code = !code) ? "<code>" : "</code>", f);
        } else if (!code && s[i] == '*' && i + 1 < len && s[i + 1] == '*') {
            fputs((bold = !bold) ? "<b>" : "</b>", f);
            i++;
        } else switch (s[i]) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(s[i], f);
        }
}

/* The Markdown above as one page: headings, checklist items, table rows,
 * paragraphs; nothing loaded from anywhere. */
static void html(FILE *f, const char *md)
{
    fputs("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>segue runbook"
          "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
          "td,th{border:1px solid #ccc;padding:.2em .5em}table{border-collapse:"
          "collapse}li{list-style:none}</style></head><body>\n", f);
    for (const char *line = md; *line;) {
        size_t len = strcspn(line, "\n");
        if (!strncmp(line, "# ", 2) || !strncmp(line, "## ", 3)) {
            int h = line[1] == '#' ? 2 : 1;
            fprintf(f, "<h%d>", h);
            escaped(f, line + h + 1, len - (size_t)h - 1);
            fprintf(f, "</h%d>\n", h);
        } else if (!strncmp(line, "- [", 3) && len > 5) {
            fprintf(f, "<li><input type=\"checkbox\" disabled%s> ", line[3] == 'x'
                    ? " checked" : "");
            escaped(f, line + 6, len - 6);
            fputs("</li>\n", f);
        } else if (line[0] == '|' && strncmp(line, "|---", 4)) {
            fputs("<table><tr>", f);
            for (const char *c = line + 1; c < line + len;) {
                size_t w = strcspn(c, "|\n");
                fputs("<td>", f);
                escaped(f, c, w);
                fputs("</td>", f);
                c += w + 1;
            }
            fputs("</tr></table>\n", f);
        } else if (len && strncmp(line, "|---", 4)) {
            fputs("<p>", f);
            escaped(f, line, len);
            fputs("</p>\n", f);
        }
        line += len + (line[len] == '\n');
    }
    fputs("</body></html>\n", f);
}

CMD(runbook)
{
    const char *fmt = cli_get(c, a, "format");
    if (fmt && strcmp(fmt, "md") && strcmp(fmt, "html")) {
        fprintf(stderr, "segue runbook: --format '%s' is neither md nor html\n", fmt);
        return EXIT_USAGE;
    }
    sg_migration *m = NULL;
    sg_rollout_plan *p = NULL;
    sg_audit_entry *v = NULL;
    size_t n = 0;
    char *md = NULL;
    size_t md_len = 0;
    int code = cli_open(a, &m);
    if (code)
        return code;
    int rc = sg_migration_rollout_plan(&p, m);
    if (!rc)
        rc = sg_migration_audit(&v, &n, m, NULL);
    FILE *f = rc ? NULL : open_memstream(&md, &md_len);
    if (rc || !f) {
        code = cli_fail("runbook", rc ? rc : SG_ENOMEM, sg_migration_errmsg(m));
    } else {
        markdown(f, m, a->spec, p, v, n);
        fclose(f);
        if (fmt && !strcmp(fmt, "html"))
            html(stdout, md);
        else
            fputs(md, stdout);
    }
    free(md);
    sg_audit_free(v, n);
    sg_rollout_plan_free(p);
    sg_migration_close(m);
    return code;
}
