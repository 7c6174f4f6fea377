/* Side threads of `segue run` (side.h). */
#include "side.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/* A round that could not open its handle is tried again this soon. */
#define REOPEN_MS 2000

void sg_side_say(sg_side *s, int level, const char *fmt, ...)
{
    char msg[900], line[960];
    va_list ap;
    if (!s->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", s->what, msg);
    s->log(s->log_ud, level, line);
}

/* Sleeps ms, or less when asked to stop. */
static void nap(sg_side *s, int64_t ms)
{
    for (int64_t end = sg_mono_ms() + ms; !s->stop && sg_mono_ms() < end;)
        sg_sleep_ms(20);
}

static void *side_main(void *arg)
{
    sg_side *s = arg;
    sg_migration *m = NULL;
    while (!s->stop) {
        int64_t next = REOPEN_MS;
        bool broken = false;
        if (!m && sg_migration_open(&m, s->spec_path)) {
            sg_side_say(s, SG_LOG_WARN, "cannot open the migration: %s",
                        sg_migration_errmsg(m));
            broken = true;
        } else if (m) {
            sg_migration_set_log(m, s->log, s->log_ud);
            next = s->round(s, s->ud, m, &broken);
        }
        if (broken) {
            sg_migration_close(m);
            m = NULL;
        }
        nap(s, next);
    }
    sg_migration_close(m);
    return NULL;
}

bool sg_side_start(sg_side *s, sg_migration *m)
{
    s->log = m->log;
    s->log_ud = m->log_ud;
    s->stop = 0;
    if ((s->spec_path = strdup(m->spec->path)) &&
        !pthread_create(&s->thread, NULL, side_main, s))
        return true;
    sg_log(m, SG_LOG_WARN, "%s: cannot start its thread", s->what);
    free(s->spec_path);
    s->spec_path = NULL;
    return false;
}

void sg_side_stop(sg_side *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    free(s->spec_path);
    s->spec_path = NULL;
}
