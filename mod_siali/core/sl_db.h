/* The core's view of one database connection: an apr_dbd driver and
 * handle plus the prepared statements by label. The module fills it from
 * mod_dbd's ap_dbd_t, the CLI and the tests from sl_db_open(). */
#ifndef SL_DB_H
#define SL_DB_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_dbd.h>

#include "sl_err.h"

typedef struct sl_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;          /* label -> apr_dbd_prepared_t * */
    int is_pgsql;
    apr_dbd_transaction_t *trans;
    apr_pool_t *pool;              /* the connection's lifetime */
    const char *avatar_base;       /* URL path avatars are served under */
} sl_db_t;

#define SL_AVATAR_BASE "/data/avatars/"


/* A result: rows of NUL-terminated strings (NULL for SQL NULL). */
typedef struct {
    apr_array_header_t *rows;      /* of const char ** */
    int ncols;
} sl_rows_t;

#define SL_ROW(res, i) (APR_ARRAY_IDX((res)->rows, (i), const char **))

/* Wraps an open connection (the module's ap_dbd_t fields). */
void sl_db_wrap(sl_db_t *db, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                apr_hash_t *prepared, apr_pool_t *p);

/* Opens "sqlite3" / "pgsql" with params, applies the per-connection
 * settings and prepares the statement catalogue (unless prepare is 0,
 * as before a migration, when the tables may not exist yet). */
sl_kind_e sl_db_open(sl_db_t **pdb, const char *driver, const char *params,
                     int prepare, sl_err_t *err, apr_pool_t *p);
void sl_db_close(sl_db_t *db);

/* Per-connection settings that apr_dbd cannot set through DBDInitSQL
 * (row-returning PRAGMAs abort it): synchronous=NORMAL. */
sl_kind_e sl_db_conn_init(sl_db_t *db, sl_err_t *err);

/* Prepares every statement of the catalogue on this connection. */
sl_kind_e sl_db_prepare_all(sl_db_t *db, sl_err_t *err);

/* Runs a prepared statement by label; args are text (NULL = SQL NULL). */
sl_kind_e sl_db_exec(sl_db_t *db, apr_pool_t *p, const char *label, int *nrows,
                     int nargs, const char **args, sl_err_t *err);
sl_kind_e sl_db_select(sl_db_t *db, apr_pool_t *p, const char *label,
                       sl_rows_t *res, int nargs, const char **args,
                       sl_err_t *err);

/* Plain SQL without parameters (migrations, fixed statements). */
sl_kind_e sl_db_exec_raw(sl_db_t *db, apr_pool_t *p, const char *sql, sl_err_t *err);
sl_kind_e sl_db_select_raw(sl_db_t *db, apr_pool_t *p, const char *sql,
                           sl_rows_t *res, sl_err_t *err);

/* One transaction at a time; on SQLite it is BEGIN IMMEDIATE (apr_dbd),
 * so read-then-write work takes the write lock up front. commit=0 rolls
 * back. A failed statement inside makes the end roll back. */
sl_kind_e sl_db_begin(sl_db_t *db, apr_pool_t *p, sl_err_t *err);
sl_kind_e sl_db_end(sl_db_t *db, int commit, sl_err_t *err);

/* Ends the transaction after work that returned k: commits when k is
 * SL_OK, else rolls back; returns k, or SL_EDB when the commit failed. */
sl_kind_e sl_db_finish(sl_db_t *db, sl_kind_e k, sl_err_t *err);

/* The current time in whole seconds, and as text for parameters. */
apr_int64_t sl_now(void);
const char *sl_i64(apr_int64_t v, apr_pool_t *p);
/* ISO-8601 UTC with Z, or NULL for NULL/empty. */
const char *sl_iso_time(const char *epoch_text, apr_pool_t *p);

#endif
