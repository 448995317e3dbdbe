/* Single sign-on by composition: what another module proved about the
 * request (r->user, and the environment it set) is read here, and never a
 * header the client sent; the core (sl_sso.c) makes it a member and a
 * session. */
#include <string.h>

#include <apr_strings.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_pages.h"
#include "mod_siali_sso.h"
#include "sl_sso.h"

/* mod_auth_mellon sets NAME_0, NAME_1, ... for a multi-valued attribute
 * (and NAME for the first): read them all when they are there */
#define SSO_MAX_VALUES 1000

static apr_array_header_t *read_groups(request_rec *r, const char *var)
{
    apr_array_header_t *groups = apr_array_make(r->pool, 8, sizeof(const char *));
    const char *v;
    int i;

    for (i = 0; i < SSO_MAX_VALUES; i++) {
        if (!(v = apr_table_get(r->subprocess_env, apr_psprintf(r->pool, "%s_%d", var, i)))) {
            break;
        }
        sl_sso_groups_add(groups, v, r->pool);
    }
    if (!i) {
        /* not set at all is not "in no groups": the upstream module was not
         * asked for them (memberOf missing from AuthLDAPURL, no groups
         * claim), and demoting everyone for it would be wrong */
        if (!(v = apr_table_get(r->subprocess_env, var))) {
            return NULL;
        }
        sl_sso_groups_add(groups, v, r->pool);
    }
    return groups;
}

/* GET MOUNT/sso/NAME without the slash: outside the <Location> the upstream
 * module protects, so sent there (with its query) */
static int not_here(request_rec *r, siali_req_t *req)
{
    const char *here = apr_pstrcat(r->pool, req->prefix, req->path, NULL);
    const apr_array_header_t *locs = req->conf->sso_locations;
    int i;

    for (i = 0; i < locs->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(locs, i, const char *), here)) {
            return siali_http_redirect(r, apr_pstrcat(r->pool, here, "/", r->args ? "?" : "",
                                                      r->args ? r->args : "", NULL));
        }
    }
    return siali_page_error(r, req, HTTP_NOT_FOUND, "Not found",
                            "Single sign-on is not set up at this address.");
}

/* (logged by the caller, with who it was: not a second time) */
static int refused(request_rec *r, siali_req_t *req, int status, const char *message)
{
    return siali_page_error_unlogged(r, req, status, "Single sign-on", message);
}

int siali_sso_login(request_rec *r, siali_req_t *req)
{
    siali_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &siali_module);
    const char *next, *who;
    apr_table_t *q;
    sl_sso_out_t out;
    sl_sso_in_t in;
    sl_err_t err;
    sl_kind_e k;

    if (dc->sso_trust != 1) {
        return not_here(r, req);
    }
    /* r->user is set only by an authentication module of this server (a
     * client cannot send it); without one here, nobody is trusted */
    if (!r->user || !*r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SL61001: SialiTrustRemoteUser On at %s, "
                      "but no module authenticated the request: the <Location> needs an "
                      "AuthType and a Require", dc->sso_location);
        return refused(r, req, HTTP_FORBIDDEN, "Single sign-on did not say who you are.");
    }
    memset(&in, 0, sizeof(in));
    who = r->user;
    if (dc->sso_email_var) {
        in.login = apr_table_get(r->subprocess_env, dc->sso_email_var);
        if (!in.login || !*in.login) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL61002: single sign-on of %s: "
                          "the identity provider set no %s", r->user, dc->sso_email_var);
            return refused(r, req, HTTP_FORBIDDEN, "Your identity provider did not give "
                           "your email address.");
        }
        who = apr_pstrcat(r->pool, r->user, " (", in.login, ")", NULL);
    }
    else {
        in.login = r->user;
    }
    if (dc->sso_maps && !dc->sso_groups_var) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL61003: SialiRoleFromGroup at %s "
                      "has no SialiSSOGroupsVar to read groups from: roles left as they are",
                      dc->sso_location);
    }
    if (dc->sso_groups_var) {
        in.groups = read_groups(r, dc->sso_groups_var);
        in.maps = dc->sso_maps;
        if (!in.groups && in.maps) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL61006: single sign-on of %s: "
                          "the upstream module set no %s: roles left as they are",
                          r->user, dc->sso_groups_var);
        }
    }
    in.provision = dc->sso_provision < 0 ? SL_SSO_PROVISION_OFF
                                          : (sl_sso_provision_e)dc->sso_provision;
    in.old_cookie = siali_http_session_cookie(r);
    q = siali_http_query(r);
    next = q ? apr_table_get(q, "next") : NULL;

    k = sl_sso_login(siali_db_source(r, req), &out, &in, &req->conf->core, &err, r->pool);
    switch (k) {
    case SL_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL61004: single sign-on of %s as user "
                      "%s%s", who, out.user->id, out.created ? ", account created" : "");
        if (out.old_role) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL50006: role of user %s changed "
                          "from %s to %s by the groups of single sign-on", out.user->id,
                          out.old_role, out.user->role);
        }
        siali_http_set_session_cookie(r, req->prefix, out.cookie,
                                      req->conf->core.session_max_age);
        return siali_http_redirect(r, siali_page_after_login(r, req, next));
    case SL_ENOTFOUND:
    case SL_EFORBIDDEN:
    case SL_EINVALID:
    case SL_ECONFLICT:
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL61005: single sign-on of %s "
                      "refused: %s", who, err.message);
        return refused(r, req, k == SL_ECONFLICT ? HTTP_CONFLICT : HTTP_FORBIDDEN,
                       err.message);
    case SL_EBUSY:
        return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE, "Busy", err.message);
    case SL_EINTERNAL:
        return HTTP_INTERNAL_SERVER_ERROR;
    default:
        return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                                "The database is not available right now; try again "
                                "shortly.");
    }
}
