#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_strings.h>

#include "sl_authcache.h"
#include "sl_audit.h"
#include "sl_conn.h"
#include "sl_log.h"

#define MAX_ATTEMPTS 50
#define MAX_LOST 3          /* broken connections in one unit: then 503 */
#define ACQUIRING "acquiring a connection"
#define BUSY_MESSAGE "The database is busy right now; try again shortly."

static sl_kind_e take_write_lock(sl_conn_src_t *src, sl_db_t *db, apr_time_t deadline,
                                 sl_err_t *err)
{
    apr_interval_time_t left = deadline - apr_time_now();
    int recovered = 0;

    if (!src->write_lock || db->is_pgsql) {
        return SL_OK;
    }
    if (sl_lock_acquire(src->write_lock, left > 0 ? left : 0, &recovered) != APR_SUCCESS) {
        db->failed_what = "waiting for the SQLite writer lock";
        db->failed_msg = "every other writer of this server took longer";
        return sl_err_set(err, SL_EBUSY, NULL, BUSY_MESSAGE);
    }
    if (recovered) {
        SL_LOG(SL_LOG_WARNING, "SL00111: a process died holding the SQLite writer "
               "lock: taken over (SQLite rolled its transaction back)");
    }
    db->write_locked = 1;
    return SL_OK;
}

#define BEST_EFFORT_LOCK_MS 10

int sl_conn_may_write(sl_db_t *db)
{
    sl_conn_src_t *src = db->src;
    int recovered = 0;

    if (db->in_tx) {
        return 1;
    }
    if (db->is_pgsql) {
        /* no writer lock for the whole database, but a row another
         * transaction holds (a psql session left open, a long write) would
         * make the write wait the whole lock_timeout: this one waits 10 ms,
         * then fails quietly; restored before the connection goes back */
        if (!db->lock_wait_short) {
            db->lock_wait_short = sl_db_pg_lock_wait(db, BEST_EFFORT_LOCK_MS);
        }
        return db->lock_wait_short;
    }
    if (src && src->write_lock && !db->write_locked) {
        if (sl_lock_acquire(src->write_lock, 0, &recovered) != APR_SUCCESS) {
            return 0;
        }
        db->write_locked = 1;
    }
    /* and SQLite's own lock, free now or not at all: a writer outside this
     * server (the CLI, a backup) would make apr_dbd poll it for 1.6 s */
    if (!sl_db_tx_try_begin(db)) {
        if (db->write_locked) {
            db->write_locked = 0;
            sl_lock_release(src->write_lock);
        }
        return 0;
    }
    return 1;
}

/* Up to 2^attempt ms (at most 64), never the same for two threads that
 * failed together: the retries of a deadlock's two sides do not collide. */
static void backoff(int attempt, apr_time_t deadline)
{
    static __thread apr_uint32_t seed;
    apr_uint32_t span = 1u << (attempt < 6 ? attempt : 6), r;
    apr_interval_time_t d;

    seed = seed * 1103515245u + 12345u + (apr_uint32_t)apr_time_now()
           + (apr_uint32_t)(apr_uintptr_t)&r;
    r = (seed >> 8) % (span * 1000u);
    d = (apr_interval_time_t)r + 200;
    if (apr_time_now() + d < deadline) {
        apr_sleep(d);
    }
}

/* A database that cannot be reached fails every request of every thread:
 * one line when it goes away, one a minute while it stays away, one when it
 * is back (with how many requests it failed), instead of a line per request.
 * Per process: each child reports its own view. */
static apr_uint32_t outage_failed;      /* requests failed; 0 = reachable */
static apr_uint32_t outage_logged_sec;  /* when a line was last written */

#define OUTAGE_REMINDER_SEC 60

static void note_unreachable(const char *msg)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&outage_logged_sec);

    if (apr_atomic_inc32(&outage_failed) == 0) {
        apr_atomic_set32(&outage_logged_sec, now);
        SL_LOG(SL_LOG_ERR, "SL00101: database error in acquiring a connection: %s "
               "(the database cannot be reached: answering 503 until it can; "
               "further failures are counted, not logged)", msg ? msg : "-");
    }
    else if (now - last >= OUTAGE_REMINDER_SEC
             && apr_atomic_cas32(&outage_logged_sec, now, last) == last) {
        SL_LOG(SL_LOG_ERR, "SL00119: the database is still unreachable: %u requests "
               "answered 503 so far (%s)", apr_atomic_read32(&outage_failed),
               msg ? msg : "-");
    }
}

static void note_reachable(void)
{
    apr_uint32_t n = apr_atomic_read32(&outage_failed);

    if (n && apr_atomic_cas32(&outage_failed, 0, n) == n) {
        SL_LOG(SL_LOG_NOTICE, "SL00120: the database is reachable again (%u requests "
               "answered 503 while it was not)", n);
    }
}

/* One try on one connection: the connection goes back on every path. */
static sl_kind_e attempt_once(sl_conn_src_t *src, sl_conn_mode_e mode, sl_conn_work_fn *fn,
                              void *baton, apr_time_t deadline, const char **what,
                              const char **msg, sl_err_t *err, apr_pool_t *p)
{
    apr_interval_time_t left = deadline - apr_time_now();
    sl_db_t *db = NULL;
    sl_err_t e2;
    sl_kind_e k, k2;

    k = src->acquire(src, &db, left > 0 ? left : 0, err);
    if (k != SL_OK) {
        *what = ACQUIRING;
        *msg = err && err->message ? err->message : "";
        /* a connection that broke while it was being made (a backend killed
         * during its prepares) is tried once more; a database that is down
         * answers at once the second time too */
        return k == SL_EDB ? SL_ELOST : k;
    }
    src->open++;
    db->src = src;
    db->scratch = p;
    db->deadline = deadline;
    db->failed_what = db->failed_msg = NULL;
    if (src->avatar_base) {
        db->avatar_base = src->avatar_base;
    }
    k = SL_OK;
    if (mode == SL_CONN_WRITE) {
        k = take_write_lock(src, db, deadline, err);
        if (k == SL_OK) {
            k = sl_db_tx_begin(db, err);
        }
    }
    if (k == SL_OK) {
        k = fn(db, baton, err, p);
    }
    if (db->in_tx) {
        /* a read unit's best-effort writes are kept whatever it answers
         * (an expired session removed, then "denied") */
        k2 = sl_db_tx_end(db, mode == SL_CONN_WRITE ? k == SL_OK : 1, &e2);
        if (k == SL_OK && k2 != SL_OK) {
            /* a connection lost during COMMIT: whether it committed is
             * unknown, so it is not run again */
            k = k2 == SL_ELOST && mode == SL_CONN_WRITE ? SL_EDB : k2;
            if (err) {
                *err = e2;
            }
        }
    }
    if (sl_db_tx_open(db)) {
        /* only a bug gets here: a unit that sent BEGIN itself */
        int n = 0;
        SL_LOG(SL_LOG_ERR, "SL00113: a unit of work left a transaction open: "
               "rolled back before the connection went back");
        apr_dbd_query(db->driver, db->handle, &n, "ROLLBACK");
        if (k == SL_OK) {
            k = sl_err_set(err, SL_EINTERNAL, NULL, "transaction left open");
        }
    }
    if (k == SL_ESTALE) {
        /* PostgreSQL after a reconnect (mod_dbd's PQreset): the session's
         * settings and every statement are gone; set and prepare them again
         * here, once, and let the unit run again. (SQLite prepares a stale
         * statement again where it failed, in sl_db_exec.) */
        SL_LOG(SL_LOG_INFO, "SL00115: prepared statements of a connection were stale "
               "(%s): prepared again", db->failed_msg ? db->failed_msg : "");
        if (sl_db_conn_init(db, src->wait, &e2) != SL_OK
            || sl_db_prepare_all(db, &e2) != SL_OK) {
            /* broken again while preparing: another connection next */
            k = e2.kind == SL_ELOST || e2.kind == SL_EBUSY ? e2.kind : SL_EDB;
        }
    }
    if (db->write_locked) {
        db->write_locked = 0;
        sl_lock_release(src->write_lock);
    }
    if (db->lock_wait_short) {
        db->lock_wait_short = 0;
        sl_db_pg_lock_wait(db, (long)apr_time_as_msec(src->wait));
    }
    *what = db->failed_what;
    *msg = db->failed_msg;
    db->src = NULL;
    db->scratch = NULL;
    src->open--;
    src->release(src, db);
    return k;
}

sl_kind_e sl_conn_run(sl_conn_src_t *src, sl_conn_mode_e mode, sl_conn_work_fn *fn,
                      void *baton, sl_err_t *err, apr_pool_t *p)
{
    apr_time_t start = apr_time_now(), deadline = start + src->wait;
    const char *what = NULL, *msg = NULL;
    sl_kind_e k;
    int attempt, lost = 0, keep = mode == SL_CONN_WRITE_KEEP;

    if (keep) {
        mode = SL_CONN_WRITE;
    }
    if (src->running) {
        SL_LOG(SL_LOG_ERR, "SL00112: a unit of work started inside another (a bug: "
               "one connection per request at a time)");
        return sl_err_set(err, SL_EINTERNAL, NULL, "nested unit of work");
    }
    src->running = 1;
    for (attempt = 1;; attempt++) {
        sl_audit_flush(src, 0);    /* a retried attempt writes its events again */
        k = attempt_once(src, mode, fn, baton, deadline, &what, &msg, err, p);
        if (k == SL_ELOST) {
            lost++;
        }
        if ((k != SL_EBUSY && k != SL_ESTALE && k != SL_ELOST) || attempt >= MAX_ATTEMPTS
            || apr_time_now() >= deadline || lost > MAX_LOST) {
            break;
        }
        if (k == SL_EBUSY) {
            backoff(attempt, deadline);
        }
    }
    src->running = 0;
    /* committed: the events' lines; otherwise they never happened */
    sl_audit_flush(src, mode == SL_CONN_WRITE && k == SL_OK);
    if (mode == SL_CONN_WRITE && k == SL_OK && src->authcache && !keep) {
        /* this process's own change, seen by its next request at once (the
         * database's notification follows for the other processes) */
        sl_authcache_flush(src->authcache);
    }
    if (k != SL_EDB && k != SL_ELOST && apr_atomic_read32(&outage_failed)) {
        note_reachable();
    }
    if (k == SL_ESTALE || k == SL_ELOST) {
        k = sl_err_set(err, SL_EDB, NULL, "The database is not available right now.");
    }
    if (k == SL_EBUSY) {
        SL_LOG(SL_LOG_WARNING, "SL00114: database busy for %" APR_INT64_T_FMT " ms "
               "(%d attempts; last in %s: %s): answering busy",
               (apr_int64_t)apr_time_as_msec(apr_time_now() - start), attempt,
               what ? what : "-", msg ? msg : "-");
        sl_err_set(err, SL_EBUSY, NULL, BUSY_MESSAGE);
    }
    else if (k == SL_EDB && what && !strcmp(what, ACQUIRING)) {
        note_unreachable(msg);
    }
    else if (k == SL_EDB) {
        SL_LOG(SL_LOG_ERR, "SL00101: database error in %s: %s", what ? what : "-",
               msg ? msg : "-");
    }
    else if (attempt > 1) {
        SL_LOG(SL_LOG_DEBUG, "SL00116: unit of work done after %d attempts in %"
               APR_INT64_T_FMT " ms", attempt,
               (apr_int64_t)apr_time_as_msec(apr_time_now() - start));
    }
    return k;
}

typedef struct {
    const char *label;
    int *nrows;
    int nargs;
    const char **args;
    sl_rows_t *res;
} stmt_baton_t;

static sl_kind_e exec_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    stmt_baton_t *b = baton;

    return sl_db_exec(db, p, b->label, b->nrows, b->nargs, b->args, err);
}

static sl_kind_e select_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    stmt_baton_t *b = baton;

    return sl_db_select(db, p, b->label, b->res, b->nargs, b->args, err);
}

sl_kind_e sl_conn_exec(sl_conn_src_t *src, sl_conn_mode_e mode, const char *label,
                       int *nrows, int nargs, const char **args, sl_err_t *err,
                       apr_pool_t *p)
{
    stmt_baton_t b = { label, nrows, nargs, args, NULL };

    return sl_conn_run(src, mode, exec_unit, &b, err, p);
}

sl_kind_e sl_conn_select(sl_conn_src_t *src, const char *label, sl_rows_t *res,
                         int nargs, const char **args, sl_err_t *err, apr_pool_t *p)
{
    stmt_baton_t b = { label, NULL, nargs, args, res };

    return sl_conn_run(src, SL_CONN_READ, select_unit, &b, err, p);
}

static sl_kind_e single_acquire(sl_conn_src_t *src, sl_db_t **db, apr_interval_time_t wait,
                                sl_err_t *err)
{
    *db = src->baton;
    return SL_OK;
}

static void single_release(sl_conn_src_t *src, sl_db_t *db)
{
}

void sl_conn_single(sl_conn_src_t *src, sl_db_t *db, apr_pool_t *p)
{
    memset(src, 0, sizeof(*src));
    src->acquire = single_acquire;
    src->release = single_release;
    src->baton = db;
    src->wait = SL_CONN_WAIT_DEFAULT;
    src->pool = p;
    src->avatar_base = db->avatar_base;
}
