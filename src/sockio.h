/*
 * sockio.h - batched datagram receive into pool slots.
 *
 * fs_udp_batch_t is the receive side of one UDP socket: cap message headers, each pointing at
 * its own pool slot.  fs_udp_batch_recv() fills as many slots as the pool grants and reads up to
 * that many datagrams with one recvmmsg() (a recvmsg() loop where recvmmsg is missing).  The
 * batch holds one reference on each slot; the binding adds one per view it hands out and then
 * calls fs_udp_batch_recycle(), which keeps the slots nobody else references for the next call
 * and lets go of the rest.
 *
 * Every function returns a count or -errno.  EINTR is retried; EAGAIN means "nothing now" (0).
 */
#ifndef FS_SOCKIO_H
#define FS_SOCKIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bufpool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FS_DGRAM_TRUNC 1 /* the datagram was longer than the slot; its tail is lost */

typedef struct fs_udp_batch {
    unsigned cap;                   /* read-only: messages per receive call */
    unsigned count;                 /* read-only: datagrams received by the last call */
    fs_slot_t **slots;              /* read-only: slot of message i (batch holds one ref) */
    uint32_t *lens;                 /* read-only: payload length of message i */
    uint8_t *flags;                 /* read-only: FS_DGRAM_* of message i */
    struct sockaddr_storage *addrs; /* read-only: sender of message i */
    void *impl_;                    /* private: mmsghdr / iovec arrays */
} fs_udp_batch_t;

/* Prepare a batch of cap (1..1024) messages.  0, or -EINVAL / -ENOMEM. */
int fs_udp_batch_init(fs_udp_batch_t *b, unsigned cap);

/* Release the batch's slot references and its arrays.  Safe on a zeroed or freed batch. */
void fs_udp_batch_free(fs_udp_batch_t *b);

/*
 * Read up to max (<= cap) datagrams from the non-blocking socket fd into slots of pool; slots
 * held from a pool other than pool (bufferSize changed) are released first.  Sets b->count.
 * Returns the number received, 0 if none is waiting, -ENOBUFS if the pool granted no slot
 * (nothing was read; use fs_udp_recv_copy), or -errno from the socket.
 */
int fs_udp_batch_recv(fs_udp_batch_t *b, int fd, fs_bufpool_t *pool, unsigned max);

/* After the views of the last batch were handed out: release the batch's reference on every
 * slot that a view still references, so that slot stays with its views and the next receive
 * takes a fresh one.  Slots nobody else holds are kept for reuse.  Sets b->count to 0. */
void fs_udp_batch_recycle(fs_udp_batch_t *b);

/*
 * Read one datagram into buf[0..cap) (the copy path, used when the pool is exhausted).
 * Returns 1 with *len, *flags, *addr and *addrlen set, 0 if none is waiting, or -errno.
 */
int fs_udp_recv_copy(int fd, void *buf, size_t cap, uint32_t *len, uint8_t *flags,
                     struct sockaddr_storage *addr);


#ifdef __cplusplus
}
#endif

#endif /* FS_SOCKIO_H */
