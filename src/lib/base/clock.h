/* Clocks: wall time for records, monotonic time for intervals. */
#ifndef SEGUE_CLOCK_H
#define SEGUE_CLOCK_H

#include <stdint.h>

/* Time in ms since the Unix epoch / monotonic ms. */
int64_t sg_now_ms(void);
int64_t sg_mono_ms(void);
/* Monotonic µs (for latencies). */
int64_t sg_mono_us(void);
void sg_sleep_ms(int64_t ms);
/* ISO 8601 UTC of now: "2026-11-21T10:00:00.123Z"; out has 32 bytes. */
void sg_now_iso(char out[32]);
/* ms since the epoch of a time sg_now_iso wrote ("2026-12-03T13:56:11.607Z",
 * the fraction optional). Returns 0, or -1 when s is not one. */
int sg_iso_ms(const char *s, int64_t *ms);

#endif
