#include <string.h>

#include <apr_strings.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_tokens.h"
#include "sl_json.h"
#include "sl_orgpolicy.h"
#include "sl_pat.h"

/* simplejwt's answer to a token it will not take: 401 with a code */
static int not_valid(request_rec *r, const sl_err_t *err)
{
    json_t *j;

    if (err->kind != SL_EDENIED) {
        return siali_http_core_error(r, err);
    }
    j = sl_json_pool(json_pack("{s:i, s:s, s:s}", "status_code", HTTP_UNAUTHORIZED,
                               "detail", err->message, "code", "token_not_valid"), r->pool);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL30001: 401 %s %s: %s", r->method, r->uri,
                  err->message);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
    return siali_http_json(r, HTTP_UNAUTHORIZED, j);
}

/* {"refresh": "<token>"}: DONE when the error went out */
static int read_refresh(request_rec *r, const char **token)
{
    json_t *body, *v;
    int rc;

    if ((rc = siali_http_read_json(r, &body)) != OK) {
        return rc;
    }
    v = json_object_get(body, "refresh");
    if (!json_is_string(v) || !*json_string_value(v)) {
        siali_http_error(r, HTTP_BAD_REQUEST, "Validation error", "refresh",
                         "This field is required: the personal access token.");
        return DONE;
    }
    *token = json_string_value(v);
    return OK;
}

/* the organization whose settings the caller sees and sets */
static const char *org_of(request_rec *r, siali_req_t *req)
{
    if (!req->user->org_id) {
        siali_http_error(r, HTTP_FORBIDDEN, "You are not a member of an organization.",
                         NULL, NULL);
    }
    return req->user->org_id;
}

int siali_api_pats(request_rec *r, siali_req_t *req)
{
    json_t *out;
    sl_err_t err;

    if (r->method_number == M_GET) {
        if (sl_pat_list(siali_db_source(r, req), req->user, &out, &err, r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        return siali_http_json(r, HTTP_OK, out);
    }
    /* no body, as Label Studio's clients send it; anything sent is not read */
    if (sl_pat_create(siali_db_source(r, req), req->user, 0, &out, &err, r->pool) != SL_OK) {
        return err.kind == SL_ECONFLICT
               ? siali_http_error(r, HTTP_CONFLICT, err.message, NULL, NULL)
               : siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL40020: personal access token created "
                  "for user %s", req->user->id);
    return siali_http_json(r, HTTP_CREATED, out);
}

int siali_api_pat_refresh(request_rec *r, siali_req_t *req)
{
    const char *token, *access;
    sl_err_t err;
    int rc;

    if ((rc = read_refresh(r, &token)) != OK) {
        return OK;   /* the 4xx is sent */
    }
    if (sl_pat_refresh(siali_db_source(r, req), token, &access, &err, r->pool) != SL_OK) {
        return not_valid(r, &err);
    }
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack("{s:s}", "access", access),
                                                    r->pool));
}

int siali_api_pat_blacklist(request_rec *r, siali_req_t *req)
{
    const char *token;
    sl_err_t err;

    if (read_refresh(r, &token) != OK) {
        return OK;
    }
    if (sl_pat_blacklist(siali_db_source(r, req), req->user, token, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL40021: personal access token revoked");
    return siali_http_json(r, HTTP_NO_CONTENT, NULL);
}

int siali_api_pat_rotate(request_rec *r, siali_req_t *req)
{
    const char *token, *fresh;
    sl_err_t err;

    if (read_refresh(r, &token) != OK) {
        return OK;
    }
    if (sl_pat_rotate(siali_db_source(r, req), req->user, token, &fresh, &err, r->pool)
        != SL_OK) {
        return err.kind == SL_EINVALID
               ? siali_http_error(r, HTTP_BAD_REQUEST, err.message, NULL, NULL)
               : siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL40022: personal access token rotated "
                  "for user %s", req->user->id);
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack("{s:s}", "refresh", fresh),
                                                    r->pool));
}

/* GET, or a write with a JSON object: both settings endpoints */
static int settings(request_rec *r, siali_req_t *req, int policy)
{
    const char *org = org_of(r, req);
    json_t *body = NULL, *out;
    sl_err_t err;
    sl_kind_e k;

    if (!org) {
        return OK;
    }
    if (r->method_number != M_GET && siali_http_read_json(r, &body) != OK) {
        return OK;
    }
    k = policy ? sl_orgpolicy_sessions(siali_db_source(r, req), org, body, &req->conf->core,
                                       &out, &err, r->pool)
               : sl_orgpolicy_tokens(siali_db_source(r, req), org, body, &out, &err, r->pool);
    if (k != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    if (body) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL40023: %s of organization %s set by "
                      "user %s: %s", policy ? "session policy" : "token settings", org,
                      req->user->id, sl_json_dump(out, r->pool));
    }
    return siali_http_json(r, HTTP_OK, out);
}

int siali_api_jwt_settings(request_rec *r, siali_req_t *req)
{
    return settings(r, req, 0);
}

int siali_api_session_policy(request_rec *r, siali_req_t *req)
{
    return settings(r, req, 1);
}
