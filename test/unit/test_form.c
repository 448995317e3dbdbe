/* sl_form: the urlencoded decoder of the forms and query strings. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "test_core.h"
#include "sl_form.h"

static apr_table_t *parse(const char *s, sl_kind_e want)
{
    apr_table_t *t = apr_table_make(test_pool, 4);
    sl_err_t err = { 0 };

    ck_assert_msg(sl_form_parse(t, s, strlen(s), SL_FORM_MAX_FIELDS, &err, test_pool) == want,
                  "'%s'", s);
    return t;
}

START_TEST(test_form_decodes)
{
    apr_table_t *t = parse("email=a%40b.org&password=secret+pass&next=%2Fpeople%3Fpage%3D2",
                           SL_OK);

    ck_assert_str_eq(apr_table_get(t, "email"), "a@b.org");
    ck_assert_str_eq(apr_table_get(t, "password"), "secret pass");
    ck_assert_str_eq(apr_table_get(t, "next"), "/people?page=2");
    t = parse("n=%C3%A9t%C3%A9&empty=&flag", SL_OK);
    ck_assert_str_eq(apr_table_get(t, "n"), "\xc3\xa9t\xc3\xa9");
    ck_assert_str_eq(apr_table_get(t, "empty"), "");
    ck_assert_str_eq(apr_table_get(t, "flag"), "");
    ck_assert_int_eq(apr_table_elts(parse("", SL_OK))->nelts, 0);
}
END_TEST

/* the first value counts; a nameless field is skipped */
START_TEST(test_form_first_value_counts)
{
    apr_table_t *t = parse("a=1&a=2&=x&&b=3", SL_OK);

    ck_assert_str_eq(apr_table_get(t, "a"), "1");
    ck_assert_str_eq(apr_table_get(t, "b"), "3");
    ck_assert_int_eq(apr_table_elts(t)->nelts, 2);
}
END_TEST

/* a NUL (raw or escaped) would be cut by apr_dbd: refused, never truncated
 * (the decoder it replaces let "a%00b" through as "a") */
START_TEST(test_form_refuses_nul_bad_escapes_and_utf8)
{
    static const char *const bad[] = { "x=a%00b", "x=%", "x=%4", "x=%zz", "x%=1",
                                       "x=%C3", "x=%C0%80", "x=%ED%A0%80", "%FF=1", NULL };
    apr_table_t *t = apr_table_make(test_pool, 4);
    sl_err_t err = { 0 };
    int i;

    for (i = 0; bad[i]; i++) {
        parse(bad[i], SL_EINVALID);
    }
    ck_assert_int_eq(sl_form_parse(t, "x=a\0b", 5, SL_FORM_MAX_FIELDS, &err, test_pool),
                     SL_EINVALID);
}
END_TEST

START_TEST(test_form_field_limit)
{
    const char *s = "";
    int i;

    for (i = 0; i < SL_FORM_MAX_FIELDS; i++) {
        s = apr_psprintf(test_pool, "%s%sf%d=%d", s, i ? "&" : "", i, i);
    }
    ck_assert_int_eq(apr_table_elts(parse(s, SL_OK))->nelts, SL_FORM_MAX_FIELDS);
    parse(apr_pstrcat(test_pool, s, "&one=more", NULL), SL_EINVALID);
}
END_TEST

Suite *test_form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("sl_form");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_form_decodes);
    tcase_add_test(tc, test_form_first_value_counts);
    tcase_add_test(tc, test_form_refuses_nul_bad_escapes_and_utf8);
    tcase_add_test(tc, test_form_field_limit);
    suite_add_tcase(s, tc);
    return s;
}
