/* sl_conn (units of work) and the transaction half of sl_db, on real
 * SQLite files: connections always given back, transactions ended on
 * their connection, busy work run again within the budget, stale
 * statements prepared again, best-effort writes that never wait. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <sqlite3.h>

#include "test_core.h"
#include "sl_conn.h"
#include "sl_lock.h"
#include "sl_schema.h"

static char path[80];
static sl_db_t *db;

/* a source that counts what it hands out */
typedef struct {
    sl_conn_src_t src;
    int acquired, released;
    int refuse;          /* acquire fails this many times */
} counting_t;

static sl_kind_e count_acquire(sl_conn_src_t *src, sl_db_t **out, apr_interval_time_t wait,
                               sl_err_t *err)
{
    counting_t *c = (counting_t *)src;

    if (c->refuse > 0) {
        c->refuse--;
        return sl_err_set(err, SL_EDB, NULL, "refused");
    }
    c->acquired++;
    *out = db;
    return SL_OK;
}

static void count_release(sl_conn_src_t *src, sl_db_t *d)
{
    ((counting_t *)src)->released++;
}

static void counting(counting_t *c, apr_interval_time_t wait)
{
    memset(c, 0, sizeof(*c));
    c->src.acquire = count_acquire;
    c->src.release = count_release;
    c->src.wait = wait;
    c->src.pool = test_pool;
}

static void setup(void)
{
    int fd;

    test_pool_setup();
    snprintf(path, sizeof(path), "/tmp/siali-unit-%ld-XXXXXX", (long)getpid());
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sl_db_open(&db, "sqlite3", path, 0, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_schema_migrate(db, 0, NULL, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_prepare_all(db, NULL), SL_OK);
    ck_assert_int_eq(sl_db_exec_raw(db, test_pool, "CREATE TABLE t (x INTEGER)", NULL), SL_OK);
}

static void teardown(void)
{
    char f[96];
    const char *sfx[] = { "", "-wal", "-shm", NULL };
    int i;

    test_pool_teardown();
    for (i = 0; sfx[i]; i++) {
        snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
        unlink(f);
    }
}

static const char *count_t(void)
{
    sl_rows_t res;

    ck_assert_int_eq(sl_db_select_raw(db, test_pool, "SELECT count(*) FROM t", &res, NULL),
                     SL_OK);
    return SL_ROW(&res, 0)[0];
}

typedef struct {
    int calls;
    int busy_times;      /* return SL_EBUSY this many times first */
    sl_kind_e answer;
} work_t;

static sl_kind_e insert_then(sl_db_t *d, void *baton, sl_err_t *err, apr_pool_t *p)
{
    work_t *w = baton;

    w->calls++;
    if (sl_db_exec_raw(d, p, "INSERT INTO t (x) VALUES (1)", err) != SL_OK) {
        return err->kind;
    }
    if (w->busy_times > 0) {
        w->busy_times--;
        return sl_err_set(err, SL_EBUSY, NULL, "busy");
    }
    return w->answer ? sl_err_set(err, w->answer, NULL, "no") : SL_OK;
}

START_TEST(test_conn_write_commits_or_rolls_back)
{
    counting_t c;
    work_t w = { 0, 0, SL_OK };
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_OK);
    ck_assert_str_eq(count_t(), "1");
    w.answer = SL_EINVALID;
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_EINVALID);
    ck_assert_str_eq(count_t(), "1");          /* rolled back */
    ck_assert_int_eq(sl_db_tx_open(db), 0);
    ck_assert_int_eq(c.acquired, 2);
    ck_assert_int_eq(c.released, 2);
    ck_assert_int_eq(c.src.open, 0);
}
END_TEST

START_TEST(test_conn_busy_runs_again)
{
    counting_t c;
    work_t w = { 0, 3, SL_OK };
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_OK);
    ck_assert_int_eq(w.calls, 4);
    /* three rolled back, one kept: the work ran from the start each time */
    ck_assert_str_eq(count_t(), "1");
    ck_assert_int_eq(c.acquired, 4);
    ck_assert_int_eq(c.released, 4);
    /* past the budget: busy, and still every connection back */
    counting(&c, 20 * 1000);
    w.calls = 0;
    w.busy_times = 1000000;
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_EBUSY);
    ck_assert_int_gt(w.calls, 1);
    ck_assert_int_eq(c.acquired, c.released);
    ck_assert_str_eq(count_t(), "1");
}
END_TEST

START_TEST(test_conn_broken_acquire_tried_again_then_unavailable)
{
    counting_t c;
    work_t w = { 0, 0, SL_OK };
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    c.refuse = 1;
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, insert_then, &w, &err, test_pool),
                     SL_OK);
    ck_assert_int_eq(w.calls, 1);
    counting(&c, SL_CONN_WAIT_DEFAULT);
    c.refuse = 100;
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, insert_then, &w, &err, test_pool),
                     SL_EDB);
    ck_assert_int_le(100 - c.refuse, 4);      /* a down database is not hammered */
    ck_assert_int_eq(c.acquired, 0);
}
END_TEST

static sl_kind_e nested(sl_db_t *d, void *baton, sl_err_t *err, apr_pool_t *p)
{
    work_t w = { 0, 0, SL_OK };

    return sl_conn_run(baton, SL_CONN_READ, insert_then, &w, err, p);
}

START_TEST(test_conn_no_unit_inside_a_unit)
{
    counting_t c;
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, nested, &c.src, &err, test_pool),
                     SL_EINTERNAL);
    ck_assert_int_eq(c.acquired, c.released);
    ck_assert_int_eq(sl_db_tx_open(db), 0);
}
END_TEST

/* work that goes on after a failed statement still loses its transaction */
static sl_kind_e ignores_a_failure(sl_db_t *d, void *baton, sl_err_t *err, apr_pool_t *p)
{
    sl_db_exec_raw(d, p, "INSERT INTO t (x) VALUES (7)", NULL);
    sl_db_exec_raw(d, p, "INSERT INTO no_such_table VALUES (1)", NULL);
    return SL_OK;
}

START_TEST(test_conn_failed_statement_rolls_back)
{
    counting_t c;
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, ignores_a_failure, NULL, &err,
                                 test_pool), SL_EDB);
    ck_assert_str_eq(count_t(), "0");
    ck_assert_int_eq(sl_db_tx_open(db), 0);
}
END_TEST

static sl_kind_e select_org(sl_db_t *d, void *baton, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;

    return sl_db_select(d, p, "siali_org_get", &res, 0, NULL, err);
}

START_TEST(test_conn_stale_statement_prepared_again)
{
    counting_t c;
    sl_db_t *other;
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, select_org, NULL, &err, test_pool),
                     SL_OK);
    /* another connection changes the schema: the legacy statements go stale */
    ck_assert_int_eq(sl_db_open(&other, "sqlite3", path, 0, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_exec_raw(other, test_pool, "CREATE INDEX t_x ON t (x)", NULL),
                     SL_OK);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, select_org, NULL, &err, test_pool),
                     SL_OK);
    ck_assert_int_eq(sl_db_exec_raw(other, test_pool, "DROP INDEX t_x", NULL), SL_OK);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, select_org, NULL, &err, test_pool),
                     SL_OK);
    sl_db_close(other);
}
END_TEST

typedef struct {
    int allowed;
} maybe_t;

static sl_kind_e best_effort(sl_db_t *d, void *baton, sl_err_t *err, apr_pool_t *p)
{
    maybe_t *m = baton;

    if ((m->allowed = sl_conn_may_write(d))) {
        sl_db_exec_raw(d, p, "INSERT INTO t (x) VALUES (3)", NULL);
    }
    return sl_err_set(err, SL_EDENIED, NULL, "answered no, but the write stays");
}

START_TEST(test_conn_best_effort_write_never_waits)
{
    counting_t c;
    maybe_t m = { -1 };
    sqlite3 *outside;
    sl_err_t err;

    counting(&c, SL_CONN_WAIT_DEFAULT);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, best_effort, &m, &err, test_pool),
                     SL_EDENIED);
    ck_assert_int_eq(m.allowed, 1);
    ck_assert_str_eq(count_t(), "1");          /* kept though the unit said no */
    /* a writer outside holds the lock: no write, and no wait for it */
    ck_assert_int_eq(sqlite3_open(path, &outside), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(outside, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    {
        apr_time_t t = apr_time_now();
        ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_READ, best_effort, &m, &err, test_pool),
                         SL_EDENIED);
        ck_assert_int_eq(m.allowed, 0);
        /* the connection's own 5 s busy timeout was not used for it */
        ck_assert_int_lt(apr_time_now() - t, apr_time_from_sec(2));
    }
    sqlite3_exec(outside, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(outside);
    ck_assert_str_eq(count_t(), "1");
    ck_assert_int_eq(sl_db_tx_open(db), 0);
}
END_TEST

START_TEST(test_conn_writer_lock_waits_within_budget)
{
    counting_t c;
    sl_lock_t *lock;
    work_t w = { 0, 0, SL_OK };
    sl_err_t err;

    ck_assert_int_eq(sl_lock_create(&lock, test_pool), APR_SUCCESS);
    counting(&c, 50 * 1000);
    c.src.write_lock = lock;
    ck_assert_int_eq(sl_lock_acquire(lock, 0, NULL), APR_SUCCESS);   /* another writer */
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_EBUSY);
    ck_assert_int_eq(w.calls, 0);
    ck_assert_int_eq(c.acquired, c.released);
    sl_lock_release(lock);
    ck_assert_int_eq(sl_conn_run(&c.src, SL_CONN_WRITE, insert_then, &w, &err, test_pool),
                     SL_OK);
    /* and it was given back: taken again at once */
    ck_assert_int_eq(sl_lock_acquire(lock, 0, NULL), APR_SUCCESS);
    sl_lock_release(lock);
}
END_TEST

Suite *test_conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("sl_conn");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_conn_write_commits_or_rolls_back);
    tcase_add_test(tc, test_conn_busy_runs_again);
    tcase_add_test(tc, test_conn_broken_acquire_tried_again_then_unavailable);
    tcase_add_test(tc, test_conn_no_unit_inside_a_unit);
    tcase_add_test(tc, test_conn_failed_statement_rolls_back);
    tcase_add_test(tc, test_conn_stale_statement_prepared_again);
    tcase_add_test(tc, test_conn_best_effort_write_never_waits);
    tcase_add_test(tc, test_conn_writer_lock_waits_within_budget);
    suite_add_tcase(s, tc);
    return s;
}
