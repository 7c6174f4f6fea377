/* Routing: which side serves a read (by consistent hash of a routing key and
 * a per-migration salt) and which side takes writes. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "state/control.h"

uint32_t sg_route_bucket(const char *salt, const void *key, size_t key_len)
{
    /* seeded by the salt's own hash so salt and key need no concatenation */
    uint64_t seed = XXH3_64bits(salt, strlen(salt));
    return (uint32_t)(XXH3_64bits_withSeed(key, key_len, seed) % 10000u);
}

bool sg_route_reads_target(uint32_t bucket, double pct)
{
    if (!(pct > 0))
        return false;
    if (pct >= 100)
        return true;
    return (double)bucket < pct * 100.0;
}

struct sg_router {
    sg_err err;
    sg_conn *conn;
    char *name;
    int refresh_ms;
    int64_t loaded_ms;
    bool loaded;
    sg_routing r;
};

int sg_router_open(sg_router **out, const char *control_uri, const char *name,
                   int refresh_ms)
{
    sg_router *r = calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return SG_ENOMEM;
    r->refresh_ms = refresh_ms < 0 ? 0 : refresh_ms;
    if (!(r->name = strdup(name)))
        return sg_err_set(&r->err, SG_ENOMEM, "out of memory");
    return sg_db_open(&r->conn, control_uri, "target", 0, &r->err);
}

void sg_router_close(sg_router *r)
{
    if (!r)
        return;
    sg_db_close(r->conn);
    free(r->name);
    free(r);
}

const char *sg_router_errmsg(const sg_router *r)
{
    return r ? r->err.msg : "out of memory";
}

static int refresh(sg_router *r)
{
    if (!r->conn)
        return sg_err_set(&r->err, SG_EINVAL, "router is not connected");
    if (r->loaded && sg_mono_ms() - r->loaded_ms < r->refresh_ms)
        return 0;
    sg_phase phase;
    int rc = sg_routing_serve(r->conn, r->name, &r->r, &phase, &r->err);
    if (rc)
        return rc;
    r->loaded = true;
    r->loaded_ms = sg_mono_ms();
    return 0;
}

int sg_router_read_side(int *side, sg_router *r, const void *key, size_t key_len)
{
    if (!r)
        return SG_EINVAL;
    if (!side || (!key && key_len))
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_read_side: side is NULL, or "
                          "key is NULL with a length");
    int rc = refresh(r);
    if (rc)
        return rc;
    *side = sg_route_reads_target(sg_route_bucket(r->r.salt, key, key_len),
                                  r->r.read_pct) ? SG_SIDE_TARGET : SG_SIDE_SOURCE;
    return 0;
}

int sg_router_write_side(int *side, sg_router *r)
{
    if (!r)
        return SG_EINVAL;
    if (!side)
        return sg_err_set(&r->err, SG_EINVAL, "sg_router_write_side: side is NULL");
    int rc = refresh(r);
    if (!rc)
        *side = r->r.write_side;
    return rc;
}

int sg_migration_route(int *read_side, int *write_side, uint32_t *bucket,
                       sg_migration *m, const void *key, size_t key_len)
{
    sg_routing r;
    sg_phase phase;
    if (!m)
        return SG_EINVAL;
    sg_err_clear(&m->err);
    if (!read_side || !write_side || !bucket || (!key && key_len))
        return sg_err_set(&m->err, SG_EINVAL, "sg_migration_route: an out-parameter "
                          "is NULL, or key is NULL with a length");
    int rc = sg_routing_serve(m->tgt, m->spec->name, &r, &phase, &m->err);
    if (rc)
        return rc;
    *bucket = sg_route_bucket(r.salt, key, key_len);
    *read_side = sg_route_reads_target(*bucket, r.read_pct) ? SG_SIDE_TARGET
                                                            : SG_SIDE_SOURCE;
    *write_side = r.write_side;
    return 0;
}
