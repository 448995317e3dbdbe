/* sl_config (defaults, durations, booleans, the settings table) and sl_json (strict decoding
 * of request bodies, pool-tied values). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "test_core.h"
#include "sl_config.h"
#include "sl_json.h"

/* ---- sl_config ---- */

START_TEST(test_config_defaults)
{
    sl_config_t cfg;

    memset(&cfg, 0x5a, sizeof(cfg));
    sl_config_defaults(&cfg, test_pool);
    ck_assert_uint_eq(cfg.hash.m_kib, 19456);
    ck_assert_uint_eq(cfg.hash.t, 2);
    ck_assert_uint_eq(cfg.hash.p, 1);
    ck_assert_int_eq(cfg.password_min, 8);
    ck_assert_int_eq(cfg.session_max_age, 14 * 86400);
    ck_assert_int_eq(cfg.session_idle, 5 * 86400);
    ck_assert_int_eq(cfg.signup_restricted, 0);
    ck_assert_int_eq(cfg.throttle_max, 10);
    ck_assert_int_eq(cfg.throttle_window, 300);
    ck_assert_int_eq(cfg.signup_max, 50);
    ck_assert_int_eq(cfg.signup_window, 3600);
    ck_assert_int_eq(cfg.auth_max, 50);
    ck_assert_int_eq(cfg.auth_window, 60);
    ck_assert_int_eq(cfg.avatar_max_px, 512);
    ck_assert_uint_eq(cfg.avatar_max_bytes, 1024 * 1024);
    ck_assert_int_eq(cfg.db_wait, 3 * APR_USEC_PER_SEC);
    ck_assert_int_eq(cfg.hash_wait, 10 * APR_USEC_PER_SEC);
    ck_assert_int_eq(cfg.auth_cache, 30 * APR_USEC_PER_SEC);
    ck_assert_ptr_null(cfg.start_username);
    ck_assert_ptr_null(cfg.start_token);
    ck_assert_uint_eq(cfg.set, 0);                 /* defaults are not "given" */
}
END_TEST

static apr_int64_t duration(const char *arg)
{
    apr_int64_t v = -1;
    const char *msg = sl_config_parse_duration(&v, arg);

    ck_assert_msg(msg == NULL, "'%s' refused: %s", arg, msg ? msg : "");
    return v;
}

START_TEST(test_config_duration_units)
{
    ck_assert_int_eq(duration("90"), 90);
    ck_assert_int_eq(duration("1"), 1);
    ck_assert_int_eq(duration("30s"), 30);
    ck_assert_int_eq(duration("15m"), 900);
    ck_assert_int_eq(duration("12h"), 43200);
    ck_assert_int_eq(duration("14d"), 1209600);
    ck_assert_int_eq(duration("5d"), 432000);
    ck_assert_int_eq(duration("3650d"), 3650LL * 86400);
}
END_TEST

START_TEST(test_config_duration_refuses)
{
    static const char *const bad[] = {
        "", "-5", "-5s", "+5", "5x", "0", "0s", "0d", "5dd", "5ms", "d", "s", "m",
        "1.5h", "5 d", "5s ", "abc", "3651d", "99999999999999999999",
        "9223372036854775807s", NULL
    };
    apr_int64_t v;
    int i;

    for (i = 0; bad[i]; i++) {
        const char *msg;
        v = 4242;
        msg = sl_config_parse_duration(&v, bad[i]);
        ck_assert_msg(msg != NULL && *msg, "'%s' was accepted as %lld", bad[i],
                      (long long)v);
        ck_assert_int_eq(v, 4242);
    }
    ck_assert_ptr_nonnull(sl_config_parse_duration(&v, NULL));
}
END_TEST

START_TEST(test_config_bools)
{
    static const char *const yes[] = { "true", "1", "yes", "on", "TRUE", "On",
                                       "Yes", NULL };
    static const char *const no[] = { "false", "0", "no", "off", "", "FALSE",
                                      "Off", NULL };
    static const char *const bad[] = { "maybe", "2", "yes ", " on", "y", "n",
                                       "truee", "-1", NULL };
    int i;

    for (i = 0; yes[i]; i++) {
        ck_assert_msg(sl_config_parse_bool(yes[i]) == 1, "'%s' is not true", yes[i]);
    }
    for (i = 0; no[i]; i++) {
        ck_assert_msg(sl_config_parse_bool(no[i]) == 0, "'%s' is not false", no[i]);
    }
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(sl_config_parse_bool(bad[i]) == -1, "'%s' was accepted", bad[i]);
    }
    ck_assert_int_eq(sl_config_parse_bool(NULL), 0);
}
END_TEST

/* ---- sl_json ---- */

static sl_kind_e decode(json_t **out, const char *buf, apr_size_t len,
                        sl_err_t *err)
{
    return sl_json_decode(out, buf, len, err, test_pool);
}

static void assert_json_bad(const char *buf, apr_size_t len)
{
    json_t *j = NULL;
    sl_err_t err = { 0 };

    ck_assert_msg(decode(&j, buf, len, &err) == SL_EINVALID, "accepted '%.*s'",
                  (int)len, buf);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.kind, SL_EINVALID);
    ck_assert_ptr_nonnull(err.message);
    ck_assert_int_gt(strlen(err.message), 0);
}

#define JSON_BAD(lit) assert_json_bad(lit, sizeof(lit) - 1)

/* n nested arrays around 1, or objects {"a": ...} */
static const char *nested(int n, int objects)
{
    char *s = apr_palloc(test_pool, n * 6 + 2), *d = s;
    int i;

    for (i = 0; i < n; i++) {
        if (objects) {
            memcpy(d, "{\"a\":", 5);
            d += 5;
        }
        else {
            *d++ = '[';
        }
    }
    *d++ = '1';
    for (i = 0; i < n; i++) {
        *d++ = objects ? '}' : ']';
    }
    *d = '\0';
    return s;
}

START_TEST(test_json_decode_ok)
{
    const char *txt = "{\"a\": 1, \"b\": [true, null, {\"c\": \"\xc3\xa9\\u20ac\"}]}";
    json_t *j = NULL;
    sl_err_t err = { 0 };

    ck_assert_int_eq(decode(&j, txt, strlen(txt), &err), SL_OK);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
        json_array_get(json_object_get(j, "b"), 2), "c")), "\xc3\xa9\xe2\x82\xac");
    /* len is the end, not a NUL */
    ck_assert_int_eq(decode(&j, "[1][garbage", 3, &err), SL_OK);
    ck_assert_int_eq(json_array_size(j), 1);
}
END_TEST

START_TEST(test_json_decode_refuses_duplicate_keys)
{
    JSON_BAD("{\"a\": 1, \"a\": 2}");
    JSON_BAD("{\"x\": {\"a\": 1, \"b\": 2, \"a\": 1}}");
    JSON_BAD("[{\"email\": \"a@x.org\", \"email\": \"b@x.org\"}]");
}
END_TEST

START_TEST(test_json_decode_depth)
{
    json_t *j = NULL;
    const char *s;

    s = nested(10, 0);
    ck_assert_int_eq(decode(&j, s, strlen(s), NULL), SL_OK);
    s = nested(SL_JSON_MAX_DEPTH, 0);
    ck_assert_int_eq(decode(&j, s, strlen(s), NULL), SL_OK);
    s = nested(SL_JSON_MAX_DEPTH, 1);
    ck_assert_int_eq(decode(&j, s, strlen(s), NULL), SL_OK);
    s = nested(33, 0);
    assert_json_bad(s, strlen(s));
    s = nested(33, 1);
    assert_json_bad(s, strlen(s));
    s = nested(5000, 0);
    assert_json_bad(s, strlen(s));
    /* brackets inside strings are text, escaped quotes included */
    s = apr_pstrcat(test_pool, "[\"\\\"", nested(40, 0), "\"]", NULL);
    ck_assert_int_eq(decode(&j, s, strlen(s), NULL), SL_OK);
    ck_assert_int_eq(json_array_size(j), 1);
}
END_TEST

START_TEST(test_json_decode_refuses_nul)
{
    JSON_BAD("{\"a\": \"x\\u0000y\"}");
    JSON_BAD("[\"\\u0000\"]");
    JSON_BAD("{\"a\\u0000\": 1}");
    JSON_BAD("[\"a\0b\"]");
    JSON_BAD("[1]\0");
}
END_TEST

START_TEST(test_json_decode_refuses_bad_utf8)
{
    JSON_BAD("{\"a\": \"\xff\"}");
    JSON_BAD("{\"a\": \"\xc0\xaf\"}");
    JSON_BAD("{\"a\": \"\xed\xa0\x80\"}");
    JSON_BAD("{\"a\": \"\xc3\"}");
    JSON_BAD("{\"\xfe\": 1}");
    JSON_BAD("[\"\\udc00\"]");
}
END_TEST

START_TEST(test_json_decode_refuses_more_than_one_value)
{
    JSON_BAD("");
    JSON_BAD("   ");
    JSON_BAD("{} {}");
    JSON_BAD("[1] x");
    JSON_BAD("{\"a\": 1,}");
    JSON_BAD("{'a': 1}");
    JSON_BAD("[1, 2");
}
END_TEST

START_TEST(test_json_dump_and_helpers)
{
    json_t *j = sl_json_pool(json_object(), test_pool);
    json_t *n = sl_json_pool(sl_json_str_or_null(NULL), test_pool);
    json_t *s = sl_json_pool(sl_json_str_or_null("x"), test_pool);

    json_object_set_new(j, "name", json_string("\xc3\xa9</script>"));
    json_object_set_new(j, "n", json_null());
    ck_assert_str_eq(sl_json_dump(j, test_pool),
                     "{\"name\":\"\\u00E9</script>\",\"n\":null}");
    ck_assert(json_is_null(n));
    ck_assert_str_eq(json_string_value(s), "x");
}
END_TEST

START_TEST(test_json_pool_releases)
{
    apr_pool_t *sub;
    json_t *j = json_object();

    json_incref(j);
    ck_assert_int_eq(apr_pool_create(&sub, test_pool), APR_SUCCESS);
    ck_assert_ptr_eq(sl_json_pool(j, sub), j);
    ck_assert_int_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_int_eq(j->refcount, 1);
    json_decref(j);
    ck_assert_ptr_null(sl_json_pool(NULL, test_pool));
}
END_TEST


START_TEST(test_config_int_range)
{
    long v = 0;

    ck_assert_ptr_null(sl_config_parse_int(&v, "8", 1, 128, test_pool));
    ck_assert_int_eq(v, 8);
    ck_assert_ptr_null(sl_config_parse_int(&v, "128", 1, 128, test_pool));
    ck_assert_int_eq(v, 128);
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "0", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "129", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "-5", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "+5", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "5x", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "", 1, 128, test_pool));
    ck_assert_ptr_nonnull(sl_config_parse_int(&v, "99999999999999999999", 1, 128,
                                              test_pool));
    ck_assert_ptr_nonnull(strstr(sl_config_parse_int(&v, "x", 1, 128, test_pool),
                                 "from 1 to 128"));
    ck_assert_int_eq(v, 128);       /* untouched by the refusals */
}
END_TEST

START_TEST(test_config_origins)
{
    static const char *const good[][2] = {
        { "https://labels.example.org", "https://labels.example.org" },
        { "https://labels.example.org/", "https://labels.example.org" },
        { "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
        { "https://[::1]:8443", "https://[::1]:8443" },
        { "HTTPS://Labels.Example.ORG", "https://labels.example.org" },
        { NULL, NULL }
    };
    static const char *const bad[] = {
        "labels.example.org", "ftp://labels.example.org", "https://", "https://x.org/path",
        "https://x.org?q=1", "https://x.org#f", "https://user@x.org", "", NULL
    };
    const char *o = NULL;
    int i;

    for (i = 0; good[i][0]; i++) {
        ck_assert_msg(sl_config_parse_origin(&o, good[i][0], test_pool) == NULL, "%s",
                      good[i][0]);
        ck_assert_str_eq(o, good[i][1]);
    }
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(sl_config_parse_origin(&o, bad[i], test_pool) != NULL, "%s", bad[i]);
    }
}
END_TEST

/* ---- the settings table ---- */

static const sl_setting_t *setting(const char *name)
{
    int i;

    for (i = 0; i < SL_SETTINGS_COUNT; i++) {
        if (!strcmp(sl_settings[i].name, name)) {
            return &sl_settings[i];
        }
    }
    ck_abort_msg("no setting %s", name);
    return NULL;
}

START_TEST(test_settings_table_is_well_formed)
{
    int i, j;

    ck_assert_int_le(SL_SETTINGS_COUNT, 64);   /* the bits of cfg.set */
    for (i = 0; i < SL_SETTINGS_COUNT; i++) {
        const sl_setting_t *s = &sl_settings[i];
        ck_assert_msg(!strncmp(s->name, "Siali", 5), "%s", s->name);
        ck_assert_msg(s->help && strlen(s->help) > 10, "%s has no help", s->name);
        ck_assert_uint_le(s->off + s->size, sizeof(sl_config_t));
        ck_assert_uint_le(s->off2 + s->size2, sizeof(sl_config_t));
        ck_assert_uint_ne(s->off, offsetof(sl_config_t, set));
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(s->name, sl_settings[j].name);
        }
    }
}
END_TEST

START_TEST(test_settings_apply_each_kind)
{
    sl_config_t c;

    sl_config_defaults(&c, test_pool);
    ck_assert_uint_eq(c.set, 0);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiAvatarMaxPixels"), "256", NULL,
                                        test_pool));
    ck_assert_int_eq(c.avatar_max_px, 256);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiPasswordMinLength"), "12", NULL,
                                        test_pool));
    ck_assert_int_eq(c.password_min, 12);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiAvatarMaxBytes"), "2M", NULL,
                                        test_pool));
    ck_assert_uint_eq(c.avatar_max_bytes, 2 * 1024 * 1024);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiDisableSignupWithoutLink"), "On",
                                        NULL, test_pool));
    ck_assert_int_eq(c.signup_restricted, 1);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiSessionMaxAge"), "2h", NULL,
                                        test_pool));
    ck_assert_int_eq(c.session_max_age, 7200);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiDatabaseWait"), "5s", NULL,
                                        test_pool));
    ck_assert_int_eq(c.db_wait, 5 * APR_USEC_PER_SEC);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiAuthCache"), "off", NULL,
                                        test_pool));
    ck_assert_int_eq(c.auth_cache, 0);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiAuthCache"), "1m", NULL,
                                        test_pool));
    ck_assert_int_eq(c.auth_cache, 60 * APR_USEC_PER_SEC);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiLoginThrottle"), "7", "2m",
                                        test_pool));
    ck_assert_int_eq(c.throttle_max, 7);
    ck_assert_int_eq(c.throttle_window, 120);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiPasswordHash"),
                                        "argon2id m=8192 t=3 p=1", NULL, test_pool));
    ck_assert_uint_eq(c.hash.m_kib, 8192);
    ck_assert_uint_eq(c.hash.t, 3);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiUserToken"), "secret-token",
                                        NULL, test_pool));
    ck_assert_str_eq(c.start_token, "secret-token");
    ck_assert_uint_eq(c.set, ((apr_uint64_t)1 << SL_SETTING_AVATAR_PX)
                      | ((apr_uint64_t)1 << SL_SETTING_PASSWORD_MIN)
                      | ((apr_uint64_t)1 << SL_SETTING_AVATAR_BYTES)
                      | ((apr_uint64_t)1 << SL_SETTING_SIGNUP_RESTRICTED)
                      | ((apr_uint64_t)1 << SL_SETTING_SESSION_MAX_AGE)
                      | ((apr_uint64_t)1 << SL_SETTING_DB_WAIT)
                      | ((apr_uint64_t)1 << SL_SETTING_AUTH_CACHE)
                      | ((apr_uint64_t)1 << SL_SETTING_LOGIN_THROTTLE)
                      | ((apr_uint64_t)1 << SL_SETTING_HASH)
                      | ((apr_uint64_t)1 << SL_SETTING_START_TOKEN));
}
END_TEST

/* every range is checked, the error names the directive, and a refused
 * value leaves the setting as it was and not given */
START_TEST(test_settings_refuse_out_of_range)
{
    static const char *const bad[][3] = {
        { "SialiAvatarMaxPixels", "0", NULL }, { "SialiAvatarMaxPixels", "4097", NULL },
        { "SialiPasswordMinLength", "129", NULL }, { "SialiPasswordMinLength", "x", NULL },
        { "SialiAvatarMaxBytes", "65M", NULL }, { "SialiSessionMaxAge", "0", NULL },
        { "SialiSessionIdleTimeout", "-1d", NULL }, { "SialiDatabaseWait", "601", NULL },
        { "SialiPasswordHashWait", "11m", NULL }, { "SialiAuthCache", "2h", NULL },
        { "SialiAuthCache", "no", NULL }, { "SialiLoginThrottle", "0", "60" },
        { "SialiSignupThrottle", "5", "0" }, { "SialiAuthThrottle", "5", "1y" },
        { "SialiPasswordHash", "argon2i m=1 t=1 p=1", NULL },
        { "SialiUserToken", "abc", NULL }, { "SialiDisableSignupWithoutLink", "maybe", NULL },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_config_t c, before;
        const char *e;

        sl_config_defaults(&c, test_pool);
        before = c;
        e = sl_setting_apply(&c, setting(bad[i][0]), bad[i][1], bad[i][2], test_pool);
        ck_assert_msg(e != NULL, "%s %s was accepted", bad[i][0], bad[i][1]);
        ck_assert_msg(!strncmp(e, bad[i][0], strlen(bad[i][0])), "%s", e);
        ck_assert_msg(!memcmp(&c, &before, sizeof(c)), "%s changed the config", bad[i][0]);
    }
}
END_TEST

START_TEST(test_settings_merge_takes_only_what_the_vhost_gave)
{
    sl_config_t base, add, out;

    sl_config_defaults(&base, test_pool);
    sl_config_defaults(&add, test_pool);
    ck_assert_ptr_null(sl_setting_apply(&base, setting("SialiPasswordMinLength"), "20",
                                        NULL, test_pool));
    ck_assert_ptr_null(sl_setting_apply(&base, setting("SialiSignupThrottle"), "3", "1h",
                                        test_pool));
    ck_assert_ptr_null(sl_setting_apply(&add, setting("SialiSignupThrottle"), "9", "9m",
                                        test_pool));
    ck_assert_ptr_null(sl_setting_apply(&add, setting("SialiUsername"), "a@b.c", NULL,
                                        test_pool));
    sl_config_merge(&out, &base, &add);
    ck_assert_int_eq(out.password_min, 20);        /* from base: add left it */
    ck_assert_int_eq(out.signup_max, 9);           /* add's count and window */
    ck_assert_int_eq(out.signup_window, 540);
    ck_assert_int_eq(out.throttle_max, 10);
    ck_assert_str_eq(out.start_username, "a@b.c");
    ck_assert_uint_eq(out.set, base.set | add.set);
    /* in place, as httpd merges a chain of virtual hosts */
    sl_config_merge(&base, &base, &add);
    ck_assert_int_eq(base.signup_max, 9);
    ck_assert_int_eq(base.password_min, 20);
}
END_TEST

START_TEST(test_settings_finish_reads_the_environment_for_what_is_not_given)
{
    sl_config_t c;

    setenv("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK", "true", 1);
    setenv("LABEL_STUDIO_USERNAME", "env@x.org", 1);
    setenv("LABEL_STUDIO_PASSWORD", "env-password", 1);
    setenv("LABEL_STUDIO_USER_TOKEN", "", 1);
    sl_config_defaults(&c, test_pool);
    ck_assert_ptr_null(sl_config_finish(&c, test_pool));
    ck_assert_int_eq(c.signup_restricted, 1);
    ck_assert_str_eq(c.start_username, "env@x.org");
    ck_assert_ptr_null(c.start_token);
    ck_assert_uint_eq(c.set, 0);                   /* nothing marked given */
    /* a directive wins, and the start-up account is never half from each */
    sl_config_defaults(&c, test_pool);
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiDisableSignupWithoutLink"), "Off",
                                        NULL, test_pool));
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiUsername"), "conf@x.org", NULL,
                                        test_pool));
    ck_assert_ptr_nonnull(strstr(sl_config_finish(&c, test_pool), "must be set together"));
    ck_assert_ptr_null(sl_setting_apply(&c, setting("SialiPassword"), "conf-password", NULL,
                                        test_pool));
    ck_assert_ptr_null(sl_config_finish(&c, test_pool));
    ck_assert_int_eq(c.signup_restricted, 0);
    ck_assert_str_eq(c.start_username, "conf@x.org");
    ck_assert_str_eq(c.start_password, "conf-password");
    /* refused environment values name their variable */
    sl_config_defaults(&c, test_pool);
    setenv("LABEL_STUDIO_USER_TOKEN", "abc", 1);
    ck_assert_ptr_nonnull(strstr(sl_config_finish(&c, test_pool), "LABEL_STUDIO_USER_TOKEN"));
    setenv("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK", "perhaps", 1);
    ck_assert_ptr_nonnull(strstr(sl_config_finish(&c, test_pool),
                                 "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"));
    unsetenv("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK");
    unsetenv("LABEL_STUDIO_USERNAME");
    unsetenv("LABEL_STUDIO_PASSWORD");
    unsetenv("LABEL_STUDIO_USER_TOKEN");
}
END_TEST

Suite *test_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("sl_config"), *tj = tcase_create("sl_json");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_config_defaults);
    tcase_add_test(tc, test_config_duration_units);
    tcase_add_test(tc, test_config_duration_refuses);
    tcase_add_test(tc, test_config_bools);
    tcase_add_test(tc, test_config_int_range);
    tcase_add_test(tc, test_config_origins);
    tcase_add_test(tc, test_settings_table_is_well_formed);
    tcase_add_test(tc, test_settings_apply_each_kind);
    tcase_add_test(tc, test_settings_refuse_out_of_range);
    tcase_add_test(tc, test_settings_merge_takes_only_what_the_vhost_gave);
    tcase_add_test(tc, test_settings_finish_reads_the_environment_for_what_is_not_given);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tj, test_pool_setup, test_pool_teardown);
    tcase_add_test(tj, test_json_decode_ok);
    tcase_add_test(tj, test_json_decode_refuses_duplicate_keys);
    tcase_add_test(tj, test_json_decode_depth);
    tcase_add_test(tj, test_json_decode_refuses_nul);
    tcase_add_test(tj, test_json_decode_refuses_bad_utf8);
    tcase_add_test(tj, test_json_decode_refuses_more_than_one_value);
    tcase_add_test(tj, test_json_dump_and_helpers);
    tcase_add_test(tj, test_json_pool_releases);
    suite_add_tcase(s, tj);
    return s;
}
