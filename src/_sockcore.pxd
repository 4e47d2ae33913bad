# _sockcore.pxd - declarations of the C core (loop.h, bufpool.h, sockio.h); nothing else.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t


cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t
    ctypedef unsigned short sa_family_t
    struct sockaddr_storage:
        sa_family_t ss_family


cdef extern from "loop.h" nogil:
    int FS_READABLE
    int FS_WRITABLE
    ctypedef struct fs_loop_t:
        pass
    ctypedef void (*fs_io_cb)(fs_loop_t *loop, int fd, int mask, uint64_t token) noexcept
    ctypedef void (*fs_timer_cb)(fs_loop_t *loop, uint64_t timer_id, uint64_t token) noexcept

    int fs_loop_new(fs_loop_t **out)
    void fs_loop_free(fs_loop_t *loop)
    const char *fs_loop_backend_name()
    void fs_loop_set_data(fs_loop_t *loop, void *data)
    void *fs_loop_get_data(const fs_loop_t *loop)
    int fs_loop_watch(fs_loop_t *loop, int fd, int mask, fs_io_cb cb, uint64_t token)
    int fs_loop_unwatch(fs_loop_t *loop, int fd)
    int fs_loop_mask(const fs_loop_t *loop, int fd)
    int fs_loop_poll(fs_loop_t *loop, int timeout_ms)
    int fs_loop_dispatch(fs_loop_t *loop)
    int fs_loop_run_once(fs_loop_t *loop, int timeout_ms)
    int fs_loop_wakeup(fs_loop_t *loop)
    int fs_loop_fd(const fs_loop_t *loop)
    int fs_loop_timer_start(fs_loop_t *loop, uint64_t delay_ms, fs_timer_cb cb, uint64_t token,
                            uint64_t *id_out)
    int fs_loop_timer_cancel(fs_loop_t *loop, uint64_t timer_id)
    int64_t fs_loop_next_timeout(const fs_loop_t *loop)
    int fs_loop_watch_count(const fs_loop_t *loop)
    int fs_loop_timer_count(const fs_loop_t *loop)


cdef extern from "bufpool.h" nogil:
    ctypedef struct fs_bufpool_t:
        pass
    ctypedef struct fs_slot_t:
        fs_bufpool_t *pool
        unsigned char *data
    ctypedef struct fs_bufpool_stats_t:
        size_t slot_size
        size_t in_use
        size_t cached
        size_t max_bytes
        uint64_t allocated
        uint64_t exhausted

    int fs_bufpool_new(fs_bufpool_t **out, size_t slot_size, size_t max_bytes, size_t max_free)
    fs_slot_t *fs_bufpool_acquire(fs_bufpool_t *pool)
    void fs_slot_release(fs_slot_t *slot)
    void fs_slot_ref(fs_slot_t *slot)
    uint32_t fs_slot_refs(const fs_slot_t *slot)
    void fs_bufpool_close(fs_bufpool_t *pool)
    size_t fs_bufpool_slot_size(const fs_bufpool_t *pool)
    void fs_bufpool_stats(const fs_bufpool_t *pool, fs_bufpool_stats_t *out)


cdef extern from "sockio.h" nogil:
    int FS_DGRAM_TRUNC
    ctypedef struct fs_udp_batch_t:
        unsigned cap
        unsigned count
        fs_slot_t **slots
        uint32_t *lens
        uint8_t *flags
        sockaddr_storage *addrs

    int fs_udp_batch_init(fs_udp_batch_t *b, unsigned cap)
    void fs_udp_batch_free(fs_udp_batch_t *b)
    int fs_udp_batch_recv(fs_udp_batch_t *b, int fd, fs_bufpool_t *pool, unsigned max)
    void fs_udp_batch_recycle(fs_udp_batch_t *b)
    int fs_udp_recv_copy(int fd, void *buf, size_t cap, uint32_t *len, uint8_t *flags,
                         sockaddr_storage *addr)
