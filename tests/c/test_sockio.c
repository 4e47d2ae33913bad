/* test_sockio.c - batched receive into slots: counts, truncation, recycling, EAGAIN, copy path. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bufpool.h"
#include "fs_test.h"
#include "sockio.h"

static int udp_pair(int *rx, int *tx, struct sockaddr_in *to)
{
    socklen_t len = sizeof(*to);
    *rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    *tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(to, 0, sizeof(*to));
    to->sin_family = AF_INET;
    to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(*rx, (struct sockaddr *)to, sizeof(*to)) != 0)
        return -1;
    return getsockname(*rx, (struct sockaddr *)to, &len);
}

static void send_n(int tx, const struct sockaddr_in *to, int n, size_t size)
{
    char buf[9000];
    for (int i = 0; i < n; i++) {
        memset(buf, 'a' + (i % 26), size);
        sendto(tx, buf, size, 0, (const struct sockaddr *)to, sizeof(*to));
    }
}

static void test_batch_basic(void)
{
    int rx, tx;
    struct sockaddr_in to;
    fs_bufpool_t *pool;
    fs_udp_batch_t b;
    CHECK_EQ(udp_pair(&rx, &tx, &to), 0);
    CHECK_EQ(fs_bufpool_new(&pool, 64, 1 << 20, 64), 0);
    CHECK_EQ(fs_udp_batch_init(&b, 8), 0);

    CHECK_EQ(fs_udp_batch_recv(&b, rx, pool, 8), 0); /* nothing waiting: 0, not an error */

    send_n(tx, &to, 5, 10);
    send_n(tx, &to, 1, 0);  /* empty datagram */
    send_n(tx, &to, 1, 64); /* exactly the slot */
    send_n(tx, &to, 1, 65); /* one byte too many: flagged */
    send_n(tx, &to, 3, 1);
    int n = fs_udp_batch_recv(&b, rx, pool, 8);
    CHECK_EQ(n, 8);
    CHECK_EQ(b.lens[0], 10);
    CHECK(memcmp(b.slots[0]->data, "aaaaaaaaaa", 10) == 0);
    CHECK_EQ(b.lens[5], 0);
    CHECK_EQ(b.lens[6], 64);
    CHECK_EQ(b.flags[6], 0);
    CHECK_EQ(b.flags[7], FS_DGRAM_TRUNC);
    CHECK_EQ(b.addrs[0].ss_family, AF_INET);

    /* a view retains slot 2: recycle must hand it over, the next batch must not reuse it */
    fs_slot_t *kept = b.slots[2];
    fs_slot_ref(kept);
    fs_udp_batch_recycle(&b);
    CHECK(b.slots[2] == NULL);
    CHECK(b.slots[1] != NULL);
    n = fs_udp_batch_recv(&b, rx, pool, 8); /* the 3 one-byte datagrams */
    CHECK_EQ(n, 3);
    for (int i = 0; i < n; i++)
        CHECK(b.slots[i] != kept);
    CHECK(memcmp(kept->data, "cccccccccc", 10) == 0);
    fs_udp_batch_recycle(&b);
    fs_slot_release(kept);

    fs_udp_batch_free(&b);
    fs_bufpool_close(pool);
    close(rx);
    close(tx);
}

static void test_batch_pool_exhausted_and_copy(void)
{
    int rx, tx;
    struct sockaddr_in to;
    fs_bufpool_t *pool;
    fs_udp_batch_t b;
    CHECK_EQ(udp_pair(&rx, &tx, &to), 0);
    CHECK_EQ(fs_bufpool_new(&pool, 100, 200, 4), 0); /* two slots at most */
    CHECK_EQ(fs_udp_batch_init(&b, 4), 0);
    send_n(tx, &to, 4, 5);
    CHECK_EQ(fs_udp_batch_recv(&b, rx, pool, 4), 2); /* shortened, not failed */
    fs_slot_ref(b.slots[0]);
    fs_slot_ref(b.slots[1]);
    fs_slot_t *v0 = b.slots[0], *v1 = b.slots[1];
    fs_udp_batch_recycle(&b);
    CHECK_EQ(fs_udp_batch_recv(&b, rx, pool, 4), -ENOBUFS); /* nothing read */

    char buf[100];
    uint32_t len = 99;
    uint8_t flags = 9;
    struct sockaddr_storage from;
    CHECK_EQ(fs_udp_recv_copy(rx, buf, sizeof(buf), &len, &flags, &from), 1);
    CHECK_EQ(len, 5);
    CHECK_EQ(flags, 0);
    CHECK(memcmp(buf, "ccccc", 5) == 0);
    CHECK_EQ(fs_udp_recv_copy(rx, buf, 3, &len, &flags, &from), 1);
    CHECK_EQ(len, 3);
    CHECK_EQ(flags, FS_DGRAM_TRUNC);
    CHECK_EQ(fs_udp_recv_copy(rx, buf, sizeof(buf), &len, &flags, &from), 0);

    fs_slot_release(v0);
    fs_slot_release(v1);
    fs_udp_batch_free(&b);
    fs_bufpool_close(pool);
    close(rx);
    close(tx);
}

static void test_pool_change(void)
{
    int rx, tx;
    struct sockaddr_in to;
    fs_bufpool_t *p1, *p2;
    fs_udp_batch_t b;
    CHECK_EQ(udp_pair(&rx, &tx, &to), 0);
    CHECK_EQ(fs_bufpool_new(&p1, 16, 1 << 20, 4), 0);
    CHECK_EQ(fs_bufpool_new(&p2, 32, 1 << 20, 4), 0);
    CHECK_EQ(fs_udp_batch_init(&b, 2), 0);
    send_n(tx, &to, 1, 20);
    CHECK_EQ(fs_udp_batch_recv(&b, rx, p1, 2), 1);
    CHECK_EQ(b.flags[0], FS_DGRAM_TRUNC);
    fs_udp_batch_recycle(&b);
    fs_bufpool_close(p1); /* the batch still holds p1's slots */
    send_n(tx, &to, 1, 20);
    CHECK_EQ(fs_udp_batch_recv(&b, rx, p2, 2), 1); /* old slots released, p1 freed */
    CHECK_EQ(b.flags[0], 0);
    CHECK_EQ(b.lens[0], 20);
    CHECK(b.slots[0]->pool == p2);
    fs_udp_batch_free(&b);
    fs_bufpool_close(p2);
    close(rx);
    close(tx);
}

static void test_errors(void)
{
    fs_udp_batch_t b;
    fs_bufpool_t *pool;
    CHECK_EQ(fs_udp_batch_init(&b, 0), -EINVAL);
    CHECK_EQ(fs_udp_batch_init(&b, 2000), -EINVAL);
    fs_udp_batch_free(&b); /* safe on a zeroed batch */
    CHECK_EQ(fs_udp_batch_init(&b, 2), 0);
    CHECK_EQ(fs_bufpool_new(&pool, 16, 1024, 2), 0);
    CHECK_EQ(fs_udp_batch_recv(&b, -1, pool, 2), -EBADF);
    fs_udp_batch_free(&b);
    fs_udp_batch_free(&b); /* and twice */
    fs_bufpool_close(pool);
}

/* Many rounds with views retained at changing positions, a pool that runs dry mid-batch and
 * recovers, and batches shorter than the last: every datagram lands intact in a slot no
 * retained view uses (this is what the header-repair bookkeeping must get right). */
static void test_rounds_with_retention(void)
{
    enum { ROUNDS = 60, CAP = 16 };
    int rx, tx;
    struct sockaddr_in to;
    fs_bufpool_t *pool;
    fs_udp_batch_t b;
    fs_slot_t *kept[ROUNDS * CAP];
    char want[ROUNDS * CAP][16];
    int nkept = 0, seq = 0;
    unsigned seed = 12345;
    CHECK_EQ(udp_pair(&rx, &tx, &to), 0);
    CHECK_EQ(fs_bufpool_new(&pool, 32, 32 * 24, 8), 0); /* 24 slots: runs dry now and then */
    CHECK_EQ(fs_udp_batch_init(&b, CAP), 0);
    for (int round = 0; round < ROUNDS; round++) {
        seed = seed * 1103515245u + 12345u;
        int send = 1 + (int)((seed >> 8) % CAP);
        for (int i = 0; i < send; i++) {
            char msg[16];
            snprintf(msg, sizeof msg, "m%06d", seq + i);
            sendto(tx, msg, 8, 0, (struct sockaddr *)&to, sizeof to);
        }
        int got = 0;
        while (got < send) {
            int n = fs_udp_batch_recv(&b, rx, pool, CAP);
            if (n == -ENOBUFS) {
                /* release the oldest retained views, as a user dropping data would */
                for (int k = 0; k < nkept && k < 8; k++)
                    fs_slot_release(kept[k]);
                int drop = nkept < 8 ? nkept : 8;
                memmove(kept, kept + drop, (size_t)(nkept - drop) * sizeof kept[0]);
                memmove(want, want + drop, (size_t)(nkept - drop) * sizeof want[0]);
                nkept -= drop;
                continue;
            }
            CHECK(n > 0);
            if (n <= 0)
                break;
            for (int i = 0; i < n; i++) {
                char msg[16];
                snprintf(msg, sizeof msg, "m%06d", seq + got + i);
                CHECK_EQ(b.lens[i], 8);
                CHECK(memcmp(b.slots[i]->data, msg, 8) == 0);
                for (int k = 0; k < nkept; k++)
                    CHECK(kept[k] != b.slots[i]);
                seed = seed * 1103515245u + 12345u;
                if ((seed >> 16) % 3 == 0 && nkept < ROUNDS * CAP) { /* retain this one */
                    fs_slot_ref(b.slots[i]);
                    kept[nkept] = b.slots[i];
                    memcpy(want[nkept], msg, 9);
                    nkept++;
                }
            }
            got += n;
            fs_udp_batch_recycle(&b);
        }
        seq += send;
        for (int k = 0; k < nkept; k++) /* retained bytes never change */
            CHECK(memcmp(kept[k]->data, want[k], 8) == 0);
    }
    for (int k = 0; k < nkept; k++)
        fs_slot_release(kept[k]);
    fs_udp_batch_free(&b);
    fs_bufpool_close(pool);
    close(rx);
    close(tx);
}

int main(void)
{
    test_rounds_with_retention();
    test_batch_basic();
    test_batch_pool_exhausted_and_copy();
    test_pool_change();
    test_errors();
    return fs_test_report();
}
