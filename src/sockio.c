/*
 * sockio.c - batched datagram receive into pool slots.
 *
 * One fs_udp_batch_recv() is one recvmmsg() of up to `max` datagrams, each into its own slot.
 * The kernel writes the payload straight into the slot the user will see through a view, so the
 * receive path copies nothing.  Where recvmmsg is missing (macOS) the same contract is met with a
 * recvmsg() loop that stops at the first EAGAIN.
 *
 * Truncation is never silent: a datagram longer than the slot comes back with MSG_TRUNC and is
 * flagged FS_DGRAM_TRUNC; the binding reports it (Chrome: -142 ERR_MSG_TOO_BIG) instead of
 * delivering a cut datagram.
 */
#include "sockio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

typedef struct batch_impl {
#ifdef FS_HAVE_RECVMMSG
    struct mmsghdr *msgs;
#else
    struct msghdr *msgs;
#endif
    struct iovec *iov;
    /*
     * Headers are prepared once and then only repaired where something changed, because a
     * receiver that is not saturated calls recvmmsg for a datagram or two, and re-filling 64
     * headers each time cost more than the system call's user-space part:
     *   - [0, prepared) have a slot of `pool` and a complete header;
     *   - [0, dirty) were written by the kernel in the last call (msg_namelen, msg_flags) or may
     *     have lost their slot to a view in fs_udp_batch_recycle, so they are checked again.
     */
    fs_bufpool_t *pool;
    unsigned prepared;
    unsigned dirty;
} batch_impl_t;

/* Prepare a batch of cap messages.  0, or -EINVAL / -ENOMEM. */
int fs_udp_batch_init(fs_udp_batch_t *b, unsigned cap)
{
    batch_impl_t *impl;

    memset(b, 0, sizeof(*b));
    if (cap == 0 || cap > 1024)
        return -EINVAL;
    impl = calloc(1, sizeof(*impl));
    b->slots = calloc(cap, sizeof(*b->slots));
    b->lens = calloc(cap, sizeof(*b->lens));
    b->flags = calloc(cap, sizeof(*b->flags));
    b->addrs = calloc(cap, sizeof(*b->addrs));
    if (impl != NULL) {
        impl->msgs = calloc(cap, sizeof(*impl->msgs));
        impl->iov = calloc(cap, sizeof(*impl->iov));
    }
    b->impl_ = impl;
    if (impl == NULL || impl->msgs == NULL || impl->iov == NULL || b->slots == NULL ||
        b->lens == NULL || b->flags == NULL || b->addrs == NULL) {
        fs_udp_batch_free(b);
        return -ENOMEM;
    }
    b->cap = cap;
    return 0;
}

/* Release the batch's slot references and its arrays.  Safe on a zeroed or freed batch. */
void fs_udp_batch_free(fs_udp_batch_t *b)
{
    batch_impl_t *impl = b->impl_;

    if (b->slots != NULL) {
        for (unsigned i = 0; i < b->cap; i++) {
            if (b->slots[i] != NULL)
                fs_slot_release(b->slots[i]);
        }
    }
    if (impl != NULL) {
        free(impl->msgs);
        free(impl->iov);
        free(impl);
    }
    free(b->slots);
    free(b->lens);
    free(b->flags);
    free(b->addrs);
    memset(b, 0, sizeof(*b));
}

/* Give message i a slot of pool; 0, or -ENOBUFS when the pool refuses. */
static int ensure_slot(fs_udp_batch_t *b, unsigned i, fs_bufpool_t *pool)
{
    fs_slot_t *s = b->slots[i];

    if (s != NULL && s->pool == pool)
        return 0;
    if (s != NULL) {
        /* bufferSize changed: the old slot goes back to (or frees) its old pool. */
        fs_slot_release(s);
        b->slots[i] = NULL;
    }
    s = fs_bufpool_acquire(pool);
    if (s == NULL)
        return -ENOBUFS;
    b->slots[i] = s;
    return 0;
}

static uint8_t fold_flags(int msg_flags)
{
    return (msg_flags & MSG_TRUNC) ? FS_DGRAM_TRUNC : 0;
}

static void prepare_header(fs_udp_batch_t *b, batch_impl_t *impl, unsigned i, size_t slot_size)
{
#ifdef FS_HAVE_RECVMMSG
    struct msghdr *h = &impl->msgs[i].msg_hdr;
#else
    struct msghdr *h = &impl->msgs[i];
#endif
    impl->iov[i].iov_base = b->slots[i]->data;
    impl->iov[i].iov_len = slot_size;
    h->msg_name = &b->addrs[i];
    h->msg_namelen = sizeof(b->addrs[i]);
    h->msg_iov = &impl->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
}

/* Receive up to max datagrams into slots of pool.  Count, 0 (nothing now), -ENOBUFS or -errno. */
int fs_udp_batch_recv(fs_udp_batch_t *b, int fd, fs_bufpool_t *pool, unsigned max)
{
    batch_impl_t *impl = b->impl_;
    size_t slot_size = fs_bufpool_slot_size(pool);
    unsigned n = 0;
    int rc;

    b->count = 0;
    if (max > b->cap)
        max = b->cap;
    if (impl->pool != pool) {
        /* bufferSize changed (or first call): every slot is checked and every header refilled */
        impl->pool = pool;
        impl->prepared = 0;
        impl->dirty = b->cap;
    }
    /* Slots are granted front to back; a short pool shortens the batch, never fails it. */
    while (n < max) {
        if (n < impl->dirty || n >= impl->prepared) {
            fs_slot_t *had = b->slots[n];
            if (ensure_slot(b, n, pool) != 0)
                break;
            if (b->slots[n] != had || n >= impl->prepared) {
                prepare_header(b, impl, n, slot_size);
            } else {
#ifdef FS_HAVE_RECVMMSG
                impl->msgs[n].msg_hdr.msg_namelen = sizeof(b->addrs[n]);
                impl->msgs[n].msg_hdr.msg_flags = 0;
#else
                impl->msgs[n].msg_namelen = sizeof(b->addrs[n]);
                impl->msgs[n].msg_flags = 0;
#endif
            }
        } else if (n >= impl->dirty) {
            /* untouched since it was prepared: nothing to do up to `prepared` */
            n = impl->prepared < max ? impl->prepared : max;
            continue;
        }
        n++;
    }
    if (n > impl->prepared)
        impl->prepared = n;
    /* Stopped early (pool exhausted) inside the dirty range: the rest stays to be checked. */
    if (n >= impl->dirty)
        impl->dirty = 0;
    if (n == 0)
        return max == 0 ? 0 : -ENOBUFS;

#ifdef FS_HAVE_RECVMMSG
    do {
        rc = recvmmsg(fd, impl->msgs, n, MSG_DONTWAIT, NULL);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    if ((unsigned)rc > impl->dirty)
        impl->dirty = (unsigned)rc;
    for (int i = 0; i < rc; i++) {
        b->lens[i] = impl->msgs[i].msg_len;
        b->flags[i] = fold_flags(impl->msgs[i].msg_hdr.msg_flags);
    }
#else
    rc = 0;
    while ((unsigned)rc < n) {
        ssize_t got;
        do {
            got = recvmsg(fd, &impl->msgs[rc], MSG_DONTWAIT);
        } while (got < 0 && errno == EINTR);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (rc > 0)
                break; /* deliver what we have; the error comes back on the next call */
            return -errno;
        }
        b->lens[rc] = (uint32_t)got;
        b->flags[rc] = fold_flags(impl->msgs[rc].msg_flags);
        rc++;
        if ((unsigned)rc > impl->dirty)
            impl->dirty = (unsigned)rc;
    }
#endif
    b->count = (unsigned)rc;
    return rc;
}

/* Let go of slots that views still reference; keep the rest for the next receive. */
void fs_udp_batch_recycle(fs_udp_batch_t *b)
{
    for (unsigned i = 0; i < b->count; i++) {
        fs_slot_t *s = b->slots[i];
        if (s != NULL && fs_slot_refs(s) > 1) {
            fs_slot_release(s);
            b->slots[i] = NULL;
        }
    }
    b->count = 0;
}

/* Read one datagram into buf.  1 with the outputs set, 0 if none is waiting, or -errno. */
int fs_udp_recv_copy(int fd, void *buf, size_t cap, uint32_t *len, uint8_t *flags,
                     struct sockaddr_storage *addr)
{
    struct iovec iov = {buf, cap};
    struct msghdr h;
    ssize_t got;

    memset(&h, 0, sizeof(h));
    h.msg_name = addr;
    h.msg_namelen = sizeof(*addr);
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    do {
        got = recvmsg(fd, &h, MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    *len = (uint32_t)got;
    *flags = fold_flags(h.msg_flags);
    return 1;
}
