/* segue: command table, option parsing and help. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COMMON \
    { "json", NULL, "print the result as JSON on stdout" }, \
    { "reason", "TEXT", "why, for the audit log" }, \
    { "actor", "WHO", "who acts, for the audit log (default $USER@host)" }

#define STATUS_INTERVAL \
    { "status-interval", "DURATION", "off a terminal, one progress line this " \
                                     "often (default 10s)" }

static const cli_opt o_plain[] = { COMMON, { NULL, NULL, NULL } };
static const cli_opt o_plan[] = { COMMON,
    { "check", NULL, "exit 3 when the schema report has an unexpected line (for CI)" },
    { NULL, NULL, NULL } };
static const cli_opt o_backfill[] = { COMMON,
    { "max-chunks", "N", "stop after N chunks (the rest resumes later)" },
    STATUS_INTERVAL,
    { NULL, NULL, NULL } };
static const cli_opt o_run[] = { COMMON,
    { "until", "WHEN", "exit when WHEN holds; caught-up: backfill complete and "
                       "no change pending" },
    { "wait", NULL, "wait for the worker lease instead of failing" },
    { "http", "HOST:PORT", "also serve OFREP, /metrics and the dashboard here, as "
                           "segue serve does (one process for small set-ups)" },
    { "token-file", "FILE", "with --http: the token clients must send (default "
                            "$SEGUE_TOKEN)" },
    STATUS_INTERVAL,
    { NULL, NULL, NULL } };
static const cli_opt o_verify[] = { COMMON,
    { "repair", NULL, "re-sync the keys that differ, then check them again" },
    { "chunk-rows", "N", "rows per checksum chunk (default 10000)" },
    { "max-keys", "N", "list at most N differing keys (default 100; all are counted)" },
    { "max-rows-per-second", "N", "read at most N rows per second from each side" },
    { "sample", "N", "instead of the full pass: compare N random keys of each mapping "
                     "field by field (a quick answer; never makes the migration verified)" },
    STATUS_INTERVAL,
    { NULL, NULL, NULL } };
static const cli_opt o_cutover[] = { COMMON,
    { "reads", "PCT", "route PCT percent of reads (0..100) to the target" },
    { "plan", NULL, "show the rollout the spec plans (steps, holds, checks, what "
                    "happens on failure, the least total time); changes nothing" },
    { "writes", NULL, "switch writes to the target (fence, drain, flip)" },
    { "force", NULL, "pass refused gates for this step (needs --reason; audited)" },
    { "no-rollback", NULL, "switch writes although a mapping says reverse: none" },
    { "timeout", "DURATION", "how long --writes waits for transactions that hold "
                             "write locks, then gives up changing nothing (default 30s)" },
    { NULL, NULL, NULL } };
static const cli_opt o_rollback[] = { COMMON,
    { "timeout", "DURATION", "how long to wait for transactions that hold write "
                             "locks, then give up changing nothing (default 30s)" },
    { NULL, NULL, NULL } };
static const cli_opt o_cleanup[] = { COMMON,
    { "drop-source", NULL, "also drop the old source tables" },
    { "force", NULL, "cut the bake (cutover.bake) short (needs --reason; audited)" },
    { "purge", NULL, "also delete the migration's audit history" },
    { NULL, NULL, NULL } };
static const cli_opt o_log[] = {
    { "json", NULL, "print the entries as a JSON array on stdout" },
    { "since", "WHEN", "only entries from WHEN: a UTC time (2026-12-02T13:30) "
                       "or a duration back from now (30m, 2h, 7d)" },
    { NULL, NULL, NULL } };
static const cli_opt o_shadow[] = {
    { "log", "FILE", "the application's reads: a PostgreSQL jsonlog or csvlog "
                     "(log_min_duration_statement = 0), or SQL statements separated by ;" },
    { "format", "F", "auto (default), sql, jsonlog or csvlog" },
    { "database", "NAME", "replay only statements a PostgreSQL log shows run in NAME" },
    { "max-mismatch", "RATE", "exit 3 when mismatches (order-only too) exceed this share "
                              "of the compared reads (default 0)" },
    { "no-record", NULL, "compare only: record no outcome in segue's control tables" },
    { "concurrency", "N", "replay with N threads, each with its own sessions (default 1)" },
    { "max-p99-ratio", "R", "exit 3 when a query shape's p99 on the target exceeds R "
                            "times the source's (over 5 reads or more)" },
    { "follow", NULL, "keep reading the log as it grows, and across rotation (like "
                      "tail -F), until --duration or a signal" },
    { "from-end", NULL, "with --follow: skip what the log holds now, replay what is "
                        "written from then on" },
    { "sample", "SHARE", "replay only this share of the statements (0.1: one in ten)" },
    { "rate", "N", "replay at most N statements per second" },
    { "duration", "DURATION", "stop after DURATION (30s, 10m, 2h) and report" },
    STATUS_INTERVAL,
    { "json", NULL, "print the report as JSON on stdout" },
    { NULL, NULL, NULL } };
static const cli_opt o_demo[] = {
    { "json", NULL, "print the report as JSON on stdout" },
    { "dir", "DIR", "scratch directory (default: a new one under /tmp)" },
    { "rate", "N", "live writer operations per second (default 200)" },
    { "data", "FILE", "Chinook SQLite file (default $SEGUE_CHINOOK, ../shared/data/"
                      "chinook/Chinook_Sqlite.sqlite, or the installed copy in "
                      "PREFIX/share/segue)" },
    { "listen", "HOST:PORT", "where the dashboard and OFREP are served during the run "
                             "(default 127.0.0.1:8321, or a free port if taken)" },
    { "hold", NULL, "keep serving the dashboard after the report, until Ctrl-C" },
    { NULL, NULL, NULL } };

static const cli_opt o_route[] = { COMMON,
    { "keys", "FILE", "route each line of FILE (- for stdin) as a key, one answer "
                      "per line (--json: one object per line)" },
    { "context", "NAME=VALUE,...", "the read's context attributes, as the C API's "
                                   "router takes them (cutover.segments)" },
    { "row", "TABLE=KEY,...", "the source row the read is for: a change of it not yet "
                              "on the target sends the read to the source "
                              "(read-your-writes)" },
    { NULL, NULL, NULL } };
static const cli_opt o_serve[] = {
    { "listen", "HOST:PORT", "address to listen on (default 127.0.0.1:8321; port 0 "
                             "picks a free one); not loopback: needs a token" },
    { "token-file", "FILE", "the token clients must send (first line of FILE; "
                            "default $SEGUE_TOKEN), as \"Authorization: Bearer\" or "
                            "\"X-API-Key\"" },
    { NULL, NULL, NULL } };

static const cli_opt o_drill[] = { COMMON,
    { "reads", "PCT", "reads to shift to the target before the failure (default: "
                      "the first step's percentage)" },
    { "writes", NULL, "also move the writes to the target (reads go to 100 %)" },
    { "rows", "N", "rows the drill's ledger writes to (default 20); their values "
                   "are put back at the end" },
    { "column", "COL", "the text column the ledger writes (default: the first text "
                       "column outside the key that the target copies as it is)" },
    { "ofrep", "URL", "segue serve's base URL: also time the OFREP bulk evaluation" },
    { "timeout", "DURATION", "the longest wait for each stage (default: "
                             "(failure_limit + 3) x interval + 60s)" },
    { NULL, NULL, NULL } };
static const cli_opt o_runbook[] = {
    { "format", "F", "md (default) or html" },
    { NULL, NULL, NULL } };

static const cli_cmd commands[] = {
    { "plan", "SPEC", "show mappings, target DDL, row counts, warnings, the schema "
      "report; changes nothing", o_plan, cmd_plan, true, CLI_READ_ONLY },
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
      o_rollback, cmd_rollback, true, CLI_EXISTING },
    { "cleanup", "SPEC", "remove capture and control rows after the write cutover",
      o_cleanup, cmd_cleanup, true, CLI_EXISTING },
    { "abort", "SPEC", "undo everything segue made (before the write cutover)",
      o_plain, cmd_abort, true, CLI_EXISTING },
    { "retry", "SPEC", "put keys set aside back into their changelog once fixed",
      o_plain, cmd_retry, true, CLI_EXISTING },
    { "status", "SPEC", "phase, backfill, pending changes, lag, routing",
      o_plain, cmd_status, true, CLI_READ_ONLY },
    { "route", "SPEC [KEY]", "where a read for KEY and writes go now", o_route,
      cmd_route, true, CLI_READ_ONLY },
    { "gates", "SPEC", "every gate check now: value, threshold, pass, fail or "
      "inconclusive; exit 4 when one would hold a step back", o_plain, cmd_gates,
      true, CLI_READ_ONLY },
    { "pause", "SPEC", "hold the rollout where it is: no step, no automatic "
      "rollback, until resume", o_plain, cmd_pause, true, CLI_EXISTING },
    { "resume", "SPEC", "let the rollout walk on (after a rollback: from the first "
      "step)", o_plain, cmd_resume, true, CLI_EXISTING },
    { "drill", "SPEC", "rehearse the rollback on the live migration: shift reads "
      "(--writes: and writes), fail a gate on purpose, time the automatic rollback, "
      "count lost writes; exit 3 on a loss or a difference", o_drill, cmd_drill, true,
      CLI_EXISTING },
    { "runbook", "SPEC", "the migration's plan as a checklist (phases, steps, gates, "
      "rollback, bake), ticked from the audit trail", o_runbook, cmd_runbook, true,
      CLI_READ_ONLY },
    { "log", "SPEC", "the audit trail: who did what, when, and why",
      o_log, cmd_log, true, CLI_READ_ONLY },
    { "shadow", "SPEC", "run the application's reads on both sides and compare "
      "(shadow reads); records the outcomes for status and gates", o_shadow, cmd_shadow,
      true, CLI_EXISTING },
    { "serve", "SPEC...", "serve routing over OFREP to applications, Prometheus "
      "/metrics, /healthz and a JSON API", o_serve, cmd_serve, true, CLI_READ_ONLY },
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
               "for exit codes; `segue help --man` prints the manual page segue(1), "
               "`segue help --spec` segue-spec(5), `segue help --completion` the "
               "bash completion.\n");
}

static void command_help(const cli_cmd *c)
{
    printf("usage: segue %s %s [options]\n\n%s\n\noptions:\n", c->name, c->args,
           c->summary);
    for (const cli_opt *o = c->opts; o->name; o++) {
        char left[40];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("  %-28s %s\n", "--help", "show this help");
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

/* getopt_long's values for the command's options: OPT_BASE + index */
#define OPT_BASE 1000

/* The command's options as getopt_long reads them, --help last. */
static void long_options(const cli_cmd *c, struct option *lo)
{
    int n = 0;
    for (; c->opts[n].name && n < CLI_MAX_OPTS; n++)
        lo[n] = (struct option){ c->opts[n].name, c->opts[n].arg ? required_argument
                                                                 : no_argument,
                                 NULL, OPT_BASE + n };
    lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
}

/* A word with one dash and more than one letter (-repair) is a long option
 * mistyped, not a cluster of short ones: said as such. */
static int single_dash_words(const cli_cmd *c, int argc, char **argv)
{
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (argv[i][0] == '-' && argv[i][1] && argv[i][1] != '-' && argv[i][2]) {
            fprintf(stderr, "segue %s: unknown option '%s'; options take two dashes "
                    "(see `segue %s --help`), and `--` ends them\n", c->name,
                    argv[i], c->name);
            return EXIT_USAGE;
        }
    return 0;
}

/* What getopt_long refused: word is the argument it was reading. */
static int option_error(const cli_cmd *c, int ch, const char *word)
{
    int k = optopt - OPT_BASE;
    if (ch == ':' && k >= 0)
        fprintf(stderr, "segue %s: option '--%s' needs a value (%s)\n", c->name,
                c->opts[k].name, c->opts[k].arg);
    else if (k >= 0)
        fprintf(stderr, "segue %s: option '--%s' takes no value\n", c->name,
                c->opts[k].name);
    else
        fprintf(stderr, "segue %s: unknown option '%s'; see `segue %s --help`\n",
                c->name, word, c->name);
    return EXIT_USAGE;
}

/* How many arguments the synopsis names besides SPEC ("SPEC KEY": 1;
 * "SPEC...": as many as there is room for). */
static int positional(const cli_cmd *c)
{
    size_t len = strlen(c->args);
    if (len >= 3 && !strcmp(c->args + len - 3, "..."))
        return CLI_MAX_POS;
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
    if (a->n_pos < positional(c) && a->n_pos < CLI_MAX_POS) {
        a->pos[a->n_pos++] = arg;
        return 0;
    }
    fprintf(stderr, "segue %s: unexpected argument '%s'; usage: segue %s %s [options]\n",
            c->name, arg, c->name, c->args);
    return EXIT_USAGE;
}

/* argv[1] is the command; options (getopt_long, in any order among the
 * arguments, `--` ending them) and arguments follow. -1: help was shown. */
static int parse(const cli_cmd *c, cli_args *a, int argc, char **argv)
{
    struct option lo[CLI_MAX_OPTS + 2];
    int ch, rc = single_dash_words(c, argc, argv);
    if (rc)
        return rc;
    long_options(c, lo);
    opterr = 0;
    optind = 0; /* GNU: start over */
    while ((ch = getopt_long(argc - 1, argv + 1, ":h", lo, NULL)) != -1) {
        if (ch == 'h') {
            command_help(c);
            return -1;
        }
        if (ch < OPT_BASE)
            return option_error(c, ch, argv[optind > 1 ? optind : 1]);
        a->set[ch - OPT_BASE] = true;
        a->val[ch - OPT_BASE] = optarg;
    }
    for (int i = optind + 1; i < argc && !rc; i++)
        rc = take_arg(c, a, argv[i]);
    if (rc)
        return rc;
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
    if (argc == 3 && !strcmp(argv[1], "help") && !strcmp(argv[2], "--man")) {
        cli_manual_man(stdout, commands, N_COMMANDS);
        return EXIT_OK;
    }
    if (argc == 3 && !strcmp(argv[1], "help") && !strcmp(argv[2], "--spec")) {
        cli_manual_spec(stdout);
        return EXIT_OK;
    }
    if (argc == 3 && !strcmp(argv[1], "help") && !strcmp(argv[2], "--completion")) {
        cli_manual_completion(stdout, commands, N_COMMANDS);
        return EXIT_OK;
    }
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
