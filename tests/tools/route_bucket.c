/* Test tool: the routing bucket of keys, by the public sg_route_bucket, for
 * docs/routing.md's test vectors. Reads lines "SALT KEYHEX" (the key's
 * bytes in hexadecimal, "-" for the empty key) and prints each bucket on a
 * line of its own. Exits 0, or 2 on a malformed line.
 *
 *   route_bucket < vectors */
#include <segue/segue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* hex digits into bytes; the count, or -1 when malformed */
static long unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex);
    if (!strcmp(hex, "-"))
        return 0;
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        char pair[3] = { hex[2 * i], hex[2 * i + 1], '\0' }, *end = NULL;
        unsigned long v = strtoul(pair, &end, 16);
        if (*end)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (long)(n / 2);
}

int main(void)
{
    char salt[64], hex[8192];
    static unsigned char key[4096];
    int rc = 0;
    while (scanf("%63s %8191s", salt, hex) == 2) {
        long n = unhex(hex, key, sizeof key);
        if (n < 0) {
            fprintf(stderr, "route_bucket: not hexadecimal: %s\n", hex);
            rc = 2;
            break;
        }
        printf("%u\n", sg_route_bucket(salt, key, (size_t)n));
    }
    return rc;
}
