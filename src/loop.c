/*
 * loop.c - the backend-independent half of the fastsockets event loop.
 *
 * This file owns every decision; the backend (epoll_loop.c, kqueue_loop.c or poll_loop.c) only
 * keeps the kernel's interest set equal to what we ask and reports (fd, mask) pairs.
 *
 * The fd table.  One entry per fd number, in an array indexed by fd that grows with realloc and
 * never shrinks.  An entry holds the interest mask, the callback, its token and a generation
 * counter.  Because a callback may watch a higher fd and so move the table, dispatch never keeps
 * a pointer into it across a callback: it copies what it needs and re-reads the slot each time.
 *
 * Generations.  fs_loop_poll() remembers, for every event it keeps, the generation of the fd's
 * entry at poll time.  fs_loop_unwatch() bumps it, and so does a fs_loop_watch() that replaces
 * the callback or token of a watched fd (a caller that closed an fd without unwatching it and
 * then watched the reused number).  Dispatch drops an event whose generation no longer matches,
 * so a callback may unwatch, close or re-use ANY fd, including the next one in the batch, and a
 * stale event is never delivered to a new registration.  Dropping an event that was in fact
 * still true costs nothing: the backends are level-triggered and report it again next poll.
 *
 * Interest mask 0.  The entry stays in the table (fs_loop_mask() says 0, the fd is counted as
 * watched) but the fd is removed from the kernel set with fs__backend_del().  Keeping it in the
 * kernel with no events would not be silent: epoll always reports EPOLLERR/EPOLLHUP, and a
 * level-triggered hang-up would then wake every poll for nothing.  Leaving 0 means the kernel
 * sees the fd as new again, which is exactly fs__backend_set()'s "oldmask 0" case.
 *
 * Every fs_loop_watch() with a non-zero mask re-applies the interest to the kernel, even if the
 * mask did not change.  That costs one epoll_ctl, but it is also what registers a reused fd number
 * whose old registration the kernel dropped on close(); the backends turn MOD into ADD for it.
 *
 * Timers.  A binary min-heap ordered by (due time in CLOCK_MONOTONIC nanoseconds, id); ids come
 * from a 64-bit counter starting at 1, so they are never 0 and never reused.  Cancelling searches
 * the heap linearly (O(n)); a loop holds few timers, and the binding cancels rarely.
 * fs_loop_dispatch() runs only the timers that were due when it started and that already existed
 * then (id below the counter at the start), so a timer that re-arms itself with delay 0 runs once
 * per dispatch instead of spinning, and a timer cancelled by an earlier callback of the same
 * dispatch is simply no longer in the heap.  Poll timeouts are rounded UP to whole milliseconds so
 * that a wait never ends just before a timer is due (which would spin on a zero timeout).
 *
 * Wakeup.  An eventfd (FS_HAVE_EVENTFD) or a non-blocking pipe, registered with the backend like
 * any fd but kept out of the table: fs_loop_poll() drains it and does not count it.
 * fs_loop_wakeup() is one write(2), so it is thread-safe and async-signal-safe.
 *
 * Re-entrancy.  fs_loop_poll() and fs_loop_dispatch() refuse to run from inside a callback
 * (-EBUSY): a nested poll would overwrite the batch being dispatched.
 */
#include "loop.h"
#include "loop_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef FS_HAVE_EVENTFD
#include <sys/eventfd.h>
#endif

/* Events taken per poll.  A full batch is fine: level triggering reports the rest next time. */
#define FIRED_CAP 1024

/* The table starts with this many slots (fds 0..63) and at least doubles when it grows. */
#define TABLE_MIN 64

struct fd_entry {
    fs_io_cb cb;
    uint64_t token;
    uint32_t gen;           /* bumped when a registration ends or is replaced */
    unsigned char mask;     /* current interest, FS_READABLE|FS_WRITABLE, may be 0 */
    unsigned char watched;  /* 1 between fs_loop_watch() and fs_loop_unwatch() */
};

struct timer {
    uint64_t due_ns;
    uint64_t id;
    fs_timer_cb cb;
    uint64_t token;
};

struct fs_loop {
    void *backend;
    void *data;

    struct fd_entry *fds;
    size_t fds_cap;
    int nwatched;

    struct timer *timers;   /* min-heap on (due_ns, id) */
    size_t ntimers;
    size_t timers_cap;
    uint64_t next_timer_id;

    int wake_rfd;           /* the eventfd, or the read end of the pipe */
    int wake_wfd;           /* the eventfd again, or the write end of the pipe */

    int busy;               /* inside fs_loop_dispatch() */
    int nfired;
    fs__fired_t fired[FIRED_CAP];
    uint32_t fired_gen[FIRED_CAP];
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer; it never jumps with the wall clock. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifndef FS_HAVE_EVENTFD
static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}
#endif

static int open_wakeup(fs_loop_t *loop)
{
#ifdef FS_HAVE_EVENTFD
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    if (fd < 0)
        return -errno;
    loop->wake_rfd = loop->wake_wfd = fd;
    return 0;
#else
    int p[2];
    int rc;

    /* pipe2() is missing on macOS; the short window before FD_CLOEXEC only matters to a
     * concurrent fork+exec in another thread, which a new loop cannot be racing with usefully. */
    if (pipe(p) < 0)
        return -errno;
    rc = set_nonblock_cloexec(p[0]);
    if (rc == 0)
        rc = set_nonblock_cloexec(p[1]);
    if (rc < 0) {
        close(p[0]);
        close(p[1]);
        return rc;
    }
    loop->wake_rfd = p[0];
    loop->wake_wfd = p[1];
    return 0;
#endif
}

static void close_wakeup(fs_loop_t *loop)
{
    if (loop->wake_rfd >= 0)
        close(loop->wake_rfd);
    if (loop->wake_wfd >= 0 && loop->wake_wfd != loop->wake_rfd)
        close(loop->wake_wfd);
    loop->wake_rfd = loop->wake_wfd = -1;
}

static void drain_wakeup(fs_loop_t *loop)
{
#ifdef FS_HAVE_EVENTFD
    uint64_t count;
    ssize_t n;

    /* One read resets the eventfd counter; EAGAIN means someone drained it already. */
    do
        n = read(loop->wake_rfd, &count, sizeof count);
    while (n < 0 && errno == EINTR);
#else
    char buf[256];
    ssize_t n;

    /* Empty the pipe: a short read means it is empty, EAGAIN likewise. */
    for (;;) {
        n = read(loop->wake_rfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < (ssize_t)sizeof buf)
            break;
    }
#endif
}

static int is_wakeup_fd(const fs_loop_t *loop, int fd)
{
    return fd == loop->wake_rfd || fd == loop->wake_wfd;
}

/* Grow the fd table so that fd has a slot.  New slots are zeroed: unwatched, generation 0. */
static int grow_table(fs_loop_t *loop, int fd)
{
    size_t need = (size_t)fd + 1;
    size_t cap = loop->fds_cap ? loop->fds_cap : TABLE_MIN;
    struct fd_entry *fds;

    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof *fds)
        return -ENOMEM;
    fds = realloc(loop->fds, cap * sizeof *fds);
    if (fds == NULL)
        return -ENOMEM;
    memset(fds + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof *fds);
    loop->fds = fds;
    loop->fds_cap = cap;
    return 0;
}

static struct fd_entry *lookup(const fs_loop_t *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap || !loop->fds[fd].watched)
        return NULL;
    return &loop->fds[fd];
}

/* ------------------------------------------------------------------------------------------ */
/* Timer heap                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static int timer_before(const struct timer *a, const struct timer *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->id < b->id);
}

static void sift_up(struct timer *h, size_t i)
{
    struct timer t = h[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!timer_before(&t, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = t;
}

static void sift_down(struct timer *h, size_t n, size_t i)
{
    struct timer t = h[i];

    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= n)
            break;
        if (child + 1 < n && timer_before(&h[child + 1], &h[child]))
            child++;
        if (!timer_before(&h[child], &t))
            break;
        h[i] = h[child];
        i = child;
    }
    h[i] = t;
}

/* Remove heap slot i, keeping the heap property (the moved last element may go up or down). */
static void remove_timer_at(fs_loop_t *loop, size_t i)
{
    struct timer *h = loop->timers;
    size_t last = --loop->ntimers;

    if (i == last)
        return;
    h[i] = h[last];
    if (i > 0 && timer_before(&h[i], &h[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, last, i);
}

/* Milliseconds from now until due, rounded up so that a wait of that long never ends early. */
static uint64_t ms_until(uint64_t due_ns, uint64_t now)
{
    if (due_ns <= now)
        return 0;
    return (due_ns - now + 999999u) / 1000000u;
}

/* ------------------------------------------------------------------------------------------ */
/* Lifetime                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Create a loop; returns 0 with *out set, or -ENOMEM, the wakeup fd's or the backend's -errno. */
int fs_loop_new(fs_loop_t **out)
{
    fs_loop_t *loop;
    int rc;

    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return -ENOMEM;
    loop->wake_rfd = loop->wake_wfd = -1;
    loop->next_timer_id = 1;

    rc = open_wakeup(loop);
    if (rc < 0)
        goto fail_loop;
    rc = fs__backend_init(loop);
    if (rc < 0)
        goto fail_wakeup;
    rc = fs__backend_set(loop, loop->wake_rfd, 0, FS_READABLE);
    if (rc < 0)
        goto fail_backend;
    *out = loop;
    return 0;

fail_backend:
    fs__backend_free(loop);
fail_wakeup:
    close_wakeup(loop);
fail_loop:
    free(loop);
    return rc;
}

/* Destroy a loop; returns nothing.  Watched fds stay open, pending timers are dropped. */
void fs_loop_free(fs_loop_t *loop)
{
    if (loop == NULL)
        return;
    fs__backend_free(loop);
    close_wakeup(loop);
    free(loop->fds);
    free(loop->timers);
    free(loop);
}

/* Returns the name of the compiled backend ("epoll", "kqueue" or "poll"). */
const char *fs_loop_backend_name(void)
{
    return fs__backend_name();
}

/* Store the binding's pointer; returns nothing. */
void fs_loop_set_data(fs_loop_t *loop, void *data)
{
    loop->data = data;
}

/* Returns the pointer stored by fs_loop_set_data(), or NULL. */
void *fs_loop_get_data(const fs_loop_t *loop)
{
    return loop->data;
}

/* Returns the backend's private state (for backends only). */
void *fs__loop_backend(const fs_loop_t *loop)
{
    return loop->backend;
}

/* Set the backend's private state (for backends only); returns nothing. */
void fs__loop_set_backend(fs_loop_t *loop, void *state)
{
    loop->backend = state;
}

/* ------------------------------------------------------------------------------------------ */
/* Watching fds                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Register fd or replace its mask, cb and token; returns 0, -EBADF, -EINVAL, -ENOMEM or the
 * backend's -errno (the fd's previous state is then unchanged). */
int fs_loop_watch(fs_loop_t *loop, int fd, int mask, fs_io_cb cb, uint64_t token)
{
    struct fd_entry *e;
    int rc;

    if (fd < 0)
        return -EBADF;
    if (mask & ~(FS_READABLE | FS_WRITABLE))
        return -EINVAL;
    /* The wakeup fds belong to the loop; a caller passing one has confused its fd numbers. */
    if (is_wakeup_fd(loop, fd))
        return -EINVAL;
    if ((size_t)fd >= loop->fds_cap) {
        rc = grow_table(loop, fd);
        if (rc < 0)
            return rc;
    }
    e = &loop->fds[fd];

    if (!e->watched) {
        if (mask != 0) {
            rc = fs__backend_set(loop, fd, 0, mask);
            if (rc < 0)
                return rc;
        }
        e->watched = 1;
        loop->nwatched++;
    } else {
        if (mask != 0) {
            rc = fs__backend_set(loop, fd, e->mask, mask);
            if (rc < 0)
                return rc;
        } else if (e->mask != 0) {
            fs__backend_del(loop, fd, e->mask);
        }
        /* A new callback or token is a new registration: events polled for the old one are
         * not delivered to it (the caller may have closed fd and watched the reused number). */
        if (cb != e->cb || token != e->token)
            e->gen++;
    }
    e->mask = (unsigned char)mask;
    e->cb = cb;
    e->token = token;
    return 0;
}

/* Forget fd and drop its undispatched events; returns 0, or -ENOENT if fd is not watched. */
int fs_loop_unwatch(fs_loop_t *loop, int fd)
{
    struct fd_entry *e = lookup(loop, fd);

    if (e == NULL)
        return -ENOENT;
    if (e->mask != 0)
        fs__backend_del(loop, fd, e->mask);
    e->watched = 0;
    e->mask = 0;
    e->cb = NULL;
    e->token = 0;
    e->gen++;
    loop->nwatched--;
    return 0;
}

/* Returns the interest mask of fd (possibly 0), or -ENOENT if fd is not watched. */
int fs_loop_mask(const fs_loop_t *loop, int fd)
{
    const struct fd_entry *e = lookup(loop, fd);

    return e ? e->mask : -ENOENT;
}

/* Returns the number of fds currently watched (including those with mask 0). */
int fs_loop_watch_count(const fs_loop_t *loop)
{
    return loop->nwatched;
}

/* ------------------------------------------------------------------------------------------ */
/* Polling and dispatch                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Wait for readiness, a wakeup or the next timer; returns the number of fd events remembered
 * (0 on timeout, wakeup or EINTR), -EBUSY from inside a callback, or the backend's -errno. */
int fs_loop_poll(fs_loop_t *loop, int timeout_ms)
{
    int n, i, kept;

    if (loop->busy)
        return -EBUSY;
    loop->nfired = 0;

    if (loop->ntimers > 0) {
        uint64_t ms = ms_until(loop->timers[0].due_ns, now_ns());

        if (ms > INT_MAX)
            ms = INT_MAX;
        if (timeout_ms < 0 || (uint64_t)timeout_ms > ms)
            timeout_ms = (int)ms;
    }
    if (timeout_ms < 0)
        timeout_ms = -1;

    n = fs__backend_poll(loop, timeout_ms, loop->fired, FIRED_CAP);
    if (n < 0)
        return n;

    /* Keep events of watched fds that asked for them, each with the generation it was polled
     * under (the backend may fold an error into both directions). */
    kept = 0;
    for (i = 0; i < n; i++) {
        int fd = loop->fired[i].fd;
        const struct fd_entry *e;

        if (fd == loop->wake_rfd) {
            drain_wakeup(loop);
            continue;
        }
        e = lookup(loop, fd);
        if (e == NULL || (loop->fired[i].mask & e->mask) == 0)
            continue;
        loop->fired[kept] = loop->fired[i];
        loop->fired_gen[kept] = e->gen;
        kept++;
    }
    loop->nfired = kept;
    return kept;
}

static int run_timers(fs_loop_t *loop)
{
    uint64_t now = now_ns();
    uint64_t id_limit = loop->next_timer_id;
    int ran = 0;

    /* Only timers that existed and were due when we started: one started (or re-armed) by a
     * callback below waits for the next dispatch, so a delay-0 chain cannot spin here. */
    while (loop->ntimers > 0 && loop->timers[0].due_ns <= now
           && loop->timers[0].id < id_limit) {
        struct timer t = loop->timers[0];

        /* The timer is gone before its callback runs: cancelling it there gives -ENOENT. */
        remove_timer_at(loop, 0);
        t.cb(loop, t.id, t.token);
        ran++;
    }
    return ran;
}

/* Run expired timers, then the remembered fd events; returns the number of callbacks run, or
 * -EBUSY from inside a callback. */
int fs_loop_dispatch(fs_loop_t *loop)
{
    int ran, i, n;

    if (loop->busy)
        return -EBUSY;
    loop->busy = 1;
    ran = run_timers(loop);

    n = loop->nfired;
    for (i = 0; i < n; i++) {
        int fd = loop->fired[i].fd;
        const struct fd_entry *e;
        fs_io_cb cb;
        uint64_t token;
        int mask;

        /* Re-read the slot on every event: an earlier callback may have unwatched or closed this
         * fd, watched a reused number (new generation), or grown (moved) the table. */
        e = lookup(loop, fd);
        if (e == NULL || e->gen != loop->fired_gen[i])
            continue;
        mask = loop->fired[i].mask & e->mask;
        if (mask == 0 || e->cb == NULL)
            continue;
        cb = e->cb;
        token = e->token;
        cb(loop, fd, mask, token);
        ran++;
    }
    loop->nfired = 0;
    loop->busy = 0;
    return ran;
}

/* fs_loop_poll() then fs_loop_dispatch(); returns the number of callbacks run, or -errno. */
int fs_loop_run_once(fs_loop_t *loop, int timeout_ms)
{
    int rc = fs_loop_poll(loop, timeout_ms);

    if (rc < 0)
        return rc;
    return fs_loop_dispatch(loop);
}

/* Make a current or later fs_loop_poll() return; returns 0, or -errno from write(2).
 * Thread-safe and async-signal-safe (errno is preserved for signal handlers). */
int fs_loop_wakeup(fs_loop_t *loop)
{
    int saved_errno = errno;
    int rc = 0;
    ssize_t n;
#ifdef FS_HAVE_EVENTFD
    uint64_t one = 1;
#else
    char one = 1;
#endif

    do
        n = write(loop->wake_wfd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe (or counter) is full, so a wakeup is already pending. */
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        rc = -errno;
    errno = saved_errno;
    return rc;
}

/* Returns the backend's pollable fd (readable when fs_loop_poll(loop, 0) has work), or -ENOSYS. */
int fs_loop_fd(const fs_loop_t *loop)
{
    return fs__backend_fd(loop);
}

/* ------------------------------------------------------------------------------------------ */
/* Timers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Start a one-shot timer; returns 0 with *id_out set (if id_out is not NULL), -EINVAL for a NULL
 * cb or a delay that overflows the clock, or -ENOMEM. */
int fs_loop_timer_start(fs_loop_t *loop, uint64_t delay_ms, fs_timer_cb cb, uint64_t token,
                        uint64_t *id_out)
{
    uint64_t now = now_ns();
    struct timer *t;

    if (cb == NULL || delay_ms > (UINT64_MAX - now) / 1000000u)
        return -EINVAL;
    if (loop->ntimers == loop->timers_cap) {
        size_t cap = loop->timers_cap ? loop->timers_cap * 2 : 16;
        struct timer *h;

        if (cap > SIZE_MAX / sizeof *h)
            return -ENOMEM;
        h = realloc(loop->timers, cap * sizeof *h);
        if (h == NULL)
            return -ENOMEM;
        loop->timers = h;
        loop->timers_cap = cap;
    }
    t = &loop->timers[loop->ntimers];
    t->due_ns = now + delay_ms * 1000000u;
    t->id = loop->next_timer_id++;
    t->cb = cb;
    t->token = token;
    if (id_out != NULL)
        *id_out = t->id;
    sift_up(loop->timers, loop->ntimers++);
    return 0;
}

/* Cancel a pending timer (linear search); returns 0, or -ENOENT if it fired or never existed. */
int fs_loop_timer_cancel(fs_loop_t *loop, uint64_t timer_id)
{
    size_t i;

    for (i = 0; i < loop->ntimers; i++) {
        if (loop->timers[i].id == timer_id) {
            remove_timer_at(loop, i);
            return 0;
        }
    }
    return -ENOENT;
}

/* Returns milliseconds until the next timer is due (rounded up, 0 if overdue), or -1 if none. */
int64_t fs_loop_next_timeout(const fs_loop_t *loop)
{
    if (loop->ntimers == 0)
        return -1;
    return (int64_t)ms_until(loop->timers[0].due_ns, now_ns());
}

/* Returns the number of timers pending. */
int fs_loop_timer_count(const fs_loop_t *loop)
{
    return loop->ntimers > INT_MAX ? INT_MAX : (int)loop->ntimers;
}
