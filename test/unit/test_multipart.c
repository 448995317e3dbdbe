/* sl_multipart (the hand-written parser) and sl_image's header reading. */
#include <string.h>

#include <apr_strings.h>

#include "test_core.h"
#include "sl_config.h"
#include "sl_image.h"
#include "sl_multipart.h"

#define CT "multipart/form-data; boundary=XyZ"
static const char body[] =
    "preamble is ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "hello\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"avatar\"; filename=\"a \\\"b\\\".png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n--XyZnot-a-boundary\r\n-- bytes\r\n"
    "--XyZ--\r\n"
    "epilogue";

static sl_multipart_t *parser(apr_size_t max_body, int max_parts, apr_size_t max_header)
{
    sl_multipart_t *mp = NULL;

    ck_assert_int_eq(sl_multipart_create(&mp, CT, max_body, max_parts, max_header, NULL,
                                         test_pool), SL_OK);
    return mp;
}

static void check_parts(apr_array_header_t *parts)
{
    const sl_multipart_part_t *t, *a;

    ck_assert_int_eq(parts->nelts, 2);
    t = sl_multipart_get(parts, "title");
    a = sl_multipart_get(parts, "avatar");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(t->len, 5);
    ck_assert(!memcmp(t->data, "hello", 5));
    ck_assert_ptr_null(t->filename);
    ck_assert_str_eq(a->filename, "a \"b\".png");
    ck_assert_str_eq(a->content_type, "image/png");
    /* a boundary-like run inside the data is data */
    ck_assert_uint_eq(a->len, strlen("\x89PNG\r\n--XyZnot-a-boundary\r\n-- bytes"));
    ck_assert_ptr_null(sl_multipart_get(parts, "nothing"));
}

START_TEST(test_multipart_whole)
{
    sl_multipart_t *mp = parser(4096, 8, 1024);
    apr_array_header_t *parts;

    ck_assert_int_eq(sl_multipart_feed(mp, body, sizeof(body) - 1, NULL), SL_OK);
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
    check_parts(parts);
}
END_TEST

/* every split point, and one byte at a time: boundaries cut across reads */
START_TEST(test_multipart_split_everywhere)
{
    apr_size_t n = sizeof(body) - 1, cut, i;
    apr_array_header_t *parts;
    sl_multipart_t *mp;

    for (cut = 0; cut <= n; cut++) {
        mp = parser(4096, 8, 1024);
        ck_assert_int_eq(sl_multipart_feed(mp, body, cut, NULL), SL_OK);
        ck_assert_int_eq(sl_multipart_feed(mp, body + cut, n - cut, NULL), SL_OK);
        ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
        check_parts(parts);
    }
    mp = parser(4096, 8, 1024);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(sl_multipart_feed(mp, body + i, 1, NULL), SL_OK);
    }
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
    check_parts(parts);
}
END_TEST

START_TEST(test_multipart_refusals)
{
    sl_multipart_t *mp;
    apr_array_header_t *parts;
    sl_err_t err;
    const char *many, *huge;
    int i;

    /* missing final boundary */
    mp = parser(4096, 8, 1024);
    ck_assert_int_eq(sl_multipart_feed(mp, body, strstr(body, "--XyZ--") - body, NULL), SL_OK);
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, &err), SL_EINVALID);
    ck_assert(strstr(err.message, "closing boundary") != NULL);
    /* over the body limit: refused while feeding */
    mp = parser(100, 8, 1024);
    ck_assert_int_eq(sl_multipart_feed(mp, body, sizeof(body) - 1, &err), SL_ETOOLARGE);
    /* too many parts */
    many = "";
    for (i = 0; i < 10; i++) {
        many = apr_psprintf(test_pool, "%s--XyZ\r\nContent-Disposition: form-data; "
                            "name=\"f%d\"\r\n\r\nv\r\n", many, i);
    }
    many = apr_pstrcat(test_pool, many, "--XyZ--\r\n", NULL);
    mp = parser(8192, 4, 1024);
    ck_assert_int_eq(sl_multipart_feed(mp, many, strlen(many), &err), SL_EINVALID);
    ck_assert(strstr(err.message, "Too many parts") != NULL);
    /* huge headers, refused before the blank line arrives */
    huge = apr_pstrcat(test_pool, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX: ",
                       apr_psprintf(test_pool, "%02000d", 7), NULL);
    mp = parser(8192, 4, 512);
    ck_assert_int_eq(sl_multipart_feed(mp, huge, strlen(huge), &err), SL_EINVALID);
    ck_assert(strstr(err.message, "headers are too large") != NULL);
    /* a part without a form-data name */
    mp = parser(4096, 4, 512);
    {
        /* the length from the literal itself: a hand-counted 47 read two
         * bytes past this 45-byte string (found by ASan) */
        static const char noname[] = "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--";
        ck_assert_int_eq(sl_multipart_feed(mp, noname, sizeof(noname) - 1, &err),
                         SL_EINVALID);
    }
    /* not multipart, or no boundary */
    ck_assert_int_eq(sl_multipart_create(&mp, "application/json", 10, 1, 1, &err, test_pool),
                     SL_EINVALID);
    ck_assert_int_eq(sl_multipart_create(&mp, "multipart/form-data", 10, 1, 1, &err,
                                         test_pool), SL_EINVALID);
    ck_assert_int_eq(sl_multipart_create(&mp, "multipart/form-data; boundary=\"q\r\nx\"", 10,
                                         1, 1, &err, test_pool), SL_EINVALID);
}
END_TEST

START_TEST(test_multipart_no_file_part_and_quoted_boundary)
{
    sl_multipart_t *mp = NULL;
    apr_array_header_t *parts;
    const char *b = "--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a b--";

    ck_assert_int_eq(sl_multipart_create(&mp, "multipart/form-data; boundary=\"a b\"", 1024, 4,
                                         512, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_multipart_feed(mp, b, strlen(b), NULL), SL_OK);
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
    ck_assert_int_eq(parts->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(parts, 0, sl_multipart_part_t).name, "x");
    ck_assert_ptr_null(sl_multipart_get(parts, "avatar"));
}
END_TEST

/* 1 MB of almost-delimiters fed in 100-byte writes: every byte is looked at
 * a bounded number of times (the search resumed where it stopped; it once
 * started again from the start of the part: 3 s of CPU for this body) */
START_TEST(test_multipart_linear_in_small_writes)
{
    static const char head[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n";
    static const char fake[] = "\r\n--XyZboundX";
    apr_size_t n = 1024 * 1024, fed = 0, i;
    char *data = apr_palloc(test_pool, n + 64);
    sl_multipart_t *mp = parser(n + 4096, 4, 1024);
    apr_array_header_t *parts;

    for (i = 0; i + sizeof(fake) - 1 <= n; i += sizeof(fake) - 1) {
        memcpy(data + i, fake, sizeof(fake) - 1);
    }
    n = i;
    ck_assert_int_eq(sl_multipart_feed(mp, head, sizeof(head) - 1, NULL), SL_OK);
    for (fed = 0; fed < n; fed += 100) {
        ck_assert_int_eq(sl_multipart_feed(mp, data + fed, n - fed < 100 ? n - fed : 100, NULL),
                         SL_OK);
    }
    ck_assert_int_eq(sl_multipart_feed(mp, "\r\n--XyZ--", 9, NULL), SL_OK);
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
    ck_assert_uint_eq(sl_multipart_get(parts, "a")->len, n);
    ck_assert_msg(sl_multipart_examined(mp) < 3 * (n + sizeof(head)),
                  "examined %lu bytes for %lu", (unsigned long)sl_multipart_examined(mp),
                  (unsigned long)n);
}
END_TEST

/* the body limit is the running total, not one write's size */
START_TEST(test_multipart_limit_is_the_total)
{
    sl_multipart_t *mp = parser(1000, 4, 512);
    char chunk[100];
    sl_err_t err;
    int i;

    static const char head[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n";

    memset(chunk, 'x', sizeof(chunk));
    ck_assert_int_eq(sl_multipart_feed(mp, head, sizeof(head) - 1, NULL), SL_OK);
    for (i = 0; i < 9; i++) {
        ck_assert_int_eq(sl_multipart_feed(mp, chunk, sizeof(chunk), NULL), SL_OK);
    }
    /* up to exactly 1000 bytes in all, then one byte more is too much */
    ck_assert_int_eq(sl_multipart_feed(mp, chunk, 1000 - 900 - (sizeof(head) - 1), NULL),
                     SL_OK);
    ck_assert_int_eq(sl_multipart_feed(mp, chunk, 1, &err), SL_ETOOLARGE);
}
END_TEST

/* exactly max_parts parts pass; one more is refused */
START_TEST(test_multipart_max_parts_edge)
{
    const char *part = "--XyZ\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n";
    const char *three = apr_pstrcat(test_pool, part, part, part, "--XyZ--", NULL);
    const char *four = apr_pstrcat(test_pool, part, part, part, part, "--XyZ--", NULL);
    apr_array_header_t *parts;
    sl_multipart_t *mp = parser(4096, 3, 512);
    sl_err_t err;

    ck_assert_int_eq(sl_multipart_feed(mp, three, strlen(three), NULL), SL_OK);
    ck_assert_int_eq(sl_multipart_finish(mp, &parts, NULL), SL_OK);
    ck_assert_int_eq(parts->nelts, 3);
    mp = parser(4096, 3, 512);
    ck_assert_int_eq(sl_multipart_feed(mp, four, strlen(four), &err), SL_EINVALID);
    ck_assert(strstr(err.message, "Too many parts") != NULL);
}
END_TEST

START_TEST(test_image_sniff_and_dimensions)
{
    static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\0\0\0\x01\x01";
    static const unsigned char gif[] = "GIF89a\x20\x03\x10\x00";
    static const unsigned char jpg[] = "\xff\xd8\xff\xe0\x00\x04\x00\x00"
                                       "\xff\xc0\x00\x11\x08\x01\x2c\x02\x58";
    long w = 0, h = 0;

    ck_assert_int_eq(sl_image_sniff(png, sizeof(png) - 1), SL_IMG_PNG);
    ck_assert(sl_image_dimensions(SL_IMG_PNG, png, sizeof(png) - 1, &w, &h));
    ck_assert_int_eq(w, 512);
    ck_assert_int_eq(h, 257);
    ck_assert(!sl_image_dimensions(SL_IMG_PNG, png, 20, &w, &h));       /* cut short */
    ck_assert_int_eq(sl_image_sniff(gif, sizeof(gif) - 1), SL_IMG_GIF);
    ck_assert(sl_image_dimensions(SL_IMG_GIF, gif, sizeof(gif) - 1, &w, &h));
    ck_assert_int_eq(w, 800);
    ck_assert_int_eq(h, 16);
    ck_assert_int_eq(sl_image_sniff(jpg, sizeof(jpg) - 1), SL_IMG_JPEG);
    ck_assert(sl_image_dimensions(SL_IMG_JPEG, jpg, sizeof(jpg) - 1, &w, &h));
    ck_assert_int_eq(w, 600);
    ck_assert_int_eq(h, 300);
    ck_assert_int_eq(sl_image_sniff((const unsigned char *)"<svg", 4), SL_IMG_NONE);
    ck_assert_int_eq(sl_image_sniff((const unsigned char *)"RIFF\0\0\0\0WEBP", 12),
                     SL_IMG_WEBP);
}
END_TEST

START_TEST(test_image_refuses_before_decoding)
{
    static const unsigned char big[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\x86\xa0\0\x01\x86\xa0"
                                       "\x08\x06\0\0\0";
    sl_image_t out;
    sl_err_t err;

    ck_assert_int_eq(sl_image_reencode(&out, (const char *)big, sizeof(big) - 1, 512, &err,
                                       test_pool), SL_EINVALID);
    ck_assert(strstr(err.message, "512 x 512") != NULL);
    ck_assert_int_eq(sl_image_reencode(&out, "", 0, 512, &err, test_pool), SL_EINVALID);
    ck_assert_int_eq(sl_image_reencode(&out, "<html>", 6, 512, &err, test_pool), SL_EINVALID);
    ck_assert(strstr(err.message, "PNG, JPEG, GIF or WebP") != NULL);
}
END_TEST

START_TEST(test_config_sizes)
{
    apr_size_t v;

    ck_assert_ptr_null(sl_config_parse_size(&v, "1M"));
    ck_assert_uint_eq(v, 1048576);
    ck_assert_ptr_null(sl_config_parse_size(&v, "512k"));
    ck_assert_uint_eq(v, 524288);
    ck_assert_ptr_null(sl_config_parse_size(&v, "1000"));
    ck_assert_uint_eq(v, 1000);
    ck_assert_ptr_nonnull(sl_config_parse_size(&v, "0"));
    ck_assert_ptr_nonnull(sl_config_parse_size(&v, "1G"));
    ck_assert_ptr_nonnull(sl_config_parse_size(&v, "-1"));
    ck_assert_ptr_nonnull(sl_config_parse_size(&v, "65M"));
}
END_TEST

Suite *test_multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *mp = tcase_create("sl_multipart"), *img = tcase_create("sl_image");

    tcase_add_checked_fixture(mp, test_pool_setup, test_pool_teardown);
    tcase_add_test(mp, test_multipart_whole);
    tcase_add_test(mp, test_multipart_split_everywhere);
    tcase_add_test(mp, test_multipart_refusals);
    tcase_add_test(mp, test_multipart_no_file_part_and_quoted_boundary);
    tcase_add_test(mp, test_config_sizes);
    tcase_add_test(mp, test_multipart_linear_in_small_writes);
    tcase_add_test(mp, test_multipart_limit_is_the_total);
    tcase_add_test(mp, test_multipart_max_parts_edge);
    suite_add_tcase(s, mp);
    tcase_add_checked_fixture(img, test_pool_setup, test_pool_teardown);
    tcase_add_test(img, test_image_sniff_and_dimensions);
    tcase_add_test(img, test_image_refuses_before_decoding);
    suite_add_tcase(s, img);
    return s;
}
