/*
 * epoll_loop.c - the Linux readiness backend: loop_backend.h on top of epoll(7).
 *
 * Some facts about epoll
 * ----------------------
 * - The interest set is keyed by (fd number, open file description), not by fd number alone.
 *   close(fd) removes the registration only when the LAST descriptor of that file description is
 *   closed; while a dup() (or a forked child's copy) lives, the old registration stays and keeps
 *   reporting under the old fd number.  Unwatch before close; nothing in user space can repair it
 *   afterwards.
 * - After the kernel dropped a registration on close, the reused fd number is unknown to epoll:
 *   EPOLL_CTL_MOD fails with ENOENT and must become EPOLL_CTL_ADD.  Conversely ADD on a number
 *   that is still registered fails with EEXIST and must become MOD.  loop.c cannot always know
 *   which case it is in (a caller may close without unwatching), so both fallbacks live here.
 * - EPOLLERR and EPOLLHUP are always reported, whatever events were asked for, even 0.
 * - There are three trigger modes.  Level-triggered (the default) reports an fd on every
 *   epoll_wait while it is ready.  Edge-triggered (EPOLLET) reports it once per change, so the
 *   reader must drain to EAGAIN or lose the wakeup.  EPOLLONESHOT reports once and then disables
 *   the fd until an EPOLL_CTL_MOD re-arms it: one extra system call per event.
 * - A level-triggered fd that is still ready goes back to the TAIL of the ready list after being
 *   reported, so when more fds are ready than the events array holds, the others come first next
 *   time: no fd starves.
 *
 * What does this mean for fastsockets?
 * ------------------------------------
 * We use level triggering.  The binding reads with a per-iteration budget (a few recvmmsg batches
 * per readiness event, so that one flooded socket cannot starve the others or the timers) and
 * relies on being told again next iteration that data is left.  Edge triggering would force it to
 * drain every socket to EAGAIN, or to keep its own "still ready" list, which is level triggering
 * rebuilt in user space.  ONESHOT would add an epoll_ctl per event on the hot path, and the
 * re-entrancy rules it would buy us (no second report while a callback runs) loop.c already gets
 * from running callbacks only in fs_loop_dispatch().
 *
 * Interest mask 0 removes the fd from the epoll set (EPOLL_CTL_DEL) instead of a MOD to no events:
 * since ERR/HUP are reported regardless, a hung-up fd with no interest would otherwise wake every
 * epoll_wait, level-triggered, for nothing.
 *
 * EPOLLERR and EPOLLHUP are folded into FS_READABLE|FS_WRITABLE.  loop.c masks every event with
 * the fd's current interest, so the callback sees the error "as requested": the next read() or
 * write() it makes returns the actual error.
 *
 * The epoll fd itself is pollable (fs__backend_fd): it polls readable when epoll_wait would
 * return something, which lets asyncio drive this loop with add_reader(fs_loop_fd(loop), ...).
 */
#include "loop_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Initial size of the epoll_event array; grown to the cap that loop.c asks for. */
#define EVENTS_MIN 1024

struct epoll_state {
    int epfd;
    int nevents;
    struct epoll_event *events;
};

static uint32_t to_epoll(int mask)
{
    uint32_t ev = 0;

    if (mask & FS_READABLE)
        ev |= EPOLLIN;
    if (mask & FS_WRITABLE)
        ev |= EPOLLOUT;
    return ev;
}

static int fold_mask(uint32_t ev)
{
    int mask = 0;

    if (ev & EPOLLIN)
        mask |= FS_READABLE;
    if (ev & EPOLLOUT)
        mask |= FS_WRITABLE;
    /* Errors and hang-ups wake both directions; loop.c keeps only what was asked for. */
    if (ev & (EPOLLERR | EPOLLHUP))
        mask |= FS_READABLE | FS_WRITABLE;
    return mask;
}

/* Create the epoll fd and the event array; returns 0, or -errno from epoll_create1, or -ENOMEM. */
int fs__backend_init(fs_loop_t *loop)
{
    struct epoll_state *st = calloc(1, sizeof *st);

    if (st == NULL)
        return -ENOMEM;
    st->events = malloc(EVENTS_MIN * sizeof *st->events);
    if (st->events == NULL) {
        free(st);
        return -ENOMEM;
    }
    st->nevents = EVENTS_MIN;
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->epfd < 0) {
        int rc = -errno;

        free(st->events);
        free(st);
        return rc;
    }
    fs__loop_set_backend(loop, st);
    return 0;
}

/* Close the epoll fd and free the state; returns nothing. */
void fs__backend_free(fs_loop_t *loop)
{
    struct epoll_state *st = fs__loop_backend(loop);

    if (st == NULL)
        return;
    close(st->epfd);
    free(st->events);
    free(st);
    fs__loop_set_backend(loop, NULL);
}

/* Make the epoll interest of fd newmask; returns 0 or -errno from epoll_ctl (on failure the
 * kernel interest is unchanged). */
int fs__backend_set(fs_loop_t *loop, int fd, int oldmask, int newmask)
{
    struct epoll_state *st = fs__loop_backend(loop);
    struct epoll_event ev = {0};
    int op = oldmask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    if (newmask == 0) {
        fs__backend_del(loop, fd, oldmask);
        return 0;
    }
    ev.events = to_epoll(newmask);
    ev.data.fd = fd;
    if (epoll_ctl(st->epfd, op, fd, &ev) == 0)
        return 0;
    /* The kernel's view of fd differs from loop.c's: the fd was closed and its number reused
     * (MOD -> ENOENT), or a registration survived that loop.c thought gone (ADD -> EEXIST). */
    if (op == EPOLL_CTL_MOD && errno == ENOENT)
        op = EPOLL_CTL_ADD;
    else if (op == EPOLL_CTL_ADD && errno == EEXIST)
        op = EPOLL_CTL_MOD;
    else
        return -errno;
    if (epoll_ctl(st->epfd, op, fd, &ev) == 0)
        return 0;
    return -errno;
}

/* Remove fd from the epoll set; returns nothing (ENOENT/EBADF after a close are expected). */
void fs__backend_del(fs_loop_t *loop, int fd, int oldmask)
{
    struct epoll_state *st = fs__loop_backend(loop);
    /* Linux before 2.6.9 rejects a NULL event pointer even for EPOLL_CTL_DEL. */
    struct epoll_event ev = {0};

    (void)oldmask;
    (void)epoll_ctl(st->epfd, EPOLL_CTL_DEL, fd, &ev);
}

/* Wait up to timeout_ms; returns the number of (fd, mask) pairs written to fired, 0 on timeout or
 * EINTR, or -errno from epoll_wait. */
int fs__backend_poll(fs_loop_t *loop, int timeout_ms, fs__fired_t *fired, int cap)
{
    struct epoll_state *st = fs__loop_backend(loop);
    int n, i;

    if (cap > st->nevents) {
        struct epoll_event *ev = realloc(st->events, (size_t)cap * sizeof *ev);

        /* Out of memory is not worth failing a poll for: take fewer events this time. */
        if (ev != NULL) {
            st->events = ev;
            st->nevents = cap;
        } else {
            cap = st->nevents;
        }
    }
    if (cap <= 0)
        return -EINVAL;

    n = epoll_wait(st->epfd, st->events, cap, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    /* epoll reports each registration once per call, so no merging is needed. */
    for (i = 0; i < n; i++) {
        fired[i].fd = st->events[i].data.fd;
        fired[i].mask = fold_mask(st->events[i].events);
    }
    return n;
}

/* Returns the epoll fd, which polls readable when epoll_wait would report something. */
int fs__backend_fd(const fs_loop_t *loop)
{
    const struct epoll_state *st = fs__loop_backend(loop);

    return st->epfd;
}

/* Returns "epoll". */
const char *fs__backend_name(void)
{
    return "epoll";
}
