/*
 * streamstat: a pass-through filter on the migration stream, in the dom0.
 *
 *     streamstat STATFILE [stale=N] < stream > stream
 *
 * Copies stdin to stdout as it arrives and reads the libxc stream inside it
 * (Xen's docs/specs/libxc-migration-stream.pandoc: image header, domain
 * header, records; PAGE_DATA records carry a pfn list and the pages).  At
 * the END record it writes to STATFILE:
 *
 *     rounds=R pages=P iter_pages=A,B,... t_first=T t_second=T t_last_iter=T
 *     t_end=T
 *
 * pages: pages with data in the stream; rounds: iterations, counted from the
 * pfn order: libxc sends each iteration's pages in ascending pfn order, so a
 * pfn not above the previous one starts the next iteration (this can only
 * undercount, if an iteration's first pfn were above all of the previous
 * one's).  Times are CLOCK_BOOTTIME seconds, the clock of /proc/uptime.
 *
 * Sweep: when $MIG_TTY names the guest's console pty (set by the dom0's
 * migrate()), it writes "copied P" to it every 256 pages of iteration 1
 * (P: the frame after the last one copied; libxc copies in ascending frame
 * order) and "sweep" when iteration 2 starts (t_second).  The guest
 * rewrites every page of its pattern area once, just behind the copy
 * (pattern.c): every page changes during the migration after its first
 * copy, with log-dirty on, and arrives right only if log-dirty reports it.
 * (A sweep started at the first page ran ahead of iteration 1's copy for
 * most pages: their new content went in iteration 1, and a lost dirty bit
 * did not show.  One started with iteration 2 had too little time before
 * the stop-and-copy.)
 *
 * stale=N demonstrates that the guest's check detects lost dirty pages
 * (docs/testing.md): it keeps the first copy of up to N pages of the
 * guest's pattern (recognised by its magic word) and sends that old copy
 * again whenever the page is sent later.  On arrival those pages hold what
 * a dirty page that log-dirty failed to report holds: an older, internally
 * consistent version.  Without it the stream is not changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
/* pattern.c's MAGIC; word 0 of a pattern page is MAGIC ^ index, and
 * index < 2^20, so its top 40 bits are MAGIC's. */
#define PATTERN_MAGIC_HI (0x4d49475041545400ull & ~0xffffffull)
#define MAX_KEEP 4096u

static unsigned char buf[1 << 16];
static size_t have, pos;

static double boottime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        ssize_t w = write(1, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            exit(1);
        c += w;
        n -= (size_t)w;
    }
}

/* Refills the buffer; 0 at end of input. */
static int fill(void)
{
    for (;;) {
        ssize_t r = read(0, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        have = (size_t)r;
        pos = 0;
        return 1;
    }
}

/* Reads exactly n bytes into out (NULL: forward them unseen); forwards
 * them unless `hold` (the caller forwards, possibly changed). */
static int take(void *out, size_t n, int hold)
{
    unsigned char *o = out;
    while (n) {
        if (pos == have && !fill())
            return 0;
        size_t k = have - pos < n ? have - pos : n;
        if (o) {
            memcpy(o, buf + pos, k);
            o += k;
        }
        if (!hold)
            put(buf + pos, k);
        pos += k;
        n -= k;
    }
    return 1;
}

static void copy_rest(void)
{
    if (pos < have)
        put(buf + pos, have - pos);
    while (fill())
        put(buf, have);
}

/* A line to the guest's console ($MIG_TTY; see the top).  Non-blocking: a
 * line lost to a full pty is made up for by the next. */
static void tell_guest(const char *fmt, unsigned long long n)
{
    static int fd = -2;
    if (fd == -2) {
        const char *tty = getenv("MIG_TTY");
        fd = tty && *tty ? open(tty, O_WRONLY | O_NOCTTY | O_NONBLOCK) : -1;
    }
    if (fd < 0)
        return;
    char msg[64];
    int len = snprintf(msg, sizeof(msg), fmt, n);
    if (len > 0 && write(fd, msg, (size_t)len) < 0 && errno != EAGAIN)
        fprintf(stderr, "streamstat: MIG_TTY: %s\n", strerror(errno));
}

struct kept {
    uint64_t pfn;
    unsigned char data[PAGE];
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: streamstat STATFILE [stale=N]\n");
        return 2;
    }
    unsigned long stale = 0;
    if (argc > 2 && strncmp(argv[2], "stale=", 6) == 0)
        stale = strtoul(argv[2] + 6, NULL, 0);
    if (stale > MAX_KEEP)
        stale = MAX_KEEP;
    struct kept *kept = stale ? calloc(stale, sizeof(*kept)) : NULL;
    unsigned long nkept = 0, replaced = 0;

    /* Forward everything up to and including the image header's marker
     * and id (8 x 0xff, "XENF"). */
    static const unsigned char magic[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 'X', 'E', 'N', 'F'};
    size_t matched = 0;
    while (matched < sizeof(magic)) {
        unsigned char c;
        if (!take(&c, 1, 0))
            return 0;
        if (c == magic[matched])
            matched++;
        else
            matched = (c == 0xff) ? (matched >= 8 ? 8 : matched + 1) : 0;
    }
    unsigned char hdr[12 + 16];
    if (!take(hdr, sizeof(hdr), 0)) /* rest of the image header, domain header */
        return 0;

    unsigned long pages = 0, iter_pages[64] = {0};
    unsigned iter = 0;
    int64_t last_pfn = -1;
    double t_first = 0, t_second = 0, t_last_iter = 0;
    unsigned long iter1_seen = 0;
    unsigned char page[PAGE];
    uint64_t *pfns = NULL;
    size_t pfns_cap = 0;
    for (;;) {
        uint32_t rh[2];
        if (!take(rh, sizeof(rh), 0))
            return 0;
        uint32_t type = rh[0], len = rh[1];
        uint64_t padded = ((uint64_t)len + 7) & ~7ull;
        if (type != 1 /* PAGE_DATA */) {
            if (!take(NULL, padded, 0))
                return 0;
            if (type == 0 /* END */)
                break;
            continue;
        }
        uint32_t ph[2];
        if (len < 8 || !take(ph, sizeof(ph), 0))
            return 0;
        uint32_t count = ph[0];
        uint64_t used = 8 + (uint64_t)count * 8;
        if (used > len)
            return 0;
        if (count > pfns_cap) {
            free(pfns);
            pfns_cap = count;
            pfns = malloc(pfns_cap * sizeof(*pfns));
            if (!pfns)
                return 0;
        }
        if (!take(pfns, (size_t)count * 8, 0))
            return 0;
        for (uint32_t i = 0; i < count; i++) {
            uint64_t pfn = pfns[i] & 0x000fffffffffffffull;
            unsigned t = (unsigned)(pfns[i] >> 60);
            if (last_pfn >= 0 && (int64_t)pfn <= last_pfn) {
                iter++;
                t_last_iter = boottime();
                if (iter == 1) {
                    t_second = t_last_iter;
                    tell_guest("sweep\n", 0);
                }
            }
            if (pages == 0 && last_pfn < 0)
                t_first = t_last_iter = boottime();
            last_pfn = (int64_t)pfn;
            /* Iteration 1's progress, every 256 pages: the pages of frames
             * below pfn + 1 have been copied. */
            if (iter == 0 && ++iter1_seen % 256 == 0)
                tell_guest("copied %llu\n", pfn + 1);
            if (t >= 0xd) /* XTAB, XALLOC, BROKEN: no data */
                continue;
            if (used + PAGE > len || !take(page, PAGE, 1))
                return 0;
            used += PAGE;
            pages++;
            iter_pages[iter < 63 ? iter : 63]++;
            uint64_t w0;
            memcpy(&w0, page, 8);
            int pattern = (w0 & ~0xffffffull) == PATTERN_MAGIC_HI;
            if (stale && pattern) {
                unsigned long k;
                for (k = 0; k < nkept && kept[k].pfn != pfn; k++)
                    ;
                if (k < nkept) {
                    memcpy(page, kept[k].data, PAGE);
                    replaced++;
                } else if (nkept < stale) {
                    kept[nkept].pfn = pfn;
                    memcpy(kept[nkept].data, page, PAGE);
                    nkept++;
                }
            }
            put(page, PAGE);
        }
        if (!take(NULL, padded - used, 0))
            return 0;
    }
    double t_end = boottime();

    FILE *f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "rounds=%u pages=%lu iter_pages=", iter + 1, pages);
        for (unsigned i = 0; i <= iter && i < 64; i++)
            fprintf(f, "%s%lu", i ? "," : "", iter_pages[i]);
        fprintf(f, " t_first=%.2f t_second=%.2f t_last_iter=%.2f t_end=%.2f", t_first,
                t_second, t_last_iter, t_end);
        if (stale)
            fprintf(f, " kept=%lu replaced=%lu", nkept, replaced);
        fprintf(f, "\n");
        fclose(f);
    }
    copy_rest();
    return 0;
}
