#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "mod_siali_auth.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_auth.h"
#include "sl_jwt.h"
#include "sl_pat.h"
#include "sl_throttle.h"
#include "sl_session.h"

/* The key of "Token <key>" / X-Api-Key, or NULL when malformed (the
 * rules: sl_auth_token_key). */
static const char *token_from_headers(request_rec *r, int *present)
{
    return sl_auth_token_key(apr_table_get(r->headers_in, "Authorization"),
                             apr_table_get(r->headers_in, "X-Api-Key"), present);
}

static sl_blocklist_t *blocked;

void siali_auth_child_init(apr_pool_t *p)
{
    blocked = sl_blocklist_create(10000, p);
}

/* A credential that admitted nobody: logged once for fail2ban, counted for
 * the address; THROTTLED once it is over the budget. */
static siali_found_e failed(request_rec *r, siali_req_t *req, const char *what,
                            siali_found_e otherwise)
{
    sl_err_t err;
    sl_kind_e k;

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL30010: authentication failure: %s",
                  what);
    k = sl_auth_failure(siali_db_source(r, req), r->useragent_ip, &req->conf->core,
                        &req->retry_after, &err, r->pool);
    if (k == SL_ETHROTTLED) {
        sl_blocklist_add(blocked, sl_throttle_address(r->useragent_ip, r->pool),
                         sl_now() + req->retry_after, sl_now());
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL30011: address %s refused for %"
                      APR_INT64_T_FMT " s: too many failed authentications",
                      r->useragent_ip, req->retry_after);
        return SIALI_FOUND_THROTTLED;
    }
    return otherwise;
}

siali_found_e siali_auth_find(request_rec *r, siali_req_t *req)
{
    const char *cookie, *key;
    sl_conn_src_t *src;
    sl_err_t err;
    int present;
    sl_kind_e k;

    key = token_from_headers(r, &present);
    cookie = present ? NULL : siali_http_session_cookie(r);
    if (!present && (!cookie || !*cookie)) {
        return SIALI_FOUND_NONE;
    }
    /* an address over its budget is refused before anything is looked up */
    if ((req->retry_after = sl_blocklist_left(blocked, sl_throttle_address(r->useragent_ip,
                                                                             r->pool),
                                              sl_now())) > 0) {
        return SIALI_FOUND_THROTTLED;
    }
    src = siali_db_source(r, req);
    if (present) {
        if (!key) {
            return failed(r, req, "malformed token header", SIALI_FOUND_BAD_TOKEN);
        }
        /* an access token of a personal access token, or a legacy key */
        int jwt = sl_jwt_looks_like(key);

        k = jwt ? sl_pat_bearer(src, &req->user, key, &err, r->pool)
                : sl_auth_token(src, &req->user, key, &err, r->pool);
        if (k == SL_OK) {
            req->auth = SIALI_AUTH_TOKEN;
            return SIALI_FOUND_OK;
        }
        req->user = NULL;
        if (k == SL_EDENIED) {
            /* said when it is no guess: the token is ours but may not be used */
            req->auth_detail = err.field || jwt ? err.message : NULL;
            return failed(r, req, "invalid token", SIALI_FOUND_BAD_TOKEN);
        }
        return SIALI_FOUND_UNAVAILABLE;
    }
    k = sl_session_lookup(src, &req->user, cookie, &req->conf->core, &err, r->pool);
    if (k == SL_OK) {
        req->auth = SIALI_AUTH_SESSION;
        req->session = cookie;
        return SIALI_FOUND_OK;
    }
    req->user = NULL;
    /* an expired session is simply none; a cookie nobody was ever given is
     * a guess as far as we can tell */
    if (k == SL_ENOTFOUND) {
        /* and the browser forgets it: a cookie of a session the server
         * ended (a password change elsewhere) counts once, not on every
         * request until it logs in again */
        siali_http_set_session_cookie(r, req->prefix, NULL, 0);
        return failed(r, req, "unknown session cookie", SIALI_FOUND_NONE);
    }
    return k == SL_EDENIED ? SIALI_FOUND_NONE : SIALI_FOUND_UNAVAILABLE;
}

int siali_auth_same_site(request_rec *r, siali_req_t *req)
{
    const char *site, *origin;
    int i;

    if (r->method_number == M_GET || r->method_number == M_OPTIONS
        || !strcmp(r->method, "HEAD") || req->auth == SIALI_AUTH_TOKEN) {
        return 1;
    }
    site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    if (site) {
        /* "none" is a user typing the URL or a bookmark: no attacker page */
        return !strcasecmp(site, "same-origin") || !strcasecmp(site, "none");
    }
    origin = apr_table_get(r->headers_in, "Origin");
    if (!origin) {
        return 1;   /* curl and scripts send neither */
    }
    if (!strcasecmp(origin, siali_http_own_origin(r))) {
        return 1;
    }
    for (i = 0; i < req->conf->trusted_origins->nelts; i++) {
        if (!strcasecmp(origin, APR_ARRAY_IDX(req->conf->trusted_origins, i, const char *))) {
            return 1;
        }
    }
    return 0;
}
