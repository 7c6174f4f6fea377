/* segue demo: the whole playbook on a copy of Chinook (SQLite), with a live
 * writer that routes its writes through segue's C API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>
#include <pthread.h>

#include "cli.h"
#include <segue/drill.h>
#include <segue/gates.h>

#include "demo_rollout.h"
#include "http.h"
#include "writer.h"

static const char *spec_text =
    "version: 1\n"
    "name: chinook-demo\n"
    "source: sqlite:%s/chinook.db\n"
    "target: sqlite:%s/chinook-v2.db\n"
    "mappings:\n"
    "  - from: Customer            # split: core columns ...\n"
    "    to: customer\n"
    "    create: true\n"
    "    columns:\n"
    "      customer_id: CustomerId\n"
    "      first_name: FirstName\n"
    "      last_name: LastName\n"
    "      email: lower(Email)       # transformed\n"
    "      country: Country\n"
    "    reverse:\n"
    "      Email: email\n"
    "  - from: Customer            # ... and contact details\n"
    "    to: customer_contact\n"
    "    create: true\n"
    "    columns:\n"
    "      customer_id: CustomerId\n"
    "      phone: Phone\n"
    "      fax: Fax\n"
    "      city: City\n"
    "  - from: Track\n"
    "    to: track\n"
    "    create: true\n"
    "    columns:\n"
    "      track_id: TrackId\n"
    "      name: Name\n"
    "      album_id: AlbumId\n"
    "      media_type_id: MediaTypeId\n"
    "      genre_id: GenreId\n"
    "      composer: Composer\n"
    "      milliseconds: Milliseconds\n"
    "      bytes: Bytes\n"
    "      unit_price_cents: CAST(round(UnitPrice * 100) AS INTEGER)\n"
    "    reverse:\n"
    "      UnitPrice: unit_price_cents / 100.0\n"
    "backfill:\n"
    "  chunk_time: 100ms\n"
    "cutover:                      # `segue run` walks the read steps itself\n"
    "  auto: true\n"
    "  reads:\n"
    "    - {pct: 1, hold: 1s}\n"
    "    - {pct: 5, hold: 1s}\n"
    "    - {pct: 10, hold: 1s}\n"
    "    - {pct: 25, hold: 1s}\n"
    "    - {pct: 50, hold: 1s}\n"
    "    - {pct: 100, hold: 1s}\n"
    "gates:\n"
    "  interval: 250ms             # every check evaluated 4 times a second\n"
    "  failure_limit: 12           # 3 s of failing evaluations roll back\n"
    "  checks:\n"
    "    lag: {max: 2s}\n"
    "  shadow:                     # reads move only once the app's reads match\n"
    "    min_reads: 200\n"
    "    max_mismatch_rate: 0\n"
    "    window: 10m\n";

/* The live writer's reads, shadowed before the read cutover: a point
 * read of Track (renamed, the price transformed) and one of Customer
 * (split in two tables), by a key the writer picks. */
static const char *const app_reads[] = {
    "SELECT Name, Composer, UnitPrice FROM Track WHERE TrackId = $1",
    "SELECT c.FirstName, c.LastName, c.Email, c.City FROM Customer c "
    "WHERE c.CustomerId = 1 + $1 % 59",
    NULL
};

/* Reads the gate asks for (gates.shadow.min_reads), and how long the demo
 * waits for them at most. */
#define SHADOW_READS 200
#define SHADOW_WAIT_MS 60000
/* The most the demo waits for its rollout to walk every step (ms). */
#define ROLLOUT_WAIT_MS 120000

/* Where `make install` puts the data: ../share/segue beside the directory
 * of the running executable (PREFIX/bin/segue), wherever PREFIX is. */
static const char *installed_data(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return NULL;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    size_t used = strlen(path);
    int w = snprintf(path + used, sizeof path - used, "/../share/segue/Chinook_Sqlite.sqlite");
    return w > 0 && (size_t)w < sizeof path - used && access(path, R_OK) == 0 ? path : NULL;
}

static const char *find_data(const char *given)
{
    static const char *const tries[] = { "../shared/data/chinook/Chinook_Sqlite.sqlite",
        "../../shared/data/chinook/Chinook_Sqlite.sqlite" };
    if (given)
        return given;
    if (getenv("SEGUE_CHINOOK"))
        return getenv("SEGUE_CHINOOK");
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        if (access(tries[i], R_OK) == 0)
            return tries[i];
    return installed_data();
}

/* Copies the file with SQLite's backup API and turns on WAL. */
static int copy_db(const char *from, const char *to)
{
    sqlite3 *a = NULL, *b = NULL;
    int rc = sqlite3_open_v2(from, &a, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open(to, &b);
    if (rc == SQLITE_OK) {
        sqlite3_backup *bk = sqlite3_backup_init(b, "main", a, "main");
        rc = bk ? sqlite3_backup_step(bk, -1) : SQLITE_ERROR;
        sqlite3_backup_finish(bk);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(b, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_close(a);
    sqlite3_close(b);
    return rc;
}

typedef struct worker_arg {
    const char *spec;
    volatile sig_atomic_t stop;
    volatile int rc;
    bool json;               /* --json: the rollout's decisions not shown */
    char msg[512];
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *w = p;
    sg_migration *m = NULL;
    sg_worker_options o = SG_WORKER_OPTIONS_INIT;
    o.stop = &w->stop;
    o.wait_for_lease = true;
    o.idle_ms = 20;
    int rc = sg_migration_open(&m, w->spec);
    if (!rc) {
        sg_migration_set_log(m, demo_rollout_log, &w->json);
        rc = sg_worker_run(m, &o);
    }
    w->rc = rc;
    if (w->rc == SG_ESTOPPED)
        w->rc = 0;
    snprintf(w->msg, sizeof w->msg, "%s", sg_migration_errmsg(m));
    sg_migration_close(m);
    return NULL;
}

/* Independent of verify: mapping(source) EXCEPT target, both ways, in SQL. */
static long long independent_diff(const char *dir)
{
    char path[1024], sql[2048];
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long n = -1;
    snprintf(path, sizeof path, "%s/chinook.db", dir);
    snprintf(sql, sizeof sql,
        "ATTACH '%s/chinook-v2.db' AS t; SELECT "
        "(SELECT count(*) FROM (SELECT TrackId, Name, AlbumId, MediaTypeId, GenreId, "
        "Composer, Milliseconds, Bytes, CAST(round(UnitPrice*100) AS INTEGER) FROM Track "
        "EXCEPT SELECT * FROM t.track)) + (SELECT count(*) FROM (SELECT * FROM t.track "
        "EXCEPT SELECT TrackId, Name, AlbumId, MediaTypeId, GenreId, Composer, "
        "Milliseconds, Bytes, CAST(round(UnitPrice*100) AS INTEGER) FROM Track)) + "
        "(SELECT count(*) FROM (SELECT CustomerId, FirstName, LastName, lower(Email), "
        "Country FROM Customer EXCEPT SELECT * FROM t.customer))", dir);
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        char *semi = strchr(sql, ';');
        *semi = '\0';
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, semi + 1, -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

#define STEP(call, what) do { int rc_ = (call); if (rc_) { \
    code = cli_fail(what, rc_, sg_migration_errmsg(m)); goto done; } } while (0)

static void say(bool json, const char *fmt, const char *arg)
{
    if (!json) {
        printf(fmt, arg);
        fflush(stdout);
    }
}

/* The dashboard and OFREP for the demo's migration, on --listen (default
 * 127.0.0.1:8321, or a free port when that one is taken); NULL when it
 * cannot start (said on stderr). */
static http_server *demo_serve(const cli_cmd *c, const cli_args *a, const char *spec)
{
    const char *listen = cli_get(c, a, "listen");
    const char *specs[1] = { spec };
    char err[1024];
    http_config hc = { .listen = listen ? listen : "127.0.0.1:8321", .specs = specs,
                       .n_specs = 1 };
    http_server *srv = NULL;
    if (http_start(&srv, &hc, err, sizeof err) && !listen) {
        hc.listen = "127.0.0.1:0";
        http_start(&srv, &hc, err, sizeof err);
    }
    if (!srv)
        fprintf(stderr, "segue demo: cannot serve the dashboard: %s\n", err);
    return srv;
}

/* --hold: the service stays up until a signal, for a person to look. */
static void hold(bool json, http_server *srv)
{
    if (!srv)
        return;
    fprintf(json ? stderr : stdout, "demo: holding: the dashboard stays at %s/ until "
            "Ctrl-C\n", http_url(srv));
    fflush(json ? stderr : stdout);
    while (!cli_stop)
        usleep(100000);
}

CMD(demo)
{
    char dir[512], spec[600], db[600], tdb[600], moved_by[600] = "";
    const char *data = find_data(cli_get(c, a, "data"));
    long long rate = 200;
    int code = cli_parse_count("demo", "rate", cli_get(c, a, "rate"), &rate);
    if (code)
        return code;
    if (!cli_get(c, a, "rate"))
        rate = 200;
    sg_migration *m = NULL;
    http_server *srv = NULL;
    writer *w = NULL;
    writer_stats ws = { 0 };
    worker_arg wa = { 0 };
    pthread_t wt;
    bool worker_on = false;
    sg_verify_report *vr = NULL;
    double fence_ms = 0;
    int64_t t0 = 0;
    sg_drill_report drill = { 0 };
    struct timespec ts;
    if (rate < 1 || rate > 100000) {
        fprintf(stderr, "segue demo: --rate must be 1..100000\n");
        return EXIT_USAGE;
    }
    if (!data) {
        fprintf(stderr, "segue demo: cannot find Chinook_Sqlite.sqlite; hint: run "
                "from the repository root next to ../shared, install segue (`make "
                "install` puts it in PREFIX/share/segue), or pass --data FILE\n");
        return EXIT_USAGE;
    }
    if (cli_get(c, a, "dir"))
        snprintf(dir, sizeof dir, "%s", cli_get(c, a, "dir"));
    else {
        snprintf(dir, sizeof dir, "/tmp/segue-demo-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("segue demo: mkdtemp");
            return EXIT_FAIL;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    snprintf(db, sizeof db, "%s/chinook.db", dir);
    snprintf(tdb, sizeof tdb, "%s/chinook-v2.db", dir);
    snprintf(spec, sizeof spec, "%s/migration.yaml", dir);
    unlink(db); unlink(tdb);
    if (copy_db(data, db) != SQLITE_OK) {
        fprintf(stderr, "segue demo: cannot copy %s to %s\n", data, db);
        return EXIT_FAIL;
    }
    FILE *f = fopen(spec, "w");
    if (!f || fprintf(f, spec_text, dir, dir) < 0 || fclose(f)) {
        fprintf(stderr, "segue demo: cannot write %s\n", spec);
        return EXIT_FAIL;
    }
    say(a->json, "demo: scratch directory %s\n", dir);
    if ((code = cli_open((cli_args[]){ { .spec = spec } }, &m)) != 0)
        return code;
    STEP(sg_migration_start(m, "demo"), "demo: start");
    say(a->json, "demo: %s\n", "started: target tables and capture installed");
    /* the rollout waits for the rollback drill */
    STEP(sg_migration_pause(m, "the demo drills the rollback first"), "demo: pause");
    if (!(srv = demo_serve(c, a, spec))) {
        code = EXIT_FAIL;
        goto done;
    }
    say(a->json, "demo: dashboard %s/ (OFREP, /metrics and /api/v1/ beside it)\n",
        http_url(srv));
    char uri[700];
    snprintf(uri, sizeof uri, "sqlite:%s", tdb);
    writer_config wc = {
        .side = { { db, "Track", "TrackId", "Name",
                    "INSERT INTO Track (TrackId, Name, MediaTypeId, Milliseconds, "
                    "UnitPrice) VALUES (?1, ?2, 1, 1000, 0.99)" },
                  { tdb, "track", "track_id", "name",
                    "INSERT INTO track (track_id, name, media_type_id, milliseconds, "
                    "unit_price_cents) VALUES (?1, ?2, 1, 1000, 99)" } },
        .control_uri = uri, .migration = "chinook-demo", .rate = (int)rate,
        .key_base = 100000, .seed = 42, .shadow_spec = spec, .reads = app_reads,
        .ofrep_url = http_url(srv) };
    if (writer_start(&w, &wc)) {
        fprintf(stderr, "segue demo: cannot start the live writer\n");
        code = EXIT_FAIL;
        goto done;
    }
    say(a->json, "demo: %s\n", "live writer running (inserts, updates, deletes, key "
        "changes), asking OFREP where writes go");
    wa.spec = spec;
    wa.json = a->json;
    if (pthread_create(&wt, NULL, worker_main, &wa) == 0)
        worker_on = true;
    sg_status st;
    do {
        usleep(100000);
        STEP(sg_migration_status(&st, m), "demo: status");
    } while (!st.backfill_complete && wa.rc == 0);
    say(a->json, "demo: %s\n", "backfill complete; verifying under the live writer");
    sg_verify_options vo = SG_VERIFY_OPTIONS_INIT;
    STEP(sg_verify_run(&vr, m, &vo), "demo: verify");
    say(a->json, "demo: %s\n", "shadowing the writer's reads on both sides");
    writer_shadow(w, true);
    for (int waited = 0; waited < SHADOW_WAIT_MS && wa.rc == 0; waited += 100) {
        usleep(100000);
        STEP(sg_migration_status(&st, m), "demo: status");
        if (st.shadow_compared >= SHADOW_READS)
            break;
    }
    writer_shadow(w, false);
    say(a->json, "demo: %s\n", "rollback drill: reads and writes to the target, a gate "
        "failing on purpose, the worker rolling back");
    STEP(demo_drill(m, http_url(srv), &a->json, &drill), "demo: drill");
    /* the worker's rollout takes each read step once every gate has passed
     * for its hold (the shadow reads held the first until they matched) */
    STEP(demo_rollout_wait(m, &wa.rc, ROLLOUT_WAIT_MS, moved_by, sizeof moved_by),
         "demo: rollout");
    say(a->json, "demo: %s\n", "reads moved to the target 1% -> 100% by the rollout");
    STEP(sg_migration_status(&st, m), "demo: status");
    int64_t heartbeat_ms = st.heartbeat_lag_ms; /* none after the write cutover */
    STEP(sg_cutover_writes(&fence_ms, m, "demo"), "demo: cutover --writes");
    say(a->json, "demo: %s\n", "writes switched; the writer now writes the target");
    usleep(1500000);
    writer_stop(w, &ws);
    w = NULL;
    do {
        usleep(50000);
        STEP(sg_migration_status(&st, m), "demo: status");
    } while (st.pending_changes > 0 && wa.rc == 0);
    wa.stop = 1;
    pthread_join(wt, NULL);
    worker_on = false;
    if (wa.rc) {
        code = cli_fail("demo: worker", wa.rc, wa.msg);
        goto done;
    }
    long long diff = independent_diff(dir);
    sg_status sh;
    STEP(sg_migration_status(&sh, m), "demo: status");
    sg_cleanup_options co = SG_CLEANUP_OPTIONS_INIT;
    STEP(sg_migration_cleanup(m, &co, "demo"), "demo: cleanup");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double wall = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0) / 1000.0;
    int64_t writes = ws.inserts + ws.updates + ws.deletes + ws.key_changes;
    if (a->json)
        cli_print_json(json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:f,"
            "s:{s:I,s:I,s:I,s:I,s:I,s:f},s:o}",
            "dir", dir, "dashboard", http_url(srv), "rollout_moved_by", moved_by,
            "ofrep_evaluations", (json_int_t)ws.ofrep_evaluations,
            "rows_copied", (json_int_t)st.backfill_rows,
            "writes_during_run", (json_int_t)writes, "writes_failed",
            (json_int_t)ws.failed, "writes_retried_after_cutover",
            (json_int_t)ws.rejected_retried, "verify_differences",
            (json_int_t)vr->differences, "verify_rechecked", (json_int_t)vr->rechecked,
            "independent_differences", (json_int_t)diff, "fence_ms", fence_ms,
            "heartbeat_lag_ms", (json_int_t)heartbeat_ms,
            "verify_source_rows", (json_int_t)vr->source_rows, "wall_s", wall, "shadow",
            "compared", (json_int_t)sh.shadow_compared, "mismatches",
            (json_int_t)sh.shadow_mismatches, "pending", (json_int_t)sh.shadow_pending,
            "nondeterministic", (json_int_t)sh.shadow_nondeterministic, "errors",
            (json_int_t)(sh.shadow_errors + ws.shadow_failed), "p99_ratio",
            sh.shadow_p99_ratio, "drill", cli_drill_json(&drill)));
    else
        printf("\nsegue demo report\n"
               "  rows copied            %lld\n"
               "  writes during the run  %lld (%lld inserts, %lld updates, %lld "
               "deletes, %lld key changes; %lld failed, %lld retried after the cutover)\n"
               "  verification           %zu differences (%lld rows, %lld keys re-checked)\n"
               "  independent SQL check  %lld differences (mapping(source) EXCEPT target)\n"
               "  shadow reads           %lld of the writer's reads run on both sides: %lld "
               "mismatches, %lld pending, %lld errors; p99 target/source %.2f\n"
               "  heartbeat lag          %lld ms (source write to target, before the write "
               "cutover)\n"
               "  write fence            %.1f ms\n"
               "  routing over OFREP     %lld evaluations by the writer (%s)\n"
               "  rollout                6 read steps taken by `segue run`; the last "
               "moved on: %s\n"
               "  wall time              %.1f s\n",
               (long long)st.backfill_rows, (long long)writes, (long long)ws.inserts,
               (long long)ws.updates, (long long)ws.deletes, (long long)ws.key_changes,
               (long long)ws.failed, (long long)ws.rejected_retried, (size_t)vr->differences,
               (long long)vr->source_rows, (long long)vr->rechecked, diff,
               (long long)sh.shadow_compared, (long long)sh.shadow_mismatches,
               (long long)sh.shadow_pending, (long long)(sh.shadow_errors + ws.shadow_failed),
               sh.shadow_p99_ratio, (long long)heartbeat_ms, fence_ms,
               (long long)ws.ofrep_evaluations,
               http_url(srv), moved_by, wall);
    if (!a->json)
        cli_drill_text(stdout, "  ", &drill);
    if (ws.failed)
        fprintf(stderr, "segue demo: %lld writes failed: %s\n", (long long)ws.failed,
                ws.last_error);
    if (vr->differences || diff != 0 || ws.failed || sh.shadow_mismatches ||
        drill.writes_lost || drill.differences ||
        sh.shadow_errors || ws.shadow_failed || !ws.ofrep_evaluations)
        code = EXIT_DIFF;
    if (cli_has(c, a, "hold"))
        hold(a->json, srv);
done:
    if (w)
        writer_stop(w, NULL);
    if (worker_on) {
        wa.stop = 1;
        pthread_join(wt, NULL);
    }
    http_stop(srv);
    sg_verify_report_free(vr);
    sg_migration_close(m);
    return code;
}
