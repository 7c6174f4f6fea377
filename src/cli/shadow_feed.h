/* The statements `segue shadow` replays: a query log mapped into memory,
 * followed as it grows (and across rotation, like tail -F) with --follow,
 * thinned by --sample, paced by --rate, ended by --duration. */
#ifndef SEGUE_CLI_SHADOW_FEED_H
#define SEGUE_CLI_SHADOW_FEED_H

#include <segue/shadow.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct shadow_feed {
    /* set before feed_open */
    const char *path;
    sg_querylog_format format;
    const char *database;       /* --database, or NULL */
    bool follow;
    bool from_end;              /* with follow: only what is written from now */
    double sample;              /* share of the statements taken (0, 1] */
    double rate;                /* statements per second at most; 0: no cap */
    int64_t duration_ms;        /* stop after; 0: at the end of the log */
    /* state */
    int fd;                     /* the log read */
    const char *text;           /* its mapping, len bytes */
    size_t len;
    size_t released;            /* bytes of it given back (read already) */
    sg_querylog *log;
    int64_t unreadable_gone;    /* lines unreadable in logs rotated away */
    int64_t sampled_out;        /* statements --sample passed over */
    int64_t rotations;
    uint64_t rng;
    int64_t deadline_us, next_slot_us;
} shadow_feed;

/* Maps f->path and opens its reader; 0, or the exit code (said on stderr). */
int feed_open(shadow_feed *f);
/* The next statement into q: 1 taken (*run_at_us: the monotonic time to
 * run it at, --rate), 0 the end (of the log, or --duration), -1 nothing yet
 * (following: wait and ask again), -2 a failure (said on stderr). Not
 * thread-safe:
 * callers hold one lock. */
int feed_next(shadow_feed *f, sg_logged_query *q, int64_t *run_at_us);
/* Lines that could not be read, in every log followed. */
int64_t feed_unreadable(const shadow_feed *f);
/* The share of the log read so far, 0..1 (following: of what is written). */
double feed_done(const shadow_feed *f);
void feed_close(shadow_feed *f);
/* Monotonic clock in microseconds. */
int64_t feed_now_us(void);

#endif
