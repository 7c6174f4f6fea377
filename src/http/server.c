/* segue serve's HTTP layer: the libmicrohttpd daemon with bounded
 * connections, bodies and time; the token check; dispatch by method and
 * path; the ways to answer. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* Connections served at once; seconds a connection may sit idle. */
enum { MAX_CONNECTIONS = 512, IDLE_TIMEOUT_S = 10, THREADS = 2 };

int http_reply(http_req *r, unsigned status, const char *type, const char *body,
               size_t len, const char *etag)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body ? len : 0, (void *)(body ? body : ""),
                                        MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                !strncmp(r->path, "/ofrep/", 7) ||
                                !strcmp(r->path, "/api/v1/events") ? "GET, HEAD, POST"
                                                                   : "GET, HEAD");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    int k = status == 401 ? 5 : status == 413 ? 4 : status >= 500 ? 3 : status >= 400 ? 2
          : status >= 300 ? 1 : 0;
    atomic_fetch_add(&r->srv->requests[k], 1);
    enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    return rc;
}

int http_reply_json(http_req *r, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    if (!text)
        return http_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                          "out of memory\n", 14, NULL);
    int rc = http_reply(r, status, "application/json", text, strlen(text), NULL);
    free(text);
    return rc;
}

int http_reply_error(http_req *r, unsigned status, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_reply_json(r, status, json_pack("{s:s}", "errorDetails", msg));
}

const char *http_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Equal strings, in time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

/* The token, as OFREP's two schemes carry it. */
static bool authorized(http_req *r)
{
    const char *tok = r->srv->token;
    if (!tok || !strcmp(r->path, "/healthz"))
        return true;
    const char *key = http_header(r, "X-API-Key");
    if (key && same_secret(key, tok))
        return true;
    const char *auth = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    return auth && !strncasecmp(auth, "Bearer ", 7) && same_secret(auth + 7, tok);
}

typedef struct route {
    const char *method;           /* "GET" also takes HEAD */
    const char *path;             /* exact, or a prefix ending in '/' */
    int (*get)(http_req *r);
} route;

static int ofrep_single(http_req *r)
{
    return http_ofrep_single(r, r->path + strlen("/ofrep/v1/evaluate/flags/"));
}

static const route routes[] = {
    { "POST", "/ofrep/v1/evaluate/flags", http_ofrep_bulk },
    { "POST", "/ofrep/v1/evaluate/flags/", ofrep_single },
    { "GET", "/metrics", http_metrics },
    { "GET", "/healthz", http_healthz },
    { "GET", "/api/v1/status", http_api_status },
    { "POST", "/api/v1/events", http_api_events },
    { "GET", "/api/v1/events", http_api_outcomes },
    { "GET", "/api/v1/consistency", http_api_consistency },
    { "GET", "/api/v1/audit", http_api_audit },
    { "GET", "/api/v1/shadow", http_api_shadow },
    { "GET", "/", http_dashboard },
};

static bool path_matches(const route *rt, const char *path)
{
    size_t n = strlen(rt->path);
    if (n > 1 && rt->path[n - 1] == '/')
        return !strncmp(path, rt->path, n) && path[n];
    return !strcmp(path, rt->path);
}

static bool method_matches(const route *rt, const char *method)
{
    return !strcmp(method, rt->method) ||
           (!strcmp(rt->method, "GET") && !strcmp(method, "HEAD"));
}

static int dispatch(http_req *r)
{
    const route *path_found = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!path_matches(&routes[i], r->path))
            continue;
        if (method_matches(&routes[i], r->method))
            return routes[i].get(r);
        path_found = &routes[i];
    }
    if (!path_found)
        return http_reply_error(r, MHD_HTTP_NOT_FOUND, "no such path: %.200s; the "
                                "service answers /ofrep/v1/evaluate/flags[/KEY], "
                                "/metrics, /healthz, / and /api/v1/", r->path);
    return http_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s does not take %.16s",
                            path_found->path, r->method);
}

/* Takes a piece of the body, up to HTTP_MAX_BODY in all. */
static void take_body(http_req *r, const char *data, size_t n)
{
    if (r->too_large || r->len + n > HTTP_MAX_BODY) {
        r->too_large = true;
        return;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = (r->len + n + 1) * 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            r->too_large = true;
            return;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
}

static int too_large(http_req *r)
{
    return http_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is larger "
                            "than %d bytes", HTTP_MAX_BODY);
}

/* The first call of a request: refuse what can be refused before the body
 * arrives (a wrong token, a declared body too large). */
static int first_call(http_req *r)
{
    if (!authorized(r))
        return http_reply_error(r, MHD_HTTP_UNAUTHORIZED, "a token is needed: "
                                "\"Authorization: Bearer TOKEN\" or \"X-API-Key: TOKEN\"");
    const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
        return too_large(r);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    http_req *r = *state;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *r = (http_req){ .srv = cls, .conn = conn, .method = method, .path = url };
        *state = r;
        return first_call(r);
    }
    if (*upload_size) {
        if (!r->answered)
            take_body(r, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    return r->too_large ? too_large(r) : dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    http_req *r = *state;
    if (r) {
        free(r->body);
        free(r);
        *state = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    if (s->log)
        s->log(s->log_ud, SG_LOG_WARN, msg);
}

/* "HOST:PORT" or "[V6]:PORT" into an address; false with a message. */
static bool parse_listen(const char *listen, struct sockaddr_storage *sa, char *err,
                         size_t err_len)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    const char *h = listen, *hend = colon;
    if (listen[0] == '[') {
        h = listen + 1;
        hend = strchr(listen, ']');
        if (!hend || hend[1] != ':')
            hend = NULL;
        colon = hend ? hend + 1 : NULL;
    }
    char *end;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || !hend || hend == h || (size_t)(hend - h) >= sizeof host ||
        !colon[1] || *end || port > 65535) {
        snprintf(err, err_len, "--listen '%s': expected HOST:PORT (127.0.0.1:8321, "
                 "[::1]:8321, 0.0.0.0:8321; port 0 picks a free one)", listen);
        return false;
    }
    snprintf(host, sizeof host, "%.*s", (int)(hend - h), h);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g) {
        snprintf(err, err_len, "--listen '%s': %s", listen, gai_strerror(g));
        return false;
    }
    memset(sa, 0, sizeof *sa);
    memcpy(sa, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (sa->ss_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
    return true;
}

static bool is_loopback(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a);
}

static void set_url(http_server *s, const struct sockaddr_storage *sa)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon,
                                                         MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN] = "?";
    bool v4 = sa->ss_family == AF_INET;
    inet_ntop(sa->ss_family, v4 ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
              host, sizeof host);
    snprintf(s->url, sizeof s->url, v4 ? "http://%s:%u" : "http://[%s]:%u", host,
             di ? (unsigned)di->port : 0u);
}

static int start_daemon(http_server *s, const struct sockaddr_storage *sa, char *err,
                        size_t err_len)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (sa->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, err_len, "cannot listen on the address given (in use, or not "
                 "this machine's?); hint: pick another --listen");
        return SG_EINVAL;
    }
    set_url(s, sa);
    return 0;
}

/* Opens migration g from its spec (read-only). */
int http_mig_open(http_mig *g, char *err, size_t err_len)
{
    sg_open_options o = SG_OPEN_OPTIONS_INIT;
    o.read_only = true;
    int rc = sg_migration_open_ext(&g->m, g->spec, &o);
    if (rc) {
        snprintf(err, err_len, "%s", g->m ? sg_migration_errmsg(g->m) : "out of memory");
        sg_migration_close(g->m);
        g->m = NULL;
    }
    return rc;
}

static int open_migrations(http_server *s, const http_config *c, char *err, size_t err_len)
{
    if (!(s->migs = calloc(c->n_specs, sizeof *s->migs)))
        return snprintf(err, err_len, "out of memory"), SG_ENOMEM;
    s->n_migs = c->n_specs;
    for (size_t i = 0; i < s->n_migs; i++) {
        http_mig *g = &s->migs[i];
        int rc = (g->spec = strdup(c->specs[i])) ? http_mig_open(g, err, err_len) : SG_ENOMEM;
        if (!rc && !(g->name = strdup(sg_migration_name(g->m))))
            rc = SG_ENOMEM;
        if (rc)
            return rc == SG_ENOMEM ? (snprintf(err, err_len, "out of memory"), rc) : rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->migs[j].name, g->name))
                return snprintf(err, err_len, "%s and %s both name the migration '%s'; "
                                "each flag belongs to one", s->migs[j].spec, g->spec,
                                g->name), SG_ESPEC;
        if ((rc = sg_router_open_migration(&g->router, g->m)) ||
            (rc = sg_router_open_migration(&g->reporter, g->m)))
            return snprintf(err, err_len, "%s: %s", g->name,
                            sg_router_errmsg(g->reporter ? g->reporter : g->router)), rc;
    }
    return 0;
}

int http_start(http_server **out, const http_config *c, char *err, size_t err_len)
{
    *out = NULL;
    struct sockaddr_storage sa;
    if (!parse_listen(c->listen, &sa, err, err_len))
        return SG_EINVAL;
    if (!is_loopback(&sa) && (!c->token || !*c->token)) {
        snprintf(err, err_len, "--listen %s is not a loopback address: a token is "
                 "required (--token-file FILE or $SEGUE_TOKEN), so that only "
                 "applications that have it can read routing", c->listen);
        return SG_EINVAL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return snprintf(err, err_len, "out of memory"), SG_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    s->log = c->log;
    s->log_ud = c->log_ud;
    int rc = c->token && *c->token && !(s->token = strdup(c->token))
                 ? (snprintf(err, err_len, "out of memory"), SG_ENOMEM) : 0;
    if (!rc)
        rc = open_migrations(s, c, err, err_len);
    if (!rc && http_threads_start(s))
        rc = SG_ERR, snprintf(err, err_len, "cannot start the service's threads");
    if (!rc)
        rc = start_daemon(s, &sa, err, err_len);
    if (rc) {
        http_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *http_url(const http_server *s)
{
    return s->url;
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    http_threads_stop(s);
    for (size_t i = 0; i < s->n_migs; i++) {
        sg_router_close(s->migs[i].router);
        sg_segments_free(s->migs[i].segments);
        sg_router_close(s->migs[i].reporter);
        free(s->migs[i].events);
        free(s->migs[i].outcomes);
        http_totals_free(&s->migs[i].totals);
        free(s->migs[i].cons);
        free(s->migs[i].backlog);
        free(s->migs[i].shapes);
        free(s->migs[i].fences);
        sg_migration_close(s->migs[i].m);
        free(s->migs[i].name);
        free(s->migs[i].spec);
    }
    free(s->migs);
    free(s->token);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
