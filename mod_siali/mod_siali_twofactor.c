/* Two-factor login (sl_twofactor.h): the login's second page, and the
 * Account & Settings API that turns it on and off. */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_pages.h"
#include "mod_siali_twofactor.h"
#include "sl_json.h"
#include "sl_twofactor.h"
#include "sl_validate.h"

#define PENDING_COOKIE "siali_2fa"
#define PAGE "/user/login/two-factor/"

static const char *page_path(request_rec *r, siali_req_t *req)
{
    return apr_pstrcat(r->pool, req->prefix, PAGE, NULL);
}

int siali_2fa_page_begin(request_rec *r, siali_req_t *req, const char *pending,
                         const char *next)
{
    const char *to = page_path(r, req);

    /* only that page ever sees it, and only for as long as it is good */
    siali_http_set_cookie(r, PENDING_COOKIE, to, pending, SL_2FA_PENDING_LIFE);
    if (next && *next && sl_next_is_safe(next)) {
        to = apr_pstrcat(r->pool, to, "?next=", ap_escape_urlencoded(r->pool, next), NULL);
    }
    return siali_http_redirect(r, to);
}

static int page(request_rec *r, siali_req_t *req, int status, const sl_2fa_pending_t *pend,
                const sl_2fa_setup_t *setup, const char *next, const char *error)
{
    const char *intro = pend->enrol
        ? apr_pstrcat(r->pool, "<p>This server asks every member for a second factor. "
                      "Scan the code with an authenticator app (or type the key into it), "
                      "then enter the 6-digit code it shows.</p>"
                      "<figure class=\"qr\" aria-label=\"QR code of the key\">",
                      setup && setup->qr_svg ? setup->qr_svg : "", "</figure>"
                      "<p>Key: <code id=\"totp-secret\">",
                      siali_page_esc(r, setup ? setup->secret : ""), "</code></p>", NULL)
        : "<p>Enter the 6-digit code from your authenticator app, or one of your "
          "recovery codes.</p>";

    return siali_page_send(r, req, status, "Two-factor login", apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>Two-factor login</h1>", intro,
        error ? apr_pstrcat(r->pool, "<p class=\"field-error\" id=\"code-error\" "
                            "role=\"alert\">", siali_page_esc(r, error), "</p>", NULL) : "",
        "<form method=\"post\" action=\"", siali_page_esc(r, page_path(r, req)),
        "\" novalidate><label for=\"code\">", pend->enrol ? "Code from the app"
                                                         : "Authentication code",
        "</label><input id=\"code\" name=\"code\" type=\"text\" inputmode=\"",
        pend->enrol ? "numeric" : "text", "\" autocomplete=\"one-time-code\" "
        "maxlength=\"32\" required autofocus", error ? " aria-invalid=\"true\" "
        "aria-describedby=\"code-error\"" : "", ">",
        next ? apr_pstrcat(r->pool, "<input type=\"hidden\" name=\"next\" value=\"",
                           siali_page_esc(r, next), "\">", NULL) : "",
        "<button type=\"submit\">", pend->enrol ? "Turn on and log in" : "Log in",
        "</button></form><p class=\"switch\"><a href=\"", siali_page_esc(r, req->prefix),
        "/user/login/\">Start again</a></p></main>", NULL));
}

static int codes_page(request_rec *r, siali_req_t *req, const apr_array_header_t *codes,
                      const char *next)
{
    const char *list = "";
    int i;

    for (i = 0; i < codes->nelts; i++) {
        list = apr_pstrcat(r->pool, list, "<li><code>",
                           siali_page_esc(r, APR_ARRAY_IDX(codes, i, const char *)),
                           "</code></li>", NULL);
    }
    return siali_page_send(r, req, HTTP_OK, "Recovery codes", apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>Two-factor login is on</h1><p>Keep these recovery codes "
        "somewhere safe: each logs you in once without the app. They are shown only "
        "now.</p><ol class=\"recovery-codes\">", list, "</ol><p><a class=\"button-link\" "
        "href=\"", siali_page_esc(r, siali_page_after_login(r, req, next)),
        "\">Continue</a></p></main>", NULL));
}

static int expired(request_rec *r, siali_req_t *req, const sl_err_t *err)
{
    siali_http_set_cookie(r, PENDING_COOKIE, page_path(r, req), NULL, 0);
    return siali_page_error(r, req, HTTP_BAD_REQUEST, "Log in", err->message);
}

static int failure(request_rec *r, siali_req_t *req, const sl_err_t *err)
{
    return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE,
                            err->kind == SL_EBUSY ? "Busy" : "Unavailable",
                            err->kind == SL_EBUSY ? err->message
                            : "The database is not available right now; try again shortly.");
}

int siali_page_two_factor(request_rec *r, siali_req_t *req)
{
    const char *pending = siali_http_cookie(r, PENDING_COOKIE), *next;
    apr_table_t *q = siali_http_query(r), *form;
    sl_2fa_login_out_t out;
    sl_2fa_login_in_t in;
    sl_2fa_pending_t pend;
    sl_2fa_setup_t setup, *shown = NULL;
    sl_err_t err;
    sl_kind_e k;
    int rc;

    next = q ? apr_table_get(q, "next") : NULL;
    k = sl_2fa_pending_get(siali_db_source(r, req), pending, &pend, &err, r->pool);
    if (k == SL_ENOTFOUND) {
        return expired(r, req, &err);
    }
    if (k != SL_OK) {
        return failure(r, req, &err);
    }
    if (pend.enrol) {
        /* the secret waiting from an earlier look at this page is shown
         * again: a reload must not invalidate what the app scanned */
        if ((k = sl_2fa_setup(siali_db_source(r, req), pend.user, 1, &setup, &err, r->pool))
            != SL_OK) {
            return k == SL_ECONFLICT ? expired(r, req, &err) : failure(r, req, &err);
        }
        shown = &setup;
    }
    if (r->method_number == M_GET) {
        return page(r, req, HTTP_OK, &pend, shown, next, NULL);
    }
    if ((rc = siali_http_read_form(r, &form)) != OK) {
        return siali_page_form_error(r, req, rc);
    }
    if (apr_table_get(form, "next")) {
        next = apr_table_get(form, "next");
    }
    memset(&in, 0, sizeof(in));
    in.pending = pending;
    in.code = apr_table_get(form, "code");
    in.address = r->useragent_ip;
    in.old_cookie = siali_http_session_cookie(r);
    switch ((k = sl_2fa_login(siali_db_source(r, req), &in, &out, &req->conf->core, &err,
                              r->pool))) {
    case SL_OK:
        siali_http_set_cookie(r, PENDING_COOKIE, page_path(r, req), NULL, 0);
        siali_http_set_session_cookie(r, req->prefix, out.cookie,
                                      out.persist ? req->conf->core.session_max_age : 0);
        if (out.recovery_codes) {
            return codes_page(r, req, out.recovery_codes, next);
        }
        return siali_http_redirect(r, siali_page_after_login(r, req, next));
    case SL_EINVALID:
        /* the line fail2ban's filter matches, as a failed login's: for a
         * code that was tried (an empty field was not) */
        if (in.code && *in.code) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40008: failed two-factor code "
                          "for user %s", pend.user->id);
        }
        return page(r, req, HTTP_BAD_REQUEST, &pend, shown, next, err.message);
    case SL_ETHROTTLED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40009: two-factor codes of user "
                      "%s throttled (%s), retry in %" APR_INT64_T_FMT " s", pend.user->id,
                      r->useragent_ip, out.retry_after);
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(out.retry_after, r->pool));
        return page(r, req, HTTP_TOO_MANY_REQUESTS, &pend, shown, next, err.message);
    case SL_ENOTFOUND:
        return expired(r, req, &err);
    default:
        return failure(r, req, &err);
    }
}

/* ---- Account & Settings ---- */

/* The body's string fields among names (NULL-terminated); every other
 * field, or one that is no string, is a 400. OK or DONE (sent). */
static int read_fields(request_rec *r, const char *const *names, const char **values)
{
    const char *key;
    json_t *body, *v;
    int i;

    if (siali_http_read_json(r, &body) != OK) {
        return DONE;
    }
    json_object_foreach(body, key, v) {
        for (i = 0; names[i] && strcmp(names[i], key); i++)
            ;
        if (!names[i] || !json_is_string(v)) {
            siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(
                r->pool, names[i] ? "%s must be a string." : "Unknown field %s.", key),
                key, NULL);
            return DONE;
        }
        values[i] = apr_pstrdup(r->pool, json_string_value(v));
    }
    return OK;
}

static int change_error(request_rec *r, const sl_err_t *err, apr_int64_t retry)
{
    switch (err->kind) {
    case SL_EBUSY:
        apr_table_setn(r->err_headers_out, "Retry-After", SIALI_RETRY_AFTER);
        return siali_http_error(r, HTTP_SERVICE_UNAVAILABLE, err->message, NULL, NULL);
    case SL_ECONFLICT:
        return siali_http_error(r, HTTP_CONFLICT, err->message, NULL, NULL);
    case SL_EINVALID:
        return siali_http_error(r, HTTP_BAD_REQUEST, err->message, err->field, err->message);
    case SL_ETHROTTLED:
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(retry, r->pool));
        /* fall through */
    default:
        return siali_http_core_error(r, err);
    }
}

int siali_api_two_factor(request_rec *r, siali_req_t *req)
{
    sl_2fa_status_t st;
    sl_err_t err;

    if (sl_2fa_status(siali_db_source(r, req), req->user->id, &st, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, json_pack(
        "{s:b, s:b, s:i}", "enabled", st.enabled, "required", req->conf->core.require_2fa,
        "recovery_codes_left", st.recovery_left));
}

/* a wrong password or code, for fail2ban (not an empty field) */
static void log_failure(request_rec *r, siali_req_t *req, const sl_err_t *err,
                        const char *const *values)
{
    if (err->kind == SL_EINVALID && values[0] && *values[0] && values[1] && *values[1]) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40008: failed two-factor check "
                      "for user %s", req->user->id);
    }
}

int siali_api_two_factor_setup(request_rec *r, siali_req_t *req)
{
    sl_2fa_setup_t setup;
    sl_err_t err;

    /* no body to read: httpd discards one within its limits */
    if (sl_2fa_setup(siali_db_source(r, req), req->user, 0, &setup, &err, r->pool) != SL_OK) {
        return change_error(r, &err, 0);
    }
    return siali_http_json(r, HTTP_OK, json_pack(
        "{s:s, s:s, s:s?}", "secret", setup.secret, "otpauth_uri", setup.uri,
        "qr_svg", setup.qr_svg));
}

int siali_api_two_factor_enable(request_rec *r, siali_req_t *req)
{
    static const char *const names[] = { "password", "code", NULL };
    const char *values[2] = { NULL, NULL };
    apr_array_header_t *codes;
    apr_int64_t retry = 0;
    json_t *list;
    sl_err_t err;
    int i;

    if (read_fields(r, names, values) != OK) {
        return OK;
    }
    if (sl_2fa_enable(siali_db_source(r, req), req->user, values[0], values[1],
                      r->useragent_ip, &req->conf->core, &codes, &retry, &err, r->pool)
        != SL_OK) {
        log_failure(r, req, &err, values);
        return change_error(r, &err, retry);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70010: user %s turned two-factor login on",
                  req->user->id);
    list = json_array();
    for (i = 0; i < codes->nelts; i++) {
        json_array_append_new(list, json_string(APR_ARRAY_IDX(codes, i, const char *)));
    }
    return siali_http_json(r, HTTP_OK, json_pack("{s:b, s:o}", "enabled", 1,
                                                 "recovery_codes", list));
}

int siali_api_two_factor_disable(request_rec *r, siali_req_t *req)
{
    static const char *const names[] = { "password", "code", NULL };
    const char *values[2] = { NULL, NULL };
    apr_int64_t retry = 0;
    sl_err_t err;

    if (read_fields(r, names, values) != OK) {
        return OK;
    }
    if (req->conf->core.require_2fa) {
        return siali_http_error(r, HTTP_FORBIDDEN, "Two-factor login is required on this "
                                "server (SialiRequireTwoFactor): it cannot be turned off.",
                                NULL, NULL);
    }
    if (sl_2fa_disable(siali_db_source(r, req), req->user, values[0], values[1],
                       r->useragent_ip, &req->conf->core, &retry, &err, r->pool) != SL_OK) {
        log_failure(r, req, &err, values);
        return change_error(r, &err, retry);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70011: user %s turned two-factor login "
                  "off", req->user->id);
    return siali_http_json(r, HTTP_NO_CONTENT, NULL);
}
