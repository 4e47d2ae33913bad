/* test_bufpool.c - the slot pool: acquire, reference counts, exhaustion, close with slots out. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bufpool.h"
#include "fs_test.h"

static void test_new_rejects(void)
{
    fs_bufpool_t *p = NULL;
    CHECK_EQ(fs_bufpool_new(&p, 0, 1024, 4), -EINVAL);
    CHECK_EQ(fs_bufpool_new(NULL, 64, 1024, 4), -EINVAL);
}

static void test_acquire_release_reuse(void)
{
    fs_bufpool_t *p;
    fs_bufpool_stats_t st;
    CHECK_EQ(fs_bufpool_new(&p, 100, 1 << 20, 8), 0);
    fs_slot_t *a = fs_bufpool_acquire(p);
    CHECK(a != NULL);
    CHECK_EQ(fs_slot_refs(a), 1);
    CHECK_EQ(((uintptr_t)a->data) % 16, 0);
    memset(a->data, 0xAB, 100); /* the whole slot is writable (ASan checks the bound) */
    fs_bufpool_stats(p, &st);
    CHECK_EQ(st.in_use, 1);
    CHECK_EQ(st.slot_size, 100);
    fs_slot_release(a);
    fs_bufpool_stats(p, &st);
    CHECK_EQ(st.in_use, 0);
    CHECK_EQ(st.cached, 1);
    fs_slot_t *b = fs_bufpool_acquire(p);
    CHECK(b == a); /* LIFO reuse of the cached slot */
    fs_bufpool_stats(p, &st);
    CHECK_EQ(st.allocated, 1);
    fs_slot_release(b);
    fs_bufpool_close(p);
}

static void test_refcount_keeps_slot(void)
{
    fs_bufpool_t *p;
    CHECK_EQ(fs_bufpool_new(&p, 64, 1 << 20, 8), 0);
    fs_slot_t *a = fs_bufpool_acquire(p);
    memcpy(a->data, "hello", 5);
    fs_slot_ref(a); /* a view */
    fs_slot_ref(a); /* a second view at another offset (GRO) */
    CHECK_EQ(fs_slot_refs(a), 3);
    fs_slot_release(a); /* the batch lets go */
    fs_slot_t *b = fs_bufpool_acquire(p);
    CHECK(b != a); /* a retained slot is never handed out again */
    memset(b->data, 0, 64);
    CHECK(memcmp(a->data, "hello", 5) == 0);
    fs_slot_release(a);
    fs_slot_release(a);
    fs_slot_release(b);
    fs_bufpool_close(p);
}

static void test_exhaustion(void)
{
    fs_bufpool_t *p;
    fs_bufpool_stats_t st;
    fs_slot_t *s[4];
    CHECK_EQ(fs_bufpool_new(&p, 1000, 3000, 8), 0); /* three slots fit */
    for (int i = 0; i < 3; i++) {
        s[i] = fs_bufpool_acquire(p);
        CHECK(s[i] != NULL);
    }
    s[3] = fs_bufpool_acquire(p);
    CHECK(s[3] == NULL);
    fs_bufpool_stats(p, &st);
    CHECK_EQ(st.exhausted, 1);
    CHECK_EQ(st.in_use, 3);
    /* out-of-order release frees room again */
    fs_slot_release(s[1]);
    s[3] = fs_bufpool_acquire(p);
    CHECK(s[3] != NULL);
    fs_slot_release(s[0]);
    fs_slot_release(s[2]);
    fs_slot_release(s[3]);
    fs_bufpool_close(p);
}

static void test_one_slot_always_allowed(void)
{
    fs_bufpool_t *p;
    CHECK_EQ(fs_bufpool_new(&p, 4096, 10, 0), 0);
    fs_slot_t *a = fs_bufpool_acquire(p);
    CHECK(a != NULL);
    CHECK(fs_bufpool_acquire(p) == NULL);
    fs_slot_release(a); /* max_free 0: freed, not cached */
    fs_bufpool_stats_t st;
    fs_bufpool_stats(p, &st);
    CHECK_EQ(st.cached, 0);
    fs_bufpool_close(p);
}

static void test_close_with_slots_out(void)
{
    fs_bufpool_t *p;
    CHECK_EQ(fs_bufpool_new(&p, 32, 1 << 20, 8), 0);
    fs_slot_t *a = fs_bufpool_acquire(p);
    fs_slot_t *b = fs_bufpool_acquire(p);
    fs_slot_t *c = fs_bufpool_acquire(p);
    fs_slot_release(c); /* cached, freed by close */
    memcpy(a->data, "kept", 4);
    fs_bufpool_close(p);            /* owner gone; a and b still out */
    CHECK(memcmp(a->data, "kept", 4) == 0);
    fs_slot_release(b);
    fs_slot_release(a);             /* last one: the pool frees itself (ASan/valgrind check) */
}

int main(void)
{
    test_new_rejects();
    test_acquire_release_reuse();
    test_refcount_keeps_slot();
    test_exhaustion();
    test_one_slot_always_allowed();
    test_close_with_slots_out();
    return fs_test_report();
}
