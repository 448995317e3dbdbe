/* sl_auth: what of the credential headers is an API key. */
#include <string.h>

#include "test_core.h"
#include "sl_auth.h"

START_TEST(test_auth_token_key_from_either_header)
{
    int present = -1;

    ck_assert_str_eq(sl_auth_token_key("Token abcde", NULL, &present), "abcde");
    ck_assert_int_eq(present, 1);
    ck_assert_str_eq(sl_auth_token_key("token    abcde", NULL, &present), "abcde");
    ck_assert_str_eq(sl_auth_token_key(NULL, "k3y-value", &present), "k3y-value");
    ck_assert_ptr_null(sl_auth_token_key(NULL, NULL, &present));
    ck_assert_int_eq(present, 0);
    /* Bearer too (access tokens; legacy keys as SCIM clients send them);
     * another scheme is not ours (Basic goes to a backend untouched) */
    ck_assert_str_eq(sl_auth_token_key("Bearer abcde", NULL, &present), "abcde");
    ck_assert_int_eq(present, 1);
    ck_assert_str_eq(sl_auth_token_key("bearer  e.y.j", NULL, &present), "e.y.j");
    ck_assert_str_eq(sl_auth_token_key("Bearer\te.y.j", NULL, &present), "e.y.j");
    ck_assert_str_eq(sl_auth_token_key("Token \t abcde", NULL, &present), "abcde");
    ck_assert_ptr_null(sl_auth_token_key("Basic YTpi", NULL, &present));
    ck_assert_int_eq(present, 0);
    ck_assert_ptr_null(sl_auth_token_key("Bearerabcde", NULL, &present));
    ck_assert_int_eq(present, 0);
    ck_assert_ptr_null(sl_auth_token_key("Tokenabcde", NULL, &present));
    ck_assert_int_eq(present, 0);
}
END_TEST

START_TEST(test_auth_token_key_refuses_what_is_no_key)
{
    static const char *const bad[] = { "Token", "Token ", "Token abc de", "Token abc\x01",
                                       "Token ab\xc3\xa9", NULL };
    char longkey[2100];
    int present = -1, i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(sl_auth_token_key(bad[i], NULL, &present) == NULL, "'%s'", bad[i]);
        ck_assert_int_eq(present, 1);
    }
    /* two keys at once: refused, not one of them guessed */
    ck_assert_ptr_null(sl_auth_token_key("Token abcde", "abcde", &present));
    ck_assert_int_eq(present, 1);
    memcpy(longkey, "Token ", 6);
    memset(longkey + 6, 'k', 2049);
    longkey[6 + 2049] = '\0';
    ck_assert_ptr_null(sl_auth_token_key(longkey, NULL, &present));
    longkey[6 + 2048] = '\0';    /* SL_JWT_MAX_LEN bytes: still a key */
    ck_assert_ptr_nonnull(sl_auth_token_key(longkey, NULL, &present));
}
END_TEST

Suite *test_auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("sl_auth");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_auth_token_key_from_either_header);
    tcase_add_test(tc, test_auth_token_key_refuses_what_is_no_key);
    suite_add_tcase(s, tc);
    return s;
}
