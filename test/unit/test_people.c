/* sl_people / sl_project on a database: pages, counts, search, projects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "sl_account.h"
#include "sl_auth.h"
#include "sl_copy.h"
#include "sl_json.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_people.h"
#include "sl_project.h"
#include "sl_schema.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_validate.h"
#include "test_store.h"

START_TEST(test_people_like_pattern_and_orderings)
{
    ck_assert_str_eq(sl_people_like_pattern("A%b_c!", test_pool), "%a!%b!_c!!%");
    ck_assert_str_eq(sl_people_match_phrase("Ann \"O\" Lee*", test_pool),
                     "\"ann \"\"o\"\" lee*\"");
    ck_assert(sl_people_ordering_ok("-last_activity"));
    ck_assert(!sl_people_ordering_ok("password"));
    ck_assert(!sl_people_ordering_ok(NULL));
}
END_TEST

static json_t *members(const char *search, int active_only, int with_projects,
                       apr_int64_t page, apr_int64_t *count, sl_kind_e want)
{
    sl_members_query_t q;
    json_t *out = NULL;
    sl_err_t err = { 0 };
    int capped = -1;

    memset(&q, 0, sizeof(q));
    q.page = page;
    q.page_size = 2;
    q.search = search;
    q.active_only = active_only;
    q.with_projects = with_projects;
    ck_assert_int_eq(sl_people_members(S(), &out, count, &capped, "1", &q, &err, test_pool), want);
    ck_assert_int_eq(capped, 0);    /* a handful of accounts: counted exactly */
    return out;
}

START_TEST(test_people_members_counts_search_projects)
{
    sl_user_t *a = create_ok("ann@example.org"), *b = create_ok("bob@example.org");
    sl_user_t *c = create_ok("cy_x@example.org"), *u = NULL;
    sl_user_patch_t pa = { NULL, NULL, NULL, NULL, 0 };
    apr_int64_t count = 0;
    json_t *list, *proj, *tasks;
    int nt, na;

    list = members(NULL, 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 3);
    ck_assert_int_eq(json_array_size(list), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
        json_array_get(list, 0), "user"), "username")), "ann");
    ck_assert(json_is_null(json_object_get(json_array_get(list, 0), "created_projects")));
    members(NULL, 0, 0, 3, &count, SL_ENOTFOUND);
    /* literal search: '_' is no wildcard, the index answers plain words */
    list = members("y_x", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    list = members("BOB", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    /* deactivating keeps the counters in step */
    ck_assert_int_eq(sl_account_patch(S(), &u, b->id, a->id, &pa, NULL, test_pool), SL_OK);
    members(NULL, 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 2);
    /* created and contributed, in one page */
    ck_assert_int_eq(sl_project_create(S(), &proj, "P", NULL, a->id, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_json_decode(&tasks, "[{\"data\":{},\"annotations\":[{\"result\":[]}]}]",
                                    43, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_project_import(S(), sl_i64((apr_int64_t)json_integer_value(
                                       json_object_get(proj, "id")), test_pool),
                                       tasks, c->id, &nt, &na, NULL, test_pool), SL_OK);
    ck_assert_int_eq(nt, 1);
    ck_assert_int_eq(na, 1);
    list = members(NULL, 0, 1, 1, &count, SL_OK);
    ck_assert_int_eq(json_array_size(json_object_get(json_array_get(list, 0),
                                                     "created_projects")), 1);
    list = members("cy", 0, 1, 1, &count, SL_OK);
    ck_assert_int_eq(json_array_size(json_object_get(json_array_get(list, 0),
                                                     "contributed_to_projects")), 1);
    /* deleting the owner is refused; deleting c keeps the annotation */
    ck_assert_int_eq(sl_account_delete(S(), a->id, c->id, NULL, test_pool),
                     SL_EFORBIDDEN);
    ck_assert_int_eq(sl_account_delete(S(), c->id, a->id, NULL, test_pool), SL_OK);
    members(NULL, 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 2);
    ck_assert_str_eq(scalar("SELECT count(*) FROM annotations"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM user_search"), "2");
}
END_TEST

/* Search compares case-folded NFC text on every database: "zoë", "ZOË"
 * and "zoe\u0308" all find Zoë; "strasse" finds Straße. */
START_TEST(test_people_search_unicode)
{
    sl_user_t *a = create_ok("ann@example.org"), *z = create_ok("zed@example.org"), *u;
    sl_user_patch_t pz = { "Zo\xc3\xab", "Stra\xc3\x9f" "e", NULL, NULL, -1 };
    apr_int64_t count = 0;
    json_t *list;

    ck_assert_int_eq(sl_account_patch(S(), &u, z->id, a->id, &pz, NULL, test_pool), SL_OK);
    list = members("zo\xc3\xab", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(list, 0), "user"), "email")),
                     "zed@example.org");
    members("ZO\xc3\x8b", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("zoe\xcc\x88", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("STRASSE", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("zoe", 0, 0, 1, &count, SL_OK);       /* no accent folding: another letter */
    ck_assert_int_eq(count, 0);
}
END_TEST

/* A search's matches are filtered by the users row as it is now (a change
 * from the core or from outside it), through every way a search reads
 * the index: the phrase, the escaped LIKE, a short search. */
START_TEST(test_people_search_filter_follows_users)
{
    sl_user_t *a = create_ok("ann@example.org"), *b = create_ok("bob.finch@example.org");
    sl_user_t *c = create_ok("cat.finch@example.org"), *u = NULL;
    sl_user_patch_t off = { NULL, NULL, NULL, NULL, 0 }, on = { NULL, NULL, NULL, NULL, 1 };
    apr_int64_t count = 0;

    members("finch", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 2);
    ck_assert_int_eq(sl_account_patch(S(), &u, b->id, a->id, &off, NULL, test_pool), SL_OK);
    members("finch", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("finch", 0, 0, 1, &count, SL_OK);     /* all members: still there */
    ck_assert_int_eq(count, 2);
    /* the escaped form ("_e") filters alike */
    members("h@", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("t.f%", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(sl_account_patch(S(), &u, b->id, a->id, &on, NULL, test_pool), SL_OK);
    members("finch", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 2);
    /* changed outside the core */
    sql(apr_psprintf(test_pool, "UPDATE users SET is_active = 0 WHERE id = %s", c->id));
    members("finch", 1, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    sql(apr_psprintf(test_pool, "UPDATE users SET org_member = NULL WHERE id = %s", b->id));
    members("finch", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    /* a page past the end of a search, and a search nobody matches */
    members("finch", 0, 0, 2, &count, SL_ENOTFOUND);
    members("no such word", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 0);
    /* LIKE's metacharacters and FTS5's syntax are plain characters */
    members("\"finch", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 0);
    members("cat.finch@", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 1);
    members("h OR a", 0, 0, 1, &count, SL_OK);
    ck_assert_int_eq(count, 0);
}
END_TEST

Suite *test_people_suite(void)
{
    Suite *s = suite_create("people");
    const TTest *tests[] = {
        test_people_like_pattern_and_orderings,
        test_people_members_counts_search_projects,
        test_people_search_unicode, test_people_search_filter_follows_users, NULL
    };

    add_tcase(s, "sl_people", store_setup, tests);
    return s;
}
