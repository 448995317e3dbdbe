/* sl_secret: randomness, hex and base64url tokens, SHA-256 and the
 * constant-time comparison. */
#include <string.h>

#include "test_core.h"
#include "sl_secret.h"

#define HEX "0123456789abcdef"
#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static int only_chars(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

START_TEST(test_secret_random_fills)
{
    unsigned char a[32], b[32], zero[32];

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    memset(zero, 0, sizeof(zero));
    ck_assert_int_eq(sl_secret_random(a, sizeof(a)), APR_SUCCESS);
    ck_assert_int_eq(sl_secret_random(b, sizeof(b)), APR_SUCCESS);
    ck_assert_int_ne(memcmp(a, zero, sizeof(a)), 0);
    ck_assert_int_ne(memcmp(a, b, sizeof(a)), 0);
}
END_TEST

START_TEST(test_secret_hex_shape)
{
    const char *t1 = NULL, *t2 = NULL, *s = NULL;

    ck_assert_int_eq(sl_secret_hex(&t1, 20, test_pool), APR_SUCCESS);
    ck_assert_int_eq(sl_secret_hex(&t2, 20, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(t1), 40);
    ck_assert_uint_eq(strlen(t2), 40);
    ck_assert_msg(only_chars(t1, HEX), "'%s' is not lowercase hex", t1);
    ck_assert_msg(only_chars(t2, HEX), "'%s' is not lowercase hex", t2);
    ck_assert_str_ne(t1, t2);
    ck_assert_int_eq(sl_secret_hex(&s, 1, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 2);
    ck_assert_int_eq(sl_secret_hex(&s, 64, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 128);
    ck_assert_int_eq(sl_secret_hex(&s, 0, test_pool), APR_SUCCESS);
    ck_assert_str_eq(s, "");
    s = "untouched";
    ck_assert_int_ne(sl_secret_hex(&s, 65, test_pool), APR_SUCCESS);
    ck_assert_str_eq(s, "untouched");
}
END_TEST

START_TEST(test_secret_hex_uses_every_digit)
{
    int seen[256] = { 0 }, i;
    const char *t, *c;

    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(sl_secret_hex(&t, 20, test_pool), APR_SUCCESS);
        for (c = t; *c; c++) {
            seen[(unsigned char)*c] = 1;
        }
    }
    for (c = HEX; *c; c++) {
        ck_assert_msg(seen[(unsigned char)*c], "digit '%c' never seen", *c);
    }
}
END_TEST

START_TEST(test_secret_b64url_shape)
{
    const char *t1 = NULL, *t2 = NULL, *s = NULL;

    ck_assert_int_eq(sl_secret_b64url(&t1, 32, test_pool), APR_SUCCESS);
    ck_assert_int_eq(sl_secret_b64url(&t2, 32, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(t1), 43);
    ck_assert_uint_eq(strlen(t2), 43);
    ck_assert_msg(only_chars(t1, B64URL), "'%s' is not base64url", t1);
    ck_assert_msg(only_chars(t2, B64URL), "'%s' is not base64url", t2);
    ck_assert_str_ne(t1, t2);
    /* canonical: the 2 spare bits of the last character are zero */
    ck_assert_ptr_nonnull(strchr("AEIMQUYcgkosw048", t1[42]));
    ck_assert_int_eq(sl_secret_b64url(&s, 24, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 32);
    ck_assert_int_eq(sl_secret_b64url(&s, 1, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 2);
    ck_assert_ptr_nonnull(strchr("AQgw", s[1]));
    ck_assert_int_eq(sl_secret_b64url(&s, 2, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 3);
    ck_assert_int_eq(sl_secret_b64url(&s, 3, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 4);
    ck_assert_int_eq(sl_secret_b64url(&s, 64, test_pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(s), 86);
    ck_assert_int_ne(sl_secret_b64url(&s, 65, test_pool), APR_SUCCESS);
}
END_TEST

START_TEST(test_secret_b64url_uses_every_symbol)
{
    int seen[256] = { 0 }, i;
    const char *t, *c;

    /* 40 x 42 random characters: each symbol missing has odds ~1e-10 */
    for (i = 0; i < 40; i++) {
        ck_assert_int_eq(sl_secret_b64url(&t, 32, test_pool), APR_SUCCESS);
        for (c = t; c < t + 42; c++) {
            seen[(unsigned char)*c] = 1;
        }
    }
    for (c = B64URL; *c; c++) {
        ck_assert_msg(seen[(unsigned char)*c], "symbol '%c' never seen", *c);
    }
    ck_assert_int_eq(seen['+'] + seen['/'] + seen['='], 0);
}
END_TEST

START_TEST(test_secret_sha256_vectors)
{
    ck_assert_str_eq(sl_secret_sha256_hex("abc", test_pool),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_str_eq(sl_secret_sha256_hex("", test_pool),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_str_eq(sl_secret_sha256_hex(
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", test_pool),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_secret_equal)
{
    char a[] = "0123456789abcdef", b[] = "0123456789abcdef";

    ck_assert_int_eq(sl_secret_equal(a, b), 1);
    ck_assert_int_eq(sl_secret_equal("", ""), 1);
    b[15] = 'e';
    ck_assert_int_eq(sl_secret_equal(a, b), 0);
    b[15] = 'f';
    b[0] = '1';
    ck_assert_int_eq(sl_secret_equal(a, b), 0);
    ck_assert_int_eq(sl_secret_equal("abc", "abcd"), 0);
    ck_assert_int_eq(sl_secret_equal("abcd", "abc"), 0);
    ck_assert_int_eq(sl_secret_equal("abc", ""), 0);
    ck_assert_int_eq(sl_secret_equal(NULL, "abc"), 0);
    ck_assert_int_eq(sl_secret_equal("abc", NULL), 0);
    ck_assert_int_eq(sl_secret_equal(NULL, NULL), 0);
    ck_assert_int_eq(sl_secret_equal(NULL, ""), 0);
}
END_TEST

/* every byte counts, however long the secrets: a difference at any one
 * position of a 40-hex token or a 43-character cookie is a mismatch */
START_TEST(test_secret_equal_every_position)
{
    static const char base[] = "0123456789abcdef0123456789abcdef0123456789ABCDEFGHIJ";
    char a[sizeof(base)], b[sizeof(base)];
    apr_size_t i, n;

    for (n = 1; n < sizeof(base); n++) {
        memcpy(a, base, n);
        a[n] = '\0';
        memcpy(b, a, n + 1);
        ck_assert_int_eq(sl_secret_equal(a, b), 1);
        for (i = 0; i < n; i++) {
            b[i] ^= 1;
            ck_assert_msg(sl_secret_equal(a, b) == 0, "length %lu, byte %lu",
                          (unsigned long)n, (unsigned long)i);
            b[i] ^= 1;
        }
    }
}
END_TEST

Suite *test_secret_suite(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("sl_secret");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_secret_random_fills);
    tcase_add_test(tc, test_secret_hex_shape);
    tcase_add_test(tc, test_secret_hex_uses_every_digit);
    tcase_add_test(tc, test_secret_b64url_shape);
    tcase_add_test(tc, test_secret_b64url_uses_every_symbol);
    tcase_add_test(tc, test_secret_sha256_vectors);
    tcase_add_test(tc, test_secret_equal);
    tcase_add_test(tc, test_secret_equal_every_position);
    suite_add_tcase(s, tc);
    return s;
}
