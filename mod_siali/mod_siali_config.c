/* Directives: one struct, "unset" markers, merge "add if set else base",
 * value parsers in the core (unit-tested), one help sentence each. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include "mod_siali_config.h"
#include "sl_account.h"
#include "sl_password.h"
#include "sl_validate.h"

siali_srv_conf_t *siali_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &siali_module);
}

void *siali_config_create_srv(apr_pool_t *p, server_rec *s)
{
    siali_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->signup_restricted = -1;
    c->session_max_age = -1;
    c->session_idle = -1;
    c->password_min = -1;
    c->throttle_max = -1;
    c->throttle_window = -1;
    c->signup_max = -1;
    c->signup_window = -1;
    c->auth_max = -1;
    c->auth_window = -1;
    c->avatar_max_px = -1;
    c->db_wait = -1;
    c->auth_cache = -1;
    c->hash_wait = -1;
    c->trusted_origins = apr_array_make(p, 2, sizeof(const char *));
    sl_config_defaults(&c->core);
    return c;
}

#define MERGE(f, unset) (add->f != (unset) ? add->f : base->f)

void *siali_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    siali_srv_conf_t *base = basev, *add = addv;
    siali_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->signup_restricted = MERGE(signup_restricted, -1);
    c->username = MERGE(username, NULL);
    c->password = MERGE(password, NULL);
    c->user_token = MERGE(user_token, NULL);
    c->session_max_age = MERGE(session_max_age, -1);
    c->session_idle = MERGE(session_idle, -1);
    c->password_min = MERGE(password_min, -1);
    c->hash_set = add->hash_set || base->hash_set;
    c->hash = add->hash_set ? add->hash : base->hash;
    c->throttle_max = MERGE(throttle_max, -1);
    c->throttle_window = MERGE(throttle_window, -1);
    c->signup_max = MERGE(signup_max, -1);
    c->signup_window = MERGE(signup_window, -1);
    c->auth_max = MERGE(auth_max, -1);
    c->auth_window = MERGE(auth_window, -1);
    c->trusted_origins = apr_array_append(p, base->trusted_origins, add->trusted_origins);
    c->avatar_max_px = MERGE(avatar_max_px, -1);
    c->avatar_max_bytes = MERGE(avatar_max_bytes, 0);
    c->avatar_dir = MERGE(avatar_dir, NULL);
    c->db_wait = MERGE(db_wait, -1);
    c->auth_cache = MERGE(auth_cache, -1);
    c->hash_wait = MERGE(hash_wait, -1);
    sl_config_defaults(&c->core);
    return c;
}

void *siali_config_create_dir(apr_pool_t *p, char *dir)
{
    siali_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->forward_identity = -1;
    c->forward_credentials = -1;
    return c;
}

void *siali_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    siali_dir_conf_t *base = basev, *add = addv;
    siali_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->forward_identity = MERGE(forward_identity, -1);
    c->forward_credentials = MERGE(forward_credentials, -1);
    c->login_url = MERGE(login_url, NULL);
    return c;
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    siali_config_get(cmd->server)->signup_restricted = on ? 1 : 0;
    return NULL;
}

static const char *set_bootstrap(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    const char *which = cmd->info;
    sl_err_t err;

    if (!strcmp(which, "username")) {
        c->username = arg;
    }
    else if (!strcmp(which, "password")) {
        c->password = arg;
    }
    else {
        if (sl_account_check_token(arg, &err) != SL_OK) {
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err.message);
        }
        c->user_token = arg;
    }
    return NULL;
}

static const char *set_duration(cmd_parms *cmd, void *dummy, const char *arg);

/* "Off" or a duration (0 is Off too) */
static const char *set_auth_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (!strcasecmp(arg, "off")) {
        siali_config_get(cmd->server)->auth_cache = 0;
        return NULL;
    }
    return set_duration(cmd, dummy, arg);
}

static const char *set_duration(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    apr_int64_t v;
    const char *e = sl_config_parse_duration(&v, arg);

    if (e) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
    }
    if (!strcmp(cmd->info, "max_age")) {
        c->session_max_age = v;
    }
    else if (!strcmp(cmd->info, "auth_cache")) {
        if (v > 3600) {
            return apr_psprintf(cmd->pool, "%s: at most 1h", cmd->cmd->name);
        }
        c->auth_cache = apr_time_from_sec(v);
    }
    else if (!strcmp(cmd->info, "db_wait") || !strcmp(cmd->info, "hash_wait")) {
        if (v > 600) {
            return apr_psprintf(cmd->pool, "%s: at most 600 seconds", cmd->cmd->name);
        }
        *(!strcmp(cmd->info, "db_wait") ? &c->db_wait : &c->hash_wait) = apr_time_from_sec(v);
    }
    else {
        c->session_idle = v;
    }
    return NULL;
}

static const char *set_password_min(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e;
    long v;

    if ((e = sl_config_parse_int(&v, arg, 1, SL_PASSWORD_MAX, cmd->pool))) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
    }
    siali_config_get(cmd->server)->password_min = (int)v;
    return NULL;
}

static const char *set_hash(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    const char *e = sl_password_parse_params(&c->hash, arg, cmd->pool);

    if (e) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
    }
    c->hash_set = 1;
    return NULL;
}

static const char *set_throttle(cmd_parms *cmd, void *dc, const char *n,
                                const char *secs)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    apr_int64_t w;
    const char *e;
    long v;

    if ((e = sl_config_parse_int(&v, n, 1, 1000000, cmd->pool))) {
        return apr_psprintf(cmd->pool, "%s: N: %s", cmd->cmd->name, e);
    }
    if ((e = sl_config_parse_duration(&w, secs))) {
        return apr_psprintf(cmd->pool, "%s: SECONDS: %s", cmd->cmd->name, e);
    }
    if (!strcmp(cmd->info, "signup")) {
        c->signup_max = (int)v;
        c->signup_window = w;
    }
    else if (!strcmp(cmd->info, "auth")) {
        c->auth_max = (int)v;
        c->auth_window = w;
    }
    else {
        c->throttle_max = (int)v;
        c->throttle_window = w;
    }
    return NULL;
}

static const char *add_origin(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    const char *origin, *e;

    if ((e = sl_config_parse_origin(&origin, arg, cmd->pool))) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
    }
    APR_ARRAY_PUSH(c->trusted_origins, const char *) = origin;
    return NULL;
}

static const char *set_avatar(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);
    const char *which = cmd->info, *e;
    long v;

    if (!strcmp(which, "pixels")) {
        if ((e = sl_config_parse_int(&v, arg, 1, 4096, cmd->pool))) {
            return apr_psprintf(cmd->pool, "%s: %s (pixels)", cmd->cmd->name, e);
        }
        c->avatar_max_px = v;
    }
    else if (!strcmp(which, "bytes")) {
        if ((e = sl_config_parse_size(&c->avatar_max_bytes, arg))) {
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
        }
    }
    else {
        c->avatar_dir = ap_server_root_relative(cmd->pool, arg);
        if (!c->avatar_dir) {
            return apr_psprintf(cmd->pool, "%s: bad path '%s'", cmd->cmd->name, arg);
        }
    }
    return NULL;
}

static const char *set_forward(cmd_parms *cmd, void *dc, int on)
{
    if (cmd->info) {
        ((siali_dir_conf_t *)dc)->forward_credentials = on ? 1 : 0;
    }
    else {
        ((siali_dir_conf_t *)dc)->forward_identity = on ? 1 : 0;
    }
    return NULL;
}

static const char *set_login_url(cmd_parms *cmd, void *dc, const char *arg)
{
    /* only a path on this server: the redirect must never leave it */
    if (!sl_next_is_safe(arg)) {
        return apr_psprintf(cmd->pool, "%s: expected a path on this server like "
                            "/user/login/, got '%s'", cmd->cmd->name, arg);
    }
    ((siali_dir_conf_t *)dc)->login_url = arg;
    return NULL;
}

const command_rec siali_cmds[] = {
    AP_INIT_TAKE1("SialiAvatarMaxPixels", set_avatar, "pixels", RSRC_CONF,
                  "largest avatar width and height in pixels (default 512)"),
    AP_INIT_TAKE1("SialiAvatarMaxBytes", set_avatar, "bytes", RSRC_CONF,
                  "largest avatar upload, e.g. 1M (default)"),
    AP_INIT_TAKE1("SialiAvatarDir", set_avatar, "dir", RSRC_CONF,
                  "folder of picture files from versions before avatars were stored in "
                  "the database, moved in at start (default: avatars/ next to the SQLite "
                  "file)"),
    AP_INIT_FLAG("SialiForwardIdentity", set_forward, NULL, OR_AUTHCFG,
                 "AuthType Siali: set X-Siali-User-Id / X-Siali-User-Email for a "
                 "backend (removing any the client sent)"),
    AP_INIT_FLAG("SialiForwardCredentials", set_forward, "credentials", OR_AUTHCFG,
                 "AuthType Siali: On passes the caller's session cookie and API key on "
                 "to the backend (default Off: they are removed after authenticating)"),
    AP_INIT_TAKE1("SialiLoginURL", set_login_url, NULL, OR_AUTHCFG,
                  "AuthType Siali: the login page browsers are sent to "
                  "(default /user/login/)"),
    AP_INIT_FLAG("SialiDisableSignupWithoutLink", set_flag, NULL, RSRC_CONF,
                 "On: only the current invite link admits new accounts"),
    AP_INIT_TAKE1("SialiUsername", set_bootstrap, "username", RSRC_CONF,
                  "account created at start when missing (email, or username "
                  "without '@')"),
    AP_INIT_TAKE1("SialiPassword", set_bootstrap, "password", RSRC_CONF,
                  "password of the account created at start"),
    AP_INIT_TAKE1("SialiUserToken", set_bootstrap, "token", RSRC_CONF,
                  "API token (at least 5 characters) of the account created at start"),
    AP_INIT_TAKE1("SialiSessionMaxAge", set_duration, "max_age", RSRC_CONF,
                  "session lifetime, e.g. 14d"),
    AP_INIT_TAKE1("SialiSessionIdleTimeout", set_duration, "idle", RSRC_CONF,
                  "session ends after this long without use, e.g. 5d"),
    AP_INIT_TAKE1("SialiAuthCache", set_auth_cache, "auth_cache", RSRC_CONF,
                  "PostgreSQL: how long a child may keep who a token or session is "
                  "between changes the database announces (Off, or e.g. 30s)"),
    AP_INIT_TAKE1("SialiDatabaseWait", set_duration, "db_wait", RSRC_CONF,
                  "longest wait of a request for the database (a pooled connection, "
                  "the SQLite writer, retries of busy work) before 503, e.g. 3s"),
    AP_INIT_TAKE1("SialiPasswordHashWait", set_duration, "hash_wait", RSRC_CONF,
                  "longest wait for one of the hashing slots (as many as cores, shared "
                  "by all children) before 503, e.g. 10s"),
    AP_INIT_TAKE1("SialiPasswordMinLength", set_password_min, NULL, RSRC_CONF,
                  "minimum password length in characters (1-128)"),
    AP_INIT_RAW_ARGS("SialiPasswordHash", set_hash, NULL, RSRC_CONF,
                     "cost of new password hashes: argon2id m=KIB t=N p=N"),
    AP_INIT_TAKE2("SialiLoginThrottle", set_throttle, "login", RSRC_CONF,
                  "failed logins allowed per typed login and per address in a window: "
                  "N SECONDS"),
    AP_INIT_TAKE2("SialiSignupThrottle", set_throttle, "signup", RSRC_CONF,
                  "signups allowed per address in a window: N SECONDS (default 50 3600)"),
    AP_INIT_TAKE2("SialiAuthThrottle", set_throttle, "auth", RSRC_CONF,
                  "failed token or session-cookie authentications allowed per address "
                  "in a window: N SECONDS (default 50 60)"),
    AP_INIT_ITERATE("SialiTrustedOrigin", add_origin, NULL, RSRC_CONF,
                    "extra origins allowed for cookie-authenticated writes"),
    { NULL }
};

const char *siali_config_freeze(siali_srv_conf_t *c, apr_pool_t *p)
{
    sl_config_t *core = &c->core;
    const char *env;

    sl_config_defaults(core);
    if (c->hash_set) {
        core->hash = c->hash;
    }
    if (c->password_min > 0) {
        core->password_min = c->password_min;
    }
    if (c->session_max_age > 0) {
        core->session_max_age = c->session_max_age;
    }
    if (c->session_idle > 0) {
        core->session_idle = c->session_idle;
    }
    if (c->throttle_max > 0) {
        core->throttle_max = c->throttle_max;
        core->throttle_window = c->throttle_window;
    }
    if (c->signup_max > 0) {
        core->signup_max = c->signup_max;
        core->signup_window = c->signup_window;
    }
    if (c->auth_max > 0) {
        core->auth_max = c->auth_max;
        core->auth_window = c->auth_window;
    }
    if (c->avatar_max_px > 0) {
        core->avatar_max_px = c->avatar_max_px;
    }
    if (c->avatar_max_bytes > 0) {
        core->avatar_max_bytes = c->avatar_max_bytes;
    }
    if (c->db_wait > 0) {
        core->db_wait = c->db_wait;
    }
    if (c->hash_wait > 0) {
        core->hash_wait = c->hash_wait;
    }
    if (c->signup_restricted >= 0) {
        core->signup_restricted = c->signup_restricted;
    }
    else if ((env = getenv("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"))) {
        int v = sl_config_parse_bool(env);
        if (v < 0) {
            return apr_psprintf(p, "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: expected "
                                "true or false, got '%s'", env);
        }
        core->signup_restricted = v;
    }
    /* the bootstrap account: directives first, then httpd's environment */
    if (!c->username && !c->password && !c->user_token) {
        c->username = getenv("LABEL_STUDIO_USERNAME");
        c->password = getenv("LABEL_STUDIO_PASSWORD");
        c->user_token = getenv("LABEL_STUDIO_USER_TOKEN");
        if (c->user_token && !*c->user_token) {
            c->user_token = NULL;
        }
        if (c->user_token) {
            sl_err_t err;
            if (sl_account_check_token(c->user_token, &err) != SL_OK) {
                return apr_psprintf(p, "LABEL_STUDIO_USER_TOKEN: %s", err.message);
            }
        }
    }
    if ((c->username && *c->username) != (c->password && *c->password)) {
        return "SialiUsername and SialiPassword (or LABEL_STUDIO_USERNAME and "
               "LABEL_STUDIO_PASSWORD) must be set together";
    }
    if (c->user_token && !(c->username && *c->username)) {
        return "SialiUserToken (LABEL_STUDIO_USER_TOKEN) needs SialiUsername and "
               "SialiPassword";
    }
    return NULL;
}
