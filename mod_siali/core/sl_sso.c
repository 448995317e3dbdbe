#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_session.h"
#include "sl_sso.h"
#include "sl_validate.h"

const char *sl_sso_parse_map(sl_sso_map_t *out, const char *role, const char *group,
                             apr_pool_t *p)
{
    sl_role_e r;

    if (!sl_role_parse(role, &r)
        || (r != SL_ROLE_AD && r != SL_ROLE_MA && r != SL_ROLE_RE && r != SL_ROLE_AN)) {
        return apr_psprintf(p, "the role must be AD, MA, RE or AN, not '%s' (the owner "
                            "changes only by a transfer, DI is deactivation)", role);
    }
    while (apr_isspace(*group)) {
        group++;
    }
    if (!*group) {
        return "the group must not be empty";
    }
    out->role = r;
    out->group = group;
    return NULL;
}

const char *sl_sso_parse_provision(sl_sso_provision_e *out, const char *arg)
{
    if (!strcasecmp(arg, "Off")) {
        *out = SL_SSO_PROVISION_OFF;
    }
    else if (!strcasecmp(arg, "On")) {
        *out = SL_SSO_PROVISION_ON;
    }
    else if (!strcasecmp(arg, "Always")) {
        *out = SL_SSO_PROVISION_ALWAYS;
    }
    else {
        return "expected Off, On (unless signup needs the invite link) or Always";
    }
    return NULL;
}

static void add_item(apr_array_header_t *into, const char *s, apr_size_t n, apr_pool_t *p)
{
    while (n && apr_isspace(*s)) {
        s++, n--;
    }
    while (n && apr_isspace(s[n - 1])) {
        n--;
    }
    if (n) {
        APR_ARRAY_PUSH(into, const char *) = apr_pstrmemdup(p, s, n);
    }
}

void sl_sso_groups_add(apr_array_header_t *into, const char *value, apr_pool_t *p)
{
    /* a DN anywhere means the list is of DNs: only ';' separates them */
    const char *seps = value && strchr(value, '=') ? ";" : ";,";
    const char *s = value, *e;

    if (!value) {
        return;
    }
    while (*s) {
        /* a separator escaped in a DN ("\\;") is part of the value */
        for (e = s; *e && !strchr(seps, *e); e++) {
            if (*e == '\\' && e[1]) {
                e++;
            }
        }
        add_item(into, s, (apr_size_t)(e - s), p);
        s = *e ? e + 1 : e;
    }
}

int sl_sso_group_is(const char *group, const char *item)
{
    apr_size_t n = strlen(group);
    const char *eq, *slash;

    if (!strcasecmp(group, item)) {
        return 1;
    }
    /* a group written as a DN names that one entry: only the same DN */
    if (strchr(group, '=')) {
        return 0;
    }
    /* "cn=NAME,...": the common name of a group entry (whatever branch of
     * the directory holds it; the docs say to write the DN to pin one) */
    eq = strchr(item, '=');
    if (eq == item + 2 && !strncasecmp(item, "cn", 2)) {
        const char *v = eq + 1, *end = v;
        while (*end && *end != ',' && *end != '+') {
            if (*end == '\\' && end[1]) {
                end++;   /* an escaped comma is part of the value */
            }
            end++;
        }
        if ((apr_size_t)(end - v) == n && !strncasecmp(v, group, n)) {
            return 1;
        }
    }
    /* "/parent/NAME": Keycloak's full group paths */
    slash = strrchr(item, '/');
    return slash && item[0] == '/' && !strchr(group, '/') && !strcasecmp(slash + 1, group);
}

/* AD before MA before RE before AN: the order of sl_role_e */
int sl_sso_role_for(const apr_array_header_t *maps, const apr_array_header_t *groups,
                    sl_role_e *out)
{
    int i, j, found = 0;

    if (!maps || !groups) {
        return 0;
    }
    for (i = 0; i < maps->nelts; i++) {
        const sl_sso_map_t *m = &APR_ARRAY_IDX(maps, i, sl_sso_map_t);
        for (j = 0; j < groups->nelts; j++) {
            if (sl_sso_group_is(m->group, APR_ARRAY_IDX(groups, j, const char *))
                && (!found || m->role < *out)) {
                *out = m->role;
                found = 1;
            }
        }
    }
    return found;
}

#define BAD_EMAIL "Your identity provider did not give a valid email address."

typedef struct {
    const sl_sso_in_t *in;
    sl_sso_out_t *out;
    const sl_config_t *cfg;
    const char *email;          /* in->login, checked and normalised once */
} sso_t;

/* The role the groups give (SialiRoles On and maps configured): 1 with
 * *code and *source; 0 when roles are not taken from groups. A member in
 * none of the groups gets the default role: the groups are the whole
 * answer, and an administrator taken out of the admins' group stops being
 * one at the next login. */
static int groups_role(const sso_t *b, const sl_org_t *org, const char **code,
                       const char **source)
{
    sl_role_e r;

    if (!b->cfg->roles || !b->in->maps || !b->in->maps->nelts || !b->in->groups) {
        return 0;
    }
    if (sl_sso_role_for(b->in->maps, b->in->groups, &r)) {
        *code = sl_role_code(r);
        *source = "sso";
    }
    else {
        *code = org->default_role && *org->default_role ? org->default_role : "AN";
        *source = "default";
    }
    return 1;
}

static sl_kind_e provision(sl_db_t *db, sso_t *b, const sl_org_t *org, sl_err_t *err,
                           apr_pool_t *p)
{
    const char *code = NULL, *source = NULL;
    sl_new_user_t nu;

    if (b->in->provision == SL_SSO_PROVISION_OFF) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "There is no account for you here yet. "
                          "Ask an administrator to add you.");
    }
    if (b->in->provision != SL_SSO_PROVISION_ALWAYS && b->cfg->signup_restricted) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, "There is no account for you here, and "
                          "new accounts need an invitation link: ask an administrator "
                          "for one.");
    }
    memset(&nu, 0, sizeof(nu));
    nu.email = b->email;
    /* signing in is only ever through the provider; a password can be set
     * with `siali reset_password` */
    nu.password_hash = SL_PASSWORD_UNUSABLE;
    nu.roles_on = b->cfg->roles;
    if (groups_role(b, org, &code, &source) && !strcmp(source, "sso")) {
        nu.role = code;
        nu.role_source = source;
    }
    b->out->created = 1;
    return sl_account_insert(db, &b->out->user, &nu, err, p);
}

static sl_kind_e sso_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    sso_t *b = baton;
    sl_user_t *u = NULL;
    const char *code, *source, *args[5];
    sl_org_t *org;
    sl_kind_e k;
    int n = 0;

    b->out->created = 0;
    b->out->old_role = NULL;
    if ((k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    /* by email only: a username is the member's own choice (and made from
     * any email's local part at signup), so a provider's bare name could
     * land in anybody's account */
    k = sl_account_find(db, &u, b->email, err, p);
    if (k == SL_OK) {
        /* the row locked, then read again: a deactivation that committed
         * meanwhile is seen here, and one that comes later waits for this
         * session and ends it with the others */
        if ((k = sl_db_exec(db, p, "siali_user_lock", NULL, 1, &u->id, err)) != SL_OK
            || (k = sl_account_get(db, &u, u->id, err, p)) != SL_OK) {
            return k;
        }
    }
    if (k == SL_ENOTFOUND) {
        if ((k = provision(db, b, org, err, p)) != SL_OK) {
            return k;
        }
        u = b->out->user;
    }
    else if (k != SL_OK) {
        return k;
    }
    else if (!u->is_active) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, "Your account here is deactivated. "
                          "Ask an administrator to reactivate it.");
    }
    else if (groups_role(b, org, &code, &source) && strcmp(u->role, "OW")) {
        /* in one statement, so that a role set by hand meanwhile (or a
         * transfer of ownership) is never overwritten */
        args[0] = code;
        args[1] = source;
        args[2] = u->id;
        args[3] = code;
        args[4] = source;
        if ((k = sl_db_exec(db, p, "siali_user_role_from_sso", &n, 5, args, err)) != SL_OK) {
            return k;
        }
        if (n == 1 && strcmp(u->role, code)) {
            if ((k = sl_audit_add(db, SL_EVENT_ROLE_CHANGED, "0", u->id, apr_psprintf(
                     p, "{\"from\":\"%s\",\"to\":\"%s\",\"source\":\"sso\"}", u->role,
                     code), err, p)) != SL_OK) {
                return k;
            }
            b->out->old_role = u->role;
            u->role = code;
        }
    }
    if ((k = sl_session_end(db, b->in->old_cookie, err, p)) != SL_OK
        || (k = sl_session_create(db, &b->out->cookie, u->id, b->cfg, err, p)) != SL_OK) {
        return k;
    }
    sl_account_touch(db, u, p);
    b->out->user = u;
    if (b->out->created
        && (k = sl_audit_add(db, SL_EVENT_SIGNUP, u->id, u->id, "{\"method\":\"sso\"}", err,
                             p)) != SL_OK) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_LOGIN, u->id, u->id, "{\"method\":\"sso\"}", err, p);
}

sl_kind_e sl_sso_login(sl_conn_src_t *src, sl_sso_out_t *out, const sl_sso_in_t *in,
                       const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    sso_t b = { in, out, cfg, NULL };
    sl_kind_e k;

    memset(out, 0, sizeof(*out));
    if (!in->login || !strchr(in->login, '@')
        || sl_validate_email(&b.email, in->login, strlen(in->login), NULL, p) != SL_OK) {
        return sl_err_set(err, SL_EINVALID, NULL, BAD_EMAIL);
    }
    k = sl_conn_run(src, SL_CONN_WRITE, sso_unit, &b, err, p);
    if (k == SL_ECONFLICT && out->created) {
        /* the same person's first login ran alongside and created the
         * account first: this one finds it */
        k = sl_conn_run(src, SL_CONN_WRITE, sso_unit, &b, err, p);
    }
    return k;
}
