/* sl_pagemark alone, then deep members pages from marks on a database:
 * the same members as a walk from the start, and a stale mark never used
 * once people_version has moved. */
#include <string.h>

#include <apr_strings.h>

#include "sl_json.h"
#include "sl_pagemark.h"
#include "sl_people.h"
#include "test_store.h"

START_TEST(test_pagemark_nearest_version_bounds)
{
    sl_pagemarks_t *m = sl_pagemarks_create(test_pool);
    apr_int64_t at = -1, id = -1;
    const char *key = NULL;
    char name[32];
    int i;

    ck_assert_ptr_nonnull(m);
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 3, 5000, &at, &key, &id, test_pool));
    sl_pagemarks_put(m, "1 username 0", 3, 2000, "bob", 7);
    sl_pagemarks_put(m, "1 username 0", 3, 4000, "dan", 9);
    sl_pagemarks_put(m, "1 username 0", 3, 10, "ann", 1);    /* below the minimum */
    ck_assert(sl_pagemarks_find(m, "1 username 0", 3, 3999, &at, &key, &id, test_pool));
    ck_assert_int_eq(at, 2000);
    ck_assert_str_eq(key, "bob");
    ck_assert_int_eq(id, 7);
    ck_assert(sl_pagemarks_find(m, "1 username 0", 3, 4000, &at, &key, &id, test_pool));
    ck_assert_int_eq(at, 4000);
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 3, 1999, &at, &key, &id, test_pool));
    /* another list: nothing */
    ck_assert(!sl_pagemarks_find(m, "1 username 1", 3, 4000, &at, &key, &id, test_pool));
    /* read at another version: nothing, and the list's marks are gone for
     * good (a restored database may come back to the version they were of) */
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 2, 3500, &at, &key, &id, test_pool));
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 3, 3500, &at, &key, &id, test_pool));
    sl_pagemarks_put(m, "1 username 0", 3, 2000, "bob", 7);
    /* another version's mark drops the list's */
    sl_pagemarks_put(m, "1 username 0", 4, 3000, "cat", 8);
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 4, 2500, &at, &key, &id, test_pool));
    ck_assert(sl_pagemarks_find(m, "1 username 0", 4, 3500, &at, &key, &id, test_pool));
    ck_assert_str_eq(key, "cat");
    /* the same position again: the newer key */
    sl_pagemarks_put(m, "1 username 0", 4, 3000, "cy", 11);
    ck_assert(sl_pagemarks_find(m, "1 username 0", 4, 3000, &at, &key, &id, test_pool));
    ck_assert_str_eq(key, "cy");
    ck_assert_int_eq(id, 11);
    /* bounded: more marks than room keep the nearest below every position */
    for (i = 0; i < 3 * SL_PAGEMARK_MARKS; i++) {
        sl_pagemarks_put(m, "1 email 0", 1, 1000 + 30 * i, apr_itoa(test_pool, i), i);
    }
    for (i = 0; i < 3 * SL_PAGEMARK_MARKS; i++) {
        ck_assert(sl_pagemarks_find(m, "1 email 0", 1, 1000 + 30 * i, &at, &key, &id,
                                    test_pool));
        ck_assert_int_le(at, 1000 + 30 * i);
        ck_assert_int_eq(at, 1000 + 30 * id);
    }
    /* a key too long for a mark is not marked */
    sl_pagemarks_put(m, "1 email 0", 2, 5000, apr_pstrcat(test_pool, "x",
                     memset(apr_pcalloc(test_pool, 300), 'y', 299), NULL), 1);
    ck_assert(!sl_pagemarks_find(m, "1 email 0", 2, 5000, &at, &key, &id, test_pool));
    /* more lists than room: the least recently used goes */
    for (i = 0; i < SL_PAGEMARK_LISTS; i++) {
        apr_snprintf(name, sizeof(name), "%d username 0", 100 + i);
        sl_pagemarks_put(m, name, 1, 1000, "k", i);
    }
    ck_assert(!sl_pagemarks_find(m, "1 username 0", 4, 3500, &at, &key, &id, test_pool));
    ck_assert(sl_pagemarks_find(m, "115 username 0", 1, 1000, &at, &key, &id, test_pool));
}
END_TEST

/* 1,200 members of organization 1 straight in the tables, as a restore or
 * psql would make them: the dates repeat, so ties are ordered by id */
static void many_members(void)
{
    sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
        "INSERT INTO users (email, username, password, is_active, date_joined, org_member) "
        "SELECT printf('m%04d@example.org', (i * 7919) % 1201), printf('M%04d', i), 'x', "
        "i % 5 <> 0, 1000 + i % 13, 1 FROM n");
    sql("INSERT INTO memberships (user_id, organization_id, created_at) "
        "SELECT id, 1, 0 FROM users WHERE org_member = 1");
    sql("UPDATE organization SET members_count = (SELECT count(*) FROM memberships), "
        "active_count = (SELECT count(*) FROM users WHERE is_active = 1)");
}

/* the member ids of a page, as "1,2,3" */
static const char *page_ids(const char *ordering, int active, apr_int64_t page,
                            sl_pagemarks_t *marks)
{
    sl_members_query_t q;
    json_t *out = NULL, *m;
    sl_err_t err = { 0 };
    apr_int64_t count;
    const char *ids = "";
    int capped;
    size_t i;

    memset(&q, 0, sizeof(q));
    q.page = page;
    q.page_size = 30;
    q.ordering = ordering;
    q.active_only = active;
    q.with_projects = 1;
    q.marks = marks;
    ck_assert_int_eq(sl_people_members(S(), &out, &count, &capped, "1", &q, &err, test_pool),
                     SL_OK);
    json_array_foreach(out, i, m) {
        ids = apr_psprintf(test_pool, "%s%s%" APR_INT64_T_FMT, ids, i ? "," : "",
                           (apr_int64_t)json_integer_value(
                               json_object_get(json_object_get(m, "user"), "id")));
    }
    return ids;
}

START_TEST(test_pagemark_pages_equal_walks)
{
    static const char *const orderings[] = { "username", "email", "date_joined",
                                             "-date_joined", "last_activity", NULL };
    sl_pagemarks_t *marks = sl_pagemarks_create(test_pool);
    const char *want, *got;
    int o, page, active;

    many_members();
    for (o = 0; orderings[o]; o++) {
        for (active = 0; active < 2; active++) {
            /* deep pages in an order that finds marks before, at and after
             * each page, and one past the end of the active list */
            static const int pages[] = { 36, 38, 37, 36, 40, 39, 33, 34, 0 };
            for (page = 0; pages[page]; page++) {
                if (active && pages[page] > 32) {
                    continue;           /* 960 active members: 32 pages */
                }
                want = page_ids(orderings[o], active, pages[page], NULL);
                got = page_ids(orderings[o], active, pages[page], marks);
                ck_assert_str_eq(got, want);
                ck_assert_str_ne(want, "");
            }
        }
    }
}
END_TEST

static apr_int64_t people_version(void)
{
    return apr_atoi64(scalar("SELECT people_version FROM organization WHERE id = 1"));
}

START_TEST(test_pagemark_stale_mark_dropped)
{
    sl_pagemarks_t *marks = sl_pagemarks_create(test_pool);
    const char *want, *first;
    sl_rows_t res;
    sl_err_t err = { 0 };
    apr_int64_t version;

    many_members();
    want = page_ids("username", 0, 38, NULL);
    ck_assert_str_eq(page_ids("username", 0, 38, marks), want);
    /* a wrong mark at the page's position, for the current version: the
     * page comes from it (so marks are used) */
    ck_assert_int_eq(sl_conn_select(S(), "siali_org_counts", &res, 1,
                                    (const char *[]){ "1" }, &err, test_pool), SL_OK);
    version = apr_atoi64(SL_ROW(&res, 0)[2]);
    first = page_ids("username", 0, 1, NULL);
    sl_pagemarks_put(marks, "1 username 0", version, 37 * 30, "M0001", 1);
    ck_assert_str_eq(page_ids("username", 0, 38, marks), first);
    /* any change to who is listed or where moves the version: the mark
     * is not used again */
    sql("UPDATE users SET username = 'A' || username WHERE id = 1150");
    ck_assert_str_ne(page_ids("username", 0, 38, NULL), want);
    ck_assert_str_eq(page_ids("username", 0, 38, marks), page_ids("username", 0, 38, NULL));
    /* the same for an insert, a deactivation and a delete */
    sl_pagemarks_put(marks, "1 username 1", people_version(), 30 * 30, "M0001", 1);
    sql("UPDATE users SET is_active = 0 WHERE id = 3");
    ck_assert_str_eq(page_ids("username", 1, 31, marks), page_ids("username", 1, 31, NULL));
    sl_pagemarks_put(marks, "1 email 0", people_version(), 37 * 30, "m0001@example.org", 1);
    sql("DELETE FROM users WHERE id = 4");
    ck_assert_str_eq(page_ids("email", 0, 38, marks), page_ids("email", 0, 38, NULL));
    sl_pagemarks_put(marks, "1 email 0", people_version(), 37 * 30, "m0001@example.org", 1);
    sql("INSERT INTO users (email, username, password, date_joined, org_member) "
        "VALUES ('a@example.org', 'aaa', 'x', 1, 1)");
    ck_assert_str_eq(page_ids("email", 0, 38, marks), page_ids("email", 0, 38, NULL));
    /* a change that moves no list keeps the version */
    ck_assert_int_eq(sl_conn_select(S(), "siali_org_counts", &res, 1,
                                    (const char *[]){ "1" }, &err, test_pool), SL_OK);
    version = apr_atoi64(SL_ROW(&res, 0)[2]);
    sql("UPDATE users SET first_name = 'Ann', last_activity = 5 WHERE id = 7");
    ck_assert_int_eq(sl_conn_select(S(), "siali_org_counts", &res, 1,
                                    (const char *[]){ "1" }, &err, test_pool), SL_OK);
    ck_assert_int_eq(apr_atoi64(SL_ROW(&res, 0)[2]), version);
}
END_TEST

Suite *test_pagemark_suite(void)
{
    Suite *s = suite_create("pagemark");
    const TTest *tests[] = { test_pagemark_pages_equal_walks, test_pagemark_stale_mark_dropped,
                             NULL };
    TCase *tc = tcase_create("sl_pagemark");

    tcase_add_test(tc, test_pagemark_nearest_version_bounds);
    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    suite_add_tcase(s, tc);
    add_tcase(s, "sl_people marks", store_setup, tests);
    return s;
}
