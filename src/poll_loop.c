/*
 * poll_loop.c - the portable readiness backend: loop_backend.h on top of poll(2).
 *
 * Why it exists
 * -------------
 * It is the last resort for a POSIX system with neither epoll nor kqueue, and, more usefully, a
 * second implementation of the backend contract on Linux: CI runs tests/c/test_loop.c against
 * both epoll and poll, so a rule that only holds by accident of one kernel API shows up.
 *
 * How it works
 * ------------
 * The interest set is a dense array of struct pollfd, handed to poll(2) as is, plus a map from fd
 * number to position in that array (pos[fd] = index + 1, 0 = absent) so that set and del are O(1);
 * del moves the last pollfd into the hole.  poll(2) is level-triggered, like our epoll backend,
 * and costs O(number of fds) per call, which is why it is not the default.
 *
 * POLLERR, POLLHUP and POLLNVAL fold into FS_READABLE|FS_WRITABLE; loop.c keeps only what the fd
 * asked for.  POLLNVAL means a watched fd was closed without being unwatched: reporting it makes
 * the caller's next read() fail with EBADF and clean up, where ignoring it would make every
 * poll(2) return at once for an event nobody sees.
 *
 * When more fds are ready than fit in the fired array, the scan starts where the previous one
 * stopped, so the fds at the end of the array cannot starve.
 *
 * poll(2) has no pollable descriptor of its own: fs__backend_fd() is -ENOSYS.
 */
#include "loop_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct poll_state {
    struct pollfd *pfds;
    size_t npfds;
    size_t pfds_cap;
    size_t *pos;        /* pos[fd] = index in pfds + 1, or 0 */
    size_t pos_cap;
    size_t scan_start;  /* where the next scan of a full batch begins */
};

static short to_poll(int mask)
{
    short ev = 0;

    if (mask & FS_READABLE)
        ev |= POLLIN;
    if (mask & FS_WRITABLE)
        ev |= POLLOUT;
    return ev;
}

static int fold_mask(short rev)
{
    int mask = 0;

    if (rev & POLLIN)
        mask |= FS_READABLE;
    if (rev & POLLOUT)
        mask |= FS_WRITABLE;
    if (rev & (POLLERR | POLLHUP | POLLNVAL))
        mask |= FS_READABLE | FS_WRITABLE;
    return mask;
}

static int grow_pos(struct poll_state *st, int fd)
{
    size_t need = (size_t)fd + 1;
    size_t cap = st->pos_cap ? st->pos_cap : 64;
    size_t *pos;

    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof *pos)
        return -ENOMEM;
    pos = realloc(st->pos, cap * sizeof *pos);
    if (pos == NULL)
        return -ENOMEM;
    memset(pos + st->pos_cap, 0, (cap - st->pos_cap) * sizeof *pos);
    st->pos = pos;
    st->pos_cap = cap;
    return 0;
}

static int grow_pfds(struct poll_state *st)
{
    size_t cap = st->pfds_cap ? st->pfds_cap * 2 : 64;
    struct pollfd *pfds;

    if (cap > SIZE_MAX / sizeof *pfds)
        return -ENOMEM;
    pfds = realloc(st->pfds, cap * sizeof *pfds);
    if (pfds == NULL)
        return -ENOMEM;
    st->pfds = pfds;
    st->pfds_cap = cap;
    return 0;
}

/* Create the empty interest set; returns 0 or -ENOMEM. */
int fs__backend_init(fs_loop_t *loop)
{
    struct poll_state *st = calloc(1, sizeof *st);

    if (st == NULL)
        return -ENOMEM;
    fs__loop_set_backend(loop, st);
    return 0;
}

/* Free the interest set; returns nothing. */
void fs__backend_free(fs_loop_t *loop)
{
    struct poll_state *st = fs__loop_backend(loop);

    if (st == NULL)
        return;
    free(st->pfds);
    free(st->pos);
    free(st);
    fs__loop_set_backend(loop, NULL);
}

/* Make the poll interest of fd newmask; returns 0, -EBADF or -ENOMEM (state unchanged then). */
int fs__backend_set(fs_loop_t *loop, int fd, int oldmask, int newmask)
{
    struct poll_state *st = fs__loop_backend(loop);
    size_t i;
    int rc;

    if (fd < 0)
        return -EBADF;
    if (newmask == 0) {
        fs__backend_del(loop, fd, oldmask);
        return 0;
    }
    /* Look the fd up rather than trusting oldmask: the map is the truth for this backend. */
    if ((size_t)fd < st->pos_cap && st->pos[fd] != 0) {
        st->pfds[st->pos[fd] - 1].events = to_poll(newmask);
        return 0;
    }
    /* poll(2) would accept a closed fd and report POLLNVAL forever; refuse it up front, as
     * epoll_ctl and kevent do. */
    if (fcntl(fd, F_GETFD) < 0)
        return -errno;
    if ((size_t)fd >= st->pos_cap) {
        rc = grow_pos(st, fd);
        if (rc < 0)
            return rc;
    }
    if (st->npfds == st->pfds_cap) {
        rc = grow_pfds(st);
        if (rc < 0)
            return rc;
    }
    i = st->npfds++;
    st->pfds[i].fd = fd;
    st->pfds[i].events = to_poll(newmask);
    st->pfds[i].revents = 0;
    st->pos[fd] = i + 1;
    return 0;
}

/* Remove fd from the interest set; returns nothing (an unknown fd is ignored). */
void fs__backend_del(fs_loop_t *loop, int fd, int oldmask)
{
    struct poll_state *st = fs__loop_backend(loop);
    size_t i, last;

    (void)oldmask;
    if (fd < 0 || (size_t)fd >= st->pos_cap || st->pos[fd] == 0)
        return;
    i = st->pos[fd] - 1;
    last = --st->npfds;
    if (i != last) {
        st->pfds[i] = st->pfds[last];
        st->pos[st->pfds[i].fd] = i + 1;
    }
    st->pos[fd] = 0;
}

/* Wait up to timeout_ms; returns the number of (fd, mask) pairs written to fired, 0 on timeout or
 * EINTR, or -errno from poll(2). */
int fs__backend_poll(fs_loop_t *loop, int timeout_ms, fs__fired_t *fired, int cap)
{
    struct poll_state *st = fs__loop_backend(loop);
    size_t n = st->npfds, k, start, i;
    int ready, out = 0;

    ready = poll(st->pfds, (nfds_t)n, timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    if (ready == 0 || n == 0)
        return 0;

    start = st->scan_start < n ? st->scan_start : 0;
    for (k = 0; k < n && out < cap && ready > 0; k++) {
        i = start + k < n ? start + k : start + k - n;
        if (st->pfds[i].revents == 0)
            continue;
        ready--;
        fired[out].fd = st->pfds[i].fd;
        fired[out].mask = fold_mask(st->pfds[i].revents);
        out++;
    }
    /* A full batch leaves some ready fds unreported; begin with them next time. */
    st->scan_start = ready > 0 ? (start + k) % n : 0;
    return out;
}

/* Returns -ENOSYS: poll(2) has no pollable descriptor. */
int fs__backend_fd(const fs_loop_t *loop)
{
    (void)loop;
    return -ENOSYS;
}

/* Returns "poll". */
const char *fs__backend_name(void)
{
    return "poll";
}
