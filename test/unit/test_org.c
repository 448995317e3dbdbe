/* sl_org on a database: the organization and its invite link. */
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

START_TEST(test_org_get_has_invite_token)
{
    sl_org_t *org = NULL;
    apr_int64_t created;

    ck_assert_int_eq(sl_org_get(db, &org, NULL, test_pool), SL_OK);
    ck_assert_str_eq(org->id, "1");
    ck_assert_str_eq(org->title, "Siali Label");
    ck_assert_uint_eq(strlen(org->invite_token), 32);
    ck_assert_uint_eq(strspn(org->invite_token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789-_"), 32);
    ck_assert_ptr_null(org->owner_id);
    created = apr_atoi64(org->created_at);
    ck_assert_int_le(created, sl_now());
    ck_assert_int_gt(created, sl_now() - 60);
}
END_TEST

START_TEST(test_org_invite_ok)
{
    sl_org_t *org = NULL;
    char *t;

    ck_assert_int_eq(sl_org_get(db, &org, NULL, test_pool), SL_OK);
    t = apr_pstrdup(test_pool, org->invite_token);
    ck_assert_int_eq(sl_org_invite_ok(org, t), 1);
    ck_assert_int_eq(sl_org_invite_ok(org, NULL), 0);
    ck_assert_int_eq(sl_org_invite_ok(org, ""), 0);
    ck_assert_int_eq(sl_org_invite_ok(org, apr_pstrcat(test_pool, t, "x", NULL)), 0);
    ck_assert_int_eq(sl_org_invite_ok(org, apr_pstrndup(test_pool, t, 31)), 0);
    t[0] = t[0] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(sl_org_invite_ok(org, t), 0);
    /* the last character alone changed: refused too */
    t = apr_pstrdup(test_pool, org->invite_token);
    t[31] = t[31] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(sl_org_invite_ok(org, t), 0);
}
END_TEST

START_TEST(test_org_reset_invite)
{
    sl_org_t *org = NULL, *again = NULL;
    const char *old;

    ck_assert_int_eq(sl_org_get(db, &org, NULL, test_pool), SL_OK);
    old = apr_pstrdup(test_pool, org->invite_token);
    ck_assert_int_eq(sl_org_reset_invite(S(), &org, NULL, test_pool), SL_OK);
    ck_assert_str_ne(org->invite_token, old);
    ck_assert_uint_eq(strlen(org->invite_token), 32);
    ck_assert_int_eq(sl_org_invite_ok(org, old), 0);
    ck_assert_int_eq(sl_org_invite_ok(org, org->invite_token), 1);
    /* stored: every other connection sees the new one */
    ck_assert_int_eq(sl_org_get(db, &again, NULL, test_pool), SL_OK);
    ck_assert_str_eq(again->invite_token, org->invite_token);
    ck_assert_int_eq(sl_org_invite_ok(again, old), 0);
}
END_TEST

Suite *test_org_suite(void)
{
    Suite *s = suite_create("org");
    const TTest *tests[] = {
        test_org_get_has_invite_token,
        test_org_invite_ok,
        test_org_reset_invite, NULL
    };

    add_tcase(s, "sl_org", store_setup, tests);
    return s;
}
