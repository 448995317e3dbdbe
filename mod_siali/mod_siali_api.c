/* JSON endpoints of this change: health, the caller, the token, the invite. */
#include <apr_strings.h>

#include "mod_siali_api.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_json.h"
#include "sl_role.h"
#include "sl_org.h"

int siali_api_health(request_rec *r, siali_req_t *req)
{
    sl_org_t *org;
    json_t *j;

    if (sl_org_load(siali_db_source(r, req), &org, NULL, r->pool) != SL_OK) {
        j = sl_json_pool(json_pack("{s:s}", "status", "unavailable"), r->pool);
        apr_table_setn(r->err_headers_out, "Retry-After", SIALI_RETRY_AFTER);
        return siali_http_json(r, HTTP_SERVICE_UNAVAILABLE, j);
    }
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack("{s:s}", "status", "ok"),
                                                    r->pool));
}

int siali_api_whoami(request_rec *r, siali_req_t *req)
{
    json_t *j = sl_account_json(req->user, siali_db_source(r, req)->avatar_base, r->pool);

    /* the role the caller acts with, for pages to show only what it allows */
    json_object_set_new(j, "role", json_string(sl_role_code(
                            sl_role_effective(req->user->role, req->user->is_active))));
    json_object_set_new(j, "roles_enabled", json_boolean(req->conf->core.roles));
    return siali_http_json(r, HTTP_OK, j);
}

int siali_api_token(request_rec *r, siali_req_t *req)
{
    const char *token;
    sl_err_t err;

    if (sl_account_token(siali_db_source(r, req), &token, req->user->id, &err, r->pool)
        != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack("{s:s}", "token", token),
                                                    r->pool));
}

int siali_api_reset_token(request_rec *r, siali_req_t *req)
{
    const char *token;
    sl_err_t err;

    if (sl_account_reset_token(siali_db_source(r, req), &token, req->user->id, &err, r->pool)
        != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_CREATED, sl_json_pool(json_pack("{s:s}", "token", token),
                                                         r->pool));
}

static int invite_reply(request_rec *r, siali_req_t *req, int status, sl_org_t *org)
{
    /* the prefix comes from the mount point once; the path is fixed */
    const char *url = apr_pstrcat(r->pool, req->prefix, "/user/signup/?token=",
                                  org->invite_token, NULL);

    return siali_http_json(r, status, sl_json_pool(json_pack("{s:s, s:s}", "invite_url",
                                                             url, "token",
                                                             org->invite_token), r->pool));
}

int siali_api_invite(request_rec *r, siali_req_t *req)
{
    sl_org_t *org;
    sl_err_t err;

    if (sl_org_load(siali_db_source(r, req), &org, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return invite_reply(r, req, HTTP_OK, org);
}

int siali_api_invite_reset(request_rec *r, siali_req_t *req)
{
    sl_org_t *org;
    sl_err_t err;

    if (sl_org_reset_invite(siali_db_source(r, req), &org, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL50001: user %s reset the invite link",
                  req->user->id);
    return invite_reply(r, req, HTTP_CREATED, org);
}
