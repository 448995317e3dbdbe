/* Directives: the server scope's settings are rows of the core's table
 * (SL_SETTINGS in core/sl_config.h), which parses, checks, merges and
 * freezes them; here they only become httpd's command table. What is
 * httpd's own (paths under ServerRoot, the AuthType directory scope, the
 * list of origins) is kept here. */
#include <string.h>

#include <apr_strings.h>

#include "mod_siali_config.h"
#include "sl_sso.h"
#include "sl_validate.h"

siali_srv_conf_t *siali_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &siali_module);
}

void *siali_config_create_srv(apr_pool_t *p, server_rec *s)
{
    siali_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    sl_config_defaults(&c->core, p);
    c->trusted_origins = apr_array_make(p, 2, sizeof(const char *));
    c->sso_locations = apr_array_make(p, 1, sizeof(const char *));
    return c;
}

#define MERGE(f, unset) (add->f != (unset) ? add->f : base->f)

void *siali_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    siali_srv_conf_t *base = basev, *add = addv;
    siali_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    sl_config_merge(&c->core, &base->core, &add->core);
    c->trusted_origins = apr_array_append(p, base->trusted_origins, add->trusted_origins);
    c->avatar_dir = MERGE(avatar_dir, NULL);
    c->sso_locations = apr_array_append(p, base->sso_locations, add->sso_locations);
    return c;
}

void *siali_config_create_dir(apr_pool_t *p, char *dir)
{
    siali_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->forward_identity = -1;
    c->forward_credentials = -1;
    c->sso_trust = -1;
    c->sso_provision = -1;
    return c;
}

void *siali_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    siali_dir_conf_t *base = basev, *add = addv;
    siali_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->forward_identity = MERGE(forward_identity, -1);
    c->forward_credentials = MERGE(forward_credentials, -1);
    c->login_url = MERGE(login_url, NULL);
    c->sso_trust = MERGE(sso_trust, -1);
    c->sso_location = MERGE(sso_location, NULL);
    c->sso_mount = MERGE(sso_mount, NULL);
    c->sso_email_var = MERGE(sso_email_var, NULL);
    c->sso_groups_var = MERGE(sso_groups_var, NULL);
    c->sso_provision = MERGE(sso_provision, -1);
    c->sso_maps = MERGE(sso_maps, NULL);
    return c;
}

/* the directives of sl_settings (core/sl_config.h): parsed by the core */
static const char *apply(cmd_parms *cmd, const char *arg, const char *arg2)
{
    return sl_setting_apply(&siali_config_get(cmd->server)->core, cmd->info, arg, arg2,
                            cmd->pool);
}

static const char *set_take1(cmd_parms *cmd, void *dc, const char *arg)
{
    return apply(cmd, arg, NULL);
}

static const char *set_take2(cmd_parms *cmd, void *dc, const char *arg, const char *arg2)
{
    return apply(cmd, arg, arg2);
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    return apply(cmd, on ? "On" : "Off", NULL);
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

static const char *set_avatar_dir(cmd_parms *cmd, void *dc, const char *arg)
{
    siali_srv_conf_t *c = siali_config_get(cmd->server);

    /* a path: httpd's business (ServerRoot), not the core's */
    c->avatar_dir = ap_server_root_relative(cmd->pool, arg);
    if (!c->avatar_dir) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", cmd->cmd->name, arg);
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

/* SialiTrustRemoteUser On: only in a <Location "MOUNT/sso/NAME/">, so that
 * the module knows both that this request is a single sign-on and where
 * its mount is (the section's own core directives, AuthType, make it the
 * innermost: mod_siali.c's mount_prefix) */
static const char *set_trust(cmd_parms *cmd, void *dcv, int on)
{
    siali_dir_conf_t *dc = dcv;
    const char *path = cmd->path, *name, *at;
    apr_size_t n;

    const ap_directive_t *sec = cmd->directive ? cmd->directive->parent : NULL;

    dc->sso_trust = on ? 1 : 0;
    if (!on) {
        return NULL;
    }
    /* the <Location> itself, through any conditional sections around it */
    while (sec && (!strcasecmp(sec->directive, "<IfModule")
                   || !strcasecmp(sec->directive, "<IfDefine")
                   || !strcasecmp(sec->directive, "<IfVersion")
                   || !strcasecmp(sec->directive, "<IfFile")
                   || !strcasecmp(sec->directive, "<IfDirective")
                   || !strcasecmp(sec->directive, "<IfSection"))) {
        sec = sec->parent;
    }
    if (!sec || strcasecmp(sec->directive, "<Location") || (sec->args && sec->args[0] == '~')) {
        path = NULL;    /* a regex, a <Directory>, <Files>, <If>...: refused below */
    }
    n = path ? strlen(path) : 0;
    /* (cmd->path: the <Location>'s path, with its trailing slashes) */
    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    path = path ? apr_pstrmemdup(cmd->pool, path, n) : NULL;
    at = path ? strstr(path, "/sso/") : NULL;
    while (at && strstr(at + 1, "/sso/")) {
        at = strstr(at + 1, "/sso/");
    }
    name = at ? at + 5 : NULL;
    if (!path || path[0] != '/' || !name || !*name || name[0] == '.'
        || name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789._-")]) {
        return apr_psprintf(cmd->pool, "%s On belongs in a <Location> (not a regex) at "
                            "MOUNT/sso/NAME/ below the <Location> of SetHandler siali, such "
                            "as <Location \"/sso/login/\">; here it is in '%s'",
                            cmd->cmd->name, cmd->path ? cmd->path : "the server config");
    }
    dc->sso_location = path;
    dc->sso_mount = apr_pstrmemdup(cmd->pool, path, (apr_size_t)(at - path));
    APR_ARRAY_PUSH(siali_config_get(cmd->server)->sso_locations, const char *) = path;
    return NULL;
}

/* the name of an environment variable an upstream module sets */
static const char *set_sso_var(cmd_parms *cmd, void *dcv, const char *arg)
{
    siali_dir_conf_t *dc = dcv;

    if (!*arg || arg[strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789_-")]) {
        return apr_psprintf(cmd->pool, "%s: expected the name of an environment variable "
                            "such as OIDC_CLAIM_email, got '%s'", cmd->cmd->name, arg);
    }
    if (cmd->info) {
        dc->sso_groups_var = arg;
    }
    else {
        dc->sso_email_var = arg;
    }
    return NULL;
}

static const char *set_provision(cmd_parms *cmd, void *dcv, const char *arg)
{
    sl_sso_provision_e v;
    const char *e = sl_sso_parse_provision(&v, arg);

    if (e) {
        return apr_psprintf(cmd->pool, "%s: %s, got '%s'", cmd->cmd->name, e, arg);
    }
    ((siali_dir_conf_t *)dcv)->sso_provision = (int)v;
    return NULL;
}

static const char *add_role_map(cmd_parms *cmd, void *dcv, const char *role,
                                const char *group)
{
    siali_dir_conf_t *dc = dcv;
    sl_sso_map_t m;
    const char *e = sl_sso_parse_map(&m, role, group, cmd->pool);

    if (e) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e);
    }
    /* a section's list replaces the one it inherits, whole */
    if (!dc->sso_maps) {
        dc->sso_maps = apr_array_make(cmd->pool, 4, sizeof(sl_sso_map_t));
    }
    APR_ARRAY_PUSH(dc->sso_maps, sl_sso_map_t) = m;
    return NULL;
}

/* httpd's way of taking each kind of sl_settings row */
#define CMD_FLAG(id, name, help) \
    AP_INIT_FLAG(name, set_flag, (void *)&sl_settings[id], RSRC_CONF, help)
#define CMD_THROTTLE(id, name, help) \
    AP_INIT_TAKE2(name, set_take2, (void *)&sl_settings[id], RSRC_CONF, help)
#define CMD_HASH(id, name, help) \
    AP_INIT_RAW_ARGS(name, set_take1, (void *)&sl_settings[id], RSRC_CONF, help)
#define CMD_TAKE1(id, name, help) \
    AP_INIT_TAKE1(name, set_take1, (void *)&sl_settings[id], RSRC_CONF, help)
#define CMD_INT CMD_TAKE1
#define CMD_SECONDS CMD_TAKE1
#define CMD_USEC CMD_TAKE1
#define CMD_CACHE CMD_TAKE1
#define CMD_SIZE CMD_TAKE1
#define CMD_TEXT CMD_TAKE1
#define CMD_TOKEN CMD_TAKE1
#define SIALI_CMD(id, name, kind, f, f2, min, max, def, help) CMD_##kind(SL_SETTING_##id, name, help),

const command_rec siali_cmds[] = {
    SL_SETTINGS(SIALI_CMD)
    AP_INIT_TAKE1("SialiAvatarDir", set_avatar_dir, NULL, RSRC_CONF,
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
    AP_INIT_FLAG("SialiTrustRemoteUser", set_trust, NULL, ACCESS_CONF,
                 "On in a <Location MOUNT/sso/NAME/> that another module authenticates: "
                 "its r->user signs the member in (single sign-on)"),
    AP_INIT_TAKE1("SialiSSOEmailVar", set_sso_var, NULL, RSRC_CONF | ACCESS_CONF,
                  "single sign-on: the environment variable holding the member's email, "
                  "e.g. OIDC_CLAIM_email (default: r->user itself)"),
    AP_INIT_TAKE1("SialiSSOGroupsVar", set_sso_var, "groups", RSRC_CONF | ACCESS_CONF,
                  "single sign-on: the environment variable holding the member's groups, "
                  "e.g. OIDC_CLAIM_groups"),
    AP_INIT_TAKE1("SialiAutoProvision", set_provision, NULL, RSRC_CONF | ACCESS_CONF,
                  "single sign-on: Off (unknown people refused), On (created unless "
                  "signup needs the invite link) or Always"),
    AP_INIT_TAKE2("SialiRoleFromGroup", add_role_map, NULL, RSRC_CONF | ACCESS_CONF,
                  "single sign-on: ROLE GROUP, members of GROUP get ROLE (AD MA RE AN) "
                  "at each login (repeatable)"),
    AP_INIT_ITERATE("SialiTrustedOrigin", add_origin, NULL, RSRC_CONF,
                    "extra origins allowed for cookie-authenticated writes"),
    { NULL }
};

const char *siali_config_freeze(siali_srv_conf_t *c, apr_pool_t *p)
{
    return sl_config_finish(&c->core, p);
}
