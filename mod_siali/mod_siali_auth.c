#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "mod_siali_auth.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_sql.h"

/* The key of "Token <key>" / X-Api-Key, or NULL when malformed. */
static const char *token_from_headers(request_rec *r, int *present)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");
    const char *xkey = apr_table_get(r->headers_in, "X-Api-Key");
    const char *key = NULL;
    const unsigned char *c;

    *present = 0;
    if (authz && !strncasecmp(authz, "Token", 5) && (authz[5] == ' ' || !authz[5])) {
        *present = 1;
        key = authz + 5;
        while (*key == ' ') {
            key++;
        }
    }
    if (xkey) {
        if (*present) {
            return NULL;   /* two keys: refuse rather than guess */
        }
        *present = 1;
        key = xkey;
    }
    if (!*present) {
        return NULL;
    }
    if (!*key || strlen(key) > 256) {
        return NULL;
    }
    for (c = (const unsigned char *)key; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f) {
            return NULL;
        }
    }
    return key;
}

static siali_found_e by_token(request_rec *r, siali_req_t *req, const char *key)
{
    const char *hash = sl_secret_sha256_hex(key, r->pool);
    sl_rows_t res;
    sl_user_t *u;

    if (!siali_req_db(r, req)) {
        return SIALI_FOUND_UNAVAILABLE;
    }
    if (sl_db_select(req->db, r->pool, "siali_token_user", &res, 1, &hash, NULL) != SL_OK) {
        return SIALI_FOUND_UNAVAILABLE;
    }
    /* the index finds the row by the key's hash; the key itself is then
     * compared in constant time */
    if (res.rows->nelts == 0 || !sl_secret_equal(SL_ROW(&res, 0)[0], key)) {
        return SIALI_FOUND_BAD_TOKEN;
    }
    u = sl_account_from_row(SL_ROW(&res, 0), 1, r->pool);
    if (!u->is_active) {
        return SIALI_FOUND_BAD_TOKEN;
    }
    sl_account_touch(req->db, u, NULL, r->pool);
    req->auth = SIALI_AUTH_TOKEN;
    req->user = u;
    return SIALI_FOUND_OK;
}

siali_found_e siali_auth_find(request_rec *r, siali_req_t *req)
{
    const char *cookie, *key;
    int present;
    sl_kind_e k;

    key = token_from_headers(r, &present);
    if (present) {
        return key ? by_token(r, req, key) : SIALI_FOUND_BAD_TOKEN;
    }
    cookie = siali_http_session_cookie(r);
    if (!cookie || !*cookie) {
        return SIALI_FOUND_NONE;
    }
    if (!siali_req_db(r, req)) {
        return SIALI_FOUND_UNAVAILABLE;
    }
    k = sl_session_lookup(req->db, &req->user, cookie, &req->conf->core, NULL, r->pool);
    if (k == SL_OK) {
        req->auth = SIALI_AUTH_SESSION;
        req->session = cookie;
        return SIALI_FOUND_OK;
    }
    /* an expired or unknown cookie is simply no session */
    return k == SL_EDB ? SIALI_FOUND_UNAVAILABLE : SIALI_FOUND_NONE;
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
