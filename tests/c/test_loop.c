/*
 * test_loop.c - the loop contract (loop.h), run once per backend built (test_loop_<backend>).
 *
 * CHECK macros from fs_test.h: failures on stderr, exit status 1 if anything failed, and
 * "N passed, M failed" at the end.  Every fd the tests open is closed again, and each test ends
 * by checking that the loop has no watched fd and no timer left.
 */
#include "fs_test.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Fatal setup failure (no fds, no memory): stop, the rest would only cascade. */
#define REQUIRE(cond)                                                                         \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed: %s\n", __FILE__, __LINE__, #cond,     \
                    strerror(errno));                                                         \
            exit(2);                                                                          \
        }                                                                                     \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

struct rec {
    int fd;
    int mask;
    uint64_t token;
};

#define MAX_RECS 1024
static struct rec recs[MAX_RECS];
static int nrecs;

static void reset_recs(void)
{
    nrecs = 0;
}

static void record(int fd, int mask, uint64_t token)
{
    if (nrecs < MAX_RECS) {
        recs[nrecs].fd = fd;
        recs[nrecs].mask = mask;
        recs[nrecs].token = token;
    }
    nrecs++;
}

static int count_token(uint64_t token)
{
    int i, n = 0;

    for (i = 0; i < nrecs && i < MAX_RECS; i++)
        n += recs[i].token == token;
    return n;
}

static void on_io(fs_loop_t *loop, int fd, int mask, uint64_t token)
{
    (void)loop;
    record(fd, mask, token);
}

static void make_pair(int sv[2])
{
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
}

static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

static void send_byte(int fd)
{
    REQUIRE(write(fd, "x", 1) == 1);
}

static void drain(int fd)
{
    char buf[4096];

    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static fs_loop_t *new_loop(void)
{
    fs_loop_t *loop = NULL;

    REQUIRE(fs_loop_new(&loop) == 0 && loop != NULL);
    return loop;
}

/* Every test ends here: nothing may be left watched or pending. */
static void free_loop(fs_loop_t *loop)
{
    CHECK_EQ(fs_loop_watch_count(loop), 0);
    CHECK_EQ(fs_loop_timer_count(loop), 0);
    fs_loop_free(loop);
}

static int is_poll_backend(void)
{
    return strcmp(fs_loop_backend_name(), "poll") == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Basics                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void test_backend_name(void)
{
    const char *name = fs_loop_backend_name();

    CHECK(name != NULL);
#ifdef FS_EXPECT_BACKEND
    CHECK(name != NULL && strcmp(name, FS_EXPECT_BACKEND) == 0);
#endif
}

static void test_new_free_data(void)
{
    fs_loop_t *loop = new_loop();
    int x;

    CHECK(fs_loop_get_data(loop) == NULL);
    fs_loop_set_data(loop, &x);
    CHECK(fs_loop_get_data(loop) == &x);
    CHECK_EQ(fs_loop_poll(loop, 0), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(fs_loop_next_timeout(loop), -1);
    free_loop(loop);
    fs_loop_free(NULL);
}

static void test_bad_args(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, -1, FS_READABLE, on_io, 1), -EBADF);
    CHECK_EQ(fs_loop_watch(loop, -7, 0, on_io, 1), -EBADF);
    CHECK_EQ(fs_loop_watch(loop, sv[0], 4, on_io, 1), -EINVAL);
    CHECK_EQ(fs_loop_watch(loop, sv[0], -1, on_io, 1), -EINVAL);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), -ENOENT);
    CHECK_EQ(fs_loop_unwatch(loop, 100000), -ENOENT);
    CHECK_EQ(fs_loop_unwatch(loop, -1), -ENOENT);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), -ENOENT);
    CHECK_EQ(fs_loop_mask(loop, -1), -ENOENT);
    CHECK_EQ(fs_loop_watch_count(loop), 0);
    close_pair(sv);

    /* A closed fd is refused by the kernel, and the loop keeps no half registration. */
    CHECK(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1) < 0);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), -ENOENT);
    CHECK_EQ(fs_loop_watch_count(loop), 0);
    free_loop(loop);
}

static void test_readable(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 42), 0);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), FS_READABLE);
    CHECK_EQ(fs_loop_watch_count(loop), 1);

    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nrecs, 0);

    send_byte(sv[1]);
    CHECK_EQ(fs_loop_poll(loop, 1000), 1);
    CHECK_EQ(nrecs, 0); /* poll runs no callback */
    CHECK_EQ(fs_loop_dispatch(loop), 1);
    CHECK_EQ(nrecs, 1);
    CHECK_EQ(recs[0].fd, sv[0]);
    CHECK_EQ(recs[0].mask, FS_READABLE);
    CHECK_EQ(recs[0].token, 42);

    /* A dispatched batch is consumed: a second dispatch runs nothing. */
    CHECK_EQ(fs_loop_dispatch(loop), 0);

    /* Level-triggered: unread data is reported again. */
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);
    CHECK_EQ(nrecs, 1);
    drain(sv[0]);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nrecs, 0);

    /* A pipe works too; a hang-up is reported as readable. */
    {
        int p[2];

        REQUIRE(pipe(p) == 0);
        CHECK_EQ(fs_loop_watch(loop, p[0], FS_READABLE, on_io, 7), 0);
        close(p[1]);
        reset_recs();
        CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
        CHECK_EQ(nrecs, 1);
        CHECK_EQ(recs[0].fd, p[0]);
        CHECK_EQ(recs[0].mask, FS_READABLE);
        CHECK_EQ(fs_loop_unwatch(loop, p[0]), 0);
        close(p[0]);
    }

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

static void test_writable_and_mask_change(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_WRITABLE, on_io, 1), 0);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(nrecs, 1);
    CHECK_EQ(recs[0].mask, FS_WRITABLE);

    /* Only the ready subset of the interest is delivered. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE | FS_WRITABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), FS_READABLE | FS_WRITABLE);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(recs[0].mask, FS_WRITABLE);
    send_byte(sv[1]);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(recs[0].mask, FS_READABLE | FS_WRITABLE);

    /* Change to readable only, then writable only, with a new token. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 2), 0);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(recs[0].mask, FS_READABLE);
    CHECK_EQ(recs[0].token, 2);
    drain(sv[0]);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_WRITABLE, on_io, 3), 0);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), FS_WRITABLE);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(recs[0].mask, FS_WRITABLE);
    CHECK_EQ(recs[0].token, 3);
    CHECK_EQ(fs_loop_watch_count(loop), 1);

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

static void test_mask_zero(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    send_byte(sv[1]);

    /* Registered with mask 0: known, counted, silent. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], 0, on_io, 1), 0);
    CHECK_EQ(fs_loop_mask(loop, sv[0]), 0);
    CHECK_EQ(fs_loop_watch_count(loop), 1);
    reset_recs();
    CHECK_EQ(fs_loop_poll(loop, 0), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);

    /* From 0 to readable and back to 0. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(fs_loop_watch(loop, sv[0], 0, on_io, 1), 0);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nrecs, 0);

    /* Even a hang-up (which epoll reports whatever the interest) stays silent with mask 0. */
    close(sv[1]);
    CHECK_EQ(fs_loop_poll(loop, 0), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(nrecs, 1);

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), -ENOENT);
    close(sv[0]);
    free_loop(loop);
}

static void test_unwatch(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE | FS_WRITABLE, on_io, 1), 0);
    send_byte(sv[1]);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    CHECK_EQ(fs_loop_watch_count(loop), 0);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nrecs, 0);

    /* Unwatch between poll and dispatch drops the remembered event. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_poll(loop, 1000), 1);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);

    /* ... even if the fd is watched again before the dispatch. */
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_poll(loop, 1000), 1);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1); /* and it is reported at the next poll */
    CHECK_EQ(nrecs, 1);

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

/* An fd that is unwatched or has mask 0 must leave the kernel set, not just be filtered out:
 * otherwise a ready (here: hung-up, unread) fd would end every wait at once and spin the loop. */
static void test_no_spurious_wakeups(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];
    double t0;

    make_pair(sv);
    send_byte(sv[1]);
    close(sv[1]);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE | FS_WRITABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_poll(loop, 1000), 1);
    CHECK_EQ(fs_loop_dispatch(loop), 1);

    CHECK_EQ(fs_loop_watch(loop, sv[0], 0, on_io, 1), 0);
    t0 = now_ms();
    CHECK_EQ(fs_loop_poll(loop, 30), 0);
    CHECK(now_ms() - t0 >= 25.0);

    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE | FS_WRITABLE, on_io, 1), 0);
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    t0 = now_ms();
    CHECK_EQ(fs_loop_poll(loop, 30), 0);
    CHECK(now_ms() - t0 >= 25.0);

    close(sv[0]);
    free_loop(loop);
}

/* ------------------------------------------------------------------------------------------ */
/* Re-entrancy: callbacks that change the batch being dispatched                              */
/* ------------------------------------------------------------------------------------------ */

struct batch {
    int a[2], b[2];
    int spare[2];   /* for fd reuse: a fresh, idle socket to dup onto a closed number */
    int victim_closed;
    int reuse;      /* 0: close only; 1: unwatch, close, reuse; 2: close, reuse (no unwatch) */
    int reused_fd;
};

static struct batch bt;

static void on_batch(fs_loop_t *loop, int fd, int mask, uint64_t token)
{
    record(fd, mask, token);
    if (!bt.victim_closed) {
        int victim = fd == bt.a[0] ? bt.b[0] : bt.a[0];

        bt.victim_closed = 1;
        if (bt.reuse != 2)
            CHECK_EQ(fs_loop_unwatch(loop, victim), 0);
        close(victim);
        if (bt.reuse) {
            /* The lowest free number is the one just closed, but be exact: dup onto it. */
            REQUIRE(dup2(bt.spare[0], victim) == victim);
            CHECK_EQ(fs_loop_watch(loop, victim, FS_READABLE, on_io, 999), 0);
            bt.reused_fd = victim;
        }
    }
}

static void run_batch(int first_ready_is_a, int reuse)
{
    fs_loop_t *loop = new_loop();
    int got, other;

    memset(&bt, 0, sizeof bt);
    bt.reuse = reuse;
    bt.reused_fd = -1;
    make_pair(bt.a);
    make_pair(bt.b);
    make_pair(bt.spare);
    /* Register (and make ready) in the given order, so each fd is first in one of the runs. */
    if (first_ready_is_a) {
        CHECK_EQ(fs_loop_watch(loop, bt.a[0], FS_READABLE, on_batch, 1), 0);
        CHECK_EQ(fs_loop_watch(loop, bt.b[0], FS_READABLE, on_batch, 2), 0);
        send_byte(bt.a[1]);
        send_byte(bt.b[1]);
    } else {
        CHECK_EQ(fs_loop_watch(loop, bt.b[0], FS_READABLE, on_batch, 2), 0);
        CHECK_EQ(fs_loop_watch(loop, bt.a[0], FS_READABLE, on_batch, 1), 0);
        send_byte(bt.b[1]);
        send_byte(bt.a[1]);
    }

    reset_recs();
    /* Both are ready before this single poll, so both are in one batch. */
    CHECK_EQ(fs_loop_poll(loop, 1000), 2);
    CHECK_EQ(fs_loop_dispatch(loop), 1);
    CHECK_EQ(nrecs, 1);
    CHECK(bt.victim_closed);
    CHECK_EQ(count_token(999), 0); /* the stale event never reaches the new registration */
    got = recs[0].fd;
    other = got == bt.a[0] ? bt.b[0] : bt.a[0];

    /* The new fd behind the reused number is idle, then fires once it has data. */
    if (reuse) {
        CHECK_EQ(fs_loop_mask(loop, other), FS_READABLE);
        reset_recs();
        drain(got);
        CHECK_EQ(fs_loop_run_once(loop, 0), 0);
        CHECK_EQ(nrecs, 0);
        send_byte(bt.spare[1]);
        CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
        CHECK_EQ(nrecs, 1);
        CHECK_EQ(recs[0].fd, other);
        CHECK_EQ(recs[0].token, 999);
        CHECK_EQ(fs_loop_unwatch(loop, other), 0);
        close(other);
    } else {
        CHECK_EQ(fs_loop_mask(loop, other), -ENOENT);
    }
    CHECK_EQ(fs_loop_unwatch(loop, got), 0);
    close(got);
    close(bt.a[1]);
    close(bt.b[1]);
    close_pair(bt.spare);
    free_loop(loop);
}

static void test_close_next_in_batch(void)
{
    run_batch(1, 0);
    run_batch(0, 0);
}

static void test_fd_reuse_in_batch(void)
{
    run_batch(1, 1);
    run_batch(0, 1);
    run_batch(1, 2);
    run_batch(0, 2);
}

static void on_unwatch_self(fs_loop_t *loop, int fd, int mask, uint64_t token)
{
    record(fd, mask, token);
    CHECK_EQ(fs_loop_unwatch(loop, fd), 0);
    CHECK_EQ(fs_loop_unwatch(loop, fd), -ENOENT);
}

static void test_unwatch_self(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE | FS_WRITABLE, on_unwatch_self, 5), 0);
    send_byte(sv[1]);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(nrecs, 1);
    CHECK_EQ(recs[0].mask, FS_READABLE | FS_WRITABLE);
    CHECK_EQ(fs_loop_watch_count(loop), 0);
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nrecs, 1);
    close_pair(sv);
    free_loop(loop);
}

/* A callback that watches a high fd number grows (moves) the table mid-batch. */
static int grow_fd = -1;
static int grow_pair[2][2];

static void on_grow(fs_loop_t *loop, int fd, int mask, uint64_t token)
{
    record(fd, mask, token);
    if (grow_fd < 0) {
        grow_fd = fcntl(grow_pair[0][0], F_DUPFD_CLOEXEC, 700);
        REQUIRE(grow_fd >= 700);
        CHECK_EQ(fs_loop_watch(loop, grow_fd, FS_READABLE, on_io, 77), 0);
    }
    drain(fd);
}

static void test_table_growth_in_dispatch(void)
{
    fs_loop_t *loop = new_loop();

    make_pair(grow_pair[0]);
    make_pair(grow_pair[1]);
    grow_fd = -1;
    CHECK_EQ(fs_loop_watch(loop, grow_pair[0][0], FS_READABLE, on_grow, 1), 0);
    CHECK_EQ(fs_loop_watch(loop, grow_pair[1][0], FS_READABLE, on_grow, 2), 0);
    send_byte(grow_pair[0][1]);
    send_byte(grow_pair[1][1]);
    reset_recs();
    CHECK_EQ(fs_loop_poll(loop, 1000), 2);
    CHECK_EQ(fs_loop_dispatch(loop), 2);
    CHECK_EQ(nrecs, 2);
    CHECK_EQ(count_token(1), 1);
    CHECK_EQ(count_token(2), 1);
    CHECK_EQ(fs_loop_mask(loop, grow_fd), FS_READABLE);
    CHECK_EQ(fs_loop_mask(loop, grow_pair[0][0]), FS_READABLE);

    CHECK_EQ(fs_loop_unwatch(loop, grow_fd), 0);
    CHECK_EQ(fs_loop_unwatch(loop, grow_pair[0][0]), 0);
    CHECK_EQ(fs_loop_unwatch(loop, grow_pair[1][0]), 0);
    close(grow_fd);
    close_pair(grow_pair[0]);
    close_pair(grow_pair[1]);
    free_loop(loop);
}

static void on_nested(fs_loop_t *loop, int fd, int mask, uint64_t token)
{
    record(fd, mask, token);
    CHECK_EQ(fs_loop_poll(loop, 0), -EBUSY);
    CHECK_EQ(fs_loop_dispatch(loop), -EBUSY);
    CHECK_EQ(fs_loop_run_once(loop, 0), -EBUSY);
}

static void test_nested_poll_refused(void)
{
    fs_loop_t *loop = new_loop();
    int sv[2];

    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_WRITABLE, on_nested, 1), 0);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), 1);
    CHECK_EQ(nrecs, 1);
    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

/* ------------------------------------------------------------------------------------------ */
/* Many fds                                                                                   */
/* ------------------------------------------------------------------------------------------ */

#define MANY 300

static void test_many_fds(void)
{
    fs_loop_t *loop = new_loop();
    static int sv[MANY][2];
    static int seen[MANY];
    int i, rounds, total = 0;

    for (i = 0; i < MANY; i++) {
        make_pair(sv[i]);
        CHECK_EQ(fs_loop_watch(loop, sv[i][0], FS_READABLE, on_io, (uint64_t)i), 0);
        seen[i] = 0;
    }
    CHECK_EQ(fs_loop_watch_count(loop), MANY);
    for (i = 0; i < MANY; i++)
        send_byte(sv[i][1]);

    reset_recs();
    for (rounds = 0; rounds < 10 && total < MANY; rounds++) {
        int n = fs_loop_run_once(loop, 1000);

        CHECK(n >= 0);
        if (n < 0)
            break;
        for (i = 0; i < nrecs && i < MAX_RECS; i++) {
            int k = (int)recs[i].token;

            if (k >= 0 && k < MANY && !seen[k]++) {
                total++;
                drain(recs[i].fd);
            }
        }
        reset_recs();
    }
    CHECK_EQ(total, MANY);
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);

    /* Unwatch half, make all ready again: only the other half reports. */
    for (i = 0; i < MANY; i += 2)
        CHECK_EQ(fs_loop_unwatch(loop, sv[i][0]), 0);
    for (i = 0; i < MANY; i++)
        send_byte(sv[i][1]);
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 1000), MANY / 2);
    for (i = 0; i < nrecs && i < MAX_RECS; i++)
        CHECK(recs[i].token % 2 == 1);

    for (i = 1; i < MANY; i += 2)
        CHECK_EQ(fs_loop_unwatch(loop, sv[i][0]), 0);
    for (i = 0; i < MANY; i++)
        close_pair(sv[i]);
    free_loop(loop);
}

/* ------------------------------------------------------------------------------------------ */
/* Timers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static uint64_t fired_ids[64];
static uint64_t fired_tokens[64];
static int nfired;

static void on_timer(fs_loop_t *loop, uint64_t id, uint64_t token)
{
    (void)loop;
    if (nfired < 64) {
        fired_ids[nfired] = id;
        fired_tokens[nfired] = token;
    }
    nfired++;
}

static void run_until_timers(fs_loop_t *loop, int want)
{
    double deadline = now_ms() + 5000;

    while (nfired < want && now_ms() < deadline)
        CHECK(fs_loop_run_once(loop, -1) >= 0);
}

static void test_timer_order_and_cancel(void)
{
    fs_loop_t *loop = new_loop();
    uint64_t t30, t10, t20, t15, t0a, t0b;

    nfired = 0;
    CHECK_EQ(fs_loop_timer_start(loop, 30, on_timer, 30, &t30), 0);
    CHECK_EQ(fs_loop_timer_start(loop, 10, on_timer, 10, &t10), 0);
    CHECK_EQ(fs_loop_timer_start(loop, 20, on_timer, 20, &t20), 0);
    CHECK_EQ(fs_loop_timer_start(loop, 15, on_timer, 15, &t15), 0);
    CHECK(t30 != 0);
    CHECK(t10 > t30 && t20 > t10 && t15 > t20); /* ids increase, never 0 */
    CHECK_EQ(fs_loop_timer_count(loop), 4);
    CHECK_EQ(fs_loop_timer_cancel(loop, t15), 0);
    CHECK_EQ(fs_loop_timer_cancel(loop, t15), -ENOENT);
    CHECK_EQ(fs_loop_timer_count(loop), 3);

    run_until_timers(loop, 3);
    CHECK_EQ(nfired, 3);
    CHECK_EQ(fired_tokens[0], 10);
    CHECK_EQ(fired_tokens[1], 20);
    CHECK_EQ(fired_tokens[2], 30);
    CHECK_EQ(fired_ids[0], t10);
    CHECK_EQ(fs_loop_timer_cancel(loop, t10), -ENOENT); /* already fired */
    CHECK_EQ(fs_loop_timer_cancel(loop, 0), -ENOENT);
    CHECK_EQ(fs_loop_timer_cancel(loop, 123456789), -ENOENT);
    CHECK_EQ(fs_loop_timer_count(loop), 0);

    /* Equal due times fire in id order. */
    nfired = 0;
    CHECK_EQ(fs_loop_timer_start(loop, 0, on_timer, 1, &t0a), 0);
    CHECK_EQ(fs_loop_timer_start(loop, 0, on_timer, 2, &t0b), 0);
    CHECK_EQ(fs_loop_run_once(loop, 0), 2);
    CHECK_EQ(nfired, 2);
    CHECK_EQ(fired_ids[0], t0a);
    CHECK_EQ(fired_ids[1], t0b);

    /* Bad arguments. */
    CHECK_EQ(fs_loop_timer_start(loop, 1, NULL, 0, &t0a), -EINVAL);
    CHECK_EQ(fs_loop_timer_start(loop, UINT64_MAX, on_timer, 0, &t0a), -EINVAL);
    CHECK_EQ(fs_loop_timer_start(loop, 0, on_timer, 0, NULL), 0); /* id_out is optional */
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);

    /* Many timers in random order come out sorted (exercises the heap). */
    {
        uint64_t ids[40];
        int i, ok = 1;

        nfired = 0;
        for (i = 0; i < 40; i++)
            CHECK_EQ(fs_loop_timer_start(loop, (uint64_t)((i * 17) % 40), on_timer,
                                         (uint64_t)((i * 17) % 40), &ids[i]), 0);
        for (i = 0; i < 40; i += 5)
            CHECK_EQ(fs_loop_timer_cancel(loop, ids[i]), 0);
        run_until_timers(loop, 32);
        CHECK_EQ(nfired, 32);
        for (i = 1; i < 32 && i < nfired; i++)
            ok &= fired_tokens[i - 1] <= fired_tokens[i];
        CHECK(ok);
    }
    free_loop(loop);
}

static uint64_t victim_id;
static int victim_cancel_rc;

static void on_cancel_other(fs_loop_t *loop, uint64_t id, uint64_t token)
{
    on_timer(loop, id, token);
    victim_cancel_rc = fs_loop_timer_cancel(loop, victim_id);
    CHECK_EQ(fs_loop_timer_cancel(loop, id), -ENOENT); /* itself: gone before it runs */
}

static void test_cancel_due_timer_in_dispatch(void)
{
    fs_loop_t *loop = new_loop();
    uint64_t first;

    nfired = 0;
    CHECK_EQ(fs_loop_timer_start(loop, 5, on_cancel_other, 1, &first), 0);
    CHECK_EQ(fs_loop_timer_start(loop, 5, on_timer, 2, &victim_id), 0);
    sleep_ms(10); /* both are due in the same dispatch */
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);
    CHECK_EQ(nfired, 1);
    CHECK_EQ(fired_ids[0], first);
    CHECK_EQ(victim_cancel_rc, 0);
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK_EQ(nfired, 1);
    free_loop(loop);
}

static int rearm_left;

static void on_rearm(fs_loop_t *loop, uint64_t id, uint64_t token)
{
    on_timer(loop, id, token);
    if (rearm_left-- > 0)
        CHECK_EQ(fs_loop_timer_start(loop, 0, on_rearm, token + 1, NULL), 0);
}

static void test_timer_rearm_zero(void)
{
    fs_loop_t *loop = new_loop();

    nfired = 0;
    rearm_left = 3;
    CHECK_EQ(fs_loop_timer_start(loop, 0, on_rearm, 0, NULL), 0);
    /* Each dispatch runs one link of the chain: the delay-0 timer a callback starts waits for
     * the next dispatch, and the next poll does not block because it is already due. */
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);
    CHECK_EQ(nfired, 1);
    CHECK_EQ(fs_loop_next_timeout(loop), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 1);
    CHECK_EQ(nfired, 2);
    {
        double t0 = now_ms();

        CHECK_EQ(fs_loop_run_once(loop, -1), 1);
        CHECK(now_ms() - t0 < 1000);
    }
    CHECK_EQ(nfired, 3);
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);
    CHECK_EQ(nfired, 4);
    CHECK_EQ(fired_tokens[3], 3);
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    free_loop(loop);
}

static void test_poll_timeout_clipped(void)
{
    fs_loop_t *loop = new_loop();
    double t0, elapsed;
    uint64_t id;

    nfired = 0;
    t0 = now_ms();
    CHECK_EQ(fs_loop_timer_start(loop, 20, on_timer, 1, &id), 0);
    CHECK_EQ(fs_loop_poll(loop, -1), 0);
    elapsed = now_ms() - t0;
    CHECK(elapsed >= 20.0);     /* never early: the timeout is rounded up */
    CHECK(elapsed < 2000.0);
    /* The first wake-up is enough: the timer is due, nothing spins. */
    CHECK_EQ(fs_loop_dispatch(loop), 1);
    CHECK_EQ(nfired, 1);

    /* An explicit timeout shorter than the timer wins. */
    CHECK_EQ(fs_loop_timer_start(loop, 5000, on_timer, 2, &id), 0);
    t0 = now_ms();
    CHECK_EQ(fs_loop_run_once(loop, 10), 0);
    CHECK(now_ms() - t0 < 2000.0);
    CHECK_EQ(fs_loop_timer_cancel(loop, id), 0);
    free_loop(loop);
}

static void test_next_timeout(void)
{
    fs_loop_t *loop = new_loop();
    uint64_t a, b;
    int64_t t;

    CHECK_EQ(fs_loop_next_timeout(loop), -1);
    CHECK_EQ(fs_loop_timer_start(loop, 100, on_timer, 0, &a), 0);
    t = fs_loop_next_timeout(loop);
    CHECK(t > 0 && t <= 100);
    CHECK_EQ(fs_loop_timer_start(loop, 3000, on_timer, 0, &b), 0);
    t = fs_loop_next_timeout(loop);
    CHECK(t > 0 && t <= 100);
    CHECK_EQ(fs_loop_timer_cancel(loop, a), 0);
    t = fs_loop_next_timeout(loop);
    CHECK(t > 100 && t <= 3000);
    CHECK_EQ(fs_loop_timer_cancel(loop, b), 0);
    CHECK_EQ(fs_loop_next_timeout(loop), -1);

    /* Overdue: 0, never negative. */
    CHECK_EQ(fs_loop_timer_start(loop, 1, on_timer, 0, &a), 0);
    sleep_ms(3);
    CHECK_EQ(fs_loop_next_timeout(loop), 0);
    CHECK_EQ(fs_loop_timer_cancel(loop, a), 0);
    free_loop(loop);
}

/* ------------------------------------------------------------------------------------------ */
/* Wakeup and the pollable fd                                                                 */
/* ------------------------------------------------------------------------------------------ */

struct waker {
    fs_loop_t *loop;
    int delay_ms;
    pthread_t target;
    int use_signal;
    int rc;
};

static fs_loop_t *signal_loop;

static void on_sigusr1(int sig)
{
    (void)sig;
    fs_loop_wakeup(signal_loop); /* async-signal-safe by contract */
}

static void *waker_main(void *arg)
{
    struct waker *w = arg;

    sleep_ms(w->delay_ms);
    if (w->use_signal)
        w->rc = pthread_kill(w->target, SIGUSR1);
    else
        w->rc = fs_loop_wakeup(w->loop);
    return NULL;
}

static void test_wakeup(void)
{
    fs_loop_t *loop = new_loop();
    struct waker w = {loop, 50, pthread_self(), 0, -1};
    pthread_t th;
    double t0;
    int sv[2], i;

    /* A watched but idle fd, so the loop has something besides the wakeup fd. */
    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);

    /* From another thread, into a poll with no timeout. */
    t0 = now_ms();
    REQUIRE(pthread_create(&th, NULL, waker_main, &w) == 0);
    reset_recs();
    CHECK_EQ(fs_loop_poll(loop, -1), 0); /* not reported as an fd event */
    CHECK(now_ms() - t0 < 5000);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);
    pthread_join(th, NULL);
    CHECK_EQ(w.rc, 0);

    /* Before the poll, many times: coalesced, and drained by one poll. */
    for (i = 0; i < 100; i++)
        CHECK_EQ(fs_loop_wakeup(loop), 0);
    t0 = now_ms();
    CHECK_EQ(fs_loop_run_once(loop, -1), 0);
    CHECK(now_ms() - t0 < 5000);
    CHECK_EQ(fs_loop_poll(loop, 0), 0);
    CHECK_EQ(fs_loop_dispatch(loop), 0);
    CHECK_EQ(nrecs, 0);

    /* From a signal handler (EINTR or the wakeup, either returns 0). */
    {
        struct sigaction sa, old;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigusr1;
        sigemptyset(&sa.sa_mask);
        REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
        signal_loop = loop;
        w.use_signal = 1;
        w.rc = -1;
        t0 = now_ms();
        REQUIRE(pthread_create(&th, NULL, waker_main, &w) == 0);
        CHECK_EQ(fs_loop_poll(loop, -1), 0);
        CHECK(now_ms() - t0 < 5000);
        pthread_join(th, NULL);
        CHECK_EQ(w.rc, 0);
        CHECK_EQ(fs_loop_poll(loop, 0), 0);
        sigaction(SIGUSR1, &old, NULL);
    }

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

static int fd_readable(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};

    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void test_loop_fd(void)
{
    fs_loop_t *loop = new_loop();
    int lfd = fs_loop_fd(loop);
    int sv[2];

    if (is_poll_backend()) {
        CHECK_EQ(lfd, -ENOSYS);
        free_loop(loop);
        return;
    }
    CHECK(lfd >= 0);
    make_pair(sv);
    CHECK_EQ(fs_loop_watch(loop, sv[0], FS_READABLE, on_io, 1), 0);
    CHECK(!fd_readable(lfd, 0));

    send_byte(sv[1]);
    CHECK(fd_readable(lfd, 1000));
    reset_recs();
    CHECK_EQ(fs_loop_run_once(loop, 0), 1);
    drain(sv[0]);
    CHECK_EQ(fs_loop_run_once(loop, 0), 0);
    CHECK(!fd_readable(lfd, 0));

    /* A wakeup makes it readable too, and the poll that drains it clears it. */
    CHECK_EQ(fs_loop_wakeup(loop), 0);
    CHECK(fd_readable(lfd, 1000));
    CHECK_EQ(fs_loop_poll(loop, 0), 0);
    CHECK(!fd_readable(lfd, 0));

    /* Timers do not (ask fs_loop_next_timeout instead). */
    {
        uint64_t id;

        CHECK_EQ(fs_loop_timer_start(loop, 0, on_timer, 0, &id), 0);
        CHECK(!fd_readable(lfd, 0));
        CHECK_EQ(fs_loop_timer_cancel(loop, id), 0);
    }

    CHECK_EQ(fs_loop_unwatch(loop, sv[0]), 0);
    close_pair(sv);
    free_loop(loop);
}

/* ------------------------------------------------------------------------------------------ */

int main(void)
{
    struct rlimit rl;

    /* A hang (a lost wakeup, a poll(-1) that never returns) must fail the test, not CI. */
    alarm(60);
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 && rl.rlim_max >= 1024) {
        rl.rlim_cur = 1024;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    test_backend_name();
    test_new_free_data();
    test_bad_args();
    test_readable();
    test_writable_and_mask_change();
    test_mask_zero();
    test_unwatch();
    test_no_spurious_wakeups();
    test_close_next_in_batch();
    test_fd_reuse_in_batch();
    test_unwatch_self();
    test_table_growth_in_dispatch();
    test_nested_poll_refused();
    test_many_fds();
    test_timer_order_and_cancel();
    test_cancel_due_timer_in_dispatch();
    test_timer_rearm_zero();
    test_poll_timeout_clipped();
    test_next_timeout();
    test_wakeup();
    test_loop_fd();

    printf("backend %s\n", fs_loop_backend_name());
    return fs_test_report();
}
