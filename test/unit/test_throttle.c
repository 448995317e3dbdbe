/* sl_throttle (budgets counted in the database, the per-process blocklist)
 * and sl_dbfile (the SQLite files on disk), on real files. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>

#include "test_core.h"
#include "sl_dbfile.h"
#include "sl_schema.h"
#include "sl_throttle.h"

static char dir[80];
static sl_db_t *db;

static void setup(void)
{
    test_pool_setup();
    snprintf(dir, sizeof(dir), "/tmp/siali-unit-%ld-XXXXXX", (long)getpid());
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    test_pool_teardown();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void open_db(void)
{
    const char *path = apr_pstrcat(test_pool, dir, "/t.db", NULL);
    int created = 0;

    ck_assert_ptr_null(sl_dbfile_create(path, &created, test_pool));
    ck_assert_int_eq(sl_db_open(&db, "sqlite3", path, 0, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_schema_migrate(db, 0, NULL, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_prepare_all(db, NULL), SL_OK);
}

START_TEST(test_throttle_count_budget)
{
    apr_int64_t retry = -1;
    sl_err_t err;
    int i;

    open_db();
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(sl_throttle_count(db, "signup", "10.0.0.1", 3, 60, &retry, &err,
                                           test_pool), SL_OK);
        ck_assert_int_eq(retry, 0);
    }
    ck_assert_int_eq(sl_throttle_count(db, "signup", "10.0.0.1", 3, 60, &retry, &err,
                                       test_pool), SL_ETHROTTLED);
    ck_assert_int_gt(retry, 0);
    ck_assert_int_le(retry, 60);
    /* other subjects, other kinds: their own budgets */
    ck_assert_int_eq(sl_throttle_count(db, "signup", "10.0.0.2", 3, 60, &retry, &err,
                                       test_pool), SL_OK);
    ck_assert_int_eq(sl_throttle_count(db, "auth", "10.0.0.1", 3, 60, &retry, &err,
                                       test_pool), SL_OK);
    /* a window that ended starts again */
    ck_assert_int_eq(sl_db_exec_raw(db, test_pool, "UPDATE login_failures SET window_start "
                                    "= window_start - 61 WHERE kind = 'signup'", NULL), SL_OK);
    ck_assert_int_eq(sl_throttle_count(db, "signup", "10.0.0.1", 3, 60, &retry, &err,
                                       test_pool), SL_OK);
}
END_TEST

/* a second factor's codes: fewer failures for the account than the login
 * budget allows, the address on the login budget */
START_TEST(test_throttle_account_max)
{
    sl_throttle_key_t key = { "totp:7", "10.0.0.9", 5 };
    sl_throttle_key_t other = { "totp:8", "10.0.0.9", 5 };
    sl_config_t cfg;
    apr_int64_t retry = 0;
    sl_err_t err;
    int i;

    open_db();
    sl_config_defaults(&cfg, test_pool);
    ck_assert_int_eq(cfg.throttle_max, 10);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sl_throttle_reserve(db, &key, &cfg, &retry, &err, test_pool), SL_OK);
    }
    ck_assert_int_eq(sl_throttle_reserve(db, &key, &cfg, &retry, &err, test_pool),
                     SL_ETHROTTLED);
    ck_assert_int_gt(retry, 0);
    /* another member from the same address: the address has room left */
    ck_assert_int_eq(sl_throttle_reserve(db, &other, &cfg, &retry, &err, test_pool), SL_OK);
    /* 0: the login budget, as before */
    key.account = "login:x";
    key.account_max = 0;
    key.address = "10.0.0.10";
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(sl_throttle_reserve(db, &key, &cfg, &retry, &err, test_pool), SL_OK);
    }
    ck_assert_int_eq(sl_throttle_reserve(db, &key, &cfg, &retry, &err, test_pool),
                     SL_ETHROTTLED);
}
END_TEST

START_TEST(test_throttle_blocklist)
{
    sl_blocklist_t *b = sl_blocklist_create(3, test_pool);
    int i;

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(sl_blocklist_left(b, "10.0.0.1", 100), 0);
    sl_blocklist_add(b, "10.0.0.1", 130, 100);
    ck_assert_int_eq(sl_blocklist_left(b, "10.0.0.1", 100), 30);
    ck_assert_int_eq(sl_blocklist_left(b, "10.0.0.1", 129), 1);
    ck_assert_int_eq(sl_blocklist_left(b, "10.0.0.1", 130), 0);
    ck_assert_int_eq(sl_blocklist_left(b, "10.0.0.2", 100), 0);
    /* bounded: it starts again rather than grow */
    for (i = 0; i < 10; i++) {
        sl_blocklist_add(b, apr_psprintf(test_pool, "192.0.2.%d", i), 1000, 100);
        ck_assert_int_eq(sl_blocklist_left(b, apr_psprintf(test_pool, "192.0.2.%d", i), 100),
                         900);
    }
    ck_assert_int_eq(sl_blocklist_left(NULL, "x", 1), 0);
}
END_TEST

START_TEST(test_dbfile_modes_whatever_the_umask)
{
    const char *path = apr_pstrcat(test_pool, dir, "/new/siali.db", NULL);
    mode_t old = umask(0);
    struct stat st;
    int created = 0;
    FILE *f;

    ck_assert_ptr_null(sl_dbfile_create(path, &created, test_pool));
    umask(old);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(apr_pstrcat(test_pool, dir, "/new", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0750);
    /* side files an older version made 0644 are tightened */
    f = fopen(apr_pstrcat(test_pool, path, "-wal", NULL), "w");
    fclose(f);
    chmod(apr_pstrcat(test_pool, path, "-wal", NULL), 0644);
    ck_assert_ptr_null(sl_dbfile_hand_over(path, (uid_t)-1, (gid_t)-1, 0, test_pool));
    ck_assert_int_eq(stat(apr_pstrcat(test_pool, path, "-wal", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* an existing file is kept as it is (created again: no) */
    ck_assert_ptr_null(sl_dbfile_create(path, &created, test_pool));
    ck_assert_int_eq(created, 0);
}
END_TEST

START_TEST(test_dbfile_lock_says_in_use)
{
    const char *path = apr_pstrcat(test_pool, dir, "/l.db", NULL);
    apr_pool_t *held;
    struct stat st;

    ck_assert_int_eq(sl_dbfile_in_use(path, test_pool), 0);
    apr_pool_create(&held, test_pool);
    ck_assert_int_eq(sl_dbfile_hold(path, held), APR_SUCCESS);
    ck_assert_int_eq(stat(apr_pstrcat(test_pool, path, ".lock", NULL), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* a shared lock of another process: flock locks of one open file
     * description do not conflict within a process, so ask from a child */
    if (fork() == 0) {
        _exit(sl_dbfile_in_use(path, test_pool) ? 0 : 1);
    }
    else {
        int status;
        wait(&status);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    apr_pool_destroy(held);
    ck_assert_int_eq(sl_dbfile_in_use(path, test_pool), 0);
}
END_TEST

START_TEST(test_throttle_address_subjects)
{
    ck_assert_str_eq(sl_throttle_address("192.0.2.7", test_pool), "192.0.2.7");
    ck_assert_str_eq(sl_throttle_address("::ffff:192.0.2.7", test_pool), "192.0.2.7");
    /* one host has its whole /64: one budget for all of it */
    ck_assert_str_eq(sl_throttle_address("2001:db8:1:2:3:4:5:6", test_pool), "2001:db8:1:2::/64");
    ck_assert_str_eq(sl_throttle_address("2001:DB8:1:2::ffff", test_pool), "2001:db8:1:2::/64");
    ck_assert_str_eq(sl_throttle_address("2001:0db8:0001:0002:0:0:0:1", test_pool),
                     "2001:db8:1:2::/64");
    ck_assert_str_eq(sl_throttle_address("not an address", test_pool), "not an address");
    ck_assert_ptr_null(sl_throttle_address(NULL, test_pool));
}
END_TEST

/* The change stamp: a bump in another process (a fork, as httpd's
 * children and the siali command are) is a new value here; a shortened
 * file is read without harm as "changed, every time"; a file put in its
 * place is followed; the lock still locks; a symbolic link is refused. */
START_TEST(test_dbfile_counter_shared_by_processes)
{
    const char *path = apr_pstrcat(test_pool, dir, "/c.db", NULL);
    const char *lock = apr_pstrcat(test_pool, path, ".lock", NULL);
    const char *other = apr_pstrcat(test_pool, dir, "/new.lock", NULL);
    sl_dbfile_counter_t *a = NULL, *b = NULL;
    apr_uint64_t v, w;
    struct stat st;
    pid_t pid;
    int status, fd;

    ck_assert_ptr_null(sl_dbfile_counter_open(path, &a, test_pool));
    ck_assert_int_eq(stat(lock, &st), 0);
    ck_assert_int_eq(st.st_size, 8);
    ck_assert_int_eq(st.st_mode & 0777, SL_DBFILE_MODE);
    v = sl_dbfile_counter_read(a);
    ck_assert_uint_eq(sl_dbfile_counter_read(a), v);
    pid = fork();
    if (pid == 0) {
        apr_pool_t *cp;
        sl_dbfile_counter_t *c;

        apr_pool_create(&cp, NULL);
        if (sl_dbfile_counter_open(path, &c, cp)) {
            _exit(1);
        }
        sl_dbfile_counter_bump(c);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    w = sl_dbfile_counter_read(a);
    ck_assert_uint_ne(w, v);
    /* a second opening here shares it; opening changes nothing */
    ck_assert_ptr_null(sl_dbfile_counter_open(path, &b, test_pool));
    ck_assert_uint_eq(sl_dbfile_counter_read(b), w);
    sl_dbfile_counter_bump(b);
    ck_assert_uint_ne(sl_dbfile_counter_read(a), w);
    /* shortened under a reader: no signal, a new value at every read */
    ck_assert_int_eq(truncate(lock, 0), 0);
    v = sl_dbfile_counter_read(a);
    ck_assert_uint_ne(sl_dbfile_counter_read(a), v);
    sl_dbfile_counter_bump(b);
    v = sl_dbfile_counter_read(a);
    ck_assert_uint_eq(sl_dbfile_counter_read(a), v);
    /* another file under the name (a restored folder): followed within
     * a second, and a bump there is seen here */
    fd = open(other, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(rename(other, lock), 0);
    usleep(1100 * 1000);
    w = sl_dbfile_counter_read(a);
    ck_assert_uint_ne(w, v);
    ck_assert_int_eq(stat(lock, &st), 0);
    ck_assert_int_eq(st.st_size, 8);
    /* the lock file is still the lock */
    ck_assert_int_eq(sl_dbfile_hold(path, test_pool), APR_SUCCESS);
    ck_assert_int_eq(sl_dbfile_in_use(path, test_pool), 1);
    /* never through a link */
    ck_assert_int_eq(symlink("/tmp/elsewhere", apr_pstrcat(test_pool, dir, "/l.db.lock",
                                                           NULL)), 0);
    ck_assert_ptr_nonnull(sl_dbfile_counter_open(apr_pstrcat(test_pool, dir, "/l.db", NULL),
                                                 &b, test_pool));
    ck_assert_ptr_null(b);
}
END_TEST

Suite *test_throttle_suite(void)
{
    Suite *s = suite_create("throttle");
    TCase *tc = tcase_create("sl_throttle");
    TCase *tf = tcase_create("sl_dbfile");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_throttle_count_budget);
    tcase_add_test(tc, test_throttle_account_max);
    tcase_add_test(tc, test_throttle_blocklist);
    tcase_add_test(tc, test_throttle_address_subjects);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_dbfile_modes_whatever_the_umask);
    tcase_add_test(tf, test_dbfile_lock_says_in_use);
    tcase_add_test(tf, test_dbfile_counter_shared_by_processes);
    suite_add_tcase(s, tf);
    return s;
}
