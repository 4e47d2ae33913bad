/*
 * loop_backend.h - the private contract between loop.c and one readiness backend.
 *
 * loop.c owns the fd table, the timers, the dispatch order and every re-entrancy rule.  A backend
 * (epoll_loop.c, kqueue_loop.c, poll_loop.c) only translates: it keeps the kernel's interest set
 * equal to what loop.c asks, waits, and reports what fired as (fd, mask) pairs in FS_* terms.
 * Exactly one backend is linked into fs_core; CMake chooses it (FASTSOCKETS_BACKEND).
 *
 * All functions return 0 / a count, or -errno.  EINTR from the wait is not an error (return 0).
 */
#ifndef FS_LOOP_BACKEND_H
#define FS_LOOP_BACKEND_H

#include "loop.h"

typedef struct fs__fired {
    int fd;
    int mask;
} fs__fired_t;

/* Initialise loop->backend.  The wakeup fd/pipe belongs to loop.c, which registers it with
 * fs__backend_set like any other fd. */
int fs__backend_init(fs_loop_t *loop);

/* Release everything fs__backend_init created.  Never fails. */
void fs__backend_free(fs_loop_t *loop);

/* Change the kernel interest of fd from oldmask to newmask (oldmask 0: fd is new to the kernel).
 * On failure the kernel interest is left at oldmask. */
int fs__backend_set(fs_loop_t *loop, int fd, int oldmask, int newmask);

/* Remove fd (whose current interest is oldmask) from the kernel set.  Errors are ignored by
 * callers (the fd may already be closed), so this returns void. */
void fs__backend_del(fs_loop_t *loop, int fd, int oldmask);

/* Wait up to timeout_ms; write at most cap events into fired; return their number or -errno.
 * One fd appears at most once, with its masks merged. */
int fs__backend_poll(fs_loop_t *loop, int timeout_ms, fs__fired_t *fired, int cap);

/* The pollable fd of this backend, or -ENOSYS. */
int fs__backend_fd(const fs_loop_t *loop);

/* "epoll", "kqueue" or "poll". */
const char *fs__backend_name(void);

/* Accessor used by backends to reach their own state. */
void *fs__loop_backend(const fs_loop_t *loop);
void fs__loop_set_backend(fs_loop_t *loop, void *state);

#endif /* FS_LOOP_BACKEND_H */
