/* AuthType Siali: the same accounts protect any other Location (static
 * files, a proxied backend). A valid session or token sets r->user to the
 * email; SialiForwardIdentity passes who it is to the backend.
 *
 * What a backend receives is settled in fixups, which runs for every
 * request of such a Location, also when authentication did not run at all
 * (a RequireAny that another provider satisfied): identity headers the
 * client sent are removed, ours set only for a caller we authenticated, and
 * the caller's credentials stripped. */
#include <string.h>

#include <apr_lib.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "mod_siali_auth.h"
#include "mod_siali_authn.h"
#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"

#define HDR_ID "X-Siali-User-Id"
#define HDR_EMAIL "X-Siali-User-Email"
#define NOTE_ID "siali-authn-id"
#define NOTE_EMAIL "siali-authn-email"

/* collects headers named like ours once '_' is read as '-' */
static int scrub(void *rec, const char *key, const char *value)
{
    apr_array_header_t *found = rec;
    const char *ours[] = { HDR_ID, HDR_EMAIL, NULL };
    int i;

    (void)value;
    for (i = 0; ours[i]; i++) {
        const char *a = key, *b = ours[i];
        while (*a && *b && (apr_tolower(*a) == apr_tolower(*b)
                            || (*a == '_' && *b == '-'))) {
            a++;
            b++;
        }
        if (!*a && !*b) {
            APR_ARRAY_PUSH(found, const char *) = key;
        }
    }
    return 1;
}

/* The cookies of a Cookie/Cookie2 value without ours, split as httpd's own
 * ap_cookie_read reads them (on ';' and ','); NULL when nothing is left. */
static const char *without_session(apr_pool_t *p, const char *cookies)
{
    char *copy = apr_pstrdup(p, cookies), *item, *last;
    const char *out = NULL;
    apr_size_t n = strlen(SIALI_COOKIE);

    for (item = apr_strtok(copy, ";,", &last); item; item = apr_strtok(NULL, ";,", &last)) {
        char *end;
        while (apr_isspace(*item)) {
            item++;
        }
        for (end = item + strlen(item); end > item && apr_isspace(end[-1]); end--)
            ;
        *end = '\0';
        if (!*item) {
            continue;
        }
        if (!strncmp(item, SIALI_COOKIE, n)) {
            const char *c = item + n;
            while (apr_isspace(*c)) {
                c++;
            }
            if (*c == '=' || !*c) {
                continue;
            }
        }
        out = out ? apr_pstrcat(p, out, "; ", item, NULL) : item;
    }
    return out;
}

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *kept;
} cookies_t;

static int collect_cookies(void *rec, const char *key, const char *value)
{
    cookies_t *c = rec;
    const char *v = without_session(c->p, value);

    if (v) {
        APR_ARRAY_PUSH(c->kept, const char *) = v;
    }
    return 1;
}

static void strip_cookie_header(request_rec *r, const char *name)
{
    cookies_t c = { r->pool, apr_array_make(r->pool, 2, sizeof(const char *)) };
    int i;

    apr_table_do(collect_cookies, &c, r->headers_in, name, NULL);
    apr_table_unset(r->headers_in, name);
    for (i = 0; i < c.kept->nelts; i++) {
        apr_table_addn(r->headers_in, name, APR_ARRAY_IDX(c.kept, i, const char *));
    }
}

/* The backend behind this Location gets who the caller is, not the
 * credentials to act as them (the session cookie in Cookie or Cookie2, a
 * "Token" or "Bearer" Authorization, X-Api-Key), unless
 * SialiForwardCredentials says otherwise. Other cookies and other
 * Authorization schemes (Basic) stay. */
static int scheme_is(const char *authz, const char *scheme)
{
    apr_size_t n = strlen(scheme);

    return !strncasecmp(authz, scheme, n) && (!authz[n] || apr_isspace(authz[n]));
}

static void strip_credentials(request_rec *r)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");

    if (authz && (scheme_is(authz, "Token") || scheme_is(authz, "Bearer"))) {
        apr_table_unset(r->headers_in, "Authorization");
    }
    apr_table_unset(r->headers_in, "X-Api-Key");
    strip_cookie_header(r, "Cookie");
    strip_cookie_header(r, "Cookie2");
}

/* a browser asking for a page: sent to the login page, not a 401 */
static int wants_html(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return (r->method_number == M_GET || !strcmp(r->method, "HEAD"))
           && accept && strstr(accept, "text/html");
}

static int is_ours(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && !strcasecmp(type, "Siali");
}

static int check_authn(request_rec *r)
{
    siali_dir_conf_t *dc;
    siali_req_t *req;
    const char *login;
    siali_found_e found;

    if (!is_ours(r)) {
        return DECLINED;
    }
    dc = ap_get_module_config(r->per_dir_config, &siali_module);
    req = apr_pcalloc(r->pool, sizeof(*req));
    req->conf = siali_config_get(r->server);
    /* links and avatars of this caller are not ours to render here */
    req->prefix = "";
    found = siali_auth_find(r, req);
    switch (found) {
    case SIALI_FOUND_OK:
        /* a cookie-authenticated write from another site stops here too */
        if (!siali_auth_same_site(r, req)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL60002: AuthType Siali: "
                          "cross-site %s %s refused", r->method, r->uri);
            return HTTP_FORBIDDEN;
        }
        r->user = apr_pstrdup(r->pool, req->user->email);
        r->ap_auth_type = "Siali";
        /* for fixups: who we authenticated (never a header a client sent) */
        apr_table_setn(r->notes, NOTE_ID, req->user->id);
        apr_table_setn(r->notes, NOTE_EMAIL, req->user->email);
        return OK;
    case SIALI_FOUND_UNAVAILABLE:
        apr_table_setn(r->err_headers_out, "Retry-After", SIALI_RETRY_AFTER);
        return HTTP_SERVICE_UNAVAILABLE;
    case SIALI_FOUND_THROTTLED:
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(req->retry_after, r->pool));
        return HTTP_TOO_MANY_REQUESTS;
    case SIALI_FOUND_BAD_TOKEN:
        break;
    default:
        if (wants_html(r)) {
            login = dc->login_url ? dc->login_url : "/user/login/";
            apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(
                r->pool, login, strchr(login, '?') ? "&" : "?", "next=",
                ap_escape_urlencoded(r->pool, r->unparsed_uri), NULL));
            return HTTP_MOVED_TEMPORARILY;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL60001: AuthType Siali: no valid "
                  "session or token for %s", r->uri);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Token");
    return HTTP_UNAUTHORIZED;
}

static int fixups(request_rec *r)
{
    apr_array_header_t *forged;
    siali_dir_conf_t *dc;
    const request_rec *authed;
    const char *id = NULL, *email = NULL;
    int i;

    if (!is_ours(r)) {
        return DECLINED;
    }
    dc = ap_get_module_config(r->per_dir_config, &siali_module);
    /* whatever the client sent under our names never reaches a backend,
     * spelled with '_' either (many backends read X_A as X-A) */
    forged = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(scrub, forged, r->headers_in, NULL);
    for (i = 0; i < forged->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(forged, i, const char *));
    }
    /* the caller check_authn found (on this request or the one a subrequest
     * or internal redirect came from) */
    for (authed = r; authed && !id; authed = authed->main ? authed->main : authed->prev) {
        id = apr_table_get(authed->notes, NOTE_ID);
        email = apr_table_get(authed->notes, NOTE_EMAIL);
    }
    if (dc->forward_identity == 1 && id && email) {
        apr_table_setn(r->headers_in, HDR_ID, id);
        apr_table_setn(r->headers_in, HDR_EMAIL, email);
    }
    if (dc->forward_credentials != 1) {
        strip_credentials(r);
    }
    return DECLINED;
}

void siali_authn_hooks(void)
{
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /* first: whatever else runs in fixups (mod_headers' RequestHeader
     * early or not, mod_rewrite) sees the request as the backend will */
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_FIRST);
}
