/*
 * bufpool.h - fixed-size receive slots, counted by the views they back.
 *
 * A pool hands out slots of slot_size bytes.  A slot carries a reference count: the receive batch
 * that fills it holds one reference, and every zero-copy view the binding creates over (a part
 * of) it holds one more.  When the count drops to zero the slot goes back to the pool's free list
 * (or is freed, past max_free cached slots), so bytes a user still references are never reused.
 * One slot may back several views at different offsets (UDP_GRO delivers a burst of datagrams in
 * one message), which is why ownership is a count, not a flag.
 *
 * A pool never grows past max_bytes of slots in use: fs_bufpool_acquire then returns NULL and the
 * caller copies instead (and counts it).  fs_bufpool_close() hands the pool over to its slots: it
 * is freed when the last outstanding slot is released.
 *
 * No system calls, no locking: callers serialise access (the binding holds the GIL).
 */
#ifndef FS_BUFPOOL_H
#define FS_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_bufpool fs_bufpool_t;

typedef struct fs_slot {
    fs_bufpool_t *pool;      /* read-only: owning pool */
    struct fs_slot *next;    /* private: free-list link */
    uint32_t refs;           /* private: batch + views */
    uint32_t pad_;           /* private: keeps data[] 16-byte aligned */
    uint64_t spare_;         /* private */
    unsigned char data[];    /* slot_size bytes, 16-byte aligned */
} fs_slot_t;

typedef struct fs_bufpool_stats {
    size_t slot_size;
    size_t in_use;      /* slots with refs > 0 */
    size_t cached;      /* slots on the free list */
    size_t max_bytes;
    uint64_t allocated; /* slots ever allocated */
    uint64_t exhausted; /* acquires refused because max_bytes was reached (or malloc failed) */
} fs_bufpool_stats_t;

/* Create a pool of slots of slot_size bytes (>= 1).  in_use slots never exceed max_bytes
 * (at least one slot is always allowed); up to max_free released slots are kept for reuse.
 * 0 and *out set, or -EINVAL / -ENOMEM. */
int fs_bufpool_new(fs_bufpool_t **out, size_t slot_size, size_t max_bytes, size_t max_free);

/* A slot with refs == 1, or NULL when the pool is at max_bytes or memory is short. */
fs_slot_t *fs_bufpool_acquire(fs_bufpool_t *pool);

/* Drop a reference: at zero the slot returns to its pool (or is freed; and the pool itself once
 * it is closed and this was its last slot).  Releasing a slot with refs == 0 is a bug (asserted). */
void fs_slot_release(fs_slot_t *slot);

/* Add a reference (a new view over the slot). */
static inline void fs_slot_ref(fs_slot_t *slot) { slot->refs++; }

/* References held on slot (1 == only its batch). */
static inline uint32_t fs_slot_refs(const fs_slot_t *slot) { return slot->refs; }

/* Give up ownership: the pool frees itself when its last slot is released (at once if none). */
void fs_bufpool_close(fs_bufpool_t *pool);

size_t fs_bufpool_slot_size(const fs_bufpool_t *pool);
void fs_bufpool_stats(const fs_bufpool_t *pool, fs_bufpool_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* FS_BUFPOOL_H */
