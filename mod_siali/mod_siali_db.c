/* Glue between mod_dbd and the core. mod_dbd keeps its driver and params
 * private and has no connection in the parent, so the parent reads them
 * from the parsed configuration tree and migrates with a direct
 * apr_dbd_open before any child connects. Requests reach mod_dbd's pool
 * only through the connection source here, which the core's units of work
 * use (sl_conn.h has the rule). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_optional_hooks.h>
#include <apr_file_info.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <util_cfgtree.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <unixd.h>

#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "sl_account.h"
#include "sl_dbfile.h"
#include "sl_password.h"
#include "sl_schema.h"
#include "sl_audit.h"
#include "sl_session.h"
#include "sl_sql.h"
#include "sl_throttle.h"
#include "sl_twofactor.h"
#include "sl_validate.h"

#define DBD_DEFAULT_MAX 10      /* mod_dbd's DEFAULT_NMAX (threaded MPMs) */

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* ---- which databases: walk the parsed configuration ---- */

typedef struct {
    const char *driver;
    const char *params;
    int max;                /* DBDMax, 0 unset */
    int uses_siali;
    const char *where;      /* for messages */
    const char *file;       /* where its <VirtualHost> starts: matches */
    int line;               /* server_rec's defn_name / defn_line_number */
} db_scope_t;

static const char *arg1(apr_pool_t *p, const char *args)
{
    return ap_getword_conf(p, &args);
}

static void scan(apr_pool_t *p, ap_directive_t *d, db_scope_t *scope,
                 apr_array_header_t *vhosts)
{
    for (; d; d = d->next) {
        const char *name = d->directive;

        if (!strcasecmp(name, "<VirtualHost")) {
            db_scope_t *v = apr_array_push(vhosts);
            memset(v, 0, sizeof(*v));
            v->where = apr_psprintf(p, "<VirtualHost %s> (%s:%d)", d->args,
                                    d->filename, d->line_num);
            v->file = d->filename;
            v->line = d->line_num;
            scan(p, d->first_child, v, vhosts);
            continue;
        }
        if (!strcasecmp(name, "DBDriver")) {
            scope->driver = arg1(p, d->args);
        }
        else if (!strcasecmp(name, "DBDParams")) {
            scope->params = arg1(p, d->args);
        }
        else if (!strcasecmp(name, "DBDMax")) {
            scope->max = atoi(arg1(p, d->args));
        }
        else if (!strncasecmp(name, "Siali", 5)
                 || ((!strcasecmp(name, "SetHandler") || !strcasecmp(name, "AuthType"))
                     && !strcasecmp(arg1(p, d->args), "siali"))) {
            scope->uses_siali = 1;
        }
        if (d->first_child) {
            scan(p, d->first_child, scope, vhosts);
        }
    }
}

/* The start-up account: SialiUsername/Password/UserToken or LABEL_STUDIO_*.
 * An existing account is never changed. */
static const char *bootstrap(apr_pool_t *p, sl_db_t *db, siali_srv_conf_t *c,
                             server_rec *s)
{
    const sl_config_t *cfg = &c->core;
    sl_conn_src_t src;
    sl_user_t *u;
    sl_err_t err;
    int created = 0;

    if (!cfg->start_username || !*cfg->start_username) {
        return NULL;
    }
    sl_conn_single(&src, db, p);
    if (sl_account_bootstrap(&src, &u, &created, cfg->start_username, cfg->start_password,
                             cfg->start_token, cfg, &err, p) != SL_OK) {
        return apr_psprintf(p, "the start-up account %s (SialiUsername / "
                            "LABEL_STUDIO_USERNAME): %s", cfg->start_username, err.message);
    }
    if (created) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "SL10003: created the start-up account %s (id %s)", u->email, u->id);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "SL10002: start-up account %s exists: left unchanged",
                     cfg->start_username);
    }
    return NULL;
}

/* One writer lock per SQLite file for the life of the httpd parent, not of
 * one configuration: across a graceful restart the old children and the
 * new ones write through the same lock. */
static sl_lock_t *writer_lock(server_rec *s, const char *path)
{
    const char *key = apr_pstrcat(s->process->pool, "siali-writer:", path, NULL);
    sl_lock_t **slot = ap_retained_data_get(key);

    if (!slot) {
        slot = ap_retained_data_create(key, sizeof(*slot));
        *slot = NULL;
    }
    if (!*slot && sl_lock_create(slot, s->process->pool) != APR_SUCCESS) {
        *slot = NULL;
    }
    return *slot;
}

static const char *prepare_one(apr_pool_t *pconf, apr_pool_t *p, const db_scope_t *sc,
                               siali_srv_conf_t *c, server_rec *s)
{
    sl_db_t *db;
    sl_err_t err;
    int from = 0, created_dir = 0;
    const char *e;
    apr_pool_t *ptemp;

    if (!sc->driver || !sc->params) {
        return apr_psprintf(p, "%s uses mod_siali but sets no DBDriver/DBDParams "
                            "(e.g. DBDriver sqlite3 + DBDParams /var/lib/siali/siali.db)",
                            sc->where);
    }
    if (strcmp(sc->driver, "sqlite3") && strcmp(sc->driver, "pgsql")) {
        return apr_psprintf(p, "DBDriver %s: mod_siali supports sqlite3 and pgsql",
                            sc->driver);
    }
    /* closed again before any child is forked: an SQLite connection open
     * across fork() shares its lock bookkeeping with the children (their
     * own connections then lock nothing), and its close at a graceful
     * restart removed the WAL under them. Each child keeps a connection
     * of its own instead (siali_db_child_init). */
    apr_pool_create(&ptemp, p);
    /* created 0600 before SQLite would create it 0644: it holds tokens */
    if (!strcmp(sc->driver, "sqlite3")
        && (e = sl_dbfile_create(sc->params, &created_dir, ptemp))) {
        e = apr_psprintf(p, "DBDParams %s: %s", sc->params, e);
        goto leave;
    }
    if (sl_db_open(&db, sc->driver, sc->params, 0, &err, ptemp) != SL_OK) {
        e = apr_psprintf(p, "DBDParams %s: %s", sc->params, err.message);
        goto leave;
    }
    if (sl_schema_migrate(db, 0, &from, &err, ptemp) != SL_OK) {
        e = apr_psprintf(p, "DBDParams %s: cannot migrate the schema: %s (is the "
                         "database writable?)", sc->params, err.message);
        goto leave;
    }
    if (from != SL_SCHEMA_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "SL10004: migrated %s database %s from schema %d to %d", sc->driver,
                     sc->params, from, SL_SCHEMA_VERSION);
    }
    if (sl_db_prepare_all(db, &err) != SL_OK) {
        e = apr_psprintf(p, "DBDParams %s: %s", sc->params, err.message);
        goto leave;
    }
    e = bootstrap(ptemp, db, c, s);
    if (!e) {
        /* keep the tables small: ended sessions and throttle windows that
         * ended long ago go at every start */
        apr_int64_t w = c->core.throttle_window;
        w = c->core.signup_window > w ? c->core.signup_window : w;
        w = c->core.auth_window > w ? c->core.auth_window : w;
        sl_session_purge(db, &c->core, ptemp);
        sl_throttle_purge(db, sl_now() - 86400 - w, ptemp);
        sl_2fa_purge(db, ptemp);
        /* the audit log's events past SialiAuditRetention, in batches (each
         * its own statement: the writer is never held long); the children
         * then purge a batch now and then as they write (sl_audit_add) */
        if (c->core.audit_retention > 0) {
            apr_int64_t before = sl_now() - apr_time_sec(c->core.audit_retention);
            int n, total = 0, batches = 0;
            /* at most 20 batches here: a long backlog (a shortened retention)
             * must not hold up the start; the children take the rest */
            do {
                n = 0;
                if (sl_audit_purge(db, before, 500, &n, NULL, ptemp) != SL_OK) {
                    break;
                }
                total += n;
            } while (n == 500 && ++batches < 20);
            if (total) {
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "SL10013: purged %d audit "
                             "events older than SialiAuditRetention", total);
            }
        }
    }
    e = e ? apr_pstrdup(p, e) : NULL;
leave:
    apr_pool_destroy(ptemp);
    if (!e && !strcmp(sc->driver, "sqlite3")) {
        /* tells `siali` that an httpd uses this file (no migration then) */
        if (sl_dbfile_hold(sc->params, pconf) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SL10007: cannot lock "
                         "%s.lock: the siali command cannot see this httpd", sc->params);
        }
        /* the files (and the folder when it is theirs alone) to the user the
         * children run as, readable by nobody else */
        e = sl_dbfile_hand_over(sc->params, ap_unixd_config.user_id,
                                ap_unixd_config.group_id, created_dir, p);
    }
    return e;
}

static const char *main_sqlite_path;

const char *siali_db_main_sqlite_path(void)
{
    return main_sqlite_path;
}

/* The scope a server was configured in: its <VirtualHost>, else the main
 * server's; unset DBD directives come from the main server, as mod_dbd
 * merges them. */
static db_scope_t scope_of(server_rec *sp, const db_scope_t *main_scope,
                           apr_array_header_t *vhosts)
{
    db_scope_t sc = *main_scope;
    int i;

    for (i = 0; sp->is_virtual && i < vhosts->nelts; i++) {
        db_scope_t *v = &APR_ARRAY_IDX(vhosts, i, db_scope_t);
        if (v->file && sp->defn_name && !strcmp(v->file, sp->defn_name)
            && (unsigned)v->line == sp->defn_line_number) {
            sc = *v;
            sc.driver = sc.driver ? sc.driver : main_scope->driver;
            sc.params = sc.params ? sc.params : main_scope->params;
            sc.max = sc.max ? sc.max : main_scope->max;
            break;
        }
    }
    return sc;
}

/* Every statement, for each server in the text of its driver (they differ
 * only where SQLite's FTS5 answers a search better, sl_sql.h); mod_dbd
 * prepares them on each connection it opens. */
int siali_db_register(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *vhosts = apr_array_make(ptemp, 4, sizeof(db_scope_t));
    apr_hash_t *seen = apr_hash_make(ptemp);
    module *dbd = ap_find_linked_module("mod_dbd.c");
    const sl_sql_stmt_t *st;
    db_scope_t main_scope;
    server_rec *sp;

    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_prepare || !dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10001: mod_siali needs mod_dbd: load "
                     "it before mod_siali (a2enmod dbd; LoadModule dbd_module ...)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&main_scope, 0, sizeof(main_scope));
    main_scope.where = "the main server";
    scan(ptemp, ap_conftree, &main_scope, vhosts);
    for (sp = s; sp; sp = sp->next) {
        const char *driver = scope_of(sp, &main_scope, vhosts).driver;
        void *shared = dbd ? ap_get_module_config(sp->module_config, dbd) : NULL;

        /* a virtual host without mod_dbd directives of its own has the main
         * server's mod_dbd configuration itself (httpd copies the pointer,
         * it merges nothing): its statements are there already, and giving
         * them again is a warning per statement (AH02653) */
        if (shared && apr_hash_get(seen, &shared, sizeof(shared))) {
            continue;
        }
        if (shared) {
            apr_hash_set(seen, apr_pmemdup(ptemp, &shared, sizeof(shared)), sizeof(shared),
                         sp);
        }
        for (st = sl_sql_statements; st->label; st++) {
            dbd_prepare(sp, sl_sql_text(st, driver), st->label);
        }
    }
    return OK;
}

int siali_db_prepare_databases(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *vhosts = apr_array_make(ptemp, 4, sizeof(db_scope_t));
    apr_hash_t *done = apr_hash_make(ptemp);
    db_scope_t main_scope;
    siali_srv_conf_t *c = siali_config_get(s);
    server_rec *sp;
    const char *e;
    int i, threaded = 0;

    memset(&main_scope, 0, sizeof(main_scope));
    main_scope.where = "the main server";
    scan(ptemp, ap_conftree, &main_scope, vhosts);
    main_sqlite_path = main_scope.driver && !strcmp(main_scope.driver, "sqlite3")
                       && main_scope.params ? apr_pstrdup(pconf, main_scope.params) : NULL;
    for (i = -1; i < vhosts->nelts; i++) {
        db_scope_t sc = i < 0 ? main_scope : APR_ARRAY_IDX(vhosts, i, db_scope_t);
        const char *key;

        if (i >= 0) {
            sc.driver = sc.driver ? sc.driver : main_scope.driver;
            sc.params = sc.params ? sc.params : main_scope.params;
        }
        if (!sc.uses_siali) {
            continue;
        }
        key = apr_pstrcat(ptemp, sc.driver ? sc.driver : "", ":",
                          sc.params ? sc.params : "", NULL);
        if (apr_hash_get(done, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(done, key, APR_HASH_KEY_STRING, "");
        if ((e = prepare_one(pconf, ptemp, &sc, c, s))) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10005: mod_siali: %s", e);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    /* what each server's requests will use */
    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *sc = siali_config_get(sp);
        db_scope_t scope = scope_of(sp, &main_scope, vhosts);

        sc->db_driver = scope.driver ? apr_pstrdup(pconf, scope.driver) : NULL;
        sc->db_params = scope.params ? apr_pstrdup(pconf, scope.params) : NULL;
        /* a non-threaded MPM has one connection a child and one request */
        sc->db_max = threaded == AP_MPMQ_NOT_SUPPORTED ? 1
                     : scope.max > 0 ? scope.max : DBD_DEFAULT_MAX;
        sc->write_lock = sc->db_driver && !strcmp(sc->db_driver, "sqlite3") && sc->db_params
                         ? writer_lock(s, sc->db_params) : NULL;
        if (sc->db_driver && !strcmp(sc->db_driver, "sqlite3") && !sc->write_lock) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10008: cannot create the SQLite "
                         "writer lock for %s", sc->db_params);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

static apr_status_t post_connect(apr_pool_t *p, dbd_cfg_t *cfg, ap_dbd_t *dbd)
{
    siali_srv_conf_t *c = cfg && cfg->server ? siali_config_get(cfg->server) : NULL;
    sl_db_t db;

    sl_db_wrap(&db, dbd->driver, dbd->handle, dbd->prepared, dbd->pool);
    db.scratch = p;
    return sl_db_conn_init(&db, c ? c->core.db_wait : SL_CONN_WAIT_DEFAULT, NULL) == SL_OK
           ? APR_SUCCESS : APR_EGENERAL;
}

void siali_db_hooks(void)
{
    APR_OPTIONAL_HOOK(dbd, post_connect, post_connect, NULL, NULL, APR_HOOK_MIDDLE);
}

/* ---- the gate: a bounded wait for one of mod_dbd's connections ----
 * mod_dbd's apr_reslist_acquire waits without a limit when every pooled
 * connection is out. The gate counts them out the same way, one gate per
 * database per child, as wide as DBDMax, and its wait has a deadline. */

typedef struct siali_gate_t {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int free;
} siali_gate_t;

void siali_db_child_init(apr_pool_t *p, server_rec *s)
{
    apr_hash_t *gates = apr_hash_make(p);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        const char *key;
        siali_gate_t *g;

        if (!c->db_driver || !c->db_params) {
            continue;
        }
        key = apr_pstrcat(p, c->db_driver, ":", c->db_params, NULL);
        g = apr_hash_get(gates, key, APR_HASH_KEY_STRING);
        if (!g && !strcmp(c->db_driver, "sqlite3")) {
            /* before mod_dbd's child_init prepares its statements */
            sl_db_sqlite_keep(c->db_params, apr_time_from_sec(30), NULL, p);
        }
        if (!g) {
            g = apr_pcalloc(p, sizeof(*g));
            if (apr_thread_mutex_create(&g->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
                || apr_thread_cond_create(&g->cond, p) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10009: cannot create the "
                             "connection gate: requests wait on mod_dbd without a limit");
                continue;
            }
            g->free = c->db_max;
            apr_hash_set(gates, key, APR_HASH_KEY_STRING, g);
        }
        else if (c->db_max < g->free) {
            g->free = c->db_max;    /* the narrowest pool of the servers sharing it */
        }
        c->gate = g;
    }
}

static int gate_enter(siali_gate_t *g, apr_interval_time_t wait)
{
    apr_time_t until = apr_time_now() + wait;
    int ok;

    if (!g) {
        return 1;
    }
    apr_thread_mutex_lock(g->mutex);
    while (g->free <= 0) {
        apr_interval_time_t left = until - apr_time_now();
        if (left <= 0) {
            break;
        }
        apr_thread_cond_timedwait(g->cond, g->mutex, left);
    }
    ok = g->free > 0;
    if (ok) {
        g->free--;
    }
    apr_thread_mutex_unlock(g->mutex);
    return ok;
}

static void gate_leave(siali_gate_t *g)
{
    if (g) {
        apr_thread_mutex_lock(g->mutex);
        g->free++;
        apr_thread_cond_signal(g->cond);
        apr_thread_mutex_unlock(g->mutex);
    }
}

/* ---- the request's source ---- */

typedef struct {
    sl_conn_src_t src;
    request_rec *r;
    siali_srv_conf_t *conf;
    ap_dbd_t *dbd;              /* out now (one unit at a time) */
    sl_db_t db;
} req_src_t;

static sl_kind_e src_acquire(sl_conn_src_t *src, sl_db_t **db, apr_interval_time_t wait,
                             sl_err_t *err)
{
    req_src_t *rs = src->baton;

    if (!gate_enter(rs->conf->gate, wait)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, rs->r, "SL10010: no pooled database "
                      "connection within %" APR_TIME_T_FMT " ms (DBDMax %d per child): "
                      "answering 503", apr_time_as_msec(wait), rs->conf->db_max);
        return sl_err_set(err, SL_EBUSY, NULL, "No database connection is free right now.");
    }
    rs->dbd = dbd_open(rs->r->pool, rs->r->server);
    if (!rs->dbd) {
        gate_leave(rs->conf->gate);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, rs->r, "SL10006: no database "
                      "connection from mod_dbd (see its message before this one)");
        return sl_err_set(err, SL_EDB, NULL, "The database is not available right now.");
    }
    sl_db_wrap(&rs->db, rs->dbd->driver, rs->dbd->handle, rs->dbd->prepared, rs->dbd->pool);
    *db = &rs->db;
    return SL_OK;
}

static void src_release(sl_conn_src_t *src, sl_db_t *db)
{
    req_src_t *rs = src->baton;

    if (rs->dbd) {
        dbd_close(rs->r->server, rs->dbd);
        rs->dbd = NULL;
        gate_leave(rs->conf->gate);
    }
}

/* The check at the end of every request that used the database: sl_conn
 * gives every connection back, so this only fires on a bug. */
static apr_status_t src_check(void *data)
{
    req_src_t *rs = data;

    if (rs->src.open || rs->dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, rs->r, "SL10011: the request ended with %d "
                      "database connection(s) out: given back now (a bug)", rs->src.open);
        src_release(&rs->src, &rs->db);
    }
    return APR_SUCCESS;
}

sl_conn_src_t *siali_db_source(request_rec *r, siali_req_t *req)
{
    req_src_t *rs;

    if (req->src) {
        return req->src;
    }
    rs = apr_pcalloc(r->pool, sizeof(*rs));
    rs->r = r;
    rs->conf = req->conf;
    rs->src.acquire = src_acquire;
    rs->src.release = src_release;
    rs->src.baton = rs;
    rs->src.write_lock = req->conf->write_lock;
    rs->src.authcache = req->conf->authcache;
    rs->src.wait = req->conf->core.db_wait;
    rs->src.pool = r->pool;
    rs->src.avatar_base = apr_pstrcat(r->pool, req->prefix, SL_AVATAR_BASE, NULL);
    /* for the audit log: who, from where (the caller is set once known) */
    rs->src.actor_id = req->user ? req->user->id : NULL;
    rs->src.client_address = r->useragent_ip;
    rs->src.user_agent = apr_table_get(r->headers_in, "User-Agent");
    apr_pool_cleanup_register(r->pool, rs, src_check, apr_pool_cleanup_null);
    req->src = &rs->src;
    return req->src;
}
