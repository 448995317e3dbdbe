#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <sqlite3.h>
#include <libpq-fe.h>

#include "sl_db.h"
#include "sl_log.h"
#include "sl_sql.h"

void sl_db_wrap(sl_db_t *db, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                apr_hash_t *prepared, apr_pool_t *p)
{
    memset(db, 0, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->pool = p;
    db->avatar_base = SL_AVATAR_BASE;
    db->is_pgsql = !strcmp(apr_dbd_name(driver), "pgsql");
}

/* The first line of a driver message (PostgreSQL's verbose form adds
 * DETAIL lines that may quote values, and the log wants one line). */
static const char *first_line(const char *msg, apr_pool_t *p)
{
    const char *nl;

    if (!msg) {
        return "";
    }
    nl = strchr(msg, '\n');
    return nl ? apr_pstrmemdup(p, msg, nl - msg) : msg;
}

/* PostgreSQL's SQLSTATE from a verbose message: "ERROR:  40P01: ...". */
static const char *pg_sqlstate(const char *msg, char state[6])
{
    const char *c = msg ? strstr(msg, ":  ") : NULL;
    int i;

    if (!c) {
        return NULL;
    }
    c += 3;
    for (i = 0; i < 5; i++) {
        if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'A' && c[i] <= 'Z'))) {
            return NULL;
        }
        state[i] = c[i];
    }
    state[5] = '\0';
    return c[5] == ':' ? state : NULL;
}

/* What a failure means for the unit of work that met it. */
static sl_kind_e classify(sl_db_t *db, int rc, const char *msg)
{
    if (db->is_pgsql) {
        PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
        char buf[6];
        const char *st = pg_sqlstate(msg, buf);

        /* the connection broke (a restart, a killed backend, a failover):
         * mod_dbd's next check resets it, and the unit runs again */
        if (!conn || PQstatus(conn) != CONNECTION_OK
            || (st && (!strncmp(st, "08", 2) || !strcmp(st, "57P01")
                       || !strcmp(st, "57P02") || !strcmp(st, "57P03")))) {
            return SL_ELOST;
        }
        if (!st) {
            return SL_EDB;
        }
        /* serialization failure, deadlock, lock not available (lock_timeout),
         * a statement that ran past statement_timeout, a unique or foreign
         * key that a concurrent transaction changed first: run it again */
        if (!strcmp(st, "40001") || !strcmp(st, "40P01") || !strcmp(st, "55P03")
            || !strcmp(st, "57014") || !strcmp(st, "23505") || !strcmp(st, "23503")) {
            return SL_EBUSY;
        }
        /* the statement is not prepared on this connection (libpq's PQreset
         * in mod_dbd's connection check drops them all), or its plan no
         * longer fits a changed table */
        if (!strcmp(st, "26000") || !strcmp(st, "0A000")) {
            return SL_ESTALE;
        }
        return SL_EDB;
    }
    else {
        sqlite3 *conn = apr_dbd_native_handle(db->driver, db->handle);
        int code = conn ? sqlite3_errcode(conn) : SQLITE_ERROR;

        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || code == SQLITE_BUSY
            || code == SQLITE_LOCKED) {
            return SL_EBUSY;
        }
        /* a statement from the legacy sqlite3_prepare after another
         * connection changed the schema: SQLITE_SCHEMA once, then a bare
         * SQLITE_ERROR that says "not an error" */
        if (code == SQLITE_SCHEMA || (rc == SQLITE_ERROR && code == SQLITE_OK)) {
            return SL_ESTALE;
        }
        /* a unique index: with one writer at a time this is a race with
         * a writer outside this server (the CLI); the unit runs again */
        if (code == SQLITE_CONSTRAINT) {
            return SL_EBUSY;
        }
        return SL_EDB;
    }
}

static sl_kind_e kind_error(sl_kind_e k, sl_err_t *err)
{
    return sl_err_set(err, k, NULL, k == SL_EBUSY
                      ? "The database is busy right now; try again shortly."
                      : "The database is not available right now.");
}

static sl_kind_e db_fail(sl_db_t *db, int rc, const char *what, sl_err_t *err)
{
    /* never the connection's own pool: it lives as long as the connection */
    apr_pool_t *p = db->scratch ? db->scratch : db->pool;
    const char *msg = first_line(db->handle ? apr_dbd_error(db->driver, db->handle, rc)
                                 : "no connection", p);
    sl_kind_e k = classify(db, rc, msg);

    if (db->in_tx) {
        /* what failed first decides: later statements of an aborted
         * PostgreSQL transaction only say "aborted" (25P02) */
        if (db->tx_failed) {
            k = db->tx_failed == SL_ELOST ? SL_ELOST : (k == SL_ELOST ? k : db->tx_failed);
        }
        db->tx_failed = k;
    }
    if (db->src) {
        /* inside a unit of work: it retries, or logs once when it gives up */
        db->failed_what = what;
        db->failed_msg = apr_psprintf(p, "(%d) %s", rc, msg);
        SL_LOG(SL_LOG_DEBUG, "SL00105: database %s in %s (%d): %s",
               sl_err_kind_name(k), what, rc, msg);
    }
    else {
        SL_LOG(SL_LOG_ERR, "SL00101: database error in %s (%d): %s", what, rc, msg);
    }
    return kind_error(k, err);
}

sl_kind_e sl_db_conn_init(sl_db_t *db, apr_interval_time_t wait, sl_err_t *err)
{
    sqlite3 *conn;
    char *errmsg = NULL;
    int rc;

    if (db->is_pgsql) {
        PGconn *pg = apr_dbd_native_handle(db->driver, db->handle);
        /* the SQLSTATE in every message: failures are told apart by it
         * (serialization, deadlock, a lost prepared statement), never by
         * text that changes with lc_messages */
        if (pg) {
            PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
        }
        /* a request waits no longer on a row lock or a statement than on
         * the rest of the database (SialiDatabaseWait): apr_dbd's calls
         * cannot be interrupted from here. No JIT: it compiles a deep
         * members page's plan for 7 ms to save microseconds */
        if (pg && wait > 0) {
            long ms = (long)apr_time_as_msec(wait);
            const char *sql = apr_psprintf(db->scratch ? db->scratch : db->pool,
                                           "SET statement_timeout = %ld; "
                                           "SET lock_timeout = %ld; SET jit = off",
                                           ms, ms);
            int n = 0;
            if ((rc = apr_dbd_query(db->driver, db->handle, &n, sql)) != 0) {
                return db_fail(db, rc, "SET statement_timeout", err);
            }
        }
        return SL_OK;
    }
    conn = apr_dbd_native_handle(db->driver, db->handle);
    /* Not foreign_keys: mod_dbd prepares its statements before its
     * post_connect hook runs, and that PRAGMA expires every prepared
     * statement, which apr_dbd (legacy sqlite3_prepare) never recovers
     * from. Deletes of dependent rows are explicit in the SQL instead.
     * synchronous=NORMAL is safe in WAL mode and expires nothing. */
    rc = sqlite3_exec(conn, "PRAGMA synchronous = NORMAL;", NULL, NULL, &errmsg);
    if (rc != SQLITE_OK) {
        SL_LOG(SL_LOG_ERR, "SL00102: SQLite connection settings failed: %s",
               errmsg ? errmsg : sqlite3_errstr(rc));
        sqlite3_free(errmsg);
        return sl_err_set(err, SL_EDB, NULL, "SQLite connection settings failed.");
    }
    return SL_OK;
}

static const char *sql_of(const sl_db_t *db, const char *label)
{
    const sl_sql_stmt_t *st;

    for (st = sl_sql_statements; st->label; st++) {
        if (!strcmp(st->label, label)) {
            return sl_sql_text(st, db->is_pgsql ? "pgsql" : "sqlite3");
        }
    }
    return NULL;
}

/* The pool statements prepared again live in. mod_dbd's connection pool
 * lives as long as the connection: what is prepared into it again after
 * every reconnect grew without end. On PostgreSQL the statements of the
 * previous round go with their own subpool (the server dropped them
 * anyway); apr_dbd_sqlite3 keeps every statement in the connection's pool
 * and finalizes them only at close, so there only the statement that went
 * stale is prepared again (sl_db_exec), and the count is watched. */
#define REPREPARE_POOL "siali:reprepare-pool"
#define REPREPARED "siali:reprepared"
#define REPREPARED_WARN 2000

static void count_reprepared(sl_db_t *db, int n)
{
    int *count = apr_hash_get(db->prepared, REPREPARED, APR_HASH_KEY_STRING);

    if (!count) {
        count = apr_pcalloc(db->pool, sizeof(*count));
        apr_hash_set(db->prepared, REPREPARED, APR_HASH_KEY_STRING, count);
    }
    if (*count < REPREPARED_WARN && *count + n >= REPREPARED_WARN) {
        SL_LOG(SL_LOG_WARNING, "SL00117: a SQLite connection prepared %d statements again "
               "after schema changes (VACUUM, migrations); their memory is freed when "
               "it closes: set MaxConnectionsPerChild or a short DBDExptime", *count + n);
    }
    *count += n;
}

/* One statement prepared again on this connection (SQLite, SL_ESTALE). */
static apr_dbd_prepared_t *reprepare_one(sl_db_t *db, const char *label, sl_err_t *err)
{
    const char *sql = sql_of(db, label);
    apr_dbd_prepared_t *stmt = NULL;
    int rc;

    if (!sql) {
        return NULL;
    }
    if ((rc = apr_dbd_prepare(db->driver, db->pool, db->handle, sql, label, &stmt)) != 0) {
        db_fail(db, rc, label, err);
        return NULL;
    }
    apr_hash_set(db->prepared, label, APR_HASH_KEY_STRING, stmt);
    count_reprepared(db, 1);
    SL_LOG(SL_LOG_INFO, "SL00115: statement %s was stale (a schema change): prepared "
           "again on this connection", label);
    return stmt;
}

sl_kind_e sl_db_prepare_all(sl_db_t *db, sl_err_t *err)
{
    const sl_sql_stmt_t *st;
    apr_pool_t *into = db->pool, *old = NULL;
    apr_hash_t *fresh;
    apr_hash_index_t *hi;
    int again = db->prepared != NULL;

    if (!db->prepared) {
        db->prepared = apr_hash_make(db->pool);
    }
    else if (db->is_pgsql) {
        /* again after a reconnect: whatever survived would refuse its name */
        int n = 0;
        apr_dbd_query(db->driver, db->handle, &n, "DEALLOCATE ALL");
        old = apr_hash_get(db->prepared, REPREPARE_POOL, APR_HASH_KEY_STRING);
        apr_pool_create(&into, db->pool);
    }
    /* all of them first, then in use: a connection that breaks half-way
     * leaves the statements it had (stale, and found so again) rather than
     * names in a pool that is gone */
    fresh = apr_hash_make(into);
    for (st = sl_sql_statements; st->label; st++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rc = apr_dbd_prepare(db->driver, into, db->handle,
                                 sl_sql_text(st, db->is_pgsql ? "pgsql" : "sqlite3"),
                                 st->label, &stmt);
        if (rc) {
            if (into != db->pool) {
                apr_pool_destroy(into);
            }
            return db_fail(db, rc, st->label, err);
        }
        apr_hash_set(fresh, st->label, APR_HASH_KEY_STRING, stmt);
    }
    for (hi = apr_hash_first(into, fresh); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        apr_hash_set(db->prepared, key, APR_HASH_KEY_STRING, val);
    }
    if (into != db->pool) {
        apr_hash_set(db->prepared, REPREPARE_POOL, APR_HASH_KEY_STRING, into);
        if (old) {
            apr_pool_destroy(old);
        }
    }
    if (again && !db->is_pgsql) {
        count_reprepared(db, (int)(st - sl_sql_statements));
    }
    return SL_OK;
}

static apr_status_t db_cleanup(void *data)
{
    sl_db_t *db = data;

    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    return APR_SUCCESS;
}

sl_kind_e sl_db_open(sl_db_t **pdb, const char *driver, const char *params,
                     int prepare, sl_err_t *err, apr_pool_t *p)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *handle = NULL;
    const char *error = NULL;
    sl_db_t *db;
    apr_status_t rv;
    sl_kind_e k;

    apr_dbd_init(p);
    rv = apr_dbd_get_driver(p, driver, &drv);
    if (rv != APR_SUCCESS) {
        return sl_err_set(err, SL_EDB, NULL,
                          apr_psprintf(p, "apr_dbd driver '%s' is not available "
                                       "(install libaprutil1-dbd-%s)", driver, driver));
    }
    rv = apr_dbd_open_ex(drv, p, params, &handle, &error);
    if (rv != APR_SUCCESS || !handle) {
        return sl_err_set(err, SL_EDB, NULL,
                          apr_psprintf(p, "cannot open %s database '%s': %s", driver,
                                       params, error ? error : "open failed"));
    }
    db = apr_pcalloc(p, sizeof(*db));
    sl_db_wrap(db, drv, handle, NULL, p);
    apr_pool_cleanup_register(p, db, db_cleanup, apr_pool_cleanup_null);
    if (!db->is_pgsql) {
        /* a connection of its own (the httpd parent at start or at a
         * graceful restart, the CLI, a test) waits for the children's
         * writers in SQLite itself: it is the process's only thread, so the
         * driver's process-wide mutex held while it waits blocks nobody */
        db->busy_ms = 5000;
        sqlite3_busy_timeout(apr_dbd_native_handle(drv, handle), db->busy_ms);
    }
    k = sl_db_conn_init(db, 0, err);
    if (k == SL_OK && prepare) {
        k = sl_db_prepare_all(db, err);
    }
    if (k != SL_OK) {
        return k;
    }
    *pdb = db;
    return SL_OK;
}

void sl_db_close(sl_db_t *db)
{
    if (db) {
        db_cleanup(db);
    }
}

sl_kind_e sl_db_prepare_extra(sl_db_t *db, const char *label, const char *sql,
                              sl_err_t *err)
{
    apr_dbd_prepared_t *stmt = NULL;
    int rc;

    if (!db->prepared) {
        db->prepared = apr_hash_make(db->pool);
    }
    if ((rc = apr_dbd_prepare(db->driver, db->pool, db->handle, sql, label, &stmt)) != 0) {
        return db_fail(db, rc, label, err);
    }
    apr_hash_set(db->prepared, apr_pstrdup(db->pool, label), APR_HASH_KEY_STRING, stmt);
    return SL_OK;
}

static apr_dbd_prepared_t *stmt_get(sl_db_t *db, const char *label)
{
    return db->prepared ? apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING) : NULL;
}

/* SQLite: a statement that went stale is prepared again and run again at
 * once (it did nothing: SQLite refused it before its first step). 1 when
 * the caller should try again with *stmt. */
static int stale_again(sl_db_t *db, const char *label, apr_dbd_prepared_t **stmt, int rc,
                       int *tried)
{
    sqlite3 *conn;
    int code;

    if (db->is_pgsql || *tried) {
        return 0;
    }
    conn = apr_dbd_native_handle(db->driver, db->handle);
    code = conn ? sqlite3_errcode(conn) : SQLITE_ERROR;
    if (!(code == SQLITE_SCHEMA || (rc == SQLITE_ERROR && code == SQLITE_OK))) {
        return 0;
    }
    *tried = 1;
    return (*stmt = reprepare_one(db, label, NULL)) != NULL;
}

sl_kind_e sl_db_exec(sl_db_t *db, apr_pool_t *p, const char *label, int *nrows,
                     int nargs, const char **args, sl_err_t *err)
{
    apr_dbd_prepared_t *stmt = stmt_get(db, label);
    int n = 0, rc, tried = 0;

    if (!stmt) {
        SL_LOG(SL_LOG_ERR, "SL00103: statement %s is not prepared", label);
        return sl_err_set(err, SL_EINTERNAL, NULL, "statement not prepared");
    }
    while ((rc = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args)) != 0
           && stale_again(db, label, &stmt, rc, &tried))
        ;
    if (rc) {
        return db_fail(db, rc, label, err);
    }
    if (nrows) {
        *nrows = n;
    }
    return SL_OK;
}

static sl_kind_e read_rows(sl_db_t *db, apr_pool_t *p, apr_dbd_results_t *r,
                           sl_rows_t *res)
{
    apr_dbd_row_t *row = NULL;
    int i;

    res->ncols = apr_dbd_num_cols(db->driver, r);
    res->rows = apr_array_make(p, 4, sizeof(const char **));
    /* read to the end, always: a cursor left open holds locks */
    while (apr_dbd_get_row(db->driver, p, r, &row, -1) == 0) {
        const char **cols = apr_pcalloc(p, sizeof(char *) * (res->ncols + 1));
        for (i = 0; i < res->ncols; i++) {
            const char *v = apr_dbd_get_entry(db->driver, row, i);
            cols[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        APR_ARRAY_PUSH(res->rows, const char **) = cols;
    }
    return SL_OK;
}

sl_kind_e sl_db_select(sl_db_t *db, apr_pool_t *p, const char *label,
                       sl_rows_t *res, int nargs, const char **args,
                       sl_err_t *err)
{
    apr_dbd_prepared_t *stmt = stmt_get(db, label);
    apr_dbd_results_t *r = NULL;
    int rc, tried = 0;

    if (!stmt) {
        SL_LOG(SL_LOG_ERR, "SL00104: statement %s is not prepared", label);
        return sl_err_set(err, SL_EINTERNAL, NULL, "statement not prepared");
    }
    while ((rc = apr_dbd_pselect(db->driver, p, db->handle, &r, stmt, 1, nargs, args)) != 0
           && stale_again(db, label, &stmt, rc, &tried))
        r = NULL;
    if (rc) {
        return db_fail(db, rc, label, err);
    }
    return read_rows(db, p, r, res);
}

sl_kind_e sl_db_exec_raw(sl_db_t *db, apr_pool_t *p, const char *sql, sl_err_t *err)
{
    int n = 0, rc = apr_dbd_query(db->driver, db->handle, &n, sql);

    (void)p;
    if (rc) {
        return db_fail(db, rc, sql, err);
    }
    return SL_OK;
}

sl_kind_e sl_db_select_raw(sl_db_t *db, apr_pool_t *p, const char *sql,
                           sl_rows_t *res, sl_err_t *err)
{
    apr_dbd_results_t *r = NULL;
    int rc = apr_dbd_select(db->driver, p, db->handle, &r, sql, 1);

    if (rc) {
        return db_fail(db, rc, sql, err);
    }
    return read_rows(db, p, r, res);
}

sl_kind_e sl_db_select_one(sl_db_t *db, apr_pool_t *p, const char *label,
                           const char ***row, int nargs, const char **args,
                           const char *what, sl_err_t *err)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, label, &res, nargs, args, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, what);
    }
    *row = SL_ROW(&res, 0);
    return SL_OK;
}

static sl_kind_e tx_query(sl_db_t *db, const char *sql, sl_err_t *err)
{
    int n = 0, rc = apr_dbd_query(db->driver, db->handle, &n, sql);

    return rc ? db_fail(db, rc, sql, err) : SL_OK;
}

/* SQLite's BEGIN IMMEDIATE on the native handle: apr_dbd's driver would
 * poll a database locked by another process 16 times 100 ms whatever the
 * unit's budget; here the wait ends at db->deadline (0: only the busy
 * timeout of a connection of our own; wait < 0: no wait at all). */
static int sqlite_begin(sl_db_t *db, apr_interval_time_t wait)
{
    sqlite3 *conn = apr_dbd_native_handle(db->driver, db->handle);
    apr_interval_time_t nap = 1000;
    int rc;

    for (;;) {
        rc = sqlite3_exec(conn, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_BUSY || wait < 0 || !db->deadline
            || apr_time_now() + nap >= db->deadline) {
            return rc;
        }
        apr_sleep(nap);
        nap = nap < 32000 ? nap * 2 : nap;
    }
}

sl_kind_e sl_db_tx_begin(sl_db_t *db, sl_err_t *err)
{
    sl_kind_e k;
    int rc;

    db->tx_failed = SL_OK;
    if (!db->is_pgsql) {
        if ((rc = sqlite_begin(db, 0)) != SQLITE_OK) {
            return db_fail(db, rc, "BEGIN IMMEDIATE", err);
        }
        db->in_tx = 1;
        return SL_OK;
    }
    if ((k = tx_query(db, "BEGIN", err)) != SL_OK) {
        /* a BEGIN that failed half-way leaves nothing open, but say so
         * to the driver in any case */
        if (sl_db_tx_open(db)) {
            tx_query(db, "ROLLBACK", NULL);
        }
        return k;
    }
    db->in_tx = 1;
    return SL_OK;
}

int sl_db_pg_lock_wait(sl_db_t *db, long ms)
{
    char sql[48];
    int n = 0;

    if (!db->is_pgsql) {
        return 0;
    }
    snprintf(sql, sizeof(sql), "SET lock_timeout = %ld", ms > 0 ? ms : 0L);
    return apr_dbd_query(db->driver, db->handle, &n, sql) == 0;
}

int sl_db_pg_custom_plans(sl_db_t *db, int on)
{
    int n = 0;

    if (!db->is_pgsql) {
        return 0;
    }
    return apr_dbd_query(db->driver, db->handle, &n, on ? "SET plan_cache_mode = "
                         "force_custom_plan" : "RESET plan_cache_mode") == 0;
}

int sl_db_tx_try_begin(sl_db_t *db)
{
    sqlite3 *conn;
    int rc;

    if (db->in_tx) {
        return 1;
    }
    if (db->is_pgsql) {
        return 0;
    }
    /* not even SQLite's busy handler (a connection of our own has one) */
    conn = apr_dbd_native_handle(db->driver, db->handle);
    sqlite3_busy_timeout(conn, 0);
    rc = sqlite_begin(db, -1);
    sqlite3_busy_timeout(conn, db->busy_ms);
    if (rc != SQLITE_OK) {
        return 0;
    }
    db->tx_failed = SL_OK;
    db->in_tx = 1;
    return 1;
}

sl_kind_e sl_db_tx_end(sl_db_t *db, int commit, sl_err_t *err)
{
    sl_kind_e k = SL_OK, failed = db->tx_failed;

    if (!db->in_tx) {
        return SL_OK;
    }
    /* COMMIT and ROLLBACK below are not part of the work */
    db->in_tx = 0;
    db->tx_failed = SL_OK;
    if (commit && failed == SL_OK) {
        if ((k = tx_query(db, "COMMIT", err)) == SL_OK) {
            return SL_OK;
        }
        /* SQLite keeps the transaction open after a failed COMMIT */
        if (sl_db_tx_open(db)) {
            tx_query(db, "ROLLBACK", NULL);
        }
        return k;
    }
    tx_query(db, "ROLLBACK", NULL);
    if (commit) {
        /* work that went on past a failed statement (a best-effort write)
         * still lost its transaction on PostgreSQL: say what failed */
        return sl_err_set(err, failed, NULL, failed == SL_EBUSY
                          ? "The database is busy right now; try again shortly."
                          : "The database is not available right now.");
    }
    return SL_OK;
}

int sl_db_tx_open(sl_db_t *db)
{
    if (!db->handle) {
        return 0;
    }
    if (db->is_pgsql) {
        PGconn *conn = apr_dbd_native_handle(db->driver, db->handle);
        return conn && PQtransactionStatus(conn) != PQTRANS_IDLE
               && PQtransactionStatus(conn) != PQTRANS_UNKNOWN;
    }
    else {
        sqlite3 *conn = apr_dbd_native_handle(db->driver, db->handle);
        return conn && !sqlite3_get_autocommit(conn);
    }
}

static apr_status_t keep_close(void *data)
{
    sqlite3_close_v2(data);
    return APR_SUCCESS;
}

sl_kind_e sl_db_sqlite_keep(const char *path, apr_interval_time_t wait, sl_err_t *err,
                            apr_pool_t *p)
{
    sqlite3 *conn = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(conn, (int)apr_time_as_msec(wait));
        /* a read forces the WAL index to be valid (recovered) */
        rc = sqlite3_exec(conn, "SELECT count(*) FROM schema_version", NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        SL_LOG(SL_LOG_ERR, "SL00106: cannot open SQLite %s in this process: %s", path,
               msg ? msg : conn ? sqlite3_errmsg(conn) : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close_v2(conn);
        return sl_err_set(err, SL_EDB, NULL, "cannot open the SQLite database");
    }
    apr_pool_cleanup_register(p, conn, keep_close, apr_pool_cleanup_null);
    return SL_OK;
}

apr_int64_t sl_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

const char *sl_i64(apr_int64_t v, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

const char *sl_iso_time(const char *epoch_text, apr_pool_t *p)
{
    apr_time_exp_t t;
    apr_int64_t secs;
    char buf[32];
    apr_size_t len;

    if (!epoch_text || !*epoch_text) {
        return NULL;
    }
    secs = apr_atoi64(epoch_text);
    if (apr_time_exp_gmt(&t, apr_time_from_sec(secs)) != APR_SUCCESS
        || apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrdup(p, buf);
}
