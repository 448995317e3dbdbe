/* mod_siali: module record, hooks and the route table. Everything a route
 * does lives in the core; this file only decides who may reach what. */
#include <malloc.h>
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mod_siali.h"
#include "mod_siali_account.h"
#include "mod_siali_api.h"
#include "mod_siali_audit.h"
#include "mod_siali_auth.h"
#include "mod_siali_authn.h"
#include "mod_siali_avatar.h"
#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "mod_siali_notify.h"
#include "mod_siali_http.h"
#include "mod_siali_pages.h"
#include "mod_siali_people.h"
#include "mod_siali_projects.h"
#include "mod_siali_sso.h"
#include "mod_siali_tokens.h"
#include "mod_siali_twofactor.h"
#include "mod_siali_reset.h"
#include "sl_audit.h"
#include "sl_log.h"
#include "sl_mail.h"
#include "sl_totp.h"
#include "sl_password.h"
#include "sl_role.h"

typedef int siali_route_fn(request_rec *r, siali_req_t *req);

enum {
    R_PUBLIC = 1,     /* no caller needed */
    R_HTML = 2,       /* a page: errors as HTML, anonymous browsers to login */
    R_USER = 4,       /* an API endpoint that needs a caller */
    R_HASHES = 8,     /* hashes a password: holds no database connection
                       * through the request, so it skips identification */
    R_ANON = 16,      /* brings its own evidence of who is calling (single
                       * sign-on): no cookie or token is looked at */
    R_SESSION = 32    /* a browser session only, not an API token: changes to
                       * the second factor (a leaked script token must not
                       * plant one its holder controls) */
};

#define M(x) (AP_METHOD_BIT << M_##x)

typedef struct {
    const char *path;       /* below the mount prefix, no trailing '/' */
    apr_int64_t methods;
    siali_route_fn *fn;
    int flags;
    const char *allow;      /* for 405 */
    /* what the caller's role must allow (sl_role.h; NO_PERM: nothing), for
     * GET/HEAD and for the other methods; and which '*' is a user id whose
     * owner needs only SL_PERM_OWN (-1: none) */
    sl_perm_e read, write;
    int self;
} siali_route_t;

#define NO_PERM SL_PERM_COUNT
/* pages and public endpoints: the handler decides */
#define OPEN NO_PERM, NO_PERM, -1
#define NEEDS(read, write, self) SL_PERM_##read, SL_PERM_##write, self
#define OWN_ONLY NEEDS(OWN, OWN, -1)

/* Exposed for the test that walks every unsafe route through the
 * cross-site check. */
static const siali_route_t routes[] = {
    { "", M(GET), siali_page_root, R_PUBLIC | R_HTML, "GET, HEAD", OPEN },
    { "/user/signup", M(GET) | M(POST), siali_page_signup, R_PUBLIC | R_HTML | R_HASHES,
      "GET, HEAD, POST", OPEN },
    { "/user/login", M(GET) | M(POST), siali_page_login, R_PUBLIC | R_HTML | R_HASHES,
      "GET, HEAD, POST", OPEN },
    { "/user/login/two-factor", M(GET) | M(POST), siali_page_two_factor, R_PUBLIC | R_HTML,
      "GET, HEAD, POST", OPEN },
    { "/user/reset-password", M(GET) | M(POST), siali_page_reset,
      R_PUBLIC | R_HTML | R_HASHES, "GET, HEAD, POST", OPEN },
    { "/user/forgot-password", M(GET) | M(POST), siali_page_forgot, R_PUBLIC | R_HTML,
      "GET, HEAD, POST", OPEN },
    { "/logout", M(GET) | M(POST), siali_page_logout, R_PUBLIC | R_HTML, "GET, HEAD, POST", OPEN },
    { "/sso/@", M(GET), siali_sso_login, R_PUBLIC | R_HTML | R_ANON, "GET, HEAD", OPEN },
    { "/people", M(GET), siali_page_app, R_PUBLIC | R_HTML, "GET, HEAD", OPEN },
    { "/user/account", M(GET), siali_page_app, R_PUBLIC | R_HTML, "GET, HEAD", OPEN },
    { "/api/health", M(GET), siali_api_health, R_PUBLIC, "GET, HEAD", OPEN },
    { "/api/current-user/whoami", M(GET), siali_api_whoami, R_USER, "GET, HEAD", OWN_ONLY },
    { "/api/current-user/token", M(GET), siali_api_token, R_USER, "GET, HEAD", OWN_ONLY },
    { "/api/current-user/reset-token", M(POST), siali_api_reset_token, R_USER, "POST", OWN_ONLY },
    { "/api/invite", M(GET), siali_api_invite, R_USER, "GET, HEAD", NEEDS(INVITE, INVITE, -1) },
    { "/api/invite/reset-token", M(POST), siali_api_invite_reset, R_USER,
      "POST", NEEDS(INVITE, INVITE, -1) },
    { "/api/organizations", M(GET), siali_api_organizations, R_USER, "GET, HEAD", OWN_ONLY },
    { "/api/organizations/*/memberships", M(GET) | M(PATCH), siali_api_memberships, R_USER,
      "GET, HEAD, PATCH", NEEDS(OWN, ROLES, -1) },
    { "/api/organizations/*/set-default-role", M(PATCH), siali_api_default_role, R_USER,
      "PATCH", NEEDS(ROLES, ROLES, -1) },
    { "/api/organizations/*/memberships/*", M(GET), siali_api_member, R_USER,
      "GET, HEAD", NEEDS(OWN, OWN, 1) },
    { "/api/users", M(GET), siali_api_users, R_USER, "GET, HEAD", NEEDS(PEOPLE, PEOPLE, -1) },
    { "/api/users/*", M(GET) | M(PATCH) | M(DELETE), siali_api_user, R_USER,
      "GET, HEAD, PATCH, DELETE", NEEDS(PEOPLE, MANAGE, 0) },
    { "/api/projects", M(GET) | M(POST), siali_api_projects, R_USER,
      "GET, HEAD, POST", NEEDS(OWN, PROJECTS, -1) },
    { "/api/projects/*", M(GET), siali_api_project, R_USER, "GET, HEAD", OWN_ONLY },
    { "/api/projects/*/import", M(POST), siali_api_project_import, R_USER,
      "POST", NEEDS(PROJECTS, PROJECTS, -1) },
    { "/api/tasks/*/annotations", M(POST), siali_api_annotations, R_USER, "POST", OWN_ONLY },
    { "/api/users/*/reset-link", M(POST), siali_api_reset_link, R_USER, "POST",
      NEEDS(MANAGE, MANAGE, -1) },
    { "/api/users/*/avatar", M(POST) | M(DELETE), siali_api_avatar, R_USER,
      "POST, DELETE", NEEDS(MANAGE, MANAGE, 0) },
    { "/api/current-user/password", M(POST), siali_api_password, R_USER, "POST", OWN_ONLY },
    { "/data/avatars/@", M(GET), siali_avatar_file, R_USER, "GET, HEAD", OWN_ONLY },
    { "/api/token", M(GET) | M(POST), siali_api_pats, R_USER, "GET, HEAD, POST", OWN_ONLY },
    { "/api/token/refresh", M(POST), siali_api_pat_refresh, R_PUBLIC, "POST", OPEN },
    { "/api/token/blacklist", M(POST), siali_api_pat_blacklist, R_PUBLIC, "POST", OPEN },
    { "/api/token/rotate", M(POST), siali_api_pat_rotate, R_USER, "POST", OWN_ONLY },
    { "/api/jwt/settings", M(GET) | M(POST), siali_api_jwt_settings, R_USER,
      "GET, HEAD, POST", NEEDS(OWN, SETTINGS, -1) },
    { "/api/session-policy", M(GET) | M(PATCH), siali_api_session_policy, R_USER,
      "GET, HEAD, PATCH", NEEDS(OWN, SETTINGS, -1) },
    { "/api/activity-logs", M(GET), siali_api_activity_logs, R_USER, "GET, HEAD",
      NEEDS(AUDIT, AUDIT, -1) },
    { "/api/current-user/activity", M(GET), siali_api_my_activity, R_USER, "GET, HEAD",
      OWN_ONLY },
    { "/api/current-user/two-factor", M(GET), siali_api_two_factor, R_USER, "GET, HEAD",
      OWN_ONLY },
    { "/api/current-user/two-factor/setup", M(POST), siali_api_two_factor_setup,
      R_USER | R_SESSION, "POST", OWN_ONLY },
    { "/api/current-user/two-factor/enable", M(POST), siali_api_two_factor_enable,
      R_USER | R_SESSION, "POST", OWN_ONLY },
    { "/api/current-user/two-factor/disable", M(POST), siali_api_two_factor_disable,
      R_USER | R_SESSION, "POST", OWN_ONLY },
    { NULL, 0, NULL, 0, NULL, OPEN }
};

/* 1 when path matches pattern, where each "*" segment is an id (1 to 18
 * digits, no leading zero) and "@" a file name ([A-Za-z0-9._-], 1 to 100,
 * not starting with a dot), captured into ids. */
static int route_match(const char *pattern, const char *path, const char **ids,
                       apr_pool_t *p)
{
    int n = 0;

    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = path;
            while (*end >= '0' && *end <= '9') {
                end++;
            }
            if (end == path || end - path > 18 || *path == '0' || (*end && *end != '/')
                || n >= 2) {
                return 0;
            }
            ids[n++] = apr_pstrmemdup(p, path, end - path);
            path = end;
            pattern++;
        }
        else if (*pattern == '@') {
            const char *end = path;
            while ((*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z')
                   || (*end >= '0' && *end <= '9') || *end == '.' || *end == '_'
                   || *end == '-') {
                end++;
            }
            if (end == path || end - path > 100 || *path == '.' || *end || n >= 2) {
                return 0;
            }
            ids[n++] = apr_pstrmemdup(p, path, end - path);
            path = end;
            pattern++;
        }
        else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return !*pattern && !*path;
}

static void log_to_httpd(void *baton, sl_log_level_e level, const char *file,
                         int line, const char *msg)
{
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, 0, baton, "%s", msg);
}

/* The path of the <Location> whose SetHandler brought the request here:
 * core keeps the path of the innermost section that set a core directive
 * (ours has no directive there, so it gets no config of its own). */
static const char *mount_prefix(request_rec *r)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    siali_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &siali_module);
    apr_size_t n;

    /* in a single sign-on <Location>, the innermost section may be it (its
     * AuthType) or any later one that matches: the mount is what
     * SialiTrustRemoteUser found above its own path */
    if (dc && dc->sso_trust == 1 && dc->sso_location) {
        n = strlen(dc->sso_location);
        if (!strncmp(r->uri, dc->sso_location, n) && (r->uri[n] == '/' || !r->uri[n])) {
            return dc->sso_mount;
        }
    }
    if (!cd || !cd->d || cd->d[0] != '/' || cd->r) {
        return "";
    }
    n = strlen(cd->d);
    while (n > 0 && cd->d[n - 1] == '/') {
        n--;
    }
    if (strncmp(r->uri, cd->d, n) || (r->uri[n] != '/' && r->uri[n] != '\0')) {
        return "";   /* a <Directory>, or a section that is not a prefix */
    }
    return apr_pstrmemdup(r->pool, cd->d, n);
}

/* The path below the mount prefix, without its trailing slash. */
static const char *route_path(request_rec *r, const char *prefix)
{
    const char *uri = r->uri;
    apr_size_t n = strlen(prefix), len;

    if (n && !strncmp(uri, prefix, n) && (uri[n] == '/' || uri[n] == '\0')) {
        uri += n;
    }
    len = strlen(uri);
    while (len > 0 && uri[len - 1] == '/') {
        len--;
    }
    return apr_pstrmemdup(r->pool, uri, len);
}

/* The one place where roles decide (sl_role.h): what the route needs of
 * the caller's role for this method, or only SL_PERM_OWN when its user id
 * is the caller's. 0 once the 403 has been sent. */
static int role_allows(request_rec *r, siali_req_t *req, const siali_route_t *rt)
{
    int safe = r->method_number == M_GET;
    sl_perm_e need = safe ? rt->read : rt->write;
    sl_role_e role = sl_role_effective(req->user->role, req->user->is_active);

    if (need == NO_PERM) {
        return 1;
    }
    if (rt->self >= 0 && req->ids[rt->self] && !strcmp(req->ids[rt->self], req->user->id)) {
        need = SL_PERM_OWN;
    }
    if (siali_caller_may(req, need)) {
        return 1;
    }
    /* (logged once, by siali_http_error, with the permission named) */
    siali_http_error(r, HTTP_FORBIDDEN, sl_role_missing(role, need, r->pool), NULL, NULL);
    return 0;
}

static int siali_handler(request_rec *r)
{
    siali_req_t *req;
    const siali_route_t *rt;
    int is_api;

    if (!r->handler || strcmp(r->handler, SIALI_HANDLER)) {
        return DECLINED;
    }
    siali_http_redact_secrets(r);
    req = apr_pcalloc(r->pool, sizeof(*req));
    req->conf = siali_config_get(r->server);
    req->prefix = mount_prefix(r);
    req->path = route_path(r, req->prefix);
    is_api = !strncmp(req->path, "/api/", 5) || !strcmp(req->path, "/api");

    for (rt = routes; rt->path && !route_match(rt->path, req->path, req->ids, r->pool); rt++)
        ;
    if (!rt->path) {
        return is_api ? siali_http_error(r, HTTP_NOT_FOUND, "Not found.", NULL, NULL)
                      : siali_page_error(r, req, HTTP_NOT_FOUND, "Not found",
                                         "There is no page at this address.");
    }
    if (!(rt->methods & (AP_METHOD_BIT << r->method_number))) {
        apr_table_setn(r->err_headers_out, "Allow", rt->allow);
        return is_api ? siali_http_error(r, HTTP_METHOD_NOT_ALLOWED, apr_psprintf(
                            r->pool, "Method %s not allowed.", r->method), NULL, NULL)
                      : siali_page_error(r, req, HTTP_METHOD_NOT_ALLOWED,
                                         "Not allowed", "This method is not allowed here.");
    }
    /* the health check must not depend on anything but the database */
    if (rt->fn != siali_api_health && !(rt->flags & (R_HASHES | R_ANON))) {
        switch (siali_auth_find(r, req)) {
        case SIALI_FOUND_BAD_TOKEN:
            return siali_http_error(r, HTTP_UNAUTHORIZED, req->auth_detail ? req->auth_detail
                                    : "Invalid token: send 'Authorization: Token <key>' with "
                                    "the key of an active account, or 'Authorization: Bearer "
                                    "<access token>'.", NULL, NULL);
        case SIALI_FOUND_UNAVAILABLE:
            return (rt->flags & R_HTML)
                   ? siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                                      "The database is not available right now.")
                   : siali_http_unavailable(r, 0);
        case SIALI_FOUND_THROTTLED:
            apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(req->retry_after,
                                                                     r->pool));
            return (rt->flags & R_HTML)
                   ? siali_page_error(r, req, HTTP_TOO_MANY_REQUESTS, "Too many attempts",
                                      apr_psprintf(r->pool, "Too many failed sign-ins from "
                                                   "this address. Try again in %"
                                                   APR_INT64_T_FMT " seconds.",
                                                   req->retry_after))
                   : siali_http_error(r, HTTP_TOO_MANY_REQUESTS, "Too many failed "
                                      "authentications from this address: try again later.",
                                      NULL, NULL);
        default:
            break;
        }
    }
    if ((rt->flags & R_USER) && !req->user) {
        return siali_http_error(r, HTTP_UNAUTHORIZED,
                                "Authentication credentials were not provided.", NULL, NULL);
    }
    if ((rt->flags & R_SESSION) && req->auth != SIALI_AUTH_SESSION) {
        return siali_http_error(r, HTTP_FORBIDDEN, "Two-factor login is set up and turned "
                                "off from a browser session (Account & Settings), not with "
                                "an API token.", NULL, NULL);
    }
    if (!siali_auth_same_site(r, req)) {
        return (rt->flags & R_HTML)
               ? siali_page_error(r, req, HTTP_FORBIDDEN, "Forbidden",
                                  "This request came from another site.")
               : siali_http_error(r, HTTP_FORBIDDEN,
                                  "Cross-site request refused (Origin / Sec-Fetch-Site).",
                                  NULL, NULL);
    }
    /* the audit log's actor for the units this request runs */
    if (req->user && req->src) {
        req->src->actor_id = req->user->id;
    }
    if (req->user && !role_allows(r, req, rt)) {
        return OK;
    }
    /* no connection is out here, nor after: units of work give theirs
     * back before they return (sl_conn.h) */
    return rt->fn(r, req);
}


/* The module answers its URLs itself, whatever the DocumentRoot holds under
 * the same path: a directory there must not make mod_dir (a fixup of its
 * own, run last) send "/" to its DirectoryIndex file ("Not found" under
 * Debian's default site) or "/people" to "/people/". httpd has walked the
 * disk for the request by now, so <Directory> and .htaccess rules applied
 * as for any handler; only the directory's meaning to mod_dir is taken
 * away. */
static int siali_fixups(request_rec *r)
{
    if (r->handler && !strcmp(r->handler, SIALI_HANDLER) && r->finfo.filetype == APR_DIR) {
        r->finfo.filetype = APR_NOFILE;
    }
    return DECLINED;
}

static int siali_register_statements(apr_pool_t *pconf, apr_pool_t *plog,
                                     apr_pool_t *ptemp, server_rec *s)
{
    return siali_db_register(pconf, ptemp, s);
}

static int siali_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sp;
    const char *e;
    int rc;

    sl_log_set(log_to_httpd, s);
    /* the parent's own hashes (start-up account, dummies) take no slot: at a
     * graceful restart the children may hold them all */
    sl_password_limit_use(NULL, 0);
    for (sp = s; sp; sp = sp->next) {
        if ((e = siali_config_freeze(siali_config_get(sp), pconf))) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10010: mod_siali: %s", e);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if ((rc = siali_db_prepare_databases(pconf, ptemp, s)) != OK) {
        return rc;
    }
    siali_avatar_import_files(ptemp, s, siali_db_main_sqlite_path());
    siali_notify_post_config(s);
    /* one dummy hash per cost in use, for logins nobody has, and how long
     * checking one takes (the longest of three: a padded answer should not
     * come sooner than a real one); kept for the life of the parent, so the
     * start's second configuration pass and graceful restarts reuse them
     * (with a costly hash each costs seconds) */
    {
        apr_hash_t **known = ap_retained_data_get("siali-dummy-hashes");

        if (!known) {
            known = ap_retained_data_create("siali-dummy-hashes", sizeof(*known));
            *known = apr_hash_make(s->process->pool);
        }
        for (sp = s; sp; sp = sp->next) {
            sl_config_t *core = &siali_config_get(sp)->core;
            const char *key = apr_psprintf(ptemp, "%u:%u:%u", core->hash.m_kib, core->hash.t,
                                           core->hash.p);
            sl_config_t *same = apr_hash_get(*known, key, APR_HASH_KEY_STRING);
            int i;

            if (!same) {
                apr_pool_t *keep = s->process->pool;

                same = apr_pcalloc(keep, sizeof(*same));
                if (!(same->dummy_hash = sl_password_dummy(&core->hash, keep))) {
                    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                                 "SL10011: cannot compute a dummy hash");
                    return HTTP_INTERNAL_SERVER_ERROR;
                }
                for (i = 0; i < 3; i++) {
                    apr_time_t t0 = apr_time_now();
                    sl_password_verify(same->dummy_hash, "x", 1);
                    if (!i || apr_time_now() - t0 > same->verify_time) {
                        same->verify_time = apr_time_now() - t0;
                    }
                }
                apr_hash_set(*known, apr_pstrdup(keep, key), APR_HASH_KEY_STRING, same);
            }
            core->dummy_hash = same->dummy_hash;
            core->verify_time = same->verify_time;
        }
    }
    /* one cap for the life of the parent: across a graceful restart the old
     * children and the new ones hash within the same slots */
    {
        sl_password_limit_t **limit = ap_retained_data_get("siali-hash-limit");
        if (!limit) {
            limit = ap_retained_data_create("siali-hash-limit", sizeof(*limit));
            if (sl_password_limit_create(limit, 0, s->process->pool) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                             "SL10012: cannot create the hashing limiter");
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        sl_password_limit_use(*limit, siali_config_get(s)->core.hash_wait);
    }
    return OK;
}

static void siali_child_init(apr_pool_t *p, server_rec *s)
{
    sl_log_set(log_to_httpd, s);
    sl_mail_init();     /* before any other thread starts (the listener's) */
    siali_db_child_init(p, s);
    siali_notify_child_init(p, s);
    siali_reset_child_init(p, s);
    siali_auth_child_init(p);
    siali_people_child_init(p, s);
    sl_totp_init();     /* before a thread checks a code */
    sl_audit_set_retention(apr_time_sec(siali_config_get(s)->core.audit_retention));
    /* argon2 takes m KiB (19 MiB by default) per hash. glibc raises its mmap
     * threshold after the first such block is freed, and the next ones come
     * from per-thread arenas that grow and trim on every hash: a login took
     * 72 ms instead of 20 ms (one hash is 19 ms). A fixed threshold (glibc's
     * own default value) keeps every large block a plain mmap. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

static void siali_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };

    /* statements must reach mod_dbd before its post_config reads them */
    ap_hook_post_config(siali_register_statements, NULL, before_dbd, APR_HOOK_FIRST);
    ap_hook_post_config(siali_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_dbd's: its first connections prepare their statements */
    ap_hook_child_init(siali_child_init, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(siali_http_redact_early, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(siali_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(siali_handler, NULL, NULL, APR_HOOK_MIDDLE);
    siali_db_hooks();
    siali_authn_hooks();
}

module AP_MODULE_DECLARE_DATA siali_module = {
    STANDARD20_MODULE_STUFF,
    siali_config_create_dir,
    siali_config_merge_dir,
    siali_config_create_srv,
    siali_config_merge_srv,
    siali_cmds,
    siali_register_hooks
};
