/* sl_authcache: what may be served from the cache of callers, and when a
 * row read from the database may be stored in it. */
#include <string.h>

#include <apr_strings.h>

#include "test_core.h"
#include "sl_authcache.h"

static const char *const row[] = { "tok", "7", NULL, "a@b.org" };

static sl_authcache_t *make(int max, apr_interval_time_t ttl)
{
    sl_authcache_t *c = NULL;

    ck_assert_int_eq(sl_authcache_create(&c, max, ttl, test_pool), APR_SUCCESS);
    sl_authcache_enable(c, 1);
    return c;
}

START_TEST(test_authcache_put_get_copy)
{
    sl_authcache_t *c = make(10, apr_time_from_sec(60));
    const char **got;

    sl_authcache_put(c, sl_authcache_begin(c), "t:x", row, 4);
    got = sl_authcache_get(c, "t:x", 4, test_pool);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got[0], "tok");
    ck_assert_str_eq(got[1], "7");
    ck_assert_ptr_null(got[2]);             /* SQL NULL stays NULL */
    ck_assert_str_eq(got[3], "a@b.org");
    ck_assert_ptr_ne(got[0], row[0]);       /* a copy */
    ck_assert_ptr_null(sl_authcache_get(c, "t:y", 4, test_pool));
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 3, test_pool));   /* other shape */
}
END_TEST

/* a row read before a flush is never stored after it */
START_TEST(test_authcache_ticket_before_flush_stores_nothing)
{
    sl_authcache_t *c = make(10, apr_time_from_sec(60));
    sl_authcache_ticket_t t = sl_authcache_begin(c);
    apr_uint64_t hits, misses;

    sl_authcache_flush(c);
    sl_authcache_put(c, t, "t:x", row, 4);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    sl_authcache_put(c, sl_authcache_begin(c), "t:x", row, 4);
    ck_assert_ptr_nonnull(sl_authcache_get(c, "t:x", 4, test_pool));
    sl_authcache_flush(c);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    sl_authcache_stats(c, &hits, &misses);
    ck_assert_uint_eq(hits, 1);
    ck_assert_uint_eq(misses, 2);
}
END_TEST

/* off (the listener lost its connection): nothing in, nothing out, and what
 * was there before is gone when it comes back */
START_TEST(test_authcache_off_serves_nothing)
{
    sl_authcache_t *c = make(10, apr_time_from_sec(60));
    sl_authcache_ticket_t t;

    sl_authcache_put(c, sl_authcache_begin(c), "t:x", row, 4);
    sl_authcache_enable(c, 0);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    t = sl_authcache_begin(c);
    ck_assert_uint_eq(t.gen, 0);
    sl_authcache_put(c, t, "t:y", row, 4);
    sl_authcache_enable(c, 1);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    ck_assert_ptr_null(sl_authcache_get(c, "t:y", 4, test_pool));
}
END_TEST

/* another child's flush, through the shared counter: entries of before are
 * not served, a lookup that began before stores nothing */
START_TEST(test_authcache_shared_counter)
{
    sl_authcache_t *c = make(10, apr_time_from_sec(60)), *other = make(10, apr_time_from_sec(60));
    volatile apr_uint32_t counter = 0;
    sl_authcache_ticket_t t;

    sl_authcache_share(c, &counter);
    sl_authcache_share(other, &counter);
    sl_authcache_put(c, sl_authcache_begin(c), "t:x", row, 4);
    t = sl_authcache_begin(c);
    sl_authcache_flush(other);
    ck_assert_uint_eq(counter, 1);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    sl_authcache_put(c, t, "t:x", row, 4);
    ck_assert_ptr_null(sl_authcache_get(c, "t:x", 4, test_pool));
    sl_authcache_put(c, sl_authcache_begin(c), "t:x", row, 4);
    ck_assert_ptr_nonnull(sl_authcache_get(c, "t:x", 4, test_pool));
}
END_TEST

START_TEST(test_authcache_bounded_and_expiring)
{
    sl_authcache_t *c = make(3, apr_time_from_sec(60)), *brief = make(3, 1);
    int i, kept = 0;

    for (i = 0; i < 7; i++) {
        sl_authcache_put(c, sl_authcache_begin(c), apr_psprintf(test_pool, "k%d", i), row, 4);
    }
    for (i = 0; i < 7; i++) {
        kept += sl_authcache_get(c, apr_psprintf(test_pool, "k%d", i), 4, test_pool) != NULL;
    }
    ck_assert_int_le(kept, 3);
    ck_assert_ptr_nonnull(sl_authcache_get(c, "k6", 4, test_pool));   /* the last one */
    /* replacing a key keeps one entry with the new row */
    sl_authcache_put(c, sl_authcache_begin(c), "k6", (const char *const[]){ "new", "7", NULL,
                     "a@b.org" }, 4);
    ck_assert_str_eq(sl_authcache_get(c, "k6", 4, test_pool)[0], "new");
    /* a life of 1 us is over by the next look */
    sl_authcache_put(brief, sl_authcache_begin(brief), "t:x", row, 4);
    apr_sleep(1000);
    ck_assert_ptr_null(sl_authcache_get(brief, "t:x", 4, test_pool));
}
END_TEST

Suite *test_authcache_suite(void)
{
    Suite *s = suite_create("authcache");
    TCase *tc = tcase_create("sl_authcache");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_authcache_put_get_copy);
    tcase_add_test(tc, test_authcache_ticket_before_flush_stores_nothing);
    tcase_add_test(tc, test_authcache_off_serves_nothing);
    tcase_add_test(tc, test_authcache_shared_counter);
    tcase_add_test(tc, test_authcache_bounded_and_expiring);
    suite_add_tcase(s, tc);
    return s;
}
