/* sl_mail: the relay's address and the message as it goes out (the sending
 * itself is tested against a real SMTP listener, test_siali_935). */
#include <string.h>

#include "test_core.h"
#include "sl_mail.h"

START_TEST(test_mail_relay_address)
{
    ck_assert_ptr_null(sl_mail_check_relay("smtp.example.org:587", test_pool));
    ck_assert_ptr_null(sl_mail_check_relay("127.0.0.1:25", test_pool));
    ck_assert_ptr_null(sl_mail_check_relay("[::1]:25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("smtp.example.org", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay(":25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("host:0", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("host:65536", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("host:25x", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("host:+25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("user@host:25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("host/x:25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay("ho st:25", test_pool));
    ck_assert_ptr_nonnull(sl_mail_check_relay(NULL, test_pool));
}
END_TEST

START_TEST(test_mail_message)
{
    const char *m = sl_mail_message("labels@example.org", "ann@example.org", "Reset",
                                    "line one\nline two\r\n.dot\n", test_pool);
    const char *body = strstr(m, "\r\n\r\n");

    ck_assert_ptr_nonnull(strstr(m, "From: Siali Label <labels@example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "To: <ann@example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "Subject: Reset\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "Message-ID: <"));
    ck_assert_ptr_nonnull(strstr(m, "@example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "Content-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_int_eq(strncmp(m, "Date: ", 6), 0);
    ck_assert_ptr_nonnull(body);
    /* every line ends in CRLF, none in a bare LF */
    ck_assert_str_eq(body, "\r\n\r\nline one\r\nline two\r\n.dot\r\n");
    for (; *m; m++) {
        if (*m == '\n') {
            ck_assert_int_eq(m[-1], '\r');
        }
    }
}
END_TEST

Suite *test_mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("sl_mail");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_mail_relay_address);
    tcase_add_test(tc, test_mail_message);
    suite_add_tcase(s, tc);
    return s;
}
