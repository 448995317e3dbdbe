/* sl_totp: RFC 6238's test vectors (SHA-1), the ±1 step window, a code
 * accepted once, base32 both ways, the key URI, the QR code, and recovery
 * codes. */
#include <string.h>

#include <apr_strings.h>

#include "sl_totp.h"
#include "test_core.h"

/* RFC 6238, appendix B: the SHA-1 seed and its 8-digit codes */
static const char SEED[] = "12345678901234567890";

START_TEST(test_totp_rfc6238_vectors)
{
    static const struct { apr_int64_t t; const char *code; } v[] = {
        { 59, "94287082" }, { 1111111109, "07081804" }, { 1111111111, "14050471" },
        { 1234567890, "89005924" }, { 2000000000, "69279037" },
        { APR_INT64_C(20000000000), "65353130" },
    };
    unsigned i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        ck_assert_str_eq(sl_totp_code(SEED, 20, v[i].t, 8, test_pool), v[i].code);
        /* 6 digits, as apps show them: the last six */
        ck_assert_str_eq(sl_totp_code(SEED, 20, v[i].t, 6, test_pool), v[i].code + 2);
    }
    ck_assert_ptr_null(sl_totp_code(SEED, 20, 59, 7, test_pool));
}
END_TEST

START_TEST(test_totp_window_and_replay)
{
    apr_int64_t now = 1111111111, step = 0, s2 = 0;
    const char *code = sl_totp_code(SEED, 20, now, 6, test_pool);
    const char *prev = sl_totp_code(SEED, 20, now - 30, 6, test_pool);
    const char *next = sl_totp_code(SEED, 20, now + 30, 6, test_pool);
    const char *far = sl_totp_code(SEED, 20, now + 90, 6, test_pool);

    ck_assert(sl_totp_check(SEED, 20, code, now, 0, &step));
    ck_assert_int_eq(step, now / 30);
    /* the same code again: refused, as is any step not after the last */
    ck_assert(!sl_totp_check(SEED, 20, code, now, step, &s2));
    ck_assert(!sl_totp_check(SEED, 20, prev, now, step, &s2));
    /* one step of drift either way */
    ck_assert(sl_totp_check(SEED, 20, prev, now, 0, &s2));
    ck_assert_int_eq(s2, now / 30 - 1);
    ck_assert(sl_totp_check(SEED, 20, next, now, step, &s2));
    ck_assert_int_eq(s2, now / 30 + 1);
    ck_assert(!sl_totp_check(SEED, 20, far, now, 0, &s2));
    /* not six digits */
    ck_assert(!sl_totp_check(SEED, 20, "12345", now, 0, &s2));
    ck_assert(!sl_totp_check(SEED, 20, "12345a", now, 0, &s2));
    ck_assert(!sl_totp_check(SEED, 20, NULL, now, 0, &s2));
    ck_assert(!sl_totp_check(SEED, 20, apr_pstrcat(test_pool, code, "0", NULL), now, 0, &s2));
}
END_TEST

START_TEST(test_totp_secrets_and_uri)
{
    const char *raw, *text, *back;
    apr_size_t len;

    ck_assert_int_eq(sl_totp_new_secret(&raw, &text, test_pool), APR_SUCCESS);
    ck_assert_int_eq(strlen(text), 32);       /* 20 bytes, no padding */
    ck_assert(sl_totp_decode(&back, &len, text, test_pool));
    ck_assert_int_eq(len, SL_TOTP_SECRET_BYTES);
    ck_assert(!memcmp(back, raw, len));
    /* as people type it: lower case, spaces */
    ck_assert(sl_totp_decode(&back, &len, "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", test_pool));
    ck_assert_int_eq(len, 20);
    ck_assert(!memcmp(back, SEED, 20));
    ck_assert(!sl_totp_decode(&back, &len, "not base32!", test_pool));
    ck_assert(!sl_totp_decode(&back, &len, "", test_pool));
    ck_assert_str_eq(sl_totp_uri("Siali Label", "ann@example.org", "ABC", test_pool),
                     "otpauth://totp/Siali%20Label:ann%40example.org?secret=ABC&issuer=Siali%20Label"
                     "&algorithm=SHA1&digits=6&period=30");
}
END_TEST

START_TEST(test_totp_qr_and_recovery_codes)
{
    const char *svg = sl_totp_qr_svg("otpauth://totp/x:y?secret=ABC", test_pool);
    apr_array_header_t *codes, *hashes;
    int i, j;

    ck_assert_ptr_nonnull(svg);
    ck_assert(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39));
    ck_assert_ptr_nonnull(strstr(svg, "<path fill=\"#000\" d=\"M"));
    ck_assert_int_eq(sl_totp_recovery_codes(&codes, &hashes, test_pool), APR_SUCCESS);
    ck_assert_int_eq(codes->nelts, SL_TOTP_RECOVERY_CODES);
    for (i = 0; i < codes->nelts; i++) {
        const char *c = APR_ARRAY_IDX(codes, i, const char *);
        ck_assert_int_eq(strlen(c), 11);
        ck_assert_int_eq(c[5], '-');
        ck_assert_str_eq(APR_ARRAY_IDX(hashes, i, const char *),
                         sl_totp_recovery_hash(c, test_pool));
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(c, APR_ARRAY_IDX(codes, j, const char *));
        }
    }
    /* typed any way: case, spaces, no dash */
    ck_assert_str_eq(sl_totp_recovery_hash("ABCDE FGHIJ", test_pool),
                     sl_totp_recovery_hash("abcde-fghij", test_pool));
    ck_assert_str_ne(sl_totp_recovery_hash("abcde-fghik", test_pool),
                     sl_totp_recovery_hash("abcde-fghij", test_pool));
}
END_TEST

Suite *test_totp_suite(void)
{
    Suite *s = suite_create("totp");
    TCase *tc = tcase_create("sl_totp");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_totp_rfc6238_vectors);
    tcase_add_test(tc, test_totp_window_and_replay);
    tcase_add_test(tc, test_totp_secrets_and_uri);
    tcase_add_test(tc, test_totp_qr_and_recovery_codes);
    suite_add_tcase(s, tc);
    return s;
}
