/* segue log: the audit trail, as text or JSON. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* --since: an ISO 8601 UTC time or a prefix of one ("2026-12-02",
 * "2026-12-02T13:30"), or a duration back from now ("90s", "30m", "2h",
 * "7d"). Writes the ISO lower bound into out; EXIT_USAGE when malformed. */
static int parse_since(const char *s, char *out, size_t n)
{
    int64_t ms;
    if (cli_duration_ms(s, &ms)) {
        time_t t = time(NULL) - (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
        return 0;
    }
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t len = strlen(s), i = 0;
    for (; i < len && i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            break;
    if (len >= 4 && i == len) {
        snprintf(out, n, "%s", s);
        return 0;
    }
    fprintf(stderr, "segue log: --since '%s' is neither a UTC time (2026-12-02, "
            "2026-12-02T13:30) nor a duration back from now (90s, 30m, 2h, 7d)\n", s);
    return EXIT_USAGE;
}

static void entry_text(const sg_audit_entry *e)
{
    printf("%s  %-24s %-16s", e->at, e->who ? e->who : "-", e->action);
    if (e->from_phase && e->to_phase)
        printf(" %s -> %s", e->from_phase, e->to_phase);
    if (e->detail && *e->detail)
        printf("  %s", e->detail);
    if (e->reason && *e->reason)
        printf("  (reason: %s)", e->reason);
    putchar('\n');
}

static json_t *entries_json(const sg_audit_entry *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I,s:s,s:s?,s:s,s:s?,s:s?,s:s?,s:s?}",
                              "id", (json_int_t)v[i].id, "at", v[i].at, "who",
                              v[i].who, "action", v[i].action, "from_phase",
                              v[i].from_phase, "to_phase", v[i].to_phase,
                              "detail", v[i].detail, "reason", v[i].reason));
    return a;
}

CMD(log)
{
    char since[40] = "";
    const char *w = cli_get(c, a, "since");
    if (w && parse_since(w, since, sizeof since))
        return EXIT_USAGE;
    sg_migration *m = NULL;
    int code = cli_open(a, &m);
    if (code)
        return code;
    sg_audit_entry *v = NULL;
    size_t n = 0;
    int rc = sg_migration_audit(&v, &n, m, w ? since : NULL);
    if (rc)
        code = cli_fail("log", rc, sg_migration_errmsg(m));
    else if (a->json)
        cli_print_json(entries_json(v, n));
    else if (n == 0)
        fprintf(stderr, "segue log: no audit entries for '%s'%s\n",
                sg_migration_name(m), w ? " in that time" : "");
    for (size_t i = 0; !rc && !a->json && i < n; i++)
        entry_text(&v[i]);
    sg_audit_free(v, n);
    sg_migration_close(m);
    return code;
}
