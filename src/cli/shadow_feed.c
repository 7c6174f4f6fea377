/* The statements `segue shadow` replays (shadow_feed.h). */
#include "shadow_feed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t feed_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The pages of the log behind this many bytes read are given back (the
 * statements taken are copies): resident memory stays bounded on a log of
 * any length. */
#define RELEASE_BYTES (16u << 20)

static void unmap(shadow_feed *f)
{
    if (f->len)
        munmap((void *)f->text, f->len);
    f->text = NULL;
    f->len = 0;
    f->released = 0;
}

/* The mapping's pages before the reader's offset given back. */
static void release_read(shadow_feed *f)
{
    size_t at = sg_querylog_offset(f->log), page = (size_t)sysconf(_SC_PAGESIZE);
    if (!f->len || at > f->len || at - f->released < RELEASE_BYTES)
        return;
    size_t to = at / page * page;
    madvise((char *)f->text + f->released, to - f->released, MADV_DONTNEED);
    f->released = to;
}

/* The file open as fd mapped into memory, not read: pages come and go
 * with the page cache, so a log of any length is replayed in bounded
 * memory. 0, or -1 with the reason said. */
static int map_fd(shadow_feed *f, int fd, const char **text, size_t *len, struct stat *st)
{
    const char *why = fstat(fd, st) != 0 ? strerror(errno)
                      : !S_ISREG(st->st_mode) ? "not a regular file" : NULL;
    if (why) {
        fprintf(stderr, "segue shadow: cannot read %s: %s\n", f->path, why);
        return -1;
    }
    *len = (size_t)st->st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : (void *)"";
    if (p == MAP_FAILED) {
        fprintf(stderr, "segue shadow: cannot map %s: %s\n", f->path, strerror(errno));
        return -1;
    }
    *text = p;
    return 0;
}

/* f->path opened (kept open: a followed log is read to its end after it
 * is renamed away) and mapped; 0, or -1 said. */
static int open_file(shadow_feed *f)
{
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "segue shadow: cannot read %s: %s\n", f->path, strerror(errno));
        return -1;
    }
    if (map_fd(f, fd, &f->text, &f->len, &st)) {
        close(fd);
        return -1;
    }
    f->fd = fd;
    return 0;
}

/* A reader over the mapping, as --format and --database say. */
static int open_reader(shadow_feed *f)
{
    if (sg_querylog_open(&f->log, f->text, f->len, f->format) ||
        sg_querylog_only_database(f->log, f->database)) {
        fprintf(stderr, "segue shadow: out of memory\n");
        return -1;
    }
    /* the format a rotated log continues in is the first one's */
    f->format = sg_querylog_format_of(f->log);
    sg_querylog_follow(f->log, f->follow);
    return 0;
}

int feed_open(shadow_feed *f)
{
    f->fd = -1;
    if (open_file(f))
        return 1;
    f->rng = 0x9E3779B97F4A7C15u;
    int64_t now = feed_now_us();
    f->next_slot_us = now;
    f->deadline_us = f->duration_ms ? now + f->duration_ms * 1000 : 0;
    if (open_reader(f))
        return 1;
    if (f->from_end)
        sg_querylog_skip_all(f->log);
    return 0;
}

/* The open file's bytes past those read, if it grew: 1 grown, 0 not,
 * -1 a failure said. */
static int grow(shadow_feed *f)
{
    struct stat st;
    const char *text;
    size_t len;
    if (fstat(f->fd, &st) != 0 || (size_t)st.st_size <= f->len)
        return 0;
    if (map_fd(f, f->fd, &text, &len, &st))
        return -1;
    if (sg_querylog_grow(f->log, text, len)) {
        munmap((void *)text, len);
        fprintf(stderr, "segue shadow: out of memory\n");
        return -1;
    }
    unmap(f);
    f->text = text;
    f->len = len;
    return 1;
}


/* Following: the file grew (mapped again, read on); or another file took
 * its name or it was cut (rotation, truncation): once the old one is read
 * to its end, the new one from its start. 1 something new, 0 nothing,
 * -1 a failure said. */
static int look_again(shadow_feed *f)
{
    struct stat now, open_st;
    int r = grow(f);
    if (r != 0)
        return r;
    if (stat(f->path, &now) != 0 || fstat(f->fd, &open_st) != 0)
        return 0; /* between a rotation's rename and the new file */
    if (now.st_dev == open_st.st_dev && now.st_ino == open_st.st_ino &&
        (size_t)open_st.st_size >= f->len)
        return 0;
    f->unreadable_gone += sg_querylog_unreadable(f->log);
    f->rotations++;
    sg_querylog_free(f->log);
    f->log = NULL;
    unmap(f);
    close(f->fd);
    f->fd = -1;
    return open_file(f) || open_reader(f) ? -1 : 1;
}

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): the same statements sampled on every run. */
static double next_uniform(shadow_feed *f)
{
    uint64_t z = (f->rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

int feed_next(shadow_feed *f, sg_logged_query *q, int64_t *run_at_us)
{
    int64_t now = feed_now_us();
    if (f->deadline_us && now >= f->deadline_us)
        return 0;
    for (;;) {
        if (!sg_querylog_next(f->log, q)) {
            if (!f->follow)
                return 0;
            int r = look_again(f);
            if (r <= 0)
                return r < 0 ? -2 : -1;
            continue;
        }
        if (f->sample < 1 && next_uniform(f) >= f->sample) {
            f->sampled_out++;
            sg_logged_query_clear(q);
            continue;
        }
        break;
    }
    release_read(f);
    *run_at_us = now;
    if (f->rate > 0) {
        *run_at_us = f->next_slot_us > now ? f->next_slot_us : now;
        f->next_slot_us = *run_at_us + (int64_t)(1e6 / f->rate);
    }
    return 1;
}

int64_t feed_unreadable(const shadow_feed *f)
{
    return f->unreadable_gone + sg_querylog_unreadable(f->log);
}

double feed_done(const shadow_feed *f)
{
    return f->len ? (double)sg_querylog_offset(f->log) / (double)f->len : 1;
}

void feed_close(shadow_feed *f)
{
    sg_querylog_free(f->log);
    f->log = NULL;
    unmap(f);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
