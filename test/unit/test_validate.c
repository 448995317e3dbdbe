/* sl_validate: UTF-8, emails, usernames, passwords, names, initials and
 * the next= redirect target. */
#include <string.h>

#include <apr_strings.h>

#include "test_core.h"
#include "sl_validate.h"

#define LEN(s) (sizeof(s) - 1)

/* n copies of s, NUL-terminated */
static char *repeat(const char *s, int n)
{
    apr_size_t l = strlen(s);
    char *r = apr_palloc(test_pool, l * n + 1);
    int i;

    for (i = 0; i < n; i++) {
        memcpy(r + l * i, s, l);
    }
    r[l * n] = '\0';
    return r;
}

/* ---- UTF-8 ---- */

START_TEST(test_validate_utf8_valid_multibyte)
{
    ck_assert_int_eq(sl_utf8_count("", 0), 0);
    ck_assert_int_eq(sl_utf8_count("abc", 3), 3);
    ck_assert_int_eq(sl_utf8_count("\xc3\xa9", 2), 1);              /* é */
    ck_assert_int_eq(sl_utf8_count("\xe2\x82\xac", 3), 1);          /* € */
    ck_assert_int_eq(sl_utf8_count("\xf0\x9f\x98\x80", 4), 1);      /* 😀 */
    ck_assert_int_eq(sl_utf8_count("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z",
                                   LEN("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z")), 5);
    /* the edges: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10FFFF */
    ck_assert_int_eq(sl_utf8_count("\xc2\x80", 2), 1);
    ck_assert_int_eq(sl_utf8_count("\xdf\xbf", 2), 1);
    ck_assert_int_eq(sl_utf8_count("\xe0\xa0\x80", 3), 1);
    ck_assert_int_eq(sl_utf8_count("\xed\x9f\xbf", 3), 1);
    ck_assert_int_eq(sl_utf8_count("\xee\x80\x80", 3), 1);
    ck_assert_int_eq(sl_utf8_count("\xef\xbf\xbf", 3), 1);
    ck_assert_int_eq(sl_utf8_count("\xf4\x8f\xbf\xbf", 4), 1);
}
END_TEST

START_TEST(test_validate_utf8_refuses_overlong)
{
    ck_assert_int_eq(sl_utf8_count("\xc0\xaf", 2), -1);          /* '/' */
    ck_assert_int_eq(sl_utf8_count("\xc1\xbf", 2), -1);
    ck_assert_int_eq(sl_utf8_count("\xc0\x80", 2), -1);          /* NUL */
    ck_assert_int_eq(sl_utf8_count("\xe0\x80\xaf", 3), -1);
    ck_assert_int_eq(sl_utf8_count("\xe0\x9f\xbf", 3), -1);
    ck_assert_int_eq(sl_utf8_count("\xf0\x80\x80\xaf", 4), -1);
    ck_assert_int_eq(sl_utf8_count("\xf0\x8f\xbf\xbf", 4), -1);
}
END_TEST

START_TEST(test_validate_utf8_refuses_surrogates)
{
    ck_assert_int_eq(sl_utf8_count("\xed\xa0\x80", 3), -1);      /* U+D800 */
    ck_assert_int_eq(sl_utf8_count("\xed\xb0\x80", 3), -1);      /* U+DC00 */
    ck_assert_int_eq(sl_utf8_count("\xed\xbf\xbf", 3), -1);      /* U+DFFF */
    /* a CESU-8 pair for U+1F600 */
    ck_assert_int_eq(sl_utf8_count("\xed\xa0\xbd\xed\xb8\x80", 6), -1);
}
END_TEST

START_TEST(test_validate_utf8_refuses_past_unicode)
{
    ck_assert_int_eq(sl_utf8_count("\xf4\x90\x80\x80", 4), -1); /* U+110000 */
    ck_assert_int_eq(sl_utf8_count("\xf5\x80\x80\x80", 4), -1);
    ck_assert_int_eq(sl_utf8_count("\xf7\xbf\xbf\xbf", 4), -1);
    ck_assert_int_eq(sl_utf8_count("\xf8\x88\x80\x80\x80", 5), -1);
    ck_assert_int_eq(sl_utf8_count("\xfe", 1), -1);
    ck_assert_int_eq(sl_utf8_count("\xff", 1), -1);
}
END_TEST

START_TEST(test_validate_utf8_refuses_truncated)
{
    ck_assert_int_eq(sl_utf8_count("\xc3", 1), -1);
    ck_assert_int_eq(sl_utf8_count("a\xc3", 2), -1);
    ck_assert_int_eq(sl_utf8_count("\xe2\x82", 2), -1);
    ck_assert_int_eq(sl_utf8_count("\xf0\x9f\x98", 3), -1);
    /* a sequence cut by an ASCII byte, and a lone continuation byte */
    ck_assert_int_eq(sl_utf8_count("\xe2\x82z", 3), -1);
    ck_assert_int_eq(sl_utf8_count("\x80", 1), -1);
    ck_assert_int_eq(sl_utf8_count("a\xbf" "b", 3), -1);
    /* len, not the NUL, is the end: "é" cut after its first byte */
    ck_assert_int_eq(sl_utf8_count("\xc3\xa9", 1), -1);
}
END_TEST

START_TEST(test_validate_utf8_refuses_nul)
{
    ck_assert_int_eq(sl_utf8_count("a\0b", 3), -1);
    ck_assert_int_eq(sl_utf8_count("\0", 1), -1);
    ck_assert_int_eq(sl_utf8_count("abc\0", 4), -1);
}
END_TEST

START_TEST(test_validate_has_control)
{
    ck_assert_int_eq(sl_has_control(""), 0);
    ck_assert_int_eq(sl_has_control("Jo Doe \xc3\xa9\xe2\x82\xac"), 0);
    ck_assert_int_eq(sl_has_control("\xc2\xa0"), 0);               /* NBSP */
    ck_assert_int_eq(sl_has_control("a\tb"), 1);
    ck_assert_int_eq(sl_has_control("a\r\nb"), 1);
    ck_assert_int_eq(sl_has_control("\x1f"), 1);
    ck_assert_int_eq(sl_has_control("a\x7f"), 1);                 /* DEL */
    ck_assert_int_eq(sl_has_control("a\xc2\x80"), 1);             /* U+0080 */
    ck_assert_int_eq(sl_has_control("a\xc2\x85"), 1);             /* NEL */
    ck_assert_int_eq(sl_has_control("a\xc2\x9f"), 1);             /* U+009F */
}
END_TEST

/* ---- emails ---- */

static sl_kind_e email(const char **out, const char *in, sl_err_t *err)
{
    return sl_validate_email(out, in, strlen(in), err, test_pool);
}

static void assert_email_bad(const char *in)
{
    sl_err_t err = { 0 };
    const char *out = NULL;

    ck_assert_msg(email(&out, in, &err) == SL_EINVALID, "accepted '%s'", in);
    ck_assert_int_eq(err.kind, SL_EINVALID);
    ck_assert_str_eq(err.field, "email");
    ck_assert_ptr_nonnull(err.message);
    ck_assert_ptr_null(out);
}

START_TEST(test_validate_email_normalises)
{
    sl_err_t err = { 0 };
    const char *out = NULL;

    ck_assert_int_eq(email(&out, "  Jo.Doe@Example.ORG \t\r\n", &err), SL_OK);
    ck_assert_str_eq(out, "jo.doe@example.org");
    ck_assert_int_eq(email(&out, "JO+tag@SUB.example.org", &err), SL_OK);
    ck_assert_str_eq(out, "jo+tag@sub.example.org");
    ck_assert_int_eq(email(&out, "o'brien_x-y@my-host.example", &err), SL_OK);
    ck_assert_str_eq(out, "o'brien_x-y@my-host.example");
}
END_TEST

/* Letters beyond ASCII: one address whatever their case or composition,
 * the same rule whichever database compares them. */
START_TEST(test_validate_email_unicode_case_and_nfc)
{
    const char *a = NULL, *b = NULL, *c = NULL;

    ck_assert_int_eq(email(&a, "J\xc3\x96@X.org", NULL), SL_OK);       /* JÖ */
    ck_assert_int_eq(email(&b, "j\xc3\xb6@x.org", NULL), SL_OK);       /* jö */
    ck_assert_int_eq(email(&c, "jo\xcc\x88@x.org", NULL), SL_OK);      /* o + U+0308 */
    ck_assert_str_eq(a, "j\xc3\xb6@x.org");
    ck_assert_str_eq(b, a);
    ck_assert_str_eq(c, a);
    ck_assert_int_eq(email(&a, "\xce\xa3\xce\x91@\xce\x95\xce\xa7.gr", NULL), SL_OK);
    ck_assert_str_eq(a, "\xcf\x83\xce\xb1@\xce\xb5\xcf\x87.gr");  /* σα@εχ.gr */
}
END_TEST

START_TEST(test_validate_text_lower_and_fold)
{
    /* lower keeps ß (an address is not rewritten), fold compares it as ss */
    ck_assert_str_eq(sl_text_lower("Stra\xc3\x9f" "E", test_pool), "stra\xc3\x9f" "e");
    ck_assert_str_eq(sl_text_fold("Stra\xc3\x9f" "E", test_pool), "strasse");
    ck_assert_str_eq(sl_text_fold("ZO\xc3\x8b", test_pool), "zo\xc3\xab");     /* ZOË */
    ck_assert_str_eq(sl_text_fold("zoe\xcc\x88", test_pool), "zo\xc3\xab");    /* NFC */
    ck_assert_str_eq(sl_text_fold("", test_pool), "");
    ck_assert_ptr_null(sl_text_fold("\xc3", test_pool));                        /* not UTF-8 */
    ck_assert_ptr_null(sl_text_lower("\xed\xa0\x80", test_pool));             /* surrogate */
}
END_TEST

START_TEST(test_validate_email_allows_localhost)
{
    const char *out = NULL;

    ck_assert_int_eq(email(&out, "user@localhost", NULL), SL_OK);
    ck_assert_str_eq(out, "user@localhost");
    ck_assert_int_eq(email(&out, "Admin@LOCALHOST", NULL), SL_OK);
    ck_assert_str_eq(out, "admin@localhost");
}
END_TEST

START_TEST(test_validate_email_refuses_bad_shapes)
{
    assert_email_bad("");
    assert_email_bad("   \t ");
    assert_email_bad("jo.example.org");
    assert_email_bad("jo@doe@example.org");
    assert_email_bad("@example.org");
    assert_email_bad("jo@");
    assert_email_bad("jo..doe@example.org");
    assert_email_bad("jo@example..org");
    assert_email_bad(".jo@example.org");
    assert_email_bad("jo.@example.org");
    assert_email_bad("jo@.example.org");
    assert_email_bad("jo@example.org.");
    assert_email_bad("jo@-example.org");
    assert_email_bad("jo doe@example.org");
    assert_email_bad("jo@exa mple.org");
    assert_email_bad("jo@exa_mple.org");
    assert_email_bad("<jo@example.org>");
    assert_email_bad("jo@example.org\xff");
    assert_email_bad("j\xc0\xafo@example.org");
}
END_TEST

START_TEST(test_validate_email_refuses_nul)
{
    const char *out = NULL;
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_validate_email(&out, "jo@example.org\0x", 16, &err,
                                       test_pool), SL_EINVALID);
    ck_assert_str_eq(err.field, "email");
}
END_TEST

START_TEST(test_validate_email_length_limit)
{
    /* 64 + 1 + 189 = 254 characters: the limit */
    const char *local = repeat("a", 64);
    const char *dom = apr_pstrcat(test_pool, repeat("b", 60), ".", repeat("c", 60),
                                  ".", repeat("d", 60), ".", NULL);
    const char *ok = apr_pstrcat(test_pool, local, "@", dom, "eeeeee", NULL);
    const char *bad = apr_pstrcat(test_pool, local, "@", dom, "eeeeeee", NULL);
    const char *out = NULL;

    ck_assert_uint_eq(strlen(ok), 254);
    ck_assert_int_eq(email(&out, ok, NULL), SL_OK);
    ck_assert_str_eq(out, ok);
    ck_assert_uint_eq(strlen(bad), 255);
    assert_email_bad(bad);
    /* the white space around does not count */
    ck_assert_int_eq(email(&out, apr_pstrcat(test_pool, "  ", ok, "  ", NULL), NULL),
                     SL_OK);
    /* a local part is at most 64 characters */
    assert_email_bad(apr_pstrcat(test_pool, repeat("a", 65), "@example.org", NULL));
}
END_TEST

/* ---- usernames ---- */

START_TEST(test_validate_username_rules)
{
    sl_err_t err = { 0 };
    const char *max = repeat("u", SL_USERNAME_MAX);

    ck_assert_int_eq(sl_validate_username("jo", 2, &err), SL_OK);
    ck_assert_int_eq(sl_validate_username("Jo.Doe_1+x-y", 12, &err), SL_OK);
    ck_assert_int_eq(sl_validate_username(max, strlen(max), &err), SL_OK);
    ck_assert_int_eq(sl_validate_username(repeat("u", 151), 151, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "username");
    ck_assert_int_eq(sl_validate_username("", 0, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username(NULL, 0, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("jo@x", 4, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("jo doe", 6, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("j\xc3\xb6", 3, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("jo/..", 5, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("jo\0x", 4, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_username("jo\n", 3, &err), SL_EINVALID);
}
END_TEST

START_TEST(test_validate_username_from_email)
{
    ck_assert_str_eq(sl_username_from_email("jo.doe@example.org", test_pool), "jo.doe");
    ck_assert_str_eq(sl_username_from_email("jo+tag@x.org", test_pool), "jo+tag");
    /* characters a username may not hold are dropped */
    ck_assert_str_eq(sl_username_from_email("j\xc3\xb6rg@x.org", test_pool), "jrg");
    ck_assert_str_eq(sl_username_from_email("o'brien@x.org", test_pool), "obrien");
    /* never empty */
    ck_assert_str_eq(sl_username_from_email("\xc3\xbc@x.org", test_pool), "user");
    ck_assert_str_eq(sl_username_from_email("!#$@x.org", test_pool), "user");
    ck_assert_str_eq(sl_username_from_email("admin@localhost", test_pool), "admin");
    {
        const char *u = sl_username_from_email("plain", test_pool);
        ck_assert_str_eq(u, "plain");
        ck_assert_int_eq(sl_validate_username(u, strlen(u), NULL), SL_OK);
    }
}
END_TEST

/* ---- passwords ---- */

static sl_kind_e pw(const char *s, apr_size_t len, int min, sl_err_t *err)
{
    return sl_validate_password(s, len, min, err, test_pool);
}

START_TEST(test_validate_password_min_length_in_code_points)
{
    sl_err_t err = { 0 };
    const char *e8 = repeat("\xc3\xa9", 8), *e7 = repeat("\xc3\xa9", 7);
    const char *mixed = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ";

    ck_assert_int_eq(pw("abcdefgh", 8, 8, &err), SL_OK);
    ck_assert_int_eq(pw("abcdefg", 7, 8, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "password");
    ck_assert_ptr_nonnull(strstr(err.message, "8"));
    /* 8 characters in 16 bytes pass; 7 characters in 14 bytes do not */
    ck_assert_int_eq(pw(e8, strlen(e8), 8, &err), SL_OK);
    ck_assert_int_eq(pw(e7, strlen(e7), 8, &err), SL_EINVALID);
    /* "ééééééé " is 8 characters too */
    ck_assert_int_eq(pw(mixed, strlen(mixed), 8, &err), SL_OK);
    ck_assert_int_eq(pw(mixed, strlen(mixed), 9, &err), SL_EINVALID);
    /* 4-byte characters count once */
    ck_assert_int_eq(pw(repeat("\xf0\x9f\x98\x80", 8), 32, 8, &err), SL_OK);
    ck_assert_int_eq(pw(repeat("\xf0\x9f\x98\x80", 7), 28, 8, &err), SL_EINVALID);
    /* the configured minimum is the one used */
    ck_assert_int_eq(pw("abcdefghijk", 11, 12, &err), SL_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "12"));
    ck_assert_int_eq(pw("abcdefghijkl", 12, 12, &err), SL_OK);
    ck_assert_int_eq(pw("", 0, 8, &err), SL_EINVALID);
    ck_assert_int_eq(pw(NULL, 0, 8, &err), SL_EINVALID);
}
END_TEST

START_TEST(test_validate_password_max_length_never_truncated)
{
    sl_err_t err = { 0 };
    const char *a128 = repeat("a", 128), *a129 = repeat("a", 129);
    const char *a200 = repeat("a", 200), *e128 = repeat("\xc3\xa9", 128);
    const char *e129 = repeat("\xc3\xa9", 129);

    ck_assert_int_eq(pw(a128, 128, 8, &err), SL_OK);
    ck_assert_int_eq(pw(a129, 129, 8, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "password");
    ck_assert_int_eq(pw(a200, 200, 8, &err), SL_EINVALID);
    /* 128 characters in 256 bytes are fine: the limit is not in bytes */
    ck_assert_int_eq(pw(e128, strlen(e128), 8, &err), SL_OK);
    ck_assert_int_eq(pw(e129, strlen(e129), 8, &err), SL_EINVALID);
}
END_TEST

START_TEST(test_validate_password_refuses_nul_and_bad_utf8)
{
    sl_err_t err = { 0 };

    ck_assert_int_eq(pw("abcd\0efgh", 9, 8, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "password");
    ck_assert_int_eq(pw("abcdefgh\0", 9, 8, &err), SL_EINVALID);
    ck_assert_int_eq(pw("abcdefgh\xff", 9, 8, &err), SL_EINVALID);
    ck_assert_int_eq(pw("abcdefgh\xc0\xaf", 10, 8, &err), SL_EINVALID);
    ck_assert_int_eq(pw("abcdefgh\xed\xa0\x80", 11, 8, &err), SL_EINVALID);
    ck_assert_int_eq(pw("abcdefgh\xc3", 9, 8, &err), SL_EINVALID);
    /* spaces, tabs and symbols are allowed: any character but NUL */
    ck_assert_int_eq(pw(" a\tb c!\"\\ ", 10, 8, &err), SL_OK);
}
END_TEST

/* ---- names ---- */

START_TEST(test_validate_name_rules)
{
    sl_err_t err = { 0 };
    const char *a256 = repeat("a", 256), *a257 = repeat("a", 257);
    const char *e256 = repeat("\xc3\xa9", 256), *e257 = repeat("\xc3\xa9", 257);

    ck_assert_int_eq(sl_validate_name("first_name", "", 0, &err), SL_OK);
    ck_assert_int_eq(sl_validate_name("first_name", "Jo \xc3\x89mile", 9, &err), SL_OK);
    ck_assert_int_eq(sl_validate_name("phone", "+39 06 1234", 11, &err), SL_OK);
    ck_assert_int_eq(sl_validate_name("last_name", a256, 256, &err), SL_OK);
    ck_assert_int_eq(sl_validate_name("last_name", a257, 257, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "last_name");
    ck_assert_int_eq(sl_validate_name("first_name", e256, strlen(e256), &err), SL_OK);
    ck_assert_int_eq(sl_validate_name("first_name", e257, strlen(e257), &err),
                     SL_EINVALID);
}
END_TEST

START_TEST(test_validate_name_refuses_controls)
{
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_validate_name("first_name", "Jo\x01", 3, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "first_name");
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\nDoe", 6, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\tDoe", 6, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\x7f", 3, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_name("phone", "12\xc2\x85" "34", 6, &err), SL_EINVALID);
    ck_assert_str_eq(err.field, "phone");
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\xc2\x9b", 4, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\0x", 4, &err), SL_EINVALID);
    ck_assert_int_eq(sl_validate_name("first_name", "Jo\xff", 3, &err), SL_EINVALID);
}
END_TEST

/* ---- initials ---- */

START_TEST(test_validate_initials)
{
    apr_pool_t *p = test_pool;

    ck_assert_str_eq(sl_initials("Jo", "Doe", "x@example.org", p), "JD");
    ck_assert_str_eq(sl_initials("Jo", "", "x@example.org", p), "J");
    ck_assert_str_eq(sl_initials("Jo", NULL, "x@example.org", p), "J");
    ck_assert_str_eq(sl_initials("", "Doe", "x@example.org", p), "D");
    ck_assert_str_eq(sl_initials(NULL, "Doe", "x@example.org", p), "D");
    ck_assert_str_eq(sl_initials("", "", "jo@example.org", p), "jo");
    ck_assert_str_eq(sl_initials(NULL, NULL, "jo@example.org", p), "jo");
    ck_assert_str_eq(sl_initials("", "", "j@x", p), "j@");
    ck_assert_str_eq(sl_initials("", "", "j", p), "j");
    /* code points, not bytes */
    ck_assert_str_eq(sl_initials("\xc3\x89mile", "\xc3\x98re", "x@y", p),
                     "\xc3\x89\xc3\x98");
    ck_assert_str_eq(sl_initials("\xe6\x9d\x8e\xe5\x9b\x9b", "", "x@y", p),
                     "\xe6\x9d\x8e");
    ck_assert_str_eq(sl_initials("", "\xf0\x9f\x98\x80x", "x@y", p), "\xf0\x9f\x98\x80");
    ck_assert_str_eq(sl_initials("", "", "\xc3\xa9\xf0\x9f\x98\x80@x", p),
                     "\xc3\xa9\xf0\x9f\x98\x80");
}
END_TEST

/* ---- next= ---- */

START_TEST(test_validate_next_accepts_local_paths)
{
    ck_assert_int_eq(sl_next_is_safe("/"), 1);
    ck_assert_int_eq(sl_next_is_safe("/people/"), 1);
    ck_assert_int_eq(sl_next_is_safe("/a/b:c"), 1);
    ck_assert_int_eq(sl_next_is_safe("/people/?page=2&search=jo"), 1);
    ck_assert_int_eq(sl_next_is_safe("/user/account/#token"), 1);
    ck_assert_int_eq(sl_next_is_safe("/people/%20x"), 1);
    ck_assert_int_eq(sl_next_is_safe("/50%off"), 1);
}
END_TEST

START_TEST(test_validate_next_refuses_other_sites)
{
    ck_assert_int_eq(sl_next_is_safe(NULL), 0);
    ck_assert_int_eq(sl_next_is_safe(""), 0);
    ck_assert_int_eq(sl_next_is_safe("people/"), 0);
    ck_assert_int_eq(sl_next_is_safe("//evil.com"), 0);
    ck_assert_int_eq(sl_next_is_safe("//evil.com/people/"), 0);
    ck_assert_int_eq(sl_next_is_safe("/\\evil"), 0);
    ck_assert_int_eq(sl_next_is_safe("\\\\evil"), 0);
    ck_assert_int_eq(sl_next_is_safe("http://x"), 0);
    ck_assert_int_eq(sl_next_is_safe("https://evil.com/"), 0);
    ck_assert_int_eq(sl_next_is_safe("javascript:alert(1)"), 0);
    ck_assert_int_eq(sl_next_is_safe("/javascript:x"), 0);
    ck_assert_int_eq(sl_next_is_safe(" /people/"), 0);
}
END_TEST

START_TEST(test_validate_next_refuses_encoded_tricks)
{
    ck_assert_int_eq(sl_next_is_safe("/%2F%2Fevil"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%2f%2fevil"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%2Fevil.com"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%5Cevil"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%5cevil"), 0);
    ck_assert_int_eq(sl_next_is_safe("/javascript%3Aalert(1)"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%00"), 0);
    ck_assert_int_eq(sl_next_is_safe("/people/%00x"), 0);
}
END_TEST

START_TEST(test_validate_next_refuses_controls)
{
    ck_assert_int_eq(sl_next_is_safe("/a\r\nSet-Cookie: x=1"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a\nb"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a\rb"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a\tb"), 0);
    ck_assert_int_eq(sl_next_is_safe("/\t/evil.com"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a\x7f"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a%0d%0aSet-Cookie:x"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a%0d"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a%0A"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a%09b"), 0);
    ck_assert_int_eq(sl_next_is_safe("/%09/evil.com"), 0);
    ck_assert_int_eq(sl_next_is_safe("/a%7f"), 0);
}
END_TEST

Suite *test_validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("sl_validate");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_validate_utf8_valid_multibyte);
    tcase_add_test(tc, test_validate_utf8_refuses_overlong);
    tcase_add_test(tc, test_validate_utf8_refuses_surrogates);
    tcase_add_test(tc, test_validate_utf8_refuses_past_unicode);
    tcase_add_test(tc, test_validate_utf8_refuses_truncated);
    tcase_add_test(tc, test_validate_utf8_refuses_nul);
    tcase_add_test(tc, test_validate_has_control);
    tcase_add_test(tc, test_validate_email_normalises);
    tcase_add_test(tc, test_validate_email_allows_localhost);
    tcase_add_test(tc, test_validate_email_unicode_case_and_nfc);
    tcase_add_test(tc, test_validate_text_lower_and_fold);
    tcase_add_test(tc, test_validate_email_refuses_bad_shapes);
    tcase_add_test(tc, test_validate_email_refuses_nul);
    tcase_add_test(tc, test_validate_email_length_limit);
    tcase_add_test(tc, test_validate_username_rules);
    tcase_add_test(tc, test_validate_username_from_email);
    tcase_add_test(tc, test_validate_password_min_length_in_code_points);
    tcase_add_test(tc, test_validate_password_max_length_never_truncated);
    tcase_add_test(tc, test_validate_password_refuses_nul_and_bad_utf8);
    tcase_add_test(tc, test_validate_name_rules);
    tcase_add_test(tc, test_validate_name_refuses_controls);
    tcase_add_test(tc, test_validate_initials);
    tcase_add_test(tc, test_validate_next_accepts_local_paths);
    tcase_add_test(tc, test_validate_next_refuses_other_sites);
    tcase_add_test(tc, test_validate_next_refuses_encoded_tricks);
    tcase_add_test(tc, test_validate_next_refuses_controls);
    suite_add_tcase(s, tc);
    return s;
}
