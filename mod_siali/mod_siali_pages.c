/* The HTML pages that work without JavaScript: sign up, log in, log out.
 * Every value is escaped; pages carry a strict Content-Security-Policy. */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_pages.h"
#include "mod_siali_twofactor.h"
#include "sl_audit.h"
#include "sl_auth.h"
#include "sl_org.h"
#include "sl_resetlink.h"
#include "sl_role.h"
#include "sl_session.h"
#include "sl_validate.h"

/* Markup escaped, UTF-8 kept as UTF-8 (ap_escape_html2's toasc=1 turned
 * every byte above 127 into an entity: "Zoë" became "ZoÃ«", and a signup
 * form shown again held a different email than the one typed). */
static const char *esc(request_rec *r, const char *s)
{
    return ap_escape_html2(r->pool, s ? s : "", 0);
}

static int form_status(request_rec *r, siali_req_t *req, int rc);

static int send_page(request_rec *r, siali_req_t *req, int status,
                     const char *title, const char *body)
{
    const char *html = apr_pstrcat(r->pool,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>", esc(r, title), " · Siali Label</title>"
        "<link rel=\"stylesheet\" href=\"", esc(r, req->prefix), "/static/siali.css\">"
        "</head><body>", body, "</body></html>\n", NULL);

    r->status = status;
    siali_http_no_store(r);
    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                   "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, strlen(html));
    if (!r->header_only) {
        ap_rputs(html, r);
    }
    return OK;
}

int siali_page_send(request_rec *r, siali_req_t *req, int status, const char *title,
                    const char *body)
{
    return send_page(r, req, status, title, body);
}

const char *siali_page_esc(request_rec *r, const char *s)
{
    return esc(r, s);
}

int siali_page_error(request_rec *r, siali_req_t *req, int status,
                     const char *title, const char *message)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL40001: %d %s %s: %s", status,
                  r->method, r->uri, message);
    return siali_page_error_unlogged(r, req, status, title, message);
}

int siali_page_error_unlogged(request_rec *r, siali_req_t *req, int status,
                              const char *title, const char *message)
{
    if (status == HTTP_SERVICE_UNAVAILABLE) {
        apr_table_setn(r->err_headers_out, "Retry-After", SIALI_RETRY_AFTER);
    }
    return send_page(r, req, status, title, apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>", esc(r, title), "</h1><p class=\"error\" role=\"alert\">",
        esc(r, message), "</p><p><a href=\"", esc(r, req->prefix),
        "/user/login/\">Log in</a> · <a href=\"", esc(r, req->prefix),
        "/user/signup/\">Sign up</a></p></main>", NULL));
}

const char *siali_page_after_login(request_rec *r, siali_req_t *req, const char *next)
{
    if (next && *next && sl_next_is_safe(next)) {
        return next;
    }
    return apr_pstrcat(r->pool, req->prefix, "/", NULL);
}

typedef struct {
    const char *email;
    const char *email_error;
    const char *password_error;
    const char *form_error;
} form_state_t;

static const char *field_error(request_rec *r, const char *id, const char *msg)
{
    if (!msg) {
        return "";
    }
    return apr_pstrcat(r->pool, "<p class=\"field-error\" id=\"", id,
                       "-error\" role=\"alert\">", esc(r, msg), "</p>", NULL);
}

/* A link to each single sign-on <Location> below this mount, carrying the
 * page's next= along (SialiTrustRemoteUser, mod_siali_sso.c). */
static const char *sso_links(request_rec *r, siali_req_t *req, const char *next)
{
    const apr_array_header_t *locs = req->conf->sso_locations;
    const char *below = apr_pstrcat(r->pool, req->prefix, "/sso/", NULL), *out = "";
    apr_size_t n = strlen(below);
    int i, shown = 0;

    for (i = 0; i < locs->nelts; i++) {
        if (!strncmp(APR_ARRAY_IDX(locs, i, const char *), below, n)) {
            shown++;
        }
    }
    for (i = 0; i < locs->nelts; i++) {
        const char *loc = APR_ARRAY_IDX(locs, i, const char *);
        if (strncmp(loc, below, n)) {
            continue;
        }
        out = apr_pstrcat(r->pool, out, "<p class=\"sso\"><a class=\"button-link\" href=\"",
                          esc(r, loc), "/", next && sl_next_is_safe(next)
                          ? apr_pstrcat(r->pool, "?next=",
                                        ap_escape_urlencoded(r->pool, next), NULL) : "",
                          "\">Log in with single sign-on",
                          shown > 1 ? apr_pstrcat(r->pool, " (", esc(r, loc + n), ")", NULL)
                          : "", "</a></p>", NULL);
    }
    return out;
}

static const char *auth_form(request_rec *r, siali_req_t *req, int signup,
                             const form_state_t *st, const char *token,
                             const char *next, const char *notice)
{
    const char *action = apr_pstrcat(r->pool, req->prefix,
                                     signup ? "/user/signup/" : "/user/login/", NULL);
    const char *other = signup
        ? apr_pstrcat(r->pool, "Already have an account? <a href=\"", esc(r, req->prefix),
                      "/user/login/\">Log in</a>", NULL)
        : apr_pstrcat(r->pool, "No account yet? <a href=\"", esc(r, req->prefix),
                      "/user/signup/\">Sign up</a>", NULL);

    return apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>", signup ? "Create your account" : "Log in", "</h1>",
        notice ? apr_pstrcat(r->pool, "<p class=\"notice\">", esc(r, notice), "</p>", NULL) : "",
        st->form_error ? apr_pstrcat(r->pool, "<p class=\"error\" role=\"alert\">",
                                     esc(r, st->form_error), "</p>", NULL) : "",
        "<form method=\"post\" action=\"", esc(r, action), "\" novalidate>",
        "<label for=\"email\">", signup ? "Email" : "Email or username", "</label>",
        "<input id=\"email\" name=\"email\" type=\"", signup ? "email" : "text",
        "\" autocomplete=\"", signup ? "email" : "username", "\" required autofocus value=\"",
        esc(r, st->email), "\"", st->email_error ? " aria-invalid=\"true\" "
        "aria-describedby=\"email-error\"" : "", ">",
        field_error(r, "email", st->email_error),
        "<label for=\"password\">Password</label>",
        "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"",
        signup ? "new-password" : "current-password", "\" required",
        st->password_error ? " aria-invalid=\"true\" aria-describedby=\"password-error\"" : "",
        ">", field_error(r, "password", st->password_error),
        signup ? "" : "<label class=\"check\"><input type=\"checkbox\" name=\"persist_session\" "
                      "value=\"1\" checked> Keep me logged in this browser</label>",
        token ? apr_pstrcat(r->pool, "<input type=\"hidden\" name=\"token\" value=\"",
                            esc(r, token), "\">", NULL) : "",
        next ? apr_pstrcat(r->pool, "<input type=\"hidden\" name=\"next\" value=\"",
                           esc(r, next), "\">", NULL) : "",
        "<button type=\"submit\">", signup ? "Sign up" : "Log in", "</button></form>",
        signup || !req->conf->core.mail_relay ? ""
        : apr_pstrcat(r->pool, "<p class=\"switch\"><a href=\"", esc(r, req->prefix),
                      "/user/forgot-password/\">Forgot password?</a></p>", NULL),
        signup ? "" : sso_links(r, req, next),
        "<p class=\"switch\">", other, "</p></main>", NULL);
}

static int unavailable(request_rec *r, siali_req_t *req)
{
    return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE, "Unavailable",
                            "The database is not available right now; try again shortly.");
}

/* 503 + Retry-After with the core's sentence ("busy, try again in N s") */
static int busy(request_rec *r, siali_req_t *req, const sl_err_t *err)
{
    return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE, "Busy", err->message);
}

static int restricted(request_rec *r, siali_req_t *req)
{
    return siali_page_error(r, req, HTTP_FORBIDDEN, "Sign up",
                            "Signup is restricted: ask for an invitation link");
}

int siali_page_form_error(request_rec *r, siali_req_t *req, int rc)
{
    return form_status(r, req, rc);
}

static int form_status(request_rec *r, siali_req_t *req, int rc)
{
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return siali_page_error(r, req, rc, "Too large", "The form is too large.");
    }
    if (rc == HTTP_UNSUPPORTED_MEDIA_TYPE) {
        return siali_page_error(r, req, rc, "Unsupported",
                                "Send the form as application/x-www-form-urlencoded.");
    }
    return siali_page_error(r, req, HTTP_BAD_REQUEST, "Bad request",
                            "The form could not be read (it must be valid UTF-8).");
}

int siali_page_signup(request_rec *r, siali_req_t *req)
{
    form_state_t st = { NULL, NULL, NULL, NULL };
    const char *token, *next, *password;
    apr_table_t *form, *q;
    sl_signup_out_t out;
    sl_signup_in_t in;
    sl_org_t *org;
    sl_err_t err;
    sl_kind_e k;
    int rc;

    /* the URL may hold the invite token: never leak it in a Referer */
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    q = siali_http_query(r);
    token = q ? apr_table_get(q, "token") : NULL;
    next = q ? apr_table_get(q, "next") : NULL;
    if (r->method_number == M_GET) {
        const char *notice = NULL;
        int stale = 0;

        /* say at once when a link no longer works, rather than after typing */
        if (token && sl_org_load(siali_db_source(r, req), &org, NULL, r->pool) == SL_OK) {
            stale = !sl_org_invite_ok(org, token);
        }
        if (stale) {
            notice = "This invitation link is no longer valid: ask for a new one.";
        }
        else if (req->conf->core.signup_restricted) {
            notice = token ? "You were invited: create your account."
                           : "Signup is restricted: you need an invitation link.";
        }
        return send_page(r, req, HTTP_OK, "Sign up",
                         auth_form(r, req, 1, &st, token, next, notice));
    }
    if ((rc = siali_http_read_form(r, &form)) != OK) {
        return form_status(r, req, rc);
    }
    if (apr_table_get(form, "token")) {
        token = apr_table_get(form, "token");
    }
    if (apr_table_get(form, "next")) {
        next = apr_table_get(form, "next");
    }
    memset(&in, 0, sizeof(in));
    in.invite = token && *token ? token : NULL;
    in.email = st.email = apr_table_get(form, "email");
    password = apr_table_get(form, "password");
    in.password = password ? password : "";
    in.password_len = strlen(in.password);
    in.address = r->useragent_ip;
    k = sl_auth_signup(siali_db_source(r, req), &out, &in, &req->conf->core, &err, r->pool);
    switch (k) {
    case SL_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL40003: new account %s (id %s)",
                      out.user->email, out.user->id);
        siali_http_set_session_cookie(r, req->prefix, out.cookie, 0);
        return siali_http_redirect(r, siali_page_after_login(r, req, next));
    case SL_EINVALID:
        st.email_error = out.email_error;
        st.password_error = out.password_error;
        return send_page(r, req, HTTP_BAD_REQUEST, "Sign up",
                         auth_form(r, req, 1, &st, in.invite, next, NULL));
    case SL_EFORBIDDEN:
        return restricted(r, req);
    case SL_ETHROTTLED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40007: signup from %s refused "
                      "for %" APR_INT64_T_FMT " s: too many signups from this address",
                      in.address, out.retry_after);
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(out.retry_after, r->pool));
        st.form_error = err.message;
        return send_page(r, req, HTTP_TOO_MANY_REQUESTS, "Sign up",
                         auth_form(r, req, 1, &st, in.invite, next, NULL));
    case SL_EINTERNAL:
        return HTTP_INTERNAL_SERVER_ERROR;
    case SL_EBUSY:
        return busy(r, req, &err);
    default:
        return unavailable(r, req);
    }
}

int siali_page_login(request_rec *r, siali_req_t *req)
{
    form_state_t st = { NULL, NULL, NULL, NULL };
    const char *next, *persist;
    apr_table_t *form, *q;
    sl_login_out_t out;
    sl_login_in_t in;
    sl_err_t err;
    sl_kind_e k;
    int rc;

    q = siali_http_query(r);
    next = q ? apr_table_get(q, "next") : NULL;
    if (r->method_number == M_GET) {
        return send_page(r, req, HTTP_OK, "Log in",
                         auth_form(r, req, 0, &st, NULL, next, NULL));
    }
    if ((rc = siali_http_read_form(r, &form)) != OK) {
        return form_status(r, req, rc);
    }
    if (apr_table_get(form, "next")) {
        next = apr_table_get(form, "next");
    }
    memset(&in, 0, sizeof(in));
    in.login = st.email = apr_table_get(form, "email");
    in.password = apr_table_get(form, "password");
    in.password_len = in.password ? strlen(in.password) : 0;
    in.address = r->useragent_ip;
    in.old_cookie = siali_http_session_cookie(r);
    persist = apr_table_get(form, "persist_session");
    in.persist = persist && strcmp(persist, "0") && strcasecmp(persist, "false");
    k = sl_auth_login(siali_db_source(r, req), &out, &in, &req->conf->core, &err, r->pool);
    switch (k) {
    case SL_OK:
        if (out.pending) {
            /* the password was right; the code comes next (mod_siali_twofactor.c) */
            return siali_2fa_page_begin(r, req, out.pending, next);
        }
        siali_http_set_session_cookie(r, req->prefix, out.cookie,
                                      in.persist ? req->conf->core.session_max_age : 0);
        return siali_http_redirect(r, siali_page_after_login(r, req, next));
    case SL_EINVALID:
        st.email_error = out.login_error;
        st.password_error = out.password_error;
        return send_page(r, req, HTTP_BAD_REQUEST, "Log in",
                         auth_form(r, req, 0, &st, NULL, next, NULL));
    case SL_EDENIED:
        /* the line fail2ban's filter matches (conf/fail2ban) */
        /* not what was typed: a password typed into the login field would
         * be written to the log */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40004: failed login");
        st.form_error = err.message;
        return send_page(r, req, HTTP_BAD_REQUEST, "Log in",
                         auth_form(r, req, 0, &st, NULL, next, NULL));
    case SL_ETHROTTLED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40006: login for %s throttled "
                      "(%s), retry in %" APR_INT64_T_FMT " s", in.login, in.address,
                      out.retry_after);
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(out.retry_after, r->pool));
        st.form_error = err.message;
        return send_page(r, req, HTTP_TOO_MANY_REQUESTS, "Log in",
                         auth_form(r, req, 0, &st, NULL, next, NULL));
    case SL_EINTERNAL:
        return HTTP_INTERNAL_SERVER_ERROR;
    case SL_EBUSY:
        return busy(r, req, &err);
    default:
        return unavailable(r, req);
    }
}

int siali_page_logout(request_rec *r, siali_req_t *req)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");

    /* a GET logs out only when the browser says it came from our own page:
     * an <img src=/logout/> elsewhere must not log anyone out */
    if (r->method_number == M_GET && !(site && !strcasecmp(site, "same-origin"))) {
        return send_page(r, req, HTTP_OK, "Log out", apr_pstrcat(r->pool,
            "<main class=\"card\"><h1>Log out</h1><form method=\"post\" action=\"",
            esc(r, req->prefix), "/logout/\"><button type=\"submit\" autofocus>Log out"
            "</button></form></main>", NULL));
    }
    if (req->session
        && sl_session_delete(siali_db_source(r, req), req->session, NULL, r->pool) != SL_OK) {
        /* the session must end on the server, not only in this browser */
        return unavailable(r, req);
    }
    siali_http_set_session_cookie(r, req->prefix, NULL, 0);
    return siali_http_redirect(r, apr_pstrcat(r->pool, req->prefix, "/user/login/", NULL));
}

int siali_page_root(request_rec *r, siali_req_t *req)
{
    return siali_http_redirect(r, apr_pstrcat(r->pool, req->prefix,
                                              req->user ? "/people/" : "/user/login/",
                                              NULL));
}

/* The permissions of the caller's role (sl_role.h), space-separated, for the
 * page to show only what they may use (the server refuses the rest anyway) */
static const char *permissions(request_rec *r, siali_req_t *req)
{
    const char *out = "";
    int perm;

    for (perm = 0; perm < SL_PERM_COUNT; perm++) {
        if (siali_caller_may(req, perm)) {
            out = apr_pstrcat(r->pool, out, *out ? " " : "", sl_perm_name(perm), NULL);
        }
    }
    /* reset links follow their own rule (sl_resetlink.h): the owner alone
     * with roles off */
    if (req->user && sl_reset_may_make(req->conf->core.roles,
                                       siali_caller_may(req, SL_PERM_MANAGE),
                                       sl_role_effective(req->user->role, req->user->is_active)
                                       == SL_ROLE_OW)) {
        out = apr_pstrcat(r->pool, out, *out ? " " : "", "make_reset_links", NULL);
    }
    return out;
}

/* People and Account: the signed-in shell. The header is rendered here
 * (escaped); the page itself is an ES module from htdocs talking to the
 * API, so no inline script is ever needed under the strict CSP. */
int siali_page_app(request_rec *r, siali_req_t *req)
{
    int people = !strncmp(req->path, "/people", 7);
    const sl_user_t *u = req->user;
    const char *pre, *badge, *name;

    if (!u) {
        return siali_http_redirect(r, apr_pstrcat(r->pool, req->prefix,
                                   "/user/login/?next=", ap_escape_urlencoded(r->pool, r->uri),
                                   NULL));
    }
    pre = esc(r, req->prefix);
    name = *u->first_name || *u->last_name
           ? apr_pstrcat(r->pool, u->first_name, *u->last_name ? " " : "", u->last_name, NULL)
           : u->email;
    badge = u->avatar
        ? apr_pstrcat(r->pool, "<img class=\"avatar\" alt=\"\" src=\"", pre, SL_AVATAR_BASE,
                      esc(r, u->avatar), "\">", NULL)
        : apr_pstrcat(r->pool, "<span class=\"avatar\" aria-hidden=\"true\">",
                      esc(r, sl_initials(u->first_name, u->last_name, u->email, r->pool)),
                      "</span>", NULL);
    return send_page(r, req, HTTP_OK, people ? "People" : "Account & Settings",
        apr_pstrcat(r->pool,
        "<header class=\"top\">"
        "<div class=\"menu\"><button type=\"button\" class=\"icon-button\" id=\"nav-button\" "
        "aria-haspopup=\"true\" aria-expanded=\"false\" aria-controls=\"nav-menu\" "
        "aria-label=\"Menu\"><span class=\"burger\" aria-hidden=\"true\"></span></button>"
        "<nav id=\"nav-menu\" class=\"dropdown left\" hidden><a href=\"", pre, "/people/\"",
        people ? " aria-current=\"page\"" : "", ">People</a></nav></div>"
        "<a class=\"brand\" href=\"", pre, "/\">Siali Label</a>"
        "<div class=\"menu user\"><button type=\"button\" class=\"icon-button\" id=\"user-button\" "
        "aria-haspopup=\"true\" aria-expanded=\"false\" aria-controls=\"user-menu\">",
        /* the name in text, not aria-label: a label must contain what the
         * button shows (WCAG 2.5.3), and the initials are decoration here */
        badge, "<span class=\"sr-only\">Account menu for ", esc(r, name), "</span></button>"
        "<div id=\"user-menu\" class=\"dropdown right\" hidden>"
        "<p class=\"who\">", esc(r, name), "</p>"
        "<a href=\"", pre, "/user/account/\">Account &amp; Settings</a>"
        "<form method=\"post\" action=\"", pre, "/logout/\">"
        "<button type=\"submit\" class=\"link\">Log out</button></form></div></div>"
        "</header>"
        "<main id=\"app\" class=\"app\" data-prefix=\"", pre, "\" data-user-id=\"",
        esc(r, u->id), "\" data-org-id=\"", esc(r, u->org_id ? u->org_id : ""),
        "\" data-role=\"", sl_role_code(sl_role_effective(u->role, u->is_active)),
        "\" data-can=\"", permissions(r, req),
        "\" data-avatar-max-px=\"", apr_ltoa(r->pool, req->conf->core.avatar_max_px),
        "\" data-avatar-max-bytes=\"", apr_ltoa(r->pool, (long)req->conf->core.avatar_max_bytes),
        "\"><p class=\"loading\">Loading…</p></main>"
        "<script type=\"module\" src=\"", pre, people ? "/static/people.js" : "/static/account.js",
        "\"></script>", NULL));
}
