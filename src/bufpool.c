/*
 * bufpool.c - receive slots counted by the views they back.
 *
 * Why a pool at all: the receive path hands Python a zero-copy view into the bytes the kernel
 * wrote.  A fresh malloc per datagram costs as much as the rest of the path, and a single shared
 * buffer (uvloop's) forces a copy.  So each socket's receive batch keeps an array of slots it
 * refills from here, and a slot returns only when its last reference goes.
 *
 * Who holds what:
 *   - the batch (sockio.c) holds one reference on every slot it will receive into;
 *   - every view created over a slot holds one more (fs_slot_ref), dropped on dealloc;
 *   - after dispatch the batch keeps the slots only it still holds and lets go of the others, so
 *     a slot a user retained is never written again while the user can see it.
 * Released slots go to a LIFO free list (warm in cache), up to max_free; beyond that they are
 * freed.  in_use is bounded by max_bytes: past it fs_bufpool_acquire returns NULL and the caller
 * must copy (counted by the binding), so a user who retains everything costs memory in
 * proportion to what he retains, never a silent drop.
 *
 * The pool outlives its owner when views remain: fs_bufpool_close marks it closed, and the last
 * fs_slot_release frees it.  This is how a bufferSize change (new pool) or a socket close can
 * happen while the user still holds data.
 */
#include "bufpool.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

_Static_assert(offsetof(fs_slot_t, data) % 16 == 0, "slot data must be 16-byte aligned");

struct fs_bufpool {
    size_t slot_size;
    size_t max_bytes;
    size_t max_free;
    size_t in_use;
    size_t cached;
    fs_slot_t *free_list;
    uint64_t allocated;
    uint64_t exhausted;
    int closed;
};

#define SLOT_BYTES(pool) (sizeof(fs_slot_t) + (pool)->slot_size)

/* Create a pool.  0 and *out set, or -EINVAL (slot_size 0 or absurd) / -ENOMEM. */
int fs_bufpool_new(fs_bufpool_t **out, size_t slot_size, size_t max_bytes, size_t max_free)
{
    fs_bufpool_t *pool;

    if (out == NULL || slot_size == 0 || slot_size > ((size_t)1 << 31))
        return -EINVAL;
    pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return -ENOMEM;
    pool->slot_size = slot_size;
    pool->max_bytes = max_bytes;
    pool->max_free = max_free;
    *out = pool;
    return 0;
}

static void pool_destroy(fs_bufpool_t *pool)
{
    fs_slot_t *s = pool->free_list;
    while (s != NULL) {
        fs_slot_t *next = s->next;
        free(s);
        s = next;
    }
    free(pool);
}

/* A slot with refs == 1, or NULL (at max_bytes, or out of memory; both counted as exhausted). */
fs_slot_t *fs_bufpool_acquire(fs_bufpool_t *pool)
{
    fs_slot_t *s = pool->free_list;

    if (s != NULL) {
        pool->free_list = s->next;
        pool->cached--;
    } else {
        /* At least one slot is always allowed, whatever max_bytes says. */
        if (pool->in_use > 0 && (pool->in_use + 1) * pool->slot_size > pool->max_bytes) {
            pool->exhausted++;
            return NULL;
        }
        s = malloc(SLOT_BYTES(pool));
        if (s == NULL) {
            pool->exhausted++;
            return NULL;
        }
        s->pool = pool;
        pool->allocated++;
    }
    s->next = NULL;
    s->refs = 1;
    pool->in_use++;
    return s;
}

/* Drop one reference; at zero the slot goes back to its pool (see file comment). */
void fs_slot_release(fs_slot_t *slot)
{
    fs_bufpool_t *pool = slot->pool;

    assert(slot->refs > 0 && "fs_slot_release on a free slot");
    if (--slot->refs > 0)
        return;
    pool->in_use--;
    if (!pool->closed && pool->cached < pool->max_free) {
        slot->next = pool->free_list;
        pool->free_list = slot;
        pool->cached++;
        return;
    }
    free(slot);
    if (pool->closed && pool->in_use == 0)
        pool_destroy(pool);
}

/* Give up ownership; the pool goes with its last slot (now, if none is out). */
void fs_bufpool_close(fs_bufpool_t *pool)
{
    fs_slot_t *s;

    if (pool == NULL)
        return;
    pool->closed = 1;
    /* Cached slots are nobody's: free them now rather than when the last view goes. */
    s = pool->free_list;
    while (s != NULL) {
        fs_slot_t *next = s->next;
        free(s);
        s = next;
    }
    pool->free_list = NULL;
    pool->cached = 0;
    if (pool->in_use == 0)
        pool_destroy(pool);
}

/* The slot size the pool was created with. */
size_t fs_bufpool_slot_size(const fs_bufpool_t *pool)
{
    return pool->slot_size;
}

/* Copy the pool's counters into *out. */
void fs_bufpool_stats(const fs_bufpool_t *pool, fs_bufpool_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->slot_size = pool->slot_size;
    out->in_use = pool->in_use;
    out->cached = pool->cached;
    out->max_bytes = pool->max_bytes;
    out->allocated = pool->allocated;
    out->exhausted = pool->exhausted;
}
