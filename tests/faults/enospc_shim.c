/* A full disk without privileges, for the fault-injection suite (tests/faults/fault_injection.py):
 * preloaded (LD_PRELOAD), it lets writes to regular files through until EISIM_SHIM_BUDGET bytes
 * have been written in all, then fails every further one with ENOSPC, as a full disk does. With
 * EISIM_SHIM_STATVFS=1, statvfs reports the space left of that budget as the disk's free space,
 * so that eisim's check before each snapshot sees the disk fill up. Writes to anything but a
 * regular file (the terminal, pipes) are never counted or failed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_llong written;

static long long budget(void) {
    static long long b = -2;
    if (b == -2) {
        const char* s = getenv("EISIM_SHIM_BUDGET");
        b = s? atoll(s): -1;
    }
    return b;
}

static int regular(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* How many of `n` bytes may be written to fd: n, fewer at the budget's edge, or -1 (ENOSPC). */
static ssize_t allowed(int fd, size_t n) {
    if (budget() < 0 || !regular(fd)) return (ssize_t)n;
    const long long left = budget() - atomic_load(&written);
    if (left <= 0) {
        errno = ENOSPC;
        return -1;
    }
    return (ssize_t)((long long)n < left? (long long)n: left);
}

/* The next definition of `name` (libc's), looked up once. */
#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void* buf, size_t n) {
    REAL(write);
    const ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    const ssize_t r = real_write(fd, buf, (size_t)k);
    if (r > 0 && regular(fd)) atomic_fetch_add(&written, r);
    return r;
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
    REAL(pwrite);
    const ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    const ssize_t r = real_pwrite(fd, buf, (size_t)k, off);
    if (r > 0 && regular(fd)) atomic_fetch_add(&written, r);
    return r;
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
    REAL(pwrite64);
    const ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    const ssize_t r = real_pwrite64(fd, buf, (size_t)k, off);
    if (r > 0 && regular(fd)) atomic_fetch_add(&written, r);
    return r;
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
    REAL(writev);
    size_t n = 0;
    for (int i = 0; i < cnt; ++i) n += iov[i].iov_len;
    const ssize_t k = allowed(fd, n);
    if (k < 0) return -1;
    if ((size_t)k < n) { /* at the edge: write what fits of the first vector only */
        REAL(write);
        const size_t first = iov[0].iov_len < (size_t)k? iov[0].iov_len: (size_t)k;
        const ssize_t r = real_write(fd, iov[0].iov_base, first);
        if (r > 0) atomic_fetch_add(&written, r);
        return r;
    }
    const ssize_t r = real_writev(fd, iov, cnt);
    if (r > 0 && regular(fd)) atomic_fetch_add(&written, r);
    return r;
}

static void shrink(struct statvfs* v) {
    const char* s = getenv("EISIM_SHIM_STATVFS");
    if (!s || *s != '1' || budget() < 0 || v->f_frsize == 0) return;
    long long left = budget() - atomic_load(&written);
    if (left < 0) left = 0;
    const unsigned long long blocks = (unsigned long long)left / v->f_frsize;
    if (blocks < v->f_bavail) v->f_bavail = blocks;
    if (blocks < v->f_bfree) v->f_bfree = blocks;
}

int statvfs(const char* path, struct statvfs* v) {
    REAL(statvfs);
    const int r = real_statvfs(path, v);
    if (r == 0) shrink(v);
    return r;
}

int statvfs64(const char* path, struct statvfs64* v) {
    REAL(statvfs64);
    const int r = real_statvfs64(path, v);
    if (r == 0) shrink((struct statvfs*)v); /* the same layout on 64-bit systems */
    return r;
}
