/*
 * pattern: the migration test's guest program, run as /init of the domU.
 *
 * It fills all the memory its userspace can get (the pattern area: sized at
 * start from /proc/meminfo, less a margin for the kernel, populated and
 * locked) with a verifiable pattern, and keeps rewriting it, so that pages
 * are dirtied faster than live migration copies them: pre-copy never
 * converges, and the final stop-and-copy sends many pages.  Every page
 * carries its index, a sequence number and a checksum, and the rest of the
 * page is derived from (index, sequence).  The writer also keeps its own
 * table of the last sequence written to each page.
 *
 * Two writers share the loop:
 *   - the hot writer rewrites the first `hot` pages of the area (default
 *     4096) over and over, as fast as it can: it keeps every pre-copy
 *     iteration busy and fills the stop-and-copy;
 *   - the sweep rewrites every page of the area once per live migration,
 *     just behind iteration 1's copy: streamstat, the filter on the
 *     migration stream, writes "copied P" to the guest's console as
 *     iteration 1 passes frame P (ascending), and "sweep" when iteration 2
 *     starts; the sweep rewrites the area's pages in ascending frame order
 *     (from /proc/self/pagemap), those below P, up to 8 times the hot
 *     writer's pace.  Every page of the area is so rewritten after its
 *     first copy, with log-dirty on, and arrives right only if log-dirty
 *     reports it.
 *
 * When a line "verify" arrives on the console (the test's dom0 writes it to
 * the guest's console pty after the migration), the program stops writing
 * (between two page writes, so no page is half written), compares every
 * page of the area with the table and prints
 *
 *     pattern: verify pages=N bad=B stale=S corrupt=C writes=W max_gap_ms=G
 *              mem_total_pages=T swept=P sweep_ms=M sweep_left=L frames=F
 *
 * then goes on writing.  A dirty page that log-dirty failed to report is
 * not resent, so after arrival it holds an older sequence number than the
 * table ("stale"); a page damaged in the stream fails the content or
 * checksum check ("corrupt").  The table itself lives in guest memory and
 * is migrated too: if one of its pages were lost, the pages it covers would
 * be ahead of it and count as stale as well.  swept: pages the last sweep
 * rewrote since the last report (all of them once it is done), sweep_ms:
 * how long it took (0 if there was none), sweep_left: pages of it
 * left when "verify" arrived, which the sweep then rewrites first; frames:
 * pages whose frame pagemap gave (the others are swept from iteration 2).
 *
 * Options on the guest kernel command line:
 *   mig.hot=N     pages of the hot writer (default 4096 = 16 MiB)
 *   mig.pages=N   pages in the pattern area (default: all the memory
 *                 userspace can get, see area_pages())
 *   mig.margin=N  KiB left to the kernel (default 4096)
 *   mig.churn     also churn page tables: map, touch, write-protect and
 *                 unmap a 2 MiB area after every 4 batches of page writes,
 *                 and every 1024 batches fork a child that writes a
 *                 copy-on-write page and exits (the child has the hot
 *                 pages, not the rest of the area: MADV_DONTFORK)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define MAGIC 0x4d49475041545400ull /* "MIGPATT\0" */
#define BATCH 64u
#define SWEEP_BATCH (8 * BATCH)

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(1, buf + off, (size_t)(n - off));
        if (w <= 0 && errno != EINTR)
            return;
        if (w > 0)
            off += w;
    }
}

static uint64_t seed(uint64_t index, uint64_t seq)
{
    uint64_t x = (index << 32) ^ seq ^ 0x9e3779b97f4a7c15ull;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
}

static uint64_t checksum(const volatile uint64_t *w)
{
    uint64_t c = 0;
    for (unsigned k = 0; k < WORDS - 1; k++)
        c = ((c << 7) | (c >> 57)) ^ w[k];
    return c;
}

/* The whole page is a function of (index, seq). */
static void write_page(volatile uint64_t *w, uint64_t index, uint64_t seq)
{
    uint64_t x = seed(index, seq);
    w[0] = MAGIC ^ index;
    w[1] = seq;
    for (unsigned k = 2; k < WORDS - 1; k++)
        w[k] = x + (uint64_t)k * 0x100000001b3ull;
    w[WORDS - 1] = checksum(w);
}

/* 0: good; 1: stale (an older sequence, or never written); 2: corrupt. */
static int check_page(const volatile uint64_t *w, uint64_t index, uint64_t seq)
{
    if (w[0] != (MAGIC ^ index))
        return w[0] == 0 ? 1 : 2;
    if (w[1] != seq) {
        if (w[1] < seq)
            return 1;
        return 2;
    }
    uint64_t x = seed(index, seq);
    for (unsigned k = 2; k < WORDS - 1; k++)
        if (w[k] != x + (uint64_t)k * 0x100000001b3ull)
            return 2;
    return w[WORDS - 1] == checksum(w) ? 0 : 2;
}

/* Bad pages found since the last report, by the writer's check before each
 * write and by the full sweep of "verify". */
struct found {
    unsigned long stale, corrupt;
};

static void note_bad(const uint64_t *area, const uint32_t *table, unsigned long i, int r,
                     struct found *f)
{
    if (r == 1)
        f->stale++;
    else
        f->corrupt++;
    if (f->stale + f->corrupt <= 5)
        say("pattern: bad page %lu: %s, page seq %llu, table seq %u\n", i,
            r == 1 ? "stale" : "corrupt", (unsigned long long)area[i * WORDS + 1], table[i]);
}

static char cmdline[1024];

static const char *option(const char *name)
{
    size_t len = strlen(name);
    for (const char *p = cmdline; (p = strstr(p, name)) != NULL; p += len) {
        if ((p == cmdline || p[-1] == ' ') &&
            (p[len] == '=' || p[len] == ' ' || p[len] == '\n' || p[len] == 0))
            return p + len;
    }
    return NULL;
}

static void setup_console(void)
{
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int fd = open("/dev/hvc0", O_RDWR | O_NOCTTY);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    int c = open("/proc/cmdline", O_RDONLY);
    if (c >= 0) {
        ssize_t n = read(c, cmdline, sizeof(cmdline) - 1);
        if (n > 0)
            cmdline[n] = 0;
        close(c);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Page-table churn: new L1/L2 tables, PTE rewrites, teardown, and a fork
 * (copy of the whole address space's tables, then copy-on-write faults). */
static void churn(unsigned long round)
{
    const size_t len = 2u << 20;
    unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return;
    /* 16 pages spread over the area: its page tables are allocated, then
     * written (write-protect, unprotect), then freed. */
    for (size_t off = 0; off < len; off += 32 * PAGE)
        a[off] = (unsigned char)(round + off / PAGE);
    mprotect(a, len / 2, PROT_READ);
    mprotect(a, len / 2, PROT_READ | PROT_WRITE);
    munmap(a, len);
    if (round % 256 == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            volatile unsigned char *b = (volatile unsigned char *)&cmdline[0];
            b[0] = b[0];
            _exit(0);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
}

/* A /proc/meminfo field, in KiB (0 if absent). */
static unsigned long meminfo(const char *key)
{
    char buf[4096];
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    size_t len = strlen(key);
    for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, len) == 0 && p[len] == ':')
            return strtoul(p + len + 1, NULL, 10);
    }
    return 0;
}

/* The pattern area: what the kernel says userspace can still get (the
 * smaller of MemFree and MemAvailable: there is no swap, and the
 * initramfs's files cannot be reclaimed), less `margin_kib` for the
 * kernel's own needs while the program runs (watermarks, page tables,
 * the table of sequence numbers, suspend and resume, fork in churn mode).
 * An overcommitted area would have the OOM killer kill init. */
static unsigned long area_pages(unsigned long margin_kib)
{
    unsigned long free_kib = meminfo("MemFree"), avail = meminfo("MemAvailable");
    if (avail && avail < free_kib)
        free_kib = avail;
    if (free_kib <= margin_kib)
        return 0;
    unsigned long kib = free_kib - margin_kib;
    /* 4 bytes of table per page of the area. */
    return kib * 1024 / (PAGE + sizeof(uint32_t));
}

/* The kernel's boot line "Memory: free/total available (... reserved)":
 * what the kernel itself took before MemTotal was counted. */
static void say_boot_memory(void)
{
    static char log[1 << 17];
    int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
    if (n <= 0)
        return;
    log[n] = 0;
    char *p = strstr(log, "Memory: ");
    if (!p)
        return;
    char *e = strchr(p, '\n');
    if (e)
        *e = 0;
    say("pattern: kernel %s\n", p);
}

static unsigned long gcd(unsigned long a, unsigned long b)
{
    while (b) {
        unsigned long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A stride coprime with n (n > 0): cursor += stride (mod n) visits every
 * index once per n steps, in a scattered order. */
static unsigned long stride_for(unsigned long n)
{
    unsigned long s = 7919;
    while (gcd(s, n) != 1)
        s++;
    return s % n ? s % n : 1;
}

static unsigned long num_option(const char *name, unsigned long def, unsigned long lo,
                                unsigned long hi)
{
    const char *p = option(name);
    if (!p || *p != '=')
        return def;
    unsigned long n = strtoul(p + 1, NULL, 0);
    return n >= lo && n <= hi ? n : def;
}

static uint64_t *area;
static uint32_t *table;
static unsigned long writes;
static struct found found;

/* Checks page i against the table, then writes its next sequence. */
static void rewrite(unsigned long i)
{
    /* Check before overwriting: a page that arrived stale would otherwise
     * be repaired by this write before any "verify". */
    int r = check_page(area + i * WORDS, i, table[i]);
    if (r != 0)
        note_bad(area, table, i, r, &found);
    uint32_t seq = table[i] + 1;
    write_page(area + i * WORDS, i, seq);
    table[i] = seq;
    writes++;
}

/* The sweep's order: the area's pages by ascending guest frame number
 * (/proc/self/pagemap), the order in which libxc's iteration 1 copies
 * them, so that the sweep can follow just behind the copy.  Without the
 * frames (pagemap unreadable) the order is the area's, and the sweep waits
 * for iteration 2. */
static uint32_t *order;
static uint64_t *order_pfn;
static unsigned long order_known;

struct framed {
    uint64_t pfn;
    uint32_t index;
};

static int by_pfn(const void *a, const void *b)
{
    const struct framed *x = a, *y = b;
    return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static void sweep_order(unsigned long pages)
{
    order = calloc(pages, sizeof(*order));
    order_pfn = calloc(pages, sizeof(*order_pfn));
    struct framed *f = calloc(pages, sizeof(*f));
    if (!order || !order_pfn || !f) {
        say("pattern: cannot allocate the sweep's order\n");
        for (;;)
            pause();
    }
    int fd = open("/proc/self/pagemap", O_RDONLY);
    for (unsigned long i = 0; i < pages; i++) {
        uint64_t e = 0;
        off_t off = (off_t)(((uintptr_t)(area + i * WORDS)) / PAGE * 8);
        f[i].index = (uint32_t)i;
        /* Bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN). */
        if (fd >= 0 && pread(fd, &e, 8, off) == 8 && (e >> 63) && (e & ((1ull << 55) - 1))) {
            f[i].pfn = e & ((1ull << 55) - 1);
            order_known++;
        } else {
            f[i].pfn = UINT64_MAX - 1;
        }
    }
    if (fd >= 0)
        close(fd);
    qsort(f, pages, sizeof(*f), by_pfn);
    for (unsigned long i = 0; i < pages; i++) {
        order[i] = f[i].index;
        order_pfn[i] = f[i].pfn;
    }
    free(f);
    say("pattern: sweep order: frames of %lu of %lu pages, %llu to %llu\n", order_known,
        pages, (unsigned long long)order_pfn[0],
        (unsigned long long)(order_known ? order_pfn[order_known - 1] : 0));
}

int main(void)
{
    setup_console();
    unsigned long total_kib = meminfo("MemTotal");
    say_boot_memory();
    /* Where the guest's memory is before the area takes its part (pages;
     * docs/migration.md, "What cannot be verified"). */
    say("pattern: meminfo total=%lu free=%lu available=%lu cached=%lu shmem=%lu "
        "slab=%lu pagetables=%lu kernelstack=%lu percpu=%lu\n",
        total_kib / 4, meminfo("MemFree") / 4, meminfo("MemAvailable") / 4,
        meminfo("Cached") / 4, meminfo("Shmem") / 4, meminfo("Slab") / 4,
        meminfo("PageTables") / 4, meminfo("KernelStack") / 4, meminfo("Percpu") / 4);
    unsigned long margin = num_option("mig.margin", 4096, 0, 1ul << 30);
    unsigned long pages = num_option("mig.pages", 0, BATCH, 1ul << 24);
    if (pages == 0)
        pages = area_pages(margin);
    unsigned long hot = num_option("mig.hot", 4096, BATCH, 1ul << 24);
    if (hot > pages)
        hot = pages;
    int churning = option("mig.churn") != NULL;

    area = pages >= BATCH ? mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
                          : MAP_FAILED;
    table = calloc(pages, sizeof(*table));
    if (area == MAP_FAILED || table == NULL) {
        say("pattern: cannot allocate %lu pages (MemFree %lu KiB)\n", pages,
            meminfo("MemFree"));
        for (;;)
            pause();
    }
    /* Resident for good: no page of the area is ever reclaimed. */
    int locked = mlock(area, pages * PAGE) == 0 && mlock(table, pages * sizeof(*table)) == 0;
    /* mig.churn's fork copies the page tables of the hot pages only (as
     * when the area was the hot pages alone): were the whole area
     * copy-on-write after each fork, every page of the sweep would cost
     * the guest a write fault and a page-table update on top of
     * log-dirty's fault, and the sweep would not end before the
     * stop-and-copy. */
    if (pages > hot)
        madvise(area + hot * WORDS, (pages - hot) * PAGE, MADV_DONTFORK);
    for (unsigned long i = 0; i < pages; i++) {
        table[i] = 1;
        write_page(area + i * WORDS, i, 1);
    }
    writes = pages;
    say("pattern: ready pages=%lu hot=%lu mem_total_pages=%lu mem_free_pages=%lu "
        "locked=%d churn=%d\n",
        pages, hot, total_kib / 4, meminfo("MemFree") / 4, locked, churning);

    unsigned long hot_stride = stride_for(hot), hot_cursor = 0;
    sweep_order(pages);
    /* The sweep: order[pos..] is what it has left; it may rewrite pages
     * whose frame is below `limit` (streamstat's progress in iteration 1). */
    unsigned long pos = pages, swept = 0, round = 0;
    uint64_t limit = 0;
    int migrating = 0; /* a sweep was started since the last verify */
    double sweep_t0 = 0, sweep_s = 0;
    double last = now(), max_gap = 0;
    char line[128];
    size_t used = 0;
    for (;;) {
        for (unsigned b = 0; b < BATCH; b++) {
            hot_cursor = (hot_cursor + hot_stride) % hot;
            rewrite(hot_cursor);
        }
        /* Up to 8 times the hot writer's pace: it must be done before the
         * stop-and-copy, also when the guest is slow (shadow-paged PVH: a
         * fault per page) or spends its time elsewhere (mig.churn). */
        for (unsigned b = 0; b < SWEEP_BATCH && pos < pages && order_pfn[pos] < limit; b++) {
            rewrite(order[pos++]);
            swept++;
            if (pos == pages)
                sweep_s = now() - sweep_t0;
        }
        round++;
        if (churning && round % 4 == 0)
            churn(round / 4);
        double t = now();
        if (t - last > max_gap)
            max_gap = t - last;
        last = t;

        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
            continue;
        ssize_t n = read(0, line + used, sizeof(line) - 1 - used);
        if (n <= 0)
            continue;
        used += (size_t)n;
        line[used] = 0;
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL || used == sizeof(line) - 1) {
            if (nl)
                *nl = 0;
            else
                nl = line + used - 1;
            unsigned long long copied = 0;
            char *c = strstr(line, "copied ");
            int verify = strstr(line, "verify") != NULL;
            int sweep = strstr(line, "sweep") != NULL || (c && sscanf(c + 7, "%llu", &copied) == 1);
            size_t rest = used - (size_t)(nl + 1 - line);
            memmove(line, nl + 1, rest + 1);
            used = rest;
            if (sweep) {
                /* A new migration: a new sweep. */
                if (!migrating) {
                    migrating = 1;
                    pos = 0;
                    swept = 0;
                    sweep_s = 0;
                    sweep_t0 = now();
                }
                limit = c ? copied : UINT64_MAX;
            }
            if (!verify)
                continue;
            /* A sweep still running (a slow guest) ends first: its pages are
             * checked like any other, and sweep_ms says how long it took,
             * which the harness sets against the migration's timing. */
            unsigned long after = pages - pos;
            while (pos < pages) {
                rewrite(order[pos++]);
                swept++;
                if (pos == pages)
                    sweep_s = now() - sweep_t0;
            }
            limit = 0;
            migrating = 0;
            for (unsigned long i = 0; i < pages; i++) {
                int r = check_page(area + i * WORDS, i, table[i]);
                if (r != 0)
                    note_bad(area, table, i, r, &found);
            }
            say("pattern: verify pages=%lu bad=%lu stale=%lu corrupt=%lu writes=%lu "
                "max_gap_ms=%lu mem_total_pages=%lu swept=%lu sweep_ms=%lu sweep_left=%lu "
                "frames=%lu\n",
                pages, found.stale + found.corrupt, found.stale, found.corrupt, writes,
                (unsigned long)(max_gap * 1000), total_kib / 4, swept,
                (unsigned long)(sweep_s * 1000), after, order_known);
            memset(&found, 0, sizeof(found));
            swept = 0;
            sweep_s = 0;
            max_gap = 0;
            last = now();
        }
    }
}
