/* The store fixture (test_store.h) and the tests of sl_db and sl_schema on
 * a temporary SQLite file; the other core files' database tests are in
 * their own test files (test_org.c, test_account.c, test_session.c,
 * test_people.c, test_copy.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glob.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "test_core.h"
#include "sl_account.h"
#include "sl_auth.h"
#include "sl_config.h"
#include "sl_copy.h"
#include "sl_db.h"
#include "sl_json.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_people.h"
#include "sl_project.h"
#include "sl_schema.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_validate.h"
#include "test_store.h"

const sl_argon2_params_t cheap = { 64, 1, 1 };

static char db_path[80];
sl_db_t *db;
static sl_conn_src_t src;
sl_config_t cfg;

/* the tests' source of connections: the one open connection */
sl_conn_src_t *S(void)
{
    sl_conn_single(&src, db, test_pool);
    return &src;
}

/* The test runner's pid names the files, so that the runner can remove
 * what a failed test (which exits at once, without its teardown) left. */
pid_t runner_pid;

void remove_db_files(const char *path)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal", NULL };
    int i;

    for (i = 0; path[0] && suffix[i]; i++) {
        char f[96];
        snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
        unlink(f);
    }
}

void test_store_init(void)
{
    runner_pid = getpid();
}

void test_store_cleanup(void)
{
    glob_t g;
    char pattern[64];
    size_t i;

    snprintf(pattern, sizeof(pattern), "/tmp/siali-unit-%ld-*", (long)runner_pid);
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (i = 0; i < g.gl_pathc; i++) {
            unlink(g.gl_pathv[i]);
        }
        globfree(&g);
    }
}

void store_setup_empty(void)
{
    int fd;

    test_pool_setup();
    snprintf(db_path, sizeof(db_path), "/tmp/siali-unit-%ld-XXXXXX", (long)runner_pid);
    fd = mkstemp(db_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    sl_config_defaults(&cfg, test_pool);
    cfg.hash = cheap;
    ck_assert_int_eq(sl_db_open(&db, "sqlite3", db_path, 0, NULL, test_pool), SL_OK);
}

void store_setup(void)
{
    sl_err_t err = { 0 };
    int from = -1;

    store_setup_empty();
    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_prepare_all(db, &err), SL_OK);
}

void store_teardown(void)
{
    test_pool_teardown();   /* closes the connection */
    db = NULL;
    remove_db_files(db_path);
    db_path[0] = '\0';
}

static int schema_version(void)
{
    int v = -1;

    ck_assert_int_eq(sl_schema_version(db, &v, NULL, test_pool), SL_OK);
    return v;
}

/* the first column of the first row of a query, or NULL */
const char *scalar(const char *sql)
{
    sl_rows_t res;
    sl_err_t err = { 0 };

    ck_assert_msg(sl_db_select_raw(db, test_pool, sql, &res, &err) == SL_OK,
                  "%s: %s", sql, err.message ? err.message : "");
    return res.rows->nelts ? SL_ROW(&res, 0)[0] : NULL;
}

void sql(const char *stmt)
{
    ck_assert_int_eq(sl_db_exec_raw(db, test_pool, stmt, NULL), SL_OK);
}

const char *phc_of(const char *pw)
{
    const char *phc = NULL;

    ck_assert_int_eq(sl_password_hash(&phc, pw, strlen(pw), &cheap, test_pool),
                     APR_SUCCESS);
    return phc;
}

sl_kind_e create(sl_user_t **u, const char *email, const char *username,
                        const char *token, sl_err_t *err)
{
    sl_new_user_t nu = { 0 };

    nu.email = email;
    nu.username = username;
    nu.password_hash = phc_of("password1");
    nu.token = token;
    return sl_account_create(S(), u, &nu, err, test_pool);
}

sl_user_t *create_ok(const char *email)
{
    sl_user_t *u = NULL;
    sl_err_t err = { 0 };

    ck_assert_msg(create(&u, email, NULL, NULL, &err) == SL_OK, "create %s: %s",
                  email, err.message ? err.message : "");
    ck_assert_ptr_nonnull(u);
    return u;
}

const char *login(sl_user_t *u)
{
    const char *cookie = NULL;

    ck_assert_int_eq(sl_session_create(db, &cookie, u->id, &cfg, NULL, test_pool),
                     SL_OK);
    return cookie;
}

sl_kind_e lookup(const char *cookie, const sl_config_t *c)
{
    sl_user_t *u = NULL;
    sl_kind_e k = sl_session_lookup(S(), &u, cookie, c, NULL, test_pool);

    ck_assert(k != SL_OK || u != NULL);
    return k;
}

/* ---- sl_db ---- */

START_TEST(test_db_open_errors)
{
    sl_db_t *other = NULL;
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_db_open(&other, "nosuchdriver", "x", 0, &err, test_pool), SL_EDB);
    ck_assert_ptr_null(other);
    ck_assert_ptr_nonnull(strstr(err.message, "nosuchdriver"));
    ck_assert_int_eq(sl_db_open(&other, "sqlite3", "/nonexistent-dir/x/siali.db", 0,
                                &err, test_pool), SL_EDB);
    ck_assert_ptr_null(other);
}
END_TEST

START_TEST(test_db_transaction_rollback)
{
    sl_err_t err = { 0 };

    sql("CREATE TABLE t (x INTEGER)");
    ck_assert_int_eq(sl_db_tx_begin(db, &err), SL_OK);
    ck_assert_int_eq(sl_db_tx_open(db), 1);
    sql("INSERT INTO t (x) VALUES (1)");
    ck_assert_int_eq(sl_db_tx_end(db, 0, &err), SL_OK);
    ck_assert_int_eq(sl_db_tx_open(db), 0);
    ck_assert_str_eq(scalar("SELECT count(*) FROM t"), "0");
    ck_assert_int_eq(sl_db_tx_begin(db, &err), SL_OK);
    sql("INSERT INTO t (x) VALUES (2)");
    ck_assert_int_eq(sl_db_tx_end(db, 1, &err), SL_OK);
    ck_assert_str_eq(scalar("SELECT x FROM t"), "2");
}
END_TEST

START_TEST(test_db_times)
{
    ck_assert_int_ge(sl_now(), 1700000000);
    ck_assert_str_eq(sl_i64(-42, test_pool), "-42");
    ck_assert_str_eq(sl_iso_time("0", test_pool), "1970-01-01T00:00:00Z");
    ck_assert_str_eq(sl_iso_time("951782400", test_pool), "2000-02-29T00:00:00Z");
    ck_assert_ptr_null(sl_iso_time(NULL, test_pool));
    ck_assert_ptr_null(sl_iso_time("", test_pool));
}
END_TEST

/* ---- sl_schema ---- */

START_TEST(test_schema_migrate_empty)
{
    sl_err_t err = { 0 };
    int from = -1;

    ck_assert_int_eq(schema_version(), 0);
    /* the statements need the tables */
    ck_assert_int_eq(sl_db_prepare_all(db, &err), SL_EDB);
    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_OK);
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(schema_version(), SL_SCHEMA_VERSION);
    ck_assert_str_eq(scalar("SELECT count(*) FROM organization"), "1");
    ck_assert_str_eq(scalar("PRAGMA journal_mode"), "wal");
    /* again: nothing to do, nothing duplicated */
    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_OK);
    ck_assert_int_eq(from, SL_SCHEMA_VERSION);
    ck_assert_int_eq(schema_version(), SL_SCHEMA_VERSION);
    ck_assert_str_eq(scalar("SELECT count(*) FROM organization"), "1");
    ck_assert_int_eq(sl_db_prepare_all(db, &err), SL_OK);
}
END_TEST

START_TEST(test_schema_migrate_from_old_version)
{
    sl_err_t err = { 0 };
    const char *token;
    int from = -1;

    ck_assert_int_eq(sl_schema_migrate(db, 1, &from, &err, test_pool), SL_OK);
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(schema_version(), 1);
    ck_assert_str_eq(scalar("SELECT count(*) FROM sqlite_master "
                            "WHERE name = 'login_failures'"), "0");
    token = scalar("SELECT invite_token FROM organization");
    ck_assert_ptr_nonnull(token);
    /* an old database: the next start migrates the rest */
    sl_db_close(db);
    ck_assert_int_eq(sl_db_open(&db, "sqlite3", db_path, 0, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_OK);
    ck_assert_int_eq(from, 1);
    ck_assert_int_eq(schema_version(), SL_SCHEMA_VERSION);
    ck_assert_str_eq(scalar("SELECT count(*) FROM sqlite_master "
                            "WHERE name = 'login_failures'"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM organization"), "1");
    ck_assert_str_eq(scalar("SELECT invite_token FROM organization"), token);
    ck_assert_int_eq(sl_db_prepare_all(db, &err), SL_OK);
}
END_TEST

/* every start merges SQLite's search index into one segment: one segment
 * per account's transaction, a dozen at 100,000 accounts, made phrases read
 * each of them */
START_TEST(test_schema_start_merges_search_index)
{
    sl_err_t err = { 0 };
    int i;

    ck_assert_int_eq(sl_schema_migrate(db, 0, NULL, &err, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_prepare_all(db, &err), SL_OK);
    for (i = 0; i < 12; i++) {
        create_ok(apr_psprintf(test_pool, "merge%d@example.org", i));
    }
    ck_assert_int_gt(atoi(scalar("SELECT count(DISTINCT segid) FROM user_search_idx")), 1);
    ck_assert_int_eq(sl_schema_migrate(db, 0, NULL, &err, test_pool), SL_OK);
    ck_assert_str_eq(scalar("SELECT count(DISTINCT segid) FROM user_search_idx"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM user_search WHERE doc MATCH '\"merge1\"'"),
                     "3");     /* merge1, merge10, merge11 */
}
END_TEST

START_TEST(test_schema_refuses_newer_database)
{
    sl_err_t err = { 0 };
    int from = -1;

    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_OK);
    sql("UPDATE schema_version SET version = 99");
    ck_assert_int_eq(sl_schema_migrate(db, 0, &from, &err, test_pool), SL_EDB);
    ck_assert_int_eq(from, 99);
    ck_assert_ptr_nonnull(strstr(err.message, "99"));
    ck_assert_int_eq(schema_version(), 99);
}
END_TEST

/* one TCase per core file, the tests in a NULL-terminated list */
void add_tcase(Suite *s, const char *name, void (*setup)(void),
                      const TTest *const *tests)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, store_teardown);
    tcase_set_timeout(tc, 30);
    for (; *tests; tests++) {
        tcase_add_test(tc, *tests);
    }
    suite_add_tcase(s, tc);
}

Suite *test_store_suite(void)
{
    Suite *s = suite_create("store");
    const TTest *db_tests[] = {
        test_db_open_errors, test_db_transaction_rollback, test_db_times, NULL
    };
    const TTest *schema_tests[] = {
        test_schema_migrate_empty, test_schema_migrate_from_old_version,
        test_schema_start_merges_search_index,
        test_schema_refuses_newer_database, NULL
    };

    add_tcase(s, "sl_db", store_setup_empty, db_tests);
    add_tcase(s, "sl_schema", store_setup_empty, schema_tests);
    return s;
}
