/*
 * loop.h - the fastsockets event loop: the only public header of the loop.
 *
 * A loop watches file descriptors for readiness and runs timers.  Callbacks run only inside
 * fs_loop_dispatch(), never inside fs_loop_poll(), so a binding can release its interpreter lock
 * around the blocking wait and re-take it for dispatch.  Every function returns 0 or a count on
 * success and a negative errno value on failure; nothing prints.
 *
 * Callbacks may watch, unwatch or close any fd (including fds whose events are still waiting in
 * the current batch) and may add or cancel timers: events for an fd that was unwatched during the
 * batch are dropped, even if the fd number was re-watched by the same batch.
 *
 * The loop is single-threaded except for fs_loop_wakeup(), which any thread may call.
 */
#ifndef FS_LOOP_H
#define FS_LOOP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FS_READABLE 1 /* fd has data to read, or is in error/hang-up state */
#define FS_WRITABLE 2 /* fd can be written without blocking */

typedef struct fs_loop fs_loop_t;

/* Called for a watched fd with the ready subset of its interest mask (never 0). */
typedef void (*fs_io_cb)(fs_loop_t *loop, int fd, int mask, uint64_t token);

/* Called once when a timer expires; the timer is gone by then. */
typedef void (*fs_timer_cb)(fs_loop_t *loop, uint64_t timer_id, uint64_t token);

/* Create a loop.  0 and *out set, or -errno (-ENOMEM, or the backend's error). */
int fs_loop_new(fs_loop_t **out);

/* Destroy a loop.  Watched fds are not closed; pending timers are dropped. */
void fs_loop_free(fs_loop_t *loop);

/* Name of the compiled backend: "epoll", "kqueue" or "poll". */
const char *fs_loop_backend_name(void);

/* Opaque user pointer carried by the loop (the binding stores its own object here). */
void fs_loop_set_data(fs_loop_t *loop, void *data);
void *fs_loop_get_data(const fs_loop_t *loop);

/*
 * Set the interest mask of fd to mask (FS_READABLE|FS_WRITABLE).  The first call registers fd;
 * later calls replace mask, cb and token.  mask 0 keeps the fd known but reports nothing.
 * 0, or -EBADF/-EINVAL for a bad fd or mask, -ENOMEM, or the backend's error.
 */
int fs_loop_watch(fs_loop_t *loop, int fd, int mask, fs_io_cb cb, uint64_t token);

/* Forget fd.  Events of fd not yet dispatched are dropped.  0, or -ENOENT if fd is not watched. */
int fs_loop_unwatch(fs_loop_t *loop, int fd);

/* Current interest mask of fd, or -ENOENT if fd is not watched. */
int fs_loop_mask(const fs_loop_t *loop, int fd);

/*
 * Wait up to timeout_ms (-1: no limit, 0: do not block) for readiness, a wakeup or the next
 * timer, whichever comes first, and remember what fired.  Runs no callback and touches no
 * user state, so a binding may call it with its interpreter lock released.
 * Returns the number of fd events remembered (0 on timeout, wakeup or EINTR), or -errno
 * (-EBUSY if called from a callback, where it would overwrite the batch being dispatched).
 */
int fs_loop_poll(fs_loop_t *loop, int timeout_ms);

/*
 * Run the callbacks of expired timers, then the callbacks of the fd events remembered by the
 * last fs_loop_poll() (each event at most once).  Returns the number of callbacks run, or
 * -EBUSY if called from a callback.
 */
int fs_loop_dispatch(fs_loop_t *loop);

/* fs_loop_poll() followed by fs_loop_dispatch().  Returns callbacks run, or -errno. */
int fs_loop_run_once(fs_loop_t *loop, int timeout_ms);

/* Make a concurrent or later fs_loop_poll() return early.  Safe from any thread.  0 or -errno. */
int fs_loop_wakeup(fs_loop_t *loop);

/*
 * A file descriptor that polls readable whenever fs_loop_poll(loop, 0) would find something
 * (an fd event, a wakeup); lets another event loop (asyncio) drive this one.  Timers do not make
 * it readable: ask fs_loop_next_timeout().  -ENOSYS for backends without one (poll).
 */
int fs_loop_fd(const fs_loop_t *loop);

/*
 * Start a timer that fires once after delay_ms milliseconds (0: at the next dispatch).
 * 0 and *id_out set (ids are never 0 and never reused), or -ENOMEM/-EINVAL.
 */
int fs_loop_timer_start(fs_loop_t *loop, uint64_t delay_ms, fs_timer_cb cb, uint64_t token,
                        uint64_t *id_out);

/* Cancel a pending timer.  0, or -ENOENT if it already fired or never existed. */
int fs_loop_timer_cancel(fs_loop_t *loop, uint64_t timer_id);

/* Milliseconds until the next timer is due (0 if overdue), or -1 if no timer is pending. */
int64_t fs_loop_next_timeout(const fs_loop_t *loop);

/* Number of fds currently watched and timers pending (for leak checks in tests). */
int fs_loop_watch_count(const fs_loop_t *loop);
int fs_loop_timer_count(const fs_loop_t *loop);

#ifdef __cplusplus
}
#endif

#endif /* FS_LOOP_H */
