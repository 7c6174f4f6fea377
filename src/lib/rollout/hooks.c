/* on_rollback: the page when the rollout rolls back or pauses by itself
 * (hooks.h). Both hooks run on a detached thread of their own, so that the
 * rollback never waits on them: the command is spawned without a shell
 * (posix_spawnp) and given at most HOOK_COMMAND_MS; the webhook is POSTed
 * with libcurl, each try given HOOK_HTTP_MS, tried HOOK_TRIES times with a
 * growing pause. Its body is Alertmanager's API v2 alert list
 * (https://prometheus.io/docs/alerting/latest/clients/), which a generic
 * receiver reads as plain JSON too. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/buf.h"
#include "base/clock.h"
#include "rollout/hooks.h"

#define HOOK_COMMAND_MS 60000
#define HOOK_HTTP_MS 5000
#define HOOK_TRIES 3

extern char **environ;

typedef struct page {
    char **argv;         /* the command, {name} filled in; NULL: none */
    char **env;          /* environ and the SEGUE_* facts */
    char *webhook;       /* or NULL */
    char *body;          /* the webhook's JSON */
    char *migration;
    sg_log_fn log;
    void *log_ud;
} page;

static void strings_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void page_free(page *p)
{
    strings_free(p->argv);
    strings_free(p->env);
    free(p->webhook);
    free(p->body);
    free(p->migration);
    free(p);
}

static void say(const page *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const page *p, int level, const char *fmt, ...)
{
    char msg[700], line[800];
    va_list ap;
    if (!p->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "rollout: on_rollback: %s", msg);
    p->log(p->log_ud, level, line);
}

/* s with each "{name}" replaced by name. */
static char *fill(const char *s, const char *name)
{
    sg_buf b = SG_BUF_INIT;
    for (const char *at; (at = strstr(s, "{name}")); s = at + 6) {
        sg_buf_putn(&b, s, (size_t)(at - s));
        sg_buf_puts(&b, name);
    }
    sg_buf_puts(&b, s);
    return sg_buf_take(&b);
}

static void run_command(const page *p)
{
    pid_t pid;
    int status = 0, rc = posix_spawnp(&pid, p->argv[0], NULL, NULL, p->argv, p->env);
    if (rc) {
        say(p, SG_LOG_WARN, "cannot run %s: %s", p->argv[0], strerror(rc));
        return;
    }
    for (int64_t end = sg_mono_ms() + HOOK_COMMAND_MS;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 || sg_mono_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            say(p, SG_LOG_WARN, "%s ran past %d s and was stopped", p->argv[0],
                HOOK_COMMAND_MS / 1000);
            return;
        }
        sg_sleep_ms(50);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        say(p, SG_LOG_WARN, "%s exited with status %d", p->argv[0],
            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else
        say(p, SG_LOG_INFO, "%s ran", p->argv[0]);
}

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

/* One POST; the HTTP status, or 0 when none came (why in err). */
static long post_once(const page *p, char *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    if (!h || !hdr) {
        snprintf(err, CURL_ERROR_SIZE, "out of memory");
        goto done;
    }
    err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, p->webhook);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HOOK_HTTP_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
done:
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    return status;
}

static void post(const page *p)
{
    char err[CURL_ERROR_SIZE];
    for (int t = 1; t <= HOOK_TRIES; t++) {
        long status = post_once(p, err);
        if (status >= 200 && status < 300) {
            say(p, SG_LOG_INFO, "webhook %s answered %ld", p->webhook, status);
            return;
        }
        say(p, SG_LOG_WARN, "webhook %s, try %d of %d: %s", p->webhook, t, HOOK_TRIES,
            status ? "an HTTP error status" : err);
        if (t < HOOK_TRIES)
            sg_sleep_ms(1000LL * t);
    }
}

static void *page_main(void *arg)
{
    page *p = arg;
    if (p->argv)
        run_command(p);
    if (p->webhook)
        post(p);
    page_free(p);
    return NULL;
}

/* environ, then SEGUE_MIGRATION, SEGUE_ACTION, SEGUE_STEP, SEGUE_PCT and
 * SEGUE_REASON. */
static char **environment(const sg_rollout_page *pg)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 6, sizeof *env);
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++)
        env[i] = strdup(environ[i]);
    const char *keys[] = { "SEGUE_MIGRATION", "SEGUE_ACTION", "SEGUE_STEP", "SEGUE_PCT",
                           "SEGUE_REASON" };
    char step[24], pct[24];
    snprintf(step, sizeof step, "%d", pg->step);
    snprintf(pct, sizeof pct, "%lld", (long long)pg->pct);
    const char *vals[] = { pg->migration, pg->action, step, pct, pg->why };
    for (size_t i = 0; i < 5; i++) {
        sg_buf b = SG_BUF_INIT;
        sg_buf_printf(&b, "%s=%s", keys[i], vals[i]);
        env[n + i] = sg_buf_take(&b);
    }
    for (size_t i = 0; i < n + 5; i++)
        if (!env[i]) {
            for (size_t k = 0; k < n + 5; k++)
                free(env[k]);
            free(env);
            return NULL;
        }
    return env;
}

static char *alert_body(const sg_rollout_page *pg)
{
    char at[32];
    sg_now_iso(at);
    json_t *checks = json_array();
    for (size_t i = 0; i < pg->n; i++)
        json_array_append_new(checks, json_pack("{s:s,s:s,s:o,s:f}", "name",
                              pg->v[i].name, "state", sg_gate_state_name(pg->v[i].state),
                              "value", isnan(pg->v[i].value) ? json_null()
                                                             : json_real(pg->v[i].value),
                              "limit", pg->v[i].limit));
    char *checks_text = json_dumps(checks, JSON_COMPACT);
    json_decref(checks);
    json_t *alert = json_pack("[{s:{s:s,s:s,s:s,s:s},s:{s:s,s:s,s:s},s:s}]",
                              "labels", "alertname", "SegueRollout", "migration",
                              pg->migration, "action", pg->action, "severity", "page",
                              "annotations", "summary", pg->why, "description",
                              "segue's automatic rollout acted on its gates",
                              "checks", checks_text ? checks_text : "[]", "startsAt", at);
    free(checks_text);
    char *body = alert ? json_dumps(alert, JSON_COMPACT) : NULL;
    json_decref(alert);
    return body;
}

void sg_rollout_page_send(sg_migration *m, const sg_rollout_page *pg)
{
    const sg_spec *s = m->spec;
    pthread_t t;
    pthread_attr_t attr;
    if (!s->n_hook_argv && !s->webhook)
        return;
    page *p = calloc(1, sizeof *p);
    bool ok = p && (p->migration = strdup(pg->migration));
    if (ok && s->n_hook_argv) {
        ok = (p->argv = calloc(s->n_hook_argv + 1, sizeof *p->argv)) &&
             (p->env = environment(pg));
        for (size_t i = 0; ok && i < s->n_hook_argv; i++)
            ok = (p->argv[i] = fill(s->hook_argv[i], pg->migration)) != NULL;
    }
    if (ok && s->webhook)
        ok = (p->webhook = strdup(s->webhook)) && (p->body = alert_body(pg));
    if (ok) {
        p->log = m->log;
        p->log_ud = m->log_ud;
        ok = !pthread_attr_init(&attr) &&
             !pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) &&
             !pthread_create(&t, &attr, page_main, p);
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        sg_log(m, SG_LOG_WARN, "rollout: on_rollback: cannot send the page (out of "
               "memory or threads)");
        if (p)
            page_free(p);
    }
}
