/* segue: command table, option parsing and help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COMMON \
    { "json", NULL, "print the result as JSON on stdout" }, \
    { "reason", "TEXT", "why, for the audit log" }, \
    { "actor", "WHO", "who acts, for the audit log (default $USER@host)" }

static const cli_opt o_plain[] = { COMMON, { NULL, NULL, NULL } };
static const cli_opt o_backfill[] = { COMMON,
    { "max-chunks", "N", "stop after N chunks (the rest resumes later)" },
    { NULL, NULL, NULL } };
static const cli_opt o_run[] = { COMMON,
    { "until", "WHEN", "exit when WHEN holds; caught-up: backfill complete and "
                       "no change pending" },
    { "wait", NULL, "wait for the worker lease instead of failing" },
    { NULL, NULL, NULL } };
static const cli_opt o_verify[] = { COMMON,
    { "repair", NULL, "re-sync the keys that differ, then check them again" },
    { "chunk-rows", "N", "rows per checksum chunk (default 10000)" },
    { "max-keys", "N", "list at most N differing keys (default 100; all are counted)" },
    { NULL, NULL, NULL } };
static const cli_opt o_cutover[] = { COMMON,
    { "reads", "PCT", "route PCT percent of reads (0..100) to the target" },
    { "writes", NULL, "switch writes to the target (fence, drain, flip)" },
    { "force", NULL, "pass refused gates for this step (needs --reason; audited)" },
    { "no-rollback", NULL, "switch writes although a mapping says reverse: none" },
    { NULL, NULL, NULL } };
static const cli_opt o_cleanup[] = { COMMON,
    { "drop-source", NULL, "also drop the old source tables" },
    { "purge", NULL, "also delete the migration's audit history" },
    { NULL, NULL, NULL } };
static const cli_opt o_log[] = {
    { "json", NULL, "print the entries as a JSON array on stdout" },
    { "since", "WHEN", "only entries from WHEN: a UTC time (2026-12-02T13:30) "
                       "or a duration back from now (30m, 2h, 7d)" },
    { NULL, NULL, NULL } };
static const cli_opt o_demo[] = {
    { "json", NULL, "print the report as JSON on stdout" },
    { "dir", "DIR", "scratch directory (default: a new one under /tmp)" },
    { "rate", "N", "live writer operations per second (default 200)" },
    { "data", "FILE", "Chinook SQLite file (default ../shared/data/chinook/"
                      "Chinook_Sqlite.sqlite, or $SEGUE_CHINOOK)" },
    { NULL, NULL, NULL } };

static const cli_cmd commands[] = {
    { "plan", "SPEC", "show mappings, target DDL, row counts, warnings; changes nothing",
      o_plain, cmd_plan, true, CLI_READ_ONLY },
    { "start", "SPEC", "create control tables, target tables and capture",
      o_plain, cmd_start, true, CLI_CREATE },
    { "backfill", "SPEC", "copy existing rows in chunks (resumable)", o_backfill,
      cmd_backfill, true, CLI_EXISTING },
    { "run", "SPEC", "the worker: drain changes, do what the phase asks; ends after cleanup", o_run,
      cmd_run, true, CLI_EXISTING },
    { "verify", "SPEC", "prove target == mapping(source); name differing keys",
      o_verify, cmd_verify, true, CLI_EXISTING },
    { "cutover", "SPEC", "move reads (--reads PCT) or writes (--writes) to the target",
      o_cutover, cmd_cutover, true, CLI_EXISTING },
    { "rollback", "SPEC", "route everything back to the source, losing no write",
      o_plain, cmd_rollback, true, CLI_EXISTING },
    { "cleanup", "SPEC", "remove capture and control rows after the write cutover",
      o_cleanup, cmd_cleanup, true, CLI_EXISTING },
    { "abort", "SPEC", "undo everything segue made (before the write cutover)",
      o_plain, cmd_abort, true, CLI_EXISTING },
    { "retry", "SPEC", "put keys set aside back into their changelog once fixed",
      o_plain, cmd_retry, true, CLI_EXISTING },
    { "status", "SPEC", "phase, backfill, pending changes, lag, routing",
      o_plain, cmd_status, true, CLI_READ_ONLY },
    { "route", "SPEC KEY", "where a read for KEY and writes go now", o_plain,
      cmd_route, true, CLI_READ_ONLY },
    { "log", "SPEC", "the audit trail: who did what, when, and why",
      o_log, cmd_log, true, CLI_READ_ONLY },
    { "demo", "", "live migration of Chinook on SQLite with a live writer",
      o_demo, cmd_demo, false, CLI_CREATE },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "segue %s: move live data to a new table, schema or database "
               "with zero downtime\n\nusage: segue COMMAND SPEC [options]\n\n"
               "commands:\n", SEGUE_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`segue COMMAND --help` for a command's options; docs/cli.md "
               "for exit codes.\n");
}

static void command_help(const cli_cmd *c)
{
    printf("usage: segue %s %s [options]\n\n%s\n\noptions:\n", c->name, c->args,
           c->summary);
    for (const cli_opt *o = c->opts; o->name; o++) {
        char left[40];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        printf("  %-22s %s\n", left, o->help);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

static int find_opt(const cli_cmd *c, const char *name)
{
    for (int i = 0; c->opts[i].name; i++)
        if (!strcmp(c->opts[i].name, name))
            return i;
    return -1;
}

const char *cli_get(const cli_cmd *c, const cli_args *a, const char *name)
{
    int i = find_opt(c, name);
    return i >= 0 && a->set[i] ? (a->val[i] ? a->val[i] : "") : NULL;
}

bool cli_has(const cli_cmd *c, const cli_args *a, const char *name)
{
    return cli_get(c, a, name) != NULL;
}

static int parse_one(const cli_cmd *c, cli_args *a, int argc, char **argv, int *i)
{
    char name[64];
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - arg : (long)strlen(arg)), arg);
    int k = find_opt(c, name);
    if (k < 0) {
        fprintf(stderr, "segue %s: unknown option '--%s'; see `segue %s --help`\n",
                c->name, name, c->name);
        return EXIT_USAGE;
    }
    a->set[k] = true;
    if (!c->opts[k].arg) {
        if (eq) {
            fprintf(stderr, "segue %s: option '--%s' takes no value\n", c->name, name);
            return EXIT_USAGE;
        }
        return 0;
    }
    if (eq)
        a->val[k] = eq + 1;
    else if (*i + 1 < argc)
        a->val[k] = argv[++*i];
    else {
        fprintf(stderr, "segue %s: option '--%s' needs a value (%s)\n", c->name,
                name, c->opts[k].arg);
        return EXIT_USAGE;
    }
    return 0;
}

/* How many arguments the synopsis names besides SPEC ("SPEC KEY": 1). */
static int positional(const cli_cmd *c)
{
    int words = 0;
    for (const char *p = c->args; *p; p++)
        words += (p == c->args || p[-1] == ' ') && *p != ' ';
    return words - (c->needs_spec ? 1 : 0);
}

/* One argument that is not an option: the spec, a positional one, or too
 * many. */
static int take_arg(const cli_cmd *c, cli_args *a, const char *arg)
{
    if (c->needs_spec && !a->spec) {
        a->spec = arg;
        return 0;
    }
    if (a->n_pos < positional(c) && a->n_pos < 4) {
        a->pos[a->n_pos++] = arg;
        return 0;
    }
    fprintf(stderr, "segue %s: unexpected argument '%s'; usage: segue %s %s [options]\n",
            c->name, arg, c->name, c->args);
    return EXIT_USAGE;
}

static int parse(const cli_cmd *c, cli_args *a, int argc, char **argv)
{
    bool options = true;
    for (int i = 2; i < argc; i++) {
        int rc = 0;
        if (options && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
            command_help(c);
            return -1;
        }
        if (options && !strcmp(argv[i], "--")) {
            options = false; /* what follows is arguments, even "-x" */
        } else if (options && !strncmp(argv[i], "--", 2)) {
            rc = parse_one(c, a, argc, argv, &i);
        } else if (options && argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "segue %s: unknown option '%s'; options take two dashes "
                    "(see `segue %s --help`), and `--` ends them\n", c->name,
                    argv[i], c->name);
            rc = EXIT_USAGE;
        } else {
            rc = take_arg(c, a, argv[i]);
        }
        if (rc)
            return rc;
    }
    if (c->needs_spec && !a->spec) {
        fprintf(stderr, "segue %s: missing the spec file; usage: segue %s %s\n",
                c->name, c->name, c->args);
        return EXIT_USAGE;
    }
    a->access = c->access;
    a->json = cli_has(c, a, "json");
    a->reason = cli_get(c, a, "reason");
    a->actor = cli_get(c, a, "actor");
    return 0;
}

int main(int argc, char **argv)
{
    /* first: a SIGTERM that arrives at once stops the command cleanly */
    cli_install_signals();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("segue %s\n", SEGUE_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        cli_args a;
        memset(&a, 0, sizeof a);
        int rc = parse(&commands[i], &a, argc, argv);
        if (rc)
            return rc < 0 ? EXIT_OK : rc;
        return commands[i].run(&commands[i], &a);
    }
    fprintf(stderr, "segue: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
