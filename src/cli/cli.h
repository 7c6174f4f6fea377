/* The segue program: a table of commands, each declaring its options once;
 * parsing, --help and usage come from that table. Built on the public API
 * only. */
#ifndef SEGUE_CLI_H
#define SEGUE_CLI_H

#include <jansson.h>
#include <segue/segue.h>
#include <signal.h>
#include <stdbool.h>

/* Exit codes (docs/cli.md). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,     /* an operation failed (database, I/O) */
    EXIT_USAGE = 2,    /* bad command line or invalid spec */
    EXIT_DIFF = 3,     /* verify found differences */
    EXIT_STATE = 4,    /* the phase does not allow the command (a gate) */
    EXIT_BUSY = 5,     /* another worker holds the lease */
    EXIT_STOPPED = 6,  /* stopped by a signal before finishing */
};

typedef struct cli_opt {
    const char *name;  /* long name without dashes */
    const char *arg;   /* argument name, or NULL for a flag */
    const char *help;
} cli_opt;

#define CLI_MAX_OPTS 16
/* Positional arguments after the spec ("SPEC..." commands take this many
 * more specs). */
#define CLI_MAX_POS 15

/* How a command opens the databases. */
typedef enum cli_access {
    CLI_CREATE = 0,    /* the target is made when missing (start, demo) */
    CLI_EXISTING,      /* both must exist; may write */
    CLI_READ_ONLY,     /* writes nothing anywhere, makes no file */
} cli_access;

typedef struct cli_args {
    const char *spec;                   /* first positional */
    const char *pos[CLI_MAX_POS];       /* further positionals */
    int n_pos;
    const char *val[CLI_MAX_OPTS];      /* by index into the command's opts */
    bool set[CLI_MAX_OPTS];
    bool json;
    const char *reason;
    const char *actor;
    cli_access access;                  /* from the command table */
} cli_args;

typedef struct cli_cmd {
    const char *name;
    const char *args;                   /* positional synopsis */
    const char *summary;
    const cli_opt *opts;                /* terminated by {NULL} */
    int (*run)(const struct cli_cmd *c, cli_args *a);
    bool needs_spec;
    cli_access access;
} cli_cmd;

/* segue(1) in roff, and the bash completion script, from the command
 * table cmds[0..n) (manual.c). */
void cli_manual_man(FILE *f, const cli_cmd *cmds, size_t n);
void cli_manual_completion(FILE *f, const cli_cmd *cmds, size_t n);
/* segue-spec(5) in roff, from the library's settings table. */
void cli_manual_spec(FILE *f);

/* Option --opt of command cmd as a positive whole number in decimal digits
 * (*out 0 when s is NULL); otherwise says so and returns EXIT_USAGE. */
int cli_parse_count(const char *cmd, const char *opt, const char *s, long long *out);
/* s as a duration ("500ms", "30s", "5m", "2h", "7d", 0 allowed) in *ms. */
bool cli_duration_ms(const char *s, int64_t *ms);
/* Option --opt as a duration ("500ms", "30s", "5m", "2h", "7d") in *ms;
 * otherwise says so and returns EXIT_USAGE. */
int cli_parse_duration(const char *cmd, const char *opt, const char *s, int64_t *ms);
/* Value of option `name`, or NULL when not given. */
const char *cli_get(const cli_cmd *c, const cli_args *a, const char *name);
bool cli_has(const cli_cmd *c, const cli_args *a, const char *name);

/* Opens the migration named by a->spec; on failure reports and returns the
 * exit code (and *m is closed). */
int cli_open(const cli_args *a, sg_migration **m);
/* Maps a library error to an exit code, printing "segue: <message>". */
int cli_fail(const char *what, int rc, const char *msg);
/* Prints a JSON value to stdout (one line) and frees it. */
void cli_print_json(json_t *j);
/* Progress on stderr: on a terminal one line rewritten in place; otherwise
 * a full line every every_ms (0: none). ud is a cli_reporter. */
typedef struct cli_reporter {
    const char *name;       /* the migration, borrowed */
    int64_t every_ms;
    int64_t last_ms;        /* monotonic time of the last line */
    bool tty;
} cli_reporter;
void cli_reporter_init(cli_reporter *r, const char *name, int64_t every_ms);
/* Reads --status-interval (default 10s) into r; EXIT_USAGE when malformed. */
int cli_reporter_from(cli_reporter *r, const cli_cmd *c, const cli_args *a);
void cli_progress(void *ud, const sg_progress *p);
/* ms since the epoch as "2026-12-03T17:02:11.123Z" (UTC). */
void cli_iso_ms(char *out, size_t n, int64_t ms);
/* secs as "42s", "3m05s", "2h10m"; "--" when negative (unknown). */
void cli_fmt_secs(char *out, size_t n, double secs);
/* Set by SIGINT/SIGTERM. */
extern volatile sig_atomic_t cli_stop;
void cli_install_signals(void);

/* segue serve's service for specs on `listen`, with the token of
 * token_file (NULL: $SEGUE_TOKEN, or none); says where it listens on
 * stdout. On failure says why on stderr and returns the exit code. */
struct http_server;
int cli_http_start(struct http_server **out, const char *cmd, const char *listen,
                   const char *token_file, const char *const *specs, size_t n);

#define CMD(name) int cmd_##name(const cli_cmd *c, cli_args *a)
CMD(plan); CMD(start); CMD(backfill); CMD(run); CMD(verify); CMD(cutover);
CMD(rollback); CMD(cleanup); CMD(abort); CMD(status); CMD(route); CMD(demo);
CMD(retry); CMD(log); CMD(shadow); CMD(serve); CMD(gates);
CMD(pause); CMD(resume); CMD(runbook); CMD(drill);
/* --reads PCT as a percentage, or -1 when it is not one (cmd_phase.c). */
double cli_read_pct(const cli_cmd *c, const cli_args *a);
/* A drill's report (cmd_drill.c): as JSON, and as text lines on f each
 * starting with `indent`. */
struct sg_drill_report;
json_t *cli_drill_json(const struct sg_drill_report *r);
void cli_drill_text(FILE *f, const char *indent, const struct sg_drill_report *r);
/* "1h", "1h30m", "2m5s", "1.5s", "250ms" (cmd_gates.c) */
void cli_span(char *out, size_t n, int64_t ms);
/* segue cutover --plan (cmd_gates.c) */
int cli_cutover_plan(const cli_args *a);

#endif
