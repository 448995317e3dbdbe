#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <sqlite3.h>

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

static sl_kind_e db_fail(sl_db_t *db, int rc, const char *what, sl_err_t *err)
{
    const char *msg = db->handle ? apr_dbd_error(db->driver, db->handle, rc) : "";

    /* SQLITE_SCHEMA on a connection prepared before a schema change never
     * heals (apr_dbd prepares with the legacy sqlite3_prepare). */
    SL_LOG(SL_LOG_ERR, "SL00101: database error in %s (%d): %s", what, rc,
           msg ? msg : "");
    return sl_err_set(err, SL_EDB, NULL, "The database is not available right now.");
}

sl_kind_e sl_db_conn_init(sl_db_t *db, sl_err_t *err)
{
    sqlite3 *conn;
    char *errmsg = NULL;
    int rc;

    if (db->is_pgsql) {
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

sl_kind_e sl_db_prepare_all(sl_db_t *db, sl_err_t *err)
{
    const sl_sql_stmt_t *st;

    if (!db->prepared) {
        db->prepared = apr_hash_make(db->pool);
    }
    for (st = sl_sql_statements; st->label; st++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rc = apr_dbd_prepare(db->driver, db->pool, db->handle, st->sql,
                                 st->label, &stmt);
        if (rc) {
            return db_fail(db, rc, st->label, err);
        }
        apr_hash_set(db->prepared, st->label, APR_HASH_KEY_STRING, stmt);
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
    k = sl_db_conn_init(db, err);
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

static apr_dbd_prepared_t *stmt_get(sl_db_t *db, const char *label)
{
    return db->prepared ? apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING) : NULL;
}

sl_kind_e sl_db_exec(sl_db_t *db, apr_pool_t *p, const char *label, int *nrows,
                     int nargs, const char **args, sl_err_t *err)
{
    apr_dbd_prepared_t *stmt = stmt_get(db, label);
    int n = 0, rc;

    if (!stmt) {
        SL_LOG(SL_LOG_ERR, "SL00103: statement %s is not prepared", label);
        return sl_err_set(err, SL_EINTERNAL, NULL, "statement not prepared");
    }
    rc = apr_dbd_pquery(db->driver, p, db->handle, &n, stmt, nargs, args);
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
    int rc;

    if (!stmt) {
        SL_LOG(SL_LOG_ERR, "SL00104: statement %s is not prepared", label);
        return sl_err_set(err, SL_EINTERNAL, NULL, "statement not prepared");
    }
    rc = apr_dbd_pselect(db->driver, p, db->handle, &r, stmt, 1, nargs, args);
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

sl_kind_e sl_db_begin(sl_db_t *db, apr_pool_t *p, sl_err_t *err)
{
    int rc;

    db->trans = NULL;
    rc = apr_dbd_transaction_start(db->driver, p, db->handle, &db->trans);
    if (rc) {
        db->trans = NULL;
        return db_fail(db, rc, "BEGIN", err);
    }
    return SL_OK;
}

sl_kind_e sl_db_end(sl_db_t *db, int commit, sl_err_t *err)
{
    int rc;

    if (!db->trans) {
        return SL_OK;
    }
    if (!commit) {
        apr_dbd_transaction_mode_set(db->driver, db->trans,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    rc = apr_dbd_transaction_end(db->driver, db->pool, db->trans);
    db->trans = NULL;
    if (rc) {
        return db_fail(db, rc, commit ? "COMMIT" : "ROLLBACK", err);
    }
    return SL_OK;
}

sl_kind_e sl_db_finish(sl_db_t *db, sl_kind_e k, sl_err_t *err)
{
    sl_err_t e2;

    if (sl_db_end(db, k == SL_OK, &e2) != SL_OK && k == SL_OK) {
        if (err) {
            *err = e2;
        }
        return SL_EDB;
    }
    return k;
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
