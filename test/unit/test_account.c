/* sl_account without a database: the PATCH body rules. (The account store
 * itself is tested on a database in test_store.c.) */
#include <string.h>

#include <jansson.h>

#include "test_core.h"
#include "sl_account.h"
#include "sl_json.h"

static sl_kind_e patch(const char *json, sl_user_patch_t *pa, sl_err_t *err)
{
    json_t *body = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    sl_kind_e k;

    ck_assert_ptr_nonnull(body);
    /* the patch points into the body: it lives as long as the pool */
    sl_json_pool(body, test_pool);
    k = sl_account_patch_read(pa, body, err, test_pool);
    return k;
}

START_TEST(test_account_patch_read_fields)
{
    sl_user_patch_t pa;
    sl_err_t err = { 0 };

    ck_assert_int_eq(patch("{\"first_name\": \"Ann\", \"phone\": \"+1 555\", "
                           "\"is_active\": false}", &pa, &err), SL_OK);
    ck_assert_str_eq(pa.first_name, "Ann");
    ck_assert_str_eq(pa.phone, "+1 555");
    ck_assert_ptr_null(pa.last_name);
    ck_assert_ptr_null(pa.username);
    ck_assert_int_eq(pa.is_active, 0);
    ck_assert_int_eq(patch("{}", &pa, &err), SL_OK);
    ck_assert_int_eq(pa.is_active, -1);
}
END_TEST

START_TEST(test_account_patch_read_refusals)
{
    static const struct { const char *json, *field, *hint; } bad[] = {
        { "{\"email\": \"x@y.org\"}", "email", "This field is read-only." },
        { "{\"id\": 3}", "id", "This field is read-only." },
        { "{\"nickname\": \"x\"}", "nickname", "Unknown field." },
        { "{\"is_active\": 1}", "is_active", NULL },
        { "{\"first_name\": 7}", "first_name", NULL },
        { "{\"first_name\": \"a\\u0007b\"}", "first_name", NULL },
        { "{\"username\": \"has space\"}", "username", NULL },
        { NULL, NULL, NULL }
    };
    sl_user_patch_t pa;
    int i;

    for (i = 0; bad[i].json; i++) {
        sl_err_t err = { 0 };
        ck_assert_msg(patch(bad[i].json, &pa, &err) == SL_EINVALID, "%s", bad[i].json);
        ck_assert_str_eq(err.field, bad[i].field);
        ck_assert_ptr_nonnull(err.message);
        if (bad[i].hint) {
            ck_assert_str_eq(err.hint, bad[i].hint);
        }
        else {
            ck_assert_ptr_null(err.hint);
        }
    }
}
END_TEST

Suite *test_account_suite(void)
{
    Suite *s = suite_create("account");
    TCase *tc = tcase_create("sl_account");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_account_patch_read_fields);
    tcase_add_test(tc, test_account_patch_read_refusals);
    suite_add_tcase(s, tc);
    return s;
}
