/* The core's view of one database connection: an apr_dbd driver and
 * handle plus the prepared statements by label. The module fills it from
 * mod_dbd's ap_dbd_t, the CLI and the tests from sl_db_open().
 *
 * Request code never holds an sl_db_t of its own: it runs units of work
 * through sl_conn (sl_conn.h says the rule). What is here are the
 * statements a unit runs, and what a failure means. */
#ifndef SL_DB_H
#define SL_DB_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_dbd.h>

#include "sl_err.h"

struct sl_conn_src_t;

typedef struct sl_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;          /* label -> apr_dbd_prepared_t * */
    int is_pgsql;
    apr_pool_t *pool;              /* the connection's lifetime */
    apr_pool_t *scratch;           /* messages of failures (a request's pool);
                                    * NULL: pool */
    const char *avatar_base;       /* URL path avatars are served under */
    /* set by sl_conn while a unit runs on this connection */
    struct sl_conn_src_t *src;
    int in_tx;                     /* BEGIN sent, COMMIT/ROLLBACK not yet */
    sl_kind_e tx_failed;           /* a statement failed inside the
                                    * transaction: it must roll back (on
                                    * PostgreSQL COMMIT of an aborted
                                    * transaction reports success) */
    int write_locked;              /* holds the source's writer lock */
    int lock_wait_short;           /* PostgreSQL: lock_timeout lowered for a
                                    * best-effort write, restored on release */
    apr_time_t deadline;           /* the unit's budget ends (0: none) */
    int busy_ms;                   /* SQLite's busy timeout on it (0: none) */
    const char *failed_what;       /* the last failure, logged once by the */
    const char *failed_msg;        /* unit that gives up on it */
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
 * (row-returning PRAGMAs abort it): synchronous=NORMAL on SQLite; on
 * PostgreSQL verbose errors, so that failures carry their SQLSTATE
 * whatever the server's language, and statement_timeout / lock_timeout at
 * wait (when > 0: a request never waits longer on a row lock). */
sl_kind_e sl_db_conn_init(sl_db_t *db, apr_interval_time_t wait, sl_err_t *err);

/* Prepares every statement of the catalogue on this connection (again
 * after SL_ESTALE: the new statements replace the old in db->prepared). */
sl_kind_e sl_db_prepare_all(sl_db_t *db, sl_err_t *err);

/* A statement outside the catalogue, built by the core from constant
 * parts (the copy between databases), prepared under label on this
 * connection only: a connection of the CLI, never a pooled one. */
sl_kind_e sl_db_prepare_extra(sl_db_t *db, const char *label, const char *sql,
                              sl_err_t *err);
/* Runs a prepared statement by label; args are text (NULL = SQL NULL).
 * A failure is SL_EBUSY (locked, deadlock, serialization failure, a unique
 * index that a concurrent transaction filled first: run the unit again),
 * SL_ESTALE (prepare again) or SL_EDB. */
sl_kind_e sl_db_exec(sl_db_t *db, apr_pool_t *p, const char *label, int *nrows,
                     int nargs, const char **args, sl_err_t *err);
sl_kind_e sl_db_select(sl_db_t *db, apr_pool_t *p, const char *label,
                       sl_rows_t *res, int nargs, const char **args,
                       sl_err_t *err);

/* The first row of a select, or SL_ENOTFOUND with what as the message. */
sl_kind_e sl_db_select_one(sl_db_t *db, apr_pool_t *p, const char *label,
                           const char ***row, int nargs, const char **args,
                           const char *what, sl_err_t *err);

/* Plain SQL without parameters (migrations, fixed statements). */
sl_kind_e sl_db_exec_raw(sl_db_t *db, apr_pool_t *p, const char *sql, sl_err_t *err);
sl_kind_e sl_db_select_raw(sl_db_t *db, apr_pool_t *p, const char *sql,
                           sl_rows_t *res, sl_err_t *err);

/* A transaction with plain BEGIN (IMMEDIATE on SQLite: read-then-write
 * work takes the write lock up front) and COMMIT/ROLLBACK on the same
 * connection. apr_dbd's transaction API is never used: it ends the
 * transaction from a pool cleanup, which outlived the work and ended
 * another request's transaction on a reused connection. sl_db_tx_end
 * commits only when commit is 1 and no statement failed inside; a failed
 * COMMIT is rolled back. Returns the kind of what went wrong. */
sl_kind_e sl_db_tx_begin(sl_db_t *db, sl_err_t *err);
sl_kind_e sl_db_tx_end(sl_db_t *db, int commit, sl_err_t *err);

/* SQLite: BEGIN IMMEDIATE only if the database's write lock is free at
 * once (1), for a write that is not worth waiting for. 0 on PostgreSQL. */
int sl_db_tx_try_begin(sl_db_t *db);

/* PostgreSQL: a row lock is waited for at most ms (0: as long as it takes)
 * by what this connection runs next. 1 when set. */
int sl_db_pg_lock_wait(sl_db_t *db, long ms);

/* PostgreSQL: the statements this connection runs next are planned for
 * their parameters each time (on) or as usual (off). A search's pattern
 * decides between two plans that differ a hundredfold, which a plan made
 * once for every pattern cannot know. 1 when set. */
int sl_db_pg_custom_plans(sl_db_t *db, int on);
/* 1 when the driver says a transaction is open on this connection. */
int sl_db_tx_open(sl_db_t *db);

/* SQLite: this process's own connection for as long as p lives, opened
 * after fork (a connection open across fork() shares SQLite's lock
 * bookkeeping with the children: their connections then take no file
 * locks of their own, and the parent closing it at a graceful restart
 * deleted the WAL under them). It waits up to `wait` for another process's
 * WAL recovery (SQLite's busy handler), so the statements mod_dbd prepares
 * next find the index ready, and while any child lives the database never
 * drops to no connection (the last close checkpoints and removes the WAL,
 * the next open rebuilds it under an exclusive lock). */
sl_kind_e sl_db_sqlite_keep(const char *path, apr_interval_time_t wait, sl_err_t *err,
                            apr_pool_t *p);

/* The current time in whole seconds, and as text for parameters. */
apr_int64_t sl_now(void);
const char *sl_i64(apr_int64_t v, apr_pool_t *p);
/* ISO-8601 UTC with Z, or NULL for NULL/empty. */
const char *sl_iso_time(const char *epoch_text, apr_pool_t *p);

#endif
