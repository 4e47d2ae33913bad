/*
 * A stand-in for BSD/macOS <sys/event.h>, written from the kqueue(2) manual page, so that Linux CI
 * can at least compile kqueue_loop.c (tests/python/test_c_core.py, -fsyntax-only).  It declares
 * only what the backend uses; values are arbitrary.  Never linked, never shipped.
 */
#ifndef FS_KQUEUE_SHIM_H
#define FS_KQUEUE_SHIM_H

#include <stdint.h>
#include <time.h>

struct kevent {
    uintptr_t ident;
    short filter;
    unsigned short flags;
    unsigned int fflags;
    intptr_t data;
    void *udata;
};

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_EOF 0x8000
#define EV_ERROR 0x4000

#define EV_SET(kevp, a, b, c, d, e, f)                                                            \
    do {                                                                                          \
        struct kevent *ev_ = (kevp);                                                              \
        ev_->ident = (a);                                                                         \
        ev_->filter = (b);                                                                        \
        ev_->flags = (c);                                                                         \
        ev_->fflags = (d);                                                                        \
        ev_->data = (e);                                                                          \
        ev_->udata = (f);                                                                         \
    } while (0)

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
           int nevents, const struct timespec *timeout);

#endif
