/* Units of work: the data layer's rule.
 *
 *  1. Database work runs in a unit: sl_conn_run() takes a connection from a
 *     source, runs one function on it (inside a transaction when it
 *     writes), and gives the connection back on every path before it
 *     returns. Nothing else takes or gives back connections: the sources'
 *     acquire/release are called from here only.
 *  2. A unit waits on nothing but the database. Request bodies are read
 *     before it starts, passwords hashed between units, replies sent after:
 *     a slow client or a 64 MiB hash never holds a pooled connection.
 *  3. A transaction begins and ends inside its unit, on its connection
 *     (sl_db_tx_begin/end, plain BEGIN/COMMIT/ROLLBACK). A unit that fails
 *     rolls back; a connection goes back to its pool with no transaction
 *     open, or the unit logs an error and rolls it back.
 *  4. Work that met a busy database (SQLite locked, a PostgreSQL deadlock or
 *     serialization failure, a unique index a concurrent writer filled
 *     first) runs again from the start, until the source's wait budget is
 *     spent; then the caller answers 503 with Retry-After. Unit functions
 *     must therefore be safe to run twice: they write only through the
 *     database and set their outputs from what they read.
 *  5. A unit never starts another unit (a request holds one connection at
 *     a time); core functions that take a source run units, functions that
 *     take an sl_db_t run inside one.
 *  6. On SQLite, writes from all the children of one httpd take a writer
 *     lock first, so they queue on a futex instead of polling SQLite's lock
 *     (apr_dbd's driver sleeps 100 ms between tries, holding a process-wide
 *     mutex around every call but the sleep). */
#ifndef SL_CONN_H
#define SL_CONN_H

#include <apr_time.h>

#include "sl_db.h"
#include "sl_lock.h"

typedef enum {
    SL_CONN_READ = 0,      /* no transaction; best-effort writes may ask
                            * sl_conn_may_write() */
    SL_CONN_WRITE = 1,     /* one transaction (BEGIN IMMEDIATE on SQLite)
                            * under the writer lock; once it committed, the
                            * caller caches are flushed (sl_authcache.h) */
    SL_CONN_WRITE_KEEP = 3 /* the same, for a write no caller's identity
                            * rests on (throttle counters, projects): the
                            * caches stay, or any anonymous wrong guess
                            * would empty every child's */
} sl_conn_mode_e;

typedef struct sl_conn_src_t sl_conn_src_t;

/* Takes a connection, waiting at most `wait` for one: SL_EBUSY when none
 * came in time, SL_EDB when the database cannot be reached. */
typedef sl_kind_e sl_conn_acquire_fn(sl_conn_src_t *src, sl_db_t **db,
                                     apr_interval_time_t wait, sl_err_t *err);
typedef void sl_conn_release_fn(sl_conn_src_t *src, sl_db_t *db);

struct sl_conn_src_t {
    sl_conn_acquire_fn *acquire;
    sl_conn_release_fn *release;
    void *baton;
    sl_lock_t *write_lock;          /* SQLite: one writer at a time; or NULL */
    apr_interval_time_t wait;       /* a unit's budget: connection, lock, retries */
    const char *avatar_base;        /* given to the connections it hands out */
    apr_pool_t *pool;               /* scratch for failures (a request's pool) */
    int running;                    /* a unit runs now: no nesting */
    int open;                       /* connections out now (0 between units) */
    struct sl_authcache_t *authcache;  /* who callers are, or NULL (sl_authcache.h);
                                        * flushed by every write unit */
    /* for the audit log (sl_audit.h): set by the glue per request, NULL in
     * the CLI; and the lines of the events the running unit wrote */
    const char *actor_id;           /* the caller, once identified */
    const char *client_address;
    const char *user_agent;
    apr_array_header_t *events;
};

#define SL_CONN_WAIT_DEFAULT (3 * APR_USEC_PER_SEC)

typedef sl_kind_e sl_conn_work_fn(sl_db_t *db, void *baton, sl_err_t *err,
                                  apr_pool_t *p);

/* Runs fn on a connection from src (see the rule above). Returns fn's
 * kind, or SL_EBUSY / SL_EDB when the database did not let it run. */
sl_kind_e sl_conn_run(sl_conn_src_t *src, sl_conn_mode_e mode, sl_conn_work_fn *fn,
                      void *baton, sl_err_t *err, apr_pool_t *p);

/* One statement as a unit of its own. */
sl_kind_e sl_conn_exec(sl_conn_src_t *src, sl_conn_mode_e mode, const char *label,
                       int *nrows, int nargs, const char **args, sl_err_t *err,
                       apr_pool_t *p);
sl_kind_e sl_conn_select(sl_conn_src_t *src, const char *label, sl_rows_t *res,
                         int nargs, const char **args, sl_err_t *err, apr_pool_t *p);

/* Inside a unit: 1 when a best-effort write (last_activity, last_seen) may
 * run now. In a read unit on SQLite it takes the writer lock only if it is
 * free at once (kept to the unit's end): such a write is never worth
 * waiting for. */
int sl_conn_may_write(sl_db_t *db);

/* A source over one open connection: the CLI, the httpd parent at start,
 * the unit tests. */
void sl_conn_single(sl_conn_src_t *src, sl_db_t *db, apr_pool_t *p);

#endif
