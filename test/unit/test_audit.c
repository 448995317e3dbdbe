/* sl_audit: the event names the API, filters and fail2ban rely on, and the
 * dates the API takes. Events themselves: test_siali_920_audit.py. */
#include <string.h>

#include "sl_audit.h"
#include "test_core.h"

START_TEST(test_audit_event_names)
{
    sl_event_e ev;
    int i, j;

    for (i = 0; i < SL_EVENT_COUNT; i++) {
        ck_assert_ptr_nonnull(sl_event_name(i));
        ck_assert(sl_event_parse(sl_event_name(i), &ev));
        ck_assert_int_eq(ev, i);
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(sl_event_name(i), sl_event_name(j));
        }
    }
    ck_assert_str_eq(sl_event_name(SL_EVENT_LOGIN_FAILED), "login_failed");
    ck_assert(!sl_event_parse("Login", &ev));
    ck_assert(!sl_event_parse("", &ev));
    ck_assert(!sl_event_parse(NULL, &ev));
    ck_assert_ptr_null(sl_event_name(SL_EVENT_COUNT));
}
END_TEST

START_TEST(test_audit_dates)
{
    apr_int64_t t;

    ck_assert(sl_audit_parse_date("2026-12-01", 0, &t));
    ck_assert_int_eq(t, 1796083200);
    /* an end date includes its whole day */
    ck_assert(sl_audit_parse_date("2026-12-01", 1, &t));
    ck_assert_int_eq(t, 1796083200 + 86400);
    ck_assert(sl_audit_parse_date("2026-12-01T10:30:15Z", 0, &t));
    ck_assert_int_eq(t, 1796083200 + 37815);
    ck_assert(sl_audit_parse_date("2026-12-01T10:30", 1, &t));
    ck_assert_int_eq(t, 1796083200 + 37800 + 1);
    ck_assert(!sl_audit_parse_date("yesterday", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-13-01", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-12-01 10:30", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-12-01T10:30:15+02:00", 0, &t));
    ck_assert(!sl_audit_parse_date("1960-01-01", 0, &t));
    /* dates that do not exist, and loose shapes */
    ck_assert(!sl_audit_parse_date("2026-02-30", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-1-2", 0, &t));
    ck_assert(!sl_audit_parse_date(" 2026-12-01", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-12-01T10:00:61", 0, &t));
    ck_assert(!sl_audit_parse_date("2026-12-01T25:00", 0, &t));
    ck_assert(!sl_audit_parse_date(NULL, 0, &t));
}
END_TEST

Suite *test_audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("sl_audit");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_audit_event_names);
    tcase_add_test(tc, test_audit_dates);
    suite_add_tcase(s, tc);
    return s;
}
