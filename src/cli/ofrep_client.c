#include "ofrep_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ofrep_client {
    CURL *curl;
    char *base;
    struct curl_slist *headers;
    char body[4096];
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    ofrep_client *c = ud;
    size_t take = size * n;
    if (take > sizeof c->body - 1 - c->len)
        take = sizeof c->body - 1 - c->len;
    memcpy(c->body + c->len, p, take);
    c->len += take;
    c->body[c->len] = '\0';
    return size * n;
}

ofrep_client *ofrep_client_new(const char *base_url)
{
    ofrep_client *c = calloc(1, sizeof *c);
    if (!c || !(c->curl = curl_easy_init()) || !(c->base = strdup(base_url)) ||
        !(c->headers = curl_slist_append(NULL, "Content-Type: application/json"))) {
        ofrep_client_free(c);
        return NULL;
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    return c;
}

void ofrep_client_free(ofrep_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->base);
    free(c);
}

/* The answer's value as text, or its error; false on an error. */
static bool answer(const char *body, char *value, size_t len)
{
    json_t *j = json_loads(body, 0, NULL);
    json_t *v = json_object_get(j, "value");
    bool ok = v != NULL;
    if (json_is_string(v))
        snprintf(value, len, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(value, len, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(value, len, "%s: %s",
                 j ? json_string_value(json_object_get(j, "errorCode")) : "not JSON",
                 j ? json_string_value(json_object_get(j, "errorDetails")) : body);
    json_decref(j);
    return ok;
}

bool ofrep_evaluate(ofrep_client *c, const char *key, const char *tkey, char *value,
                    size_t len)
{
    char url[512], req[256];
    snprintf(url, sizeof url, "%s/ofrep/v1/evaluate/flags/%s", c->base, key);
    if (tkey)
        snprintf(req, sizeof req, "{\"context\":{\"targetingKey\":\"%s\"}}", tkey);
    else
        snprintf(req, sizeof req, "{\"context\":{}}");
    c->len = 0;
    c->body[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, req);
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        snprintf(value, len, "%s", curl_easy_strerror(rc));
        return false;
    }
    return answer(c->body, value, len);
}
