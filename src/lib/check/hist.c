/* Latency histograms (segue/shadow.h): HdrHistogram's log-linear bucket
 * layout (Gil Tene, HdrHistogram), SG_HIST_SUB_BITS sub-buckets per power
 * of two. */
#include <segue/shadow.h>

#include <math.h>

#define SUB (1 << SG_HIST_SUB_BITS)

static int top_bit(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

static int bucket_of(int64_t us)
{
    uint64_t v = us < 0 ? 0 : (uint64_t)us;
    if (v < SUB)
        return (int)v;
    int e = top_bit(v); /* >= SG_HIST_SUB_BITS */
    int sub = (int)((v >> (e - SG_HIST_SUB_BITS)) & (SUB - 1));
    int b = (e - SG_HIST_SUB_BITS + 1) * SUB + sub;
    return b < SG_HIST_BUCKETS ? b : SG_HIST_BUCKETS - 1;
}

/* The greatest value bucket b holds. */
static int64_t bucket_top(int b)
{
    if (b < SUB)
        return b;
    int e = b / SUB - 1 + SG_HIST_SUB_BITS, sub = b % SUB;
    uint64_t low = ((uint64_t)(SUB + sub)) << (e - SG_HIST_SUB_BITS);
    return (int64_t)(low + ((uint64_t)1 << (e - SG_HIST_SUB_BITS)) - 1);
}

void sg_hist_add(sg_hist *h, int64_t us)
{
    h->counts[bucket_of(us)]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

void sg_hist_merge(sg_hist *into, const sg_hist *from)
{
    for (int b = 0; b < SG_HIST_BUCKETS; b++)
        into->counts[b] += from->counts[b];
    into->n += from->n;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
}

int64_t sg_hist_percentile(const sg_hist *h, double pct)
{
    if (h->n <= 0)
        return 0;
    if (pct >= 100)
        return h->max_us;
    int64_t rank = (int64_t)ceil(pct / 100.0 * (double)h->n);
    rank = rank < 1 ? 1 : rank;
    int64_t seen = 0;
    for (int b = 0; b < SG_HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            int64_t top = bucket_top(b);
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}

int64_t sg_hist_count_at_most(const sg_hist *h, int64_t us)
{
    int64_t n = 0;
    for (int b = 0; b < SG_HIST_BUCKETS && bucket_top(b) <= us; b++)
        n += h->counts[b];
    return n;
}

double sg_hist_sum_us(const sg_hist *h)
{
    double sum = 0;
    for (int b = 0; b < SG_HIST_BUCKETS; b++)
        if (h->counts[b]) {
            double low = b ? (double)bucket_top(b - 1) + 1 : 0;
            sum += (double)h->counts[b] * (low + (double)bucket_top(b)) / 2;
        }
    return sum;
}
