/* Glue between mod_dbd and the core. mod_dbd keeps its driver and params
 * private and has no connection in the parent, so the parent reads them
 * from the parsed configuration tree and migrates with a direct
 * apr_dbd_open before any child connects. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_optional_hooks.h>
#include <apr_file_info.h>
#include <http_core.h>
#include <util_cfgtree.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <unixd.h>

#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "sl_account.h"
#include "sl_dblock.h"
#include "sl_password.h"
#include "sl_schema.h"
#include "sl_sql.h"
#include "sl_validate.h"

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

int siali_db_register(apr_pool_t *pconf, server_rec *s)
{
    const sl_sql_stmt_t *st;
    server_rec *sp;

    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_prepare || !dbd_acquire || !dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10001: mod_siali needs mod_dbd: load it before mod_siali "
                     "(a2enmod dbd; LoadModule dbd_module ...)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sp = s; sp; sp = sp->next) {
        for (st = sl_sql_statements; st->label; st++) {
            dbd_prepare(sp, st->sql, st->label);
        }
    }
    return OK;
}

/* ---- which databases: walk the parsed configuration ---- */

typedef struct {
    const char *driver;
    const char *params;
    int uses_siali;
    const char *where;     /* for messages */
} db_scope_t;

static const char *arg1(apr_pool_t *p, const char *args)
{
    return ap_getword_conf(p, &args);
}

static void scan(apr_pool_t *p, ap_directive_t *d, db_scope_t *scope,
                 apr_array_header_t *vhosts, const db_scope_t *main)
{
    for (; d; d = d->next) {
        const char *name = d->directive;

        if (!strcasecmp(name, "<VirtualHost")) {
            db_scope_t *v = apr_array_push(vhosts);
            v->driver = NULL;
            v->params = NULL;
            v->uses_siali = 0;
            v->where = apr_psprintf(p, "<VirtualHost %s> (%s:%d)", d->args,
                                    d->filename, d->line_num);
            scan(p, d->first_child, v, vhosts, main);
            continue;
        }
        if (!strcasecmp(name, "DBDriver")) {
            scope->driver = arg1(p, d->args);
        }
        else if (!strcasecmp(name, "DBDParams")) {
            scope->params = arg1(p, d->args);
        }
        else if (!strncasecmp(name, "Siali", 5)
                 || ((!strcasecmp(name, "SetHandler") || !strcasecmp(name, "AuthType"))
                     && !strcasecmp(arg1(p, d->args), "siali"))) {
            scope->uses_siali = 1;
        }
        if (d->first_child) {
            scan(p, d->first_child, scope, vhosts, main);
        }
    }
}

/* SQLite: make the file, its -wal/-shm and (when it is ours) its folder
 * belong to the user the children run as. Never chowns a shared folder. */
static const char *hand_over_sqlite(apr_pool_t *p, const char *path, int created_dir)
{
    const char *dir, *base, *suffixes[] = { "", "-wal", "-shm", "-journal", NULL };
    uid_t uid = ap_unixd_config.user_id;
    gid_t gid = ap_unixd_config.group_id;
    int i, dedicated = created_dir;
    char *slash;

    if (geteuid() != 0) {
        return NULL;
    }
    for (i = 0; suffixes[i]; i++) {
        const char *f = apr_pstrcat(p, path, suffixes[i], NULL);
        if (chown(f, uid, gid) != 0 && errno != ENOENT) {
            return apr_psprintf(p, "cannot hand %s to uid %d: %s", f, (int)uid,
                                strerror(errno));
        }
    }
    slash = strrchr(path, '/');
    dir = slash ? (slash == path ? "/" : apr_pstrmemdup(p, path, slash - path)) : ".";
    base = slash ? slash + 1 : path;
    if (!dedicated) {
        /* a folder that holds nothing but this database is ours too */
        DIR *dh = opendir(dir);
        struct dirent *e;
        dedicated = dh != NULL;
        while (dh && (e = readdir(dh))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
                && strncmp(e->d_name, base, strlen(base))) {
                dedicated = 0;
            }
        }
        if (dh) {
            closedir(dh);
        }
    }
    if (dedicated && strcmp(dir, "/") && chown(dir, uid, gid) != 0) {
        return apr_psprintf(p, "cannot hand folder %s to uid %d: %s", dir, (int)uid,
                            strerror(errno));
    }
    return NULL;
}

static int make_parent_dir(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    apr_finfo_t fi;
    const char *dir;

    if (!slash || slash == path) {
        return 0;
    }
    dir = apr_pstrmemdup(p, path, slash - path);
    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) == APR_SUCCESS) {
        return 0;
    }
    return apr_dir_make_recursive(dir, SIALI_DIR_PERMS, p) == APR_SUCCESS;
}

/* The start-up account: SialiUsername/Password/UserToken or LABEL_STUDIO_*.
 * An existing account is never changed. */
static const char *bootstrap(apr_pool_t *p, sl_db_t *db, siali_srv_conf_t *c,
                             server_rec *s)
{
    sl_new_user_t nu;
    sl_user_t *u;
    sl_err_t err;
    sl_kind_e k;

    if (!c->username || !*c->username) {
        return NULL;
    }
    k = sl_account_by_login(db, &u, c->username, &err, p);
    if (k == SL_OK) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "SL10002: start-up account %s exists: left unchanged", c->username);
        return NULL;
    }
    if (k != SL_ENOTFOUND) {
        return err.message;
    }
    memset(&nu, 0, sizeof(nu));
    if (sl_account_named(&nu, c->username, &err, p) != SL_OK) {
        return apr_psprintf(p, "SialiUsername: %s", err.message);
    }
    if (sl_validate_password(c->password, strlen(c->password), c->core.password_min,
                             &err, p) != SL_OK) {
        return apr_psprintf(p, "SialiPassword: %s", err.message);
    }
    nu.token = c->user_token;
    if (sl_password_hash(&nu.password_hash, c->password, strlen(c->password),
                         &c->core.hash, p) != APR_SUCCESS) {
        return "cannot hash the start-up password";
    }
    if (sl_account_create(db, &u, &nu, &err, p) != SL_OK) {
        return apr_psprintf(p, "cannot create the start-up account %s: %s",
                            c->username, err.message);
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "SL10003: created the start-up account %s (id %s)", u->email, u->id);
    return NULL;
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
    /* SQLite: the parent keeps this connection open for as long as the
     * configuration lives. Children then find the WAL index ready; when the
     * last connection closes, the next opener rebuilds it under an exclusive
     * lock, and children preparing their statements at that moment got
     * "database is locked" (apr_dbd prepares without retrying). The parent
     * never uses it after start, nor do the children it forks. */
    apr_pool_create(&ptemp, !strcmp(sc->driver, "sqlite3") ? pconf : p);
    if (!strcmp(sc->driver, "sqlite3")) {
        created_dir = make_parent_dir(ptemp, sc->params);
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
        /* keep the table small: expired sessions go at every start */
        const char *now = sl_i64(sl_now(), ptemp);
        const char *idle = sl_i64(sl_now() - c->core.session_idle, ptemp);
        const char *args[2] = { now, idle };
        sl_db_exec(db, ptemp, "siali_session_purge", NULL, 2, args, NULL);
        /* and throttle windows that ended long ago */
        args[0] = sl_i64(sl_now() - 86400 - c->core.throttle_window, ptemp);
        sl_db_exec(db, ptemp, "siali_throttle_purge", NULL, 1, args, NULL);
    }
    e = e ? apr_pstrdup(p, e) : NULL;
leave:
    if (e || strcmp(sc->driver, "sqlite3")) {
        apr_pool_destroy(ptemp);
    }
    if (!e && !strcmp(sc->driver, "sqlite3")) {
        e = hand_over_sqlite(p, sc->params, created_dir);
        /* tells `siali` that an httpd uses this file (no migration then) */
        if (!e && sl_dblock_hold(sc->params, pconf) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "SL10007: cannot lock "
                         "%s.lock: the siali command cannot see this httpd", sc->params);
        }
    }
    return e;
}

static const char *main_sqlite_path;

const char *siali_db_main_sqlite_path(void)
{
    return main_sqlite_path;
}

int siali_db_prepare_databases(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *vhosts = apr_array_make(ptemp, 4, sizeof(db_scope_t));
    apr_hash_t *done = apr_hash_make(ptemp);
    db_scope_t main_scope = { NULL, NULL, 0, "the main server" };
    siali_srv_conf_t *c = siali_config_get(s);
    const char *e;
    int i;

    scan(ptemp, ap_conftree, &main_scope, vhosts, NULL);
    main_sqlite_path = main_scope.driver && !strcmp(main_scope.driver, "sqlite3")
                       && main_scope.params ? apr_pstrdup(pconf, main_scope.params) : NULL;
    for (i = -1; i < vhosts->nelts; i++) {
        db_scope_t sc = i < 0 ? main_scope : APR_ARRAY_IDX(vhosts, i, db_scope_t);
        const char *key;

        /* a virtual host without its own DBDriver/DBDParams uses the main
         * server's, as mod_dbd merges them */
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
    return OK;
}

static apr_status_t post_connect(apr_pool_t *p, dbd_cfg_t *cfg, ap_dbd_t *dbd)
{
    sl_db_t db;

    sl_db_wrap(&db, dbd->driver, dbd->handle, dbd->prepared, dbd->pool);
    return sl_db_conn_init(&db, NULL) == SL_OK ? APR_SUCCESS : APR_EGENERAL;
}

void siali_db_hooks(void)
{
    APR_OPTIONAL_HOOK(dbd, post_connect, post_connect, NULL, NULL, APR_HOOK_MIDDLE);
}

static sl_db_t *wrap(request_rec *r, ap_dbd_t *dbd)
{
    sl_db_t *db;

    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SL10006: no database connection from mod_dbd: answering 503");
        return NULL;
    }
    db = apr_palloc(r->pool, sizeof(*db));
    sl_db_wrap(db, dbd->driver, dbd->handle, dbd->prepared, dbd->pool);
    return db;
}

typedef struct {
    sl_db_t db;
    ap_dbd_t *dbd;
    server_rec *s;
} opened_t;

static apr_status_t give_back(void *data)
{
    opened_t *o = data;

    if (o->dbd) {
        dbd_close(o->s, o->dbd);
        o->dbd = NULL;
    }
    return APR_SUCCESS;
}

sl_db_t *siali_db_open(request_rec *r)
{
    ap_dbd_t *dbd = dbd_open(r->pool, r->server);
    opened_t *o;

    if (!wrap(r, dbd)) {
        return NULL;
    }
    o = apr_pcalloc(r->pool, sizeof(*o));
    sl_db_wrap(&o->db, dbd->driver, dbd->handle, dbd->prepared, dbd->pool);
    o->dbd = dbd;
    o->s = r->server;
    /* given back by siali_db_close, or at the latest with the request */
    apr_pool_cleanup_register(r->pool, o, give_back, apr_pool_cleanup_null);
    return &o->db;
}

void siali_db_close(request_rec *r, sl_db_t *db)
{
    if (db) {
        apr_pool_cleanup_run(r->pool, db, give_back);
    }
}


sl_db_t *siali_req_db(request_rec *r, siali_req_t *req)
{
    if (!req->db && (req->db = siali_db_open(r))) {
        req->db->avatar_base = apr_pstrcat(r->pool, req->prefix, SL_AVATAR_BASE, NULL);
    }
    return req->db;
}
