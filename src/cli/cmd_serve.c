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
        fprintf(stderr, "segue: --token-file %s: %s\n", file, f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return EXIT_USAGE;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (!*out) {
        fprintf(stderr, "segue: --token-file %s: the first line is empty\n", file);
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

int cli_http_start(http_server **out, const char *cmd, const char *listen,
                   const char *token_file, const char *const *specs, size_t n)
{
    char token[512], err[1024];
    bool have_token;
    *out = NULL;
    int rc = read_token(token_file, token, sizeof token, &have_token);
    if (rc)
        return rc;
    http_config hc = { .listen = listen, .token = have_token ? token : NULL,
                       .specs = (const char **)specs, .n_specs = n, .log = log_line };
    int hrc = http_start(out, &hc, err, sizeof err);
    if (hrc)
        return cli_fail(cmd, hrc, err);
    printf("segue %s: listening on %s (OFREP %s/ofrep/v1/evaluate/flags, "
           "metrics %s/metrics, dashboard %s/)\n", cmd, http_url(*out), http_url(*out),
           http_url(*out), http_url(*out));
    fflush(stdout);
    return 0;
}

CMD(serve)
{
    const char *specs[1 + CLI_MAX_POS] = { a->spec };
    for (int i = 0; i < a->n_pos; i++)
        specs[i + 1] = a->pos[i];
    const char *listen = cli_get(c, a, "listen");
    http_server *srv = NULL;
    int rc = cli_http_start(&srv, "serve", listen ? listen : "127.0.0.1:8321",
                            cli_get(c, a, "token-file"), specs, (size_t)a->n_pos + 1);
    if (!rc) {
        wait_for_signal();
        http_stop(srv);
    }
    return rc;
}
