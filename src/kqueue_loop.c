/*
 * kqueue_loop.c - the macOS/BSD readiness backend: loop_backend.h on top of kqueue(2).
 *
 * Some facts about kqueue
 * -----------------------
 * - Interest is per (ident, filter): reading and writing are two independent knotes,
 *   EVFILT_READ and EVFILT_WRITE, added and deleted separately.  One kevent() call can apply
 *   several changes and also wait; one readiness of one fd can therefore come back as two
 *   kevents, one per filter.
 * - Knotes of an fd are removed by the kernel when the fd is closed (unlike epoll, per fd number,
 *   not per open file description).  After a close and reuse of the number, EV_DELETE of the old
 *   filter fails with ENOENT and EV_ADD simply works.
 * - Errors of a change are reported either as kevent() == -1 with errno (if there is no room in
 *   the event list) or as an output kevent with EV_ERROR set and the errno in data.  With
 *   EV_RECEIPT every change gets such an entry (data 0 on success) and nothing is waited for, so
 *   we learn which change of a batch failed.
 * - If kevent() fails with EINTR, the whole change list has already been applied.
 * - Filters are level-triggered unless EV_CLEAR or EV_ONESHOT is given.  EV_EOF marks a read side
 *   at end of file or a write side whose peer is gone; the filter still fires, and the next
 *   read()/write() returns 0 or the error (fflags carries the socket error).
 *
 * What does this mean for fastsockets?
 * ------------------------------------
 * Same choices as epoll_loop.c, for the same reasons: level-triggered (no EV_CLEAR), because the
 * binding reads with a per-iteration budget and relies on hearing about the rest next time.
 * loop.c wants one (fd, mask) per fd, so the READ and WRITE kevents of one fd are merged into one
 * fired entry (mask OR) through a per-fd slot map; that keeps the dispatch order and the "each
 * event at most once" promise identical on every backend.
 *
 * A change adds filters first and deletes afterwards.  If an add fails, the filters that this
 * call newly added are deleted again and the deletes are not done, so on failure the kernel
 * interest is still oldmask, as with epoll.  Deletes ignore errors: ENOENT/EBADF just mean the fd
 * was closed before being unwatched, and the kernel dropped its knotes already.
 *
 * An EV_ERROR entry among waited-for events (not expected: we never pass changes while waiting)
 * is reported as FS_READABLE|FS_WRITABLE, so the owner of the fd finds the error on its next call.
 *
 * The kqueue fd itself is pollable (fs__backend_fd) with poll/select/kqueue: it is readable when
 * kevent() would return events.
 */
#include "loop_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Initial size of the kevent array; grown to the cap that loop.c asks for. */
#define EVENTS_MIN 1024

struct kqueue_state {
    int kq;
    int nevents;
    struct kevent *events;
    size_t *slot;       /* slot[fd] = index in fired + 1 during a poll's merge, else 0 */
    size_t slot_cap;
};

static int grow_slots(struct kqueue_state *st, int fd)
{
    size_t need = (size_t)fd + 1;
    size_t cap = st->slot_cap ? st->slot_cap : 64;
    size_t *slot;

    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof *slot)
        return -ENOMEM;
    slot = realloc(st->slot, cap * sizeof *slot);
    if (slot == NULL)
        return -ENOMEM;
    memset(slot + st->slot_cap, 0, (cap - st->slot_cap) * sizeof *slot);
    st->slot = slot;
    st->slot_cap = cap;
    return 0;
}

/*
 * Apply n (at most 2) changes.  errs[i] receives the errno of change i (0 if it succeeded).
 * Returns 0, or -errno if the call as a whole failed (then nothing is known to be applied).
 */
static int apply(int kq, struct kevent *ch, int n, int *errs)
{
    int i;
#ifdef EV_RECEIPT
    static const struct timespec zero = {0, 0};
    struct kevent out[2];
    int r, j;

    for (i = 0; i < n; i++) {
        ch[i].flags |= EV_RECEIPT;
        errs[i] = 0;
    }
    r = kevent(kq, ch, n, out, n, &zero);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;     /* EINTR: the changes were applied */
    for (i = 0; i < r; i++) {
        if (!(out[i].flags & EV_ERROR) || out[i].data == 0)
            continue;
        /* A change is identified by its filter: we never pass two changes of one filter. */
        for (j = 0; j < n; j++)
            if (ch[j].filter == out[i].filter)
                errs[j] = (int)out[i].data;
    }
#else
    /* No EV_RECEIPT (older OpenBSD/NetBSD): one change per call, so errno names the change. */
    for (i = 0; i < n; i++) {
        errs[i] = 0;
        if (kevent(kq, &ch[i], 1, NULL, 0, NULL) < 0 && errno != EINTR)
            errs[i] = errno;
    }
#endif
    return 0;
}

static void delete_filters(int kq, int fd, int mask)
{
    struct kevent ch[2];
    int errs[2];
    int n = 0;

    if (mask & FS_READABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, 0);
    if (mask & FS_WRITABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, 0);
    if (n > 0)
        (void)apply(kq, ch, n, errs);
}

/* Create the kqueue and the event array; returns 0, or -errno from kqueue(), or -ENOMEM. */
int fs__backend_init(fs_loop_t *loop)
{
    struct kqueue_state *st = calloc(1, sizeof *st);
    int rc;

    if (st == NULL)
        return -ENOMEM;
    st->events = malloc(EVENTS_MIN * sizeof *st->events);
    if (st->events == NULL) {
        free(st);
        return -ENOMEM;
    }
    st->nevents = EVENTS_MIN;
    st->kq = kqueue();
    if (st->kq < 0) {
        rc = -errno;
        goto fail;
    }
    /* kqueue1(O_CLOEXEC) is not on macOS; a kqueue is not inherited by fork anyway, but an
     * exec'd program should not hold it either. */
    if (fcntl(st->kq, F_SETFD, FD_CLOEXEC) < 0) {
        rc = -errno;
        close(st->kq);
        goto fail;
    }
    fs__loop_set_backend(loop, st);
    return 0;

fail:
    free(st->events);
    free(st);
    return rc;
}

/* Close the kqueue and free the state; returns nothing. */
void fs__backend_free(fs_loop_t *loop)
{
    struct kqueue_state *st = fs__loop_backend(loop);

    if (st == NULL)
        return;
    close(st->kq);
    free(st->events);
    free(st->slot);
    free(st);
    fs__loop_set_backend(loop, NULL);
}

/* Make the kqueue interest of fd newmask; returns 0, -ENOMEM, or the -errno of the failed
 * change (the kernel interest is then still oldmask). */
int fs__backend_set(fs_loop_t *loop, int fd, int oldmask, int newmask)
{
    struct kqueue_state *st = fs__loop_backend(loop);
    struct kevent ch[2];
    int errs[2];
    int n = 0, i, rc, err = 0, undo = 0;

    if (fd < 0)
        return -EBADF;
    if (newmask == 0) {
        fs__backend_del(loop, fd, oldmask);
        return 0;
    }
    /* The merge map must cover every fd that can fire; grow it before touching the kernel. */
    if ((size_t)fd >= st->slot_cap) {
        rc = grow_slots(st, fd);
        if (rc < 0)
            return rc;
    }

    /* Re-add even filters that oldmask has: after a close and reuse the kernel lost them. */
    if (newmask & FS_READABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_ADD, 0, 0, 0);
    if (newmask & FS_WRITABLE)
        EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_ADD, 0, 0, 0);
    rc = apply(st->kq, ch, n, errs);
    if (rc < 0)
        return rc;
    for (i = 0; i < n; i++) {
        if (errs[i] != 0 && err == 0)
            err = errs[i];
        /* Filters this call added (not in oldmask) must go again if anything failed. */
        if (errs[i] == 0) {
            int bit = ch[i].filter == EVFILT_READ ? FS_READABLE : FS_WRITABLE;

            if (!(oldmask & bit))
                undo |= bit;
        }
    }
    if (err != 0) {
        delete_filters(st->kq, fd, undo);
        return -err;
    }
    delete_filters(st->kq, fd, oldmask & ~newmask);
    return 0;
}

/* Delete the filters of oldmask for fd; returns nothing (ENOENT/EBADF after a close are
 * expected). */
void fs__backend_del(fs_loop_t *loop, int fd, int oldmask)
{
    struct kqueue_state *st = fs__loop_backend(loop);

    if (fd >= 0)
        delete_filters(st->kq, fd, oldmask);
}

/* Wait up to timeout_ms; returns the number of (fd, mask) pairs written to fired (the READ and
 * WRITE kevents of one fd merged), 0 on timeout or EINTR, or -errno from kevent(). */
int fs__backend_poll(fs_loop_t *loop, int timeout_ms, fs__fired_t *fired, int cap)
{
    struct kqueue_state *st = fs__loop_backend(loop);
    struct timespec ts, *tsp = NULL;
    int n, i, out = 0;

    if (cap > st->nevents) {
        struct kevent *ev = realloc(st->events, (size_t)cap * sizeof *ev);

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
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tsp = &ts;
    }

    n = kevent(st->kq, NULL, 0, st->events, cap, tsp);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;

    for (i = 0; i < n; i++) {
        const struct kevent *ev = &st->events[i];
        int fd = (int)ev->ident;
        int mask;

        if (ev->flags & EV_ERROR)
            mask = FS_READABLE | FS_WRITABLE;
        else if (ev->filter == EVFILT_READ)
            mask = FS_READABLE;
        else if (ev->filter == EVFILT_WRITE)
            mask = FS_WRITABLE;
        else
            continue;
        /* Every fd we registered has a slot (fs__backend_set grew the map); skip strangers. */
        if (fd < 0 || (size_t)fd >= st->slot_cap)
            continue;
        if (st->slot[fd] != 0) {
            fired[st->slot[fd] - 1].mask |= mask;
        } else {
            fired[out].fd = fd;
            fired[out].mask = mask;
            st->slot[fd] = (size_t)++out;
        }
    }
    /* Leave the map all zero for the next poll. */
    for (i = 0; i < out; i++)
        st->slot[fired[i].fd] = 0;
    return out;
}

/* Returns the kqueue fd, which polls readable when kevent() would report something. */
int fs__backend_fd(const fs_loop_t *loop)
{
    const struct kqueue_state *st = fs__loop_backend(loop);

    return st->kq;
}

/* Returns "kqueue". */
const char *fs__backend_name(void)
{
    return "kqueue";
}
