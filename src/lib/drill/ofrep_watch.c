/* The drill's OFREP watch (ofrep_watch.h), with libcurl and jansson. */
#include <curl/curl.h>
#include <jansson.h>
#include <segue/segue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "drill/ofrep_watch.h"

/* Each evaluation waits at most this long. */
#define WATCH_HTTP_MS 2000

struct sg_ofrep_watch {
    char *url, *reads_key, *writes_key, *body;
    char etag[80];
};

int sg_ofrep_watch_open(sg_ofrep_watch **out, const char *base_url, const char *name,
                        const char *tkey, sg_err *e)
{
    sg_ofrep_watch *w = calloc(1, sizeof *w);
    *out = w;
    json_t *doc = json_pack("{s:{s:s}}", "context", "targetingKey", tkey);
    if (w && doc) {
        size_t n = strlen(base_url);
        while (n && base_url[n - 1] == '/')
            n--;
        if (asprintf(&w->url, "%.*s/ofrep/v1/evaluate/flags", (int)n, base_url) < 0)
            w->url = NULL;
        if (asprintf(&w->reads_key, "segue.%s.reads", name) < 0)
            w->reads_key = NULL;
        if (asprintf(&w->writes_key, "segue.%s.writes", name) < 0)
            w->writes_key = NULL;
        w->body = json_dumps(doc, JSON_COMPACT);
    }
    json_decref(doc);
    if (!w || !w->url || !w->reads_key || !w->writes_key || !w->body)
        return sg_err_set(e, SG_ENOMEM, "out of memory");
    return 0;
}

static size_t keep_body(char *p, size_t size, size_t n, void *ud)
{
    sg_buf_putn(ud, p, size * n);
    return size * n;
}

static size_t keep_etag(char *p, size_t size, size_t n, void *ud)
{
    sg_ofrep_watch *w = ud;
    size_t len = size * n;
    if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
        const char *v = p + 5;
        size_t m = len - 5;
        while (m && (*v == ' ' || *v == '\t'))
            v++, m--;
        while (m && (v[m - 1] == '\r' || v[m - 1] == '\n' || v[m - 1] == ' '))
            m--;
        snprintf(w->etag, sizeof w->etag, "%.*s", (int)m, v);
    }
    return len;
}

/* The flags' values from a bulk answer. */
static int read_flags(sg_ofrep_watch *w, const char *text, bool *reads, bool *writes,
                      sg_err *e)
{
    json_t *doc = json_loads(text, 0, NULL), *f;
    size_t i;
    int seen = 0;
    json_array_foreach(json_object_get(doc, "flags"), i, f) {
        const char *key = json_string_value(json_object_get(f, "key"));
        json_t *v = json_object_get(f, "value");
        if (key && !strcmp(key, w->reads_key) && json_is_boolean(v)) {
            *reads = json_is_true(v);
            seen |= 1;
        } else if (key && !strcmp(key, w->writes_key) && json_is_string(v)) {
            *writes = !strcmp(json_string_value(v), "target");
            seen |= 2;
        }
    }
    json_decref(doc);
    return seen == 3 ? 0 : sg_err_set(e, SG_EDB, "OFREP %s answered without %s and "
                                      "%s", w->url, w->reads_key, w->writes_key);
}

int sg_ofrep_watch_poll(sg_ofrep_watch *w, bool *changed, bool *reads_target,
                        bool *writes_target, sg_err *e)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char inm[100], err[CURL_ERROR_SIZE] = "";
    sg_buf body = SG_BUF_INIT;
    long status = 0;
    int rc = 0;
    *changed = false;
    if (w->etag[0]) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", w->etag);
        hdr = hdr ? curl_slist_append(hdr, inm) : NULL;
    }
    if (!h || !hdr) {
        rc = sg_err_set(e, SG_ENOMEM, "out of memory");
        goto done;
    }
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)WATCH_HTTP_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, keep_etag);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
    if (curl_easy_perform(h) != CURLE_OK) {
        rc = sg_err_set(e, SG_EDB, "OFREP %s: %s", w->url, err);
        goto done;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 304)
        goto done;
    if (status != 200) {
        rc = sg_err_set(e, SG_EDB, "OFREP %s answered HTTP %ld", w->url, status);
        goto done;
    }
    rc = read_flags(w, sg_buf_str(&body), reads_target, writes_target, e);
    *changed = rc == 0;
done:
    sg_buf_free(&body);
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

void sg_ofrep_watch_free(sg_ofrep_watch *w)
{
    if (!w)
        return;
    free(w->url);
    free(w->reads_key);
    free(w->writes_key);
    free(w->body);
    free(w);
}
