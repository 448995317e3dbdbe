/* sl_password: argon2id parameters, hashing, verification, upgrades and
 * the dummy hash. Always cheap parameters (m=64 t=1 p=1) here. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <argon2.h>

#include "test_core.h"
#include "sl_password.h"

static const sl_argon2_params_t cheap = { 64, 1, 1 };

#define PHC_CHEAP "$argon2id$v=19$m=64,t=1,p=1$"

static const char *hash_of(const char *pw, apr_size_t len,
                           const sl_argon2_params_t *params)
{
    const char *phc = NULL;

    ck_assert_int_eq(sl_password_hash(&phc, pw, len, params, test_pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(phc);
    return phc;
}

/* ---- parameters ---- */

START_TEST(test_password_parse_defaults)
{
    sl_argon2_params_t out = { 0, 0, 0 };

    ck_assert_ptr_null(sl_password_parse_params(&out, "argon2id", test_pool));
    ck_assert_uint_eq(out.m_kib, SL_ARGON2_DEFAULT_M);
    ck_assert_uint_eq(out.t, SL_ARGON2_DEFAULT_T);
    ck_assert_uint_eq(out.p, SL_ARGON2_DEFAULT_P);
    /* the defaults of docs/directives.md */
    ck_assert_uint_eq(SL_ARGON2_DEFAULT_M, 19456);
    ck_assert_uint_eq(SL_ARGON2_DEFAULT_T, 2);
    ck_assert_uint_eq(SL_ARGON2_DEFAULT_P, 1);
}
END_TEST

START_TEST(test_password_parse_values)
{
    sl_argon2_params_t out = { 0, 0, 0 };

    ck_assert_ptr_null(sl_password_parse_params(&out, "argon2id m=64 t=1 p=1",
                                                test_pool));
    ck_assert_uint_eq(out.m_kib, 64);
    ck_assert_uint_eq(out.t, 1);
    ck_assert_uint_eq(out.p, 1);
    /* any order */
    ck_assert_ptr_null(sl_password_parse_params(&out, "argon2id p=2 t=3 m=1024",
                                                test_pool));
    ck_assert_uint_eq(out.m_kib, 1024);
    ck_assert_uint_eq(out.t, 3);
    ck_assert_uint_eq(out.p, 2);
    /* each optional: the others keep their defaults */
    ck_assert_ptr_null(sl_password_parse_params(&out, "argon2id t=4", test_pool));
    ck_assert_uint_eq(out.m_kib, SL_ARGON2_DEFAULT_M);
    ck_assert_uint_eq(out.t, 4);
    ck_assert_uint_eq(out.p, SL_ARGON2_DEFAULT_P);
}
END_TEST

START_TEST(test_password_parse_errors)
{
    sl_argon2_params_t out;
    static const char *const bad[] = {
        "bcrypt", "bcrypt m=64", "argon2i m=64", "argon2id m=abc", "argon2id m=0",
        "argon2id p=0", "argon2id t=0", "argon2id m=-5", "argon2id m=64x",
        "argon2id m=", "argon2id x=5", "argon2id m=64 foo", "argon2id t=101",
        "argon2id p=65", "argon2id m=4", "argon2id m=64 p=16",
        "argon2id m=99999999999999999999", NULL
    };
    int i;

    for (i = 0; bad[i]; i++) {
        const char *msg = sl_password_parse_params(&out, bad[i], test_pool);
        ck_assert_msg(msg != NULL && *msg, "'%s' was accepted", bad[i]);
    }
}
END_TEST

/* ---- hashing and verification ---- */

START_TEST(test_password_hash_and_verify)
{
    const char *phc = hash_of("correct horse", 13, &cheap);
    const char *again = hash_of("correct horse", 13, &cheap);

    ck_assert_int_eq(strncmp(phc, PHC_CHEAP, strlen(PHC_CHEAP)), 0);
    ck_assert_int_eq(sl_password_verify(phc, "correct horse", 13), 1);
    ck_assert_int_eq(sl_password_verify(phc, "correct horsf", 13), 0);
    ck_assert_int_eq(sl_password_verify(phc, "Correct horse", 13), 0);
    ck_assert_int_eq(sl_password_verify(phc, "correct hors", 12), 0);
    ck_assert_int_eq(sl_password_verify(phc, "", 0), 0);
    /* a fresh salt every time */
    ck_assert_str_ne(phc, again);
    ck_assert_int_eq(sl_password_verify(again, "correct horse", 13), 1);
}
END_TEST

START_TEST(test_password_verify_unicode)
{
    const char *pw = "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe6\x9d\x8e";
    const char *phc = hash_of(pw, strlen(pw), &cheap);

    ck_assert_int_eq(sl_password_verify(phc, pw, strlen(pw)), 1);
    /* NFD "é" is another password */
    ck_assert_int_eq(sl_password_verify(phc, "e\xcc\x81t\xc3\xa9 \xf0\x9f\x98\x80 "
                                        "\xe6\x9d\x8e", strlen(pw) + 1), 0);
}
END_TEST

START_TEST(test_password_no_truncation)
{
    char a[201], b[201];
    const char *phc;

    /* differing only after byte 100 */
    memset(a, 'a', 200);
    a[200] = '\0';
    memcpy(b, a, sizeof(a));
    b[150] = 'b';
    phc = hash_of(a, 200, &cheap);
    ck_assert_int_eq(sl_password_verify(phc, a, 200), 1);
    ck_assert_int_eq(sl_password_verify(phc, b, 200), 0);
    ck_assert_int_eq(sl_password_verify(phc, a, 101), 0);
    ck_assert_int_eq(sl_password_verify(phc, a, 199), 0);
    /* also past bcrypt's 72 bytes and right at 101 */
    b[150] = 'a';
    b[100] = 'X';
    ck_assert_int_eq(sl_password_verify(phc, b, 200), 0);
    /* the length, not a NUL, ends the password */
    phc = hash_of("ab\0cd", 5, &cheap);
    ck_assert_int_eq(sl_password_verify(phc, "ab\0cd", 5), 1);
    ck_assert_int_eq(sl_password_verify(phc, "ab", 2), 0);
    ck_assert_int_eq(sl_password_verify(phc, "ab\0ce", 5), 0);
}
END_TEST

START_TEST(test_password_verify_refuses_other_hashes)
{
    char enc[256];
    unsigned char salt[16];

    ck_assert_int_eq(sl_password_verify(NULL, "x", 1), 0);
    ck_assert_int_eq(sl_password_verify("", "x", 1), 0);
    ck_assert_int_eq(sl_password_verify("garbage", "garbage", 7), 0);
    ck_assert_int_eq(sl_password_verify("$argon2id$garbage", "x", 1), 0);
    ck_assert_int_eq(sl_password_verify(
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "x", 1), 0);
    /* a valid argon2i hash of the right password is still refused */
    memset(salt, 7, sizeof(salt));
    ck_assert_int_eq(argon2i_hash_encoded(1, 64, 1, "secret12", 8, salt, sizeof(salt),
                                          32, enc, sizeof(enc)), ARGON2_OK);
    ck_assert_int_eq(argon2i_verify(enc, "secret12", 8), ARGON2_OK);
    ck_assert_int_eq(sl_password_verify(enc, "secret12", 8), 0);
}
END_TEST

/* ---- upgrades ---- */

START_TEST(test_password_needs_upgrade)
{
    const char *phc = hash_of("pw-for-upgrade", 14, &cheap);
    sl_argon2_params_t more_m = { 128, 1, 1 }, more_t = { 64, 2, 1 };
    sl_argon2_params_t more_p = { 64, 1, 2 }, less = { 32, 1, 1 };
    const sl_argon2_params_t dflt_params = { SL_ARGON2_DEFAULT_M, SL_ARGON2_DEFAULT_T,
                                             SL_ARGON2_DEFAULT_P };
    const sl_argon2_params_t *dflt = &dflt_params;

    ck_assert_int_eq(sl_password_needs_upgrade(phc, &cheap), 0);
    ck_assert_int_eq(sl_password_needs_upgrade(phc, &less), 0);
    ck_assert_int_eq(sl_password_needs_upgrade(phc, &more_m), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(phc, &more_t), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(phc, &more_p), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(phc, dflt), 1);
    /* stored strings of the default cost, without hashing one */
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA", dflt), 0);
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$argon2id$v=19$m=19455,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA", dflt), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA", dflt), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaA", dflt), 0);
}
END_TEST

START_TEST(test_password_needs_upgrade_garbage)
{
    ck_assert_int_eq(sl_password_needs_upgrade(NULL, &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade("", &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade("garbage", &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade("$argon2id$v=19$", &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade("$argon2id$v=19$m=x,t=1,p=1$a$b",
                                               &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaA", &cheap), 1);
    ck_assert_int_eq(sl_password_needs_upgrade(
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", &cheap), 1);
}
END_TEST

/* ---- counting and the dummy ---- */

START_TEST(test_password_hash_count)
{
    apr_uint64_t n0 = sl_password_hash_count();
    const char *phc = hash_of("count-me-in", 11, &cheap);

    ck_assert_uint_eq(sl_password_hash_count(), n0 + 1);
    sl_password_verify(phc, "count-me-in", 11);
    ck_assert_uint_eq(sl_password_hash_count(), n0 + 2);
    sl_password_verify(phc, "wrong-one!!", 11);
    ck_assert_uint_eq(sl_password_hash_count(), n0 + 3);
    ck_assert_ptr_nonnull(sl_password_dummy(&cheap, test_pool));
    ck_assert_uint_eq(sl_password_hash_count(), n0 + 4);
    /* asking about an upgrade hashes nothing */
    sl_password_needs_upgrade(phc, &cheap);
    ck_assert_uint_eq(sl_password_hash_count(), n0 + 4);
}
END_TEST

START_TEST(test_password_dummy_is_argon2id)
{
    const char *d1 = sl_password_dummy(&cheap, test_pool);
    const char *d2 = sl_password_dummy(&cheap, test_pool);

    ck_assert_ptr_nonnull(d1);
    ck_assert_int_eq(strncmp(d1, PHC_CHEAP, strlen(PHC_CHEAP)), 0);
    ck_assert_str_ne(d1, d2);
    ck_assert_int_eq(sl_password_needs_upgrade(d1, &cheap), 0);
    ck_assert_int_eq(sl_password_verify(d1, "", 0), 0);
    ck_assert_int_eq(sl_password_verify(d1, "password", 8), 0);
}
END_TEST

/* ---- the concurrency cap ---- */

static void *APR_THREAD_FUNC hash_thread(apr_thread_t *t, void *data)
{
    const char *phc = NULL;
    apr_pool_t *p = apr_thread_pool_get(t);
    int ok = sl_password_hash(&phc, "threaded", 8, &cheap, p) == APR_SUCCESS
        && sl_password_verify(phc, "threaded", 8);

    *(int *)data = ok;
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static const sl_argon2_params_t cheap_params = { 64, 1, 1 };

static const char *phc_cheap(void)
{
    static const char *phc;
    static apr_pool_t *keep;

    if (!phc) {
        apr_pool_create(&keep, NULL);
        ck_assert_int_eq(sl_password_hash(&phc, "pw", 2, &cheap_params, keep), APR_SUCCESS);
    }
    return phc;
}

static void *APR_THREAD_FUNC slow_hash_thread(apr_thread_t *t, void *data)
{
    static const sl_argon2_params_t slow = { 65536, 10, 1 };
    const char *out = NULL;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    *(int *)data = sl_password_hash(&out, "pw", 2, &slow, p) == APR_SUCCESS;
    apr_pool_destroy(p);
    return NULL;   /* not apr_thread_exit: ASan's thread teardown trips on it */
}

START_TEST(test_password_limit_serialises)
{
    static apr_pool_t *forever;
    apr_thread_t *th[4];
    int ok[4] = { 0, 0, 0, 0 }, i;
    apr_uint64_t n0 = sl_password_hash_count();

    /* the cap outlives the test pool: it is process-wide */
    if (!forever) {
        ck_assert_int_eq(apr_pool_create(&forever, NULL), APR_SUCCESS);
    }
    ck_assert_int_eq(sl_password_limit_init(1, forever), APR_SUCCESS);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, hash_thread, &ok[i],
                                           test_pool), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
        ck_assert_int_eq(ok[i], 1);
    }
    ck_assert_uint_eq(sl_password_hash_count(), n0 + 8);
    ck_assert_int_eq(sl_password_limit_init(0, forever), APR_SUCCESS);
}
END_TEST

/* past the wait: busy, never a hash beyond the cap */
START_TEST(test_password_busy_past_the_wait)
{
    static const sl_argon2_params_t slow = { 65536, 20, 1 };
    sl_password_limit_t *lim;
    apr_thread_t *th;
    apr_status_t rv;
    const char *out = NULL, *phc = phc_cheap();
    int ok = 0;
    static apr_pool_t *forever;

    if (!forever) {
        ck_assert_int_eq(apr_pool_create(&forever, NULL), APR_SUCCESS);
    }
    ck_assert_int_eq(sl_password_limit_create(&lim, 1, forever), APR_SUCCESS);
    sl_password_limit_use(lim, 50 * 1000);
    ck_assert_int_eq(apr_thread_create(&th, NULL, slow_hash_thread, &ok, test_pool),
                     APR_SUCCESS);
    apr_sleep(apr_time_from_msec(100));   /* it holds the one slot now */
    ck_assert_int_eq(sl_password_hash(&out, "pw", 2, &cheap_params, test_pool), APR_TIMEUP);
    ck_assert_int_eq(sl_password_verify(phc, "pw", 2), SL_PASSWORD_BUSY);
    apr_thread_join(&rv, th);
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(sl_password_hash(&out, "pw", 2, &cheap_params, test_pool), APR_SUCCESS);
    sl_password_limit_use(NULL, 0);
    (void)slow;
}
END_TEST

/* a process that died holding a slot does not keep it */
START_TEST(test_password_slot_of_a_dead_process_taken_back)
{
    static const sl_argon2_params_t forever_hash = { 8, 1000000, 1 };
    sl_password_limit_t *lim;
    static apr_pool_t *forever;
    const char *out = NULL;
    pid_t child;
    int status;

    if (!forever) {
        ck_assert_int_eq(apr_pool_create(&forever, NULL), APR_SUCCESS);
    }
    ck_assert_int_eq(sl_password_limit_create(&lim, 1, forever), APR_SUCCESS);
    sl_password_limit_use(lim, apr_time_from_sec(5));
    child = fork();
    if (child == 0) {
        /* takes the only slot and never gives it back */
        sl_password_hash(&out, "pw", 2, &forever_hash, test_pool);
        _exit(0);
    }
    apr_sleep(apr_time_from_msec(300));
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    ck_assert_int_eq(sl_password_hash(&out, "pw", 2, &cheap_params, test_pool), APR_SUCCESS);
    sl_password_limit_use(NULL, 0);
}
END_TEST

Suite *test_password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("sl_password");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_password_parse_defaults);
    tcase_add_test(tc, test_password_parse_values);
    tcase_add_test(tc, test_password_parse_errors);
    tcase_add_test(tc, test_password_hash_and_verify);
    tcase_add_test(tc, test_password_verify_unicode);
    tcase_add_test(tc, test_password_no_truncation);
    tcase_add_test(tc, test_password_verify_refuses_other_hashes);
    tcase_add_test(tc, test_password_needs_upgrade);
    tcase_add_test(tc, test_password_needs_upgrade_garbage);
    tcase_add_test(tc, test_password_hash_count);
    tcase_add_test(tc, test_password_dummy_is_argon2id);
    tcase_add_test(tc, test_password_limit_serialises);
    tcase_add_test(tc, test_password_busy_past_the_wait);
    tcase_add_test(tc, test_password_slot_of_a_dead_process_taken_back);
    suite_add_tcase(s, tc);
    return s;
}
