/* The cache of callers (sl_authcache.h) and what keeps it true.
 * PostgreSQL: one thread per child and database that LISTENs on siali_auth
 * on a connection of its own (not one of mod_dbd's: it is held for the
 * child's life) and flushes the cache at every notification. While that
 * connection is down the cache is off, so a change it could not hear about
 * is never served from it.
 * SQLite: every writer is on this machine and shares the database's change
 * stamp (sl_dbfile_counter_open): the children flush all caches with each
 * write unit, the siali command when it is done. */
#include <poll.h>
#include <string.h>

#include <libpq-fe.h>

#include "httpd.h"
#include "http_log.h"
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "mod_siali.h"
#include "mod_siali_config.h"
#include "mod_siali_notify.h"
#include "sl_authcache.h"
#include "sl_dbfile.h"

#define AUTH_CACHE_ENTRIES 20000
#define RETRY_MS 1000
#define POLL_MS 250
#define PING_MS 2000        /* longest a stalled listener goes unnoticed */

typedef struct {
    sl_authcache_t *cache;
    const char *params;
    server_rec *s;
    volatile int stop;
    apr_interval_time_t ttl;
    apr_thread_t *thread;
} listener_t;

/* One connection's life: 1 when it stopped because the child is leaving. */
static int listen_once(listener_t *l, int *said_down)
{
    PGconn *pg = PQconnectdb(l->params);
    PGresult *res;
    apr_time_t last_ping = apr_time_now();
    int ok, pinged = 0;

    if (PQstatus(pg) != CONNECTION_OK) {
        if (!*said_down) {
            /* the requests say the outage (SL00101): this only says why
             * the cache is off meanwhile */
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, l->s, "SL10020: caller cache off: "
                         "cannot listen for changes: %s", PQerrorMessage(pg));
            *said_down = 1;
        }
        PQfinish(pg);
        return 0;
    }
    res = PQexec(pg, "LISTEN siali_auth");
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, "SL10021: caller cache off: "
                     "LISTEN failed: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 0;
    }
    /* whatever changed while nobody listened is forgotten here */
    sl_authcache_enable(l->cache, 1);
    if (*said_down) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, l->s, "SL10022: caller cache on again");
        *said_down = 0;
    }
    while (!l->stop) {
        struct pollfd pfd = { PQsocket(pg), POLLIN, 0 };
        apr_time_t now = apr_time_now();
        PGnotify *n;
        PGresult *r;
        int got = 0;

        /* a connection that stalls without closing (a frozen backend, a
         * network that drops packets) would keep the cache on while nothing
         * is heard: a round trip every PING_MS, and the cache goes off when
         * one is late */
        if (!pinged && now - last_ping >= apr_time_from_msec(PING_MS)) {
            if (!PQsendQuery(pg, "SELECT 1")) {
                break;
            }
            pinged = 1;
            last_ping = now;
        }
        else if (pinged && now - last_ping > apr_time_from_msec(PING_MS)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, "SL10026: caller cache off: "
                         "the connection that listens for changes did not answer within "
                         "%d ms", PING_MS);
            break;
        }
        if (poll(&pfd, 1, POLL_MS) < 0) {
            continue;
        }
        if (pfd.revents && !PQconsumeInput(pg)) {
            break;      /* the connection is gone */
        }
        while (pinged && !PQisBusy(pg)) {
            if (!(r = PQgetResult(pg))) {
                pinged = 0;     /* answered */
                break;
            }
            PQclear(r);
        }
        while ((n = PQnotifies(pg))) {
            PQfreemem(n);
            got = 1;
        }
        if (got) {
            sl_authcache_flush(l->cache);
        }
        if (PQstatus(pg) != CONNECTION_OK) {
            break;
        }
    }
    sl_authcache_enable(l->cache, 0);
    PQfinish(pg);
    if (!l->stop) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, l->s, "SL10023: caller cache off: the "
                     "connection that listens for changes was lost");
        *said_down = 1;
    }
    return l->stop;
}

static void *APR_THREAD_FUNC listener_main(apr_thread_t *t, void *data)
{
    listener_t *l = data;
    int said_down = 0, waited;

    while (!l->stop && !listen_once(l, &said_down)) {
        for (waited = 0; waited < RETRY_MS && !l->stop; waited += 50) {
            apr_sleep(apr_time_from_msec(50));
        }
    }
    return NULL;
}

static apr_status_t listener_stop(void *data)
{
    listener_t *l = data;
    apr_status_t rv;

    l->stop = 1;
    if (l->thread) {
        apr_thread_join(&rv, l->thread);
    }
    return APR_SUCCESS;
}

/* One counter for all the children of this httpd, for its whole life (a
 * graceful restart's old and new children share it): a write in any child
 * flushes the caches of all of them. */
static volatile apr_uint32_t *shared_counter;

void siali_notify_post_config(server_rec *s)
{
    const char *key = "siali-authcache-counter";
    volatile apr_uint32_t **slot = ap_retained_data_get(key);
    apr_shm_t *shm;

    if (!slot) {
        slot = ap_retained_data_create(key, sizeof(*slot));
        *slot = NULL;
    }
    if (!*slot && apr_shm_create(&shm, sizeof(apr_uint32_t), NULL, s->process->pool)
        == APR_SUCCESS) {
        *slot = apr_shm_baseaddr_get(shm);
        **slot = 0;
    }
    if (!*slot) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SL10025: no shared memory for the "
                     "caller cache: it is off");
    }
    shared_counter = *slot;
}

/* One cache per SQLite file, shared by the servers on it (the shortest
 * life among them); servers with SialiAuthCache Off get one that serves
 * nothing but still moves the stamp with their writes, so the others'
 * caches hear of them. NULL: no stamp, no cache. */
static sl_authcache_t *sqlite_cache(apr_hash_t *caches, const char *path,
                                    apr_interval_time_t ttl, server_rec *sp, apr_pool_t *p)
{
    const char *key = apr_pstrcat(p, ttl > 0 ? "sqlite:" : "sqlite-off:", path, NULL);
    const char *skey = apr_pstrcat(p, "stamp:", path, NULL), *e;
    listener_t *l = apr_hash_get(caches, key, APR_HASH_KEY_STRING);
    sl_dbfile_counter_t *stamp = apr_hash_get(caches, skey, APR_HASH_KEY_STRING);

    if (l) {
        if (ttl > 0 && ttl < l->ttl) {
            l->ttl = ttl;
            sl_authcache_set_ttl(l->cache, ttl);
        }
        return l->cache;
    }
    if (!stamp) {
        if ((e = sl_dbfile_counter_open(path, &stamp, p))) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, "SL10027: caller cache off, "
                         "and writes here are not announced to other servers on %s: %s",
                         path, e);
            return NULL;
        }
        apr_hash_set(caches, skey, APR_HASH_KEY_STRING, stamp);
    }
    l = apr_pcalloc(p, sizeof(*l));
    l->ttl = ttl;
    l->s = sp;
    if (sl_authcache_create(&l->cache, AUTH_CACHE_ENTRIES, ttl, p) != APR_SUCCESS) {
        return NULL;
    }
    sl_authcache_share_with(l->cache, sl_dbfile_counter_read, sl_dbfile_counter_bump, stamp);
    sl_authcache_enable(l->cache, ttl > 0);
    apr_hash_set(caches, key, APR_HASH_KEY_STRING, l);
    return l->cache;
}

void siali_notify_child_init(apr_pool_t *p, server_rec *s)
{
    apr_hash_t *caches = apr_hash_make(p);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        apr_interval_time_t ttl = c->core.auth_cache;
        listener_t *l;

        if (c->db_driver && !strcmp(c->db_driver, "sqlite3") && c->db_params) {
            c->authcache = sqlite_cache(caches, c->db_params, ttl, sp, p);
            continue;
        }
        if (!c->db_driver || strcmp(c->db_driver, "pgsql") || !c->db_params || ttl <= 0
            || !shared_counter) {
            continue;
        }
        if ((l = apr_hash_get(caches, c->db_params, APR_HASH_KEY_STRING))) {
            /* servers on the same database share one cache: the shortest
             * life any of them asks for */
            if (ttl < l->ttl) {
                l->ttl = ttl;
                sl_authcache_set_ttl(l->cache, ttl);
            }
            c->authcache = l->cache;
            continue;
        }
        l = apr_pcalloc(p, sizeof(*l));
        /* a child leaving waits for this thread: never for a connect that
         * waits on TCP (a connect_timeout in DBDParams comes later and wins;
         * a URI cannot take the prefix) */
        l->params = strncmp(c->db_params, "postgres", 8)
                    ? apr_pstrcat(p, "connect_timeout=10 ", c->db_params, NULL)
                    : c->db_params;
        l->ttl = ttl;
        l->s = sp;
        if (sl_authcache_create(&l->cache, AUTH_CACHE_ENTRIES, ttl, p) != APR_SUCCESS) {
            continue;
        }
        sl_authcache_share(l->cache, shared_counter);
        if (apr_thread_create(&l->thread, NULL, listener_main, l, p) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, "SL10024: cannot start the "
                         "caller cache: every request asks the database");
            continue;
        }
        /* a pre-cleanup: the thread is stopped and joined before the pool
         * destroys its subpools (the thread's own among them) */
        apr_pool_pre_cleanup_register(p, l, listener_stop);
        apr_hash_set(caches, c->db_params, APR_HASH_KEY_STRING, l);
        c->authcache = l->cache;
    }
}
