/* fs_test.h - the few assert macros the C tests share.  Prints failures to stderr. */
#ifndef FS_TEST_H
#define FS_TEST_H

#include <stdio.h>

static int fs_test_passed;
static int fs_test_failed;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            fs_test_passed++;                                                            \
        } else {                                                                         \
            fs_test_failed++;                                                            \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, __func__, #cond); \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        long long fs_a_ = (long long)(a), fs_b_ = (long long)(b);                        \
        if (fs_a_ == fs_b_) {                                                            \
            fs_test_passed++;                                                            \
        } else {                                                                         \
            fs_test_failed++;                                                            \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                    __func__, #a, #b, fs_a_, fs_b_);                                     \
        }                                                                                \
    } while (0)

static int fs_test_report(void)
{
    printf("%d passed, %d failed\n", fs_test_passed, fs_test_failed);
    return fs_test_failed ? 1 : 0;
}

#endif
