/* segue serve SPEC...: routing over OFREP, /metrics, /healthz and the JSON
 * API for one or more migrations, until a signal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "http.h"

/* The token from --token-file (its first line) or $SEGUE_TOKEN; NULL
 * when neither is given. Returns EXIT_USAGE on an unreadable file. */
static int read_token(const char *file, char *out, size_t n, bool *have)
{
    *have = false;
    if (!file) {
        const char *env = getenv("SEGUE_TOKEN");
        if (env && *env) {
            snprintf(out, n, "%s", env);
            *have = true;
        }
        return 0;
    }
    FILE *f = fopen(file, "r");
    if (!f || !fgets(out, (int)n, f)) {
        fprintf(stderr, "segue serve: --token-file %s: %s\n", file,
                f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return EXIT_USAGE;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (!*out) {
        fprintf(stderr, "segue serve: --token-file %s: the first line is empty\n", file);
        return EXIT_USAGE;
    }
    *have = true;
    return 0;
}

static void log_line(void *ud, int level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "segue serve: %s%s\n", level >= SG_LOG_WARN ? "warning: " : "", msg);
}

static void wait_for_signal(void)
{
    struct timespec t = { 0, 100 * 1000000 };
    while (!cli_stop)
        nanosleep(&t, NULL);
}

CMD(serve)
{
    const char *specs[1 + CLI_MAX_POS] = { a->spec };
    for (int i = 0; i < a->n_pos; i++)
        specs[i + 1] = a->pos[i];
    char token[512], err[1024];
    bool have_token;
    int rc = read_token(cli_get(c, a, "token-file"), token, sizeof token, &have_token);
    http_server *srv = NULL;
    if (!rc) {
        const char *listen = cli_get(c, a, "listen");
        http_config hc = { .listen = listen ? listen : "127.0.0.1:8321",
                           .token = have_token ? token : NULL, .specs = specs,
                           .n_specs = (size_t)a->n_pos + 1, .log = log_line };
        int hrc = http_start(&srv, &hc, err, sizeof err);
        if (hrc)
            rc = cli_fail("serve", hrc, err);
    }
    if (!rc) {
        printf("segue serve: listening on %s (OFREP %s/ofrep/v1/evaluate/flags, "
               "metrics %s/metrics)\n", http_url(srv), http_url(srv), http_url(srv));
        fflush(stdout);
        wait_for_signal();
        http_stop(srv);
    }
    return rc;
}
