/* Password-reset links (sl_resetlink.h): the page a link opens, "Forgot
 * password?" with a mail relay, and the administrators' API that makes one. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_pool.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_pages.h"
#include "mod_siali_reset.h"
#include "sl_auth.h"
#include "sl_json.h"
#include "sl_mail.h"
#include "sl_resetlink.h"

#define RESET_PAGE "/user/reset-password/"
#define FORGOT_PAGE "/user/forgot-password/"
#define MAIL_TIMEOUT_MS 20000
#define MAILERS 2               /* threads per child that talk to the relay */
#define MAIL_QUEUE 64           /* mails waiting for them, at most */

static const char *e(request_rec *r, const char *s)
{
    return siali_page_esc(r, s);
}

/* The link's URL on this server as its configuration names it
 * (ServerName, the port it listens on): never the request's Host header,
 * which whoever asks for a mail would choose. */
static const char *link_url(request_rec *r, siali_req_t *req, const char *token, int canonical)
{
    const char *path = apr_pstrcat(r->pool, req->prefix, RESET_PAGE, "?token=", token, NULL);
    const char *scheme = ap_http_scheme(r);
    /* ServerName's port, else the one this connection came in on (the
     * socket's, not a header) */
    apr_port_t port = r->server->port ? r->server->port : r->connection->local_addr->port;

    if (!canonical) {
        return ap_construct_url(r->pool, path, r);
    }
    if (!port || port == ap_default_port(r)) {
        return apr_pstrcat(r->pool, scheme, "://", r->server->server_hostname, path, NULL);
    }
    return apr_psprintf(r->pool, "%s://%s:%u%s", scheme, r->server->server_hostname,
                        (unsigned)port, path);
}

/* "24 hours", "1 hour", "30 minutes" */
static const char *lifetime(request_rec *r, apr_int64_t seconds)
{
    apr_int64_t h = seconds / 3600, m = (seconds + 59) / 60;

    if (seconds % 3600 == 0) {
        return apr_psprintf(r->pool, "%" APR_INT64_T_FMT " hour%s", h, h == 1 ? "" : "s");
    }
    return apr_psprintf(r->pool, "%" APR_INT64_T_FMT " minute%s", m, m == 1 ? "" : "s");
}

static int unavailable(request_rec *r, siali_req_t *req, const sl_err_t *err)
{
    return siali_page_error(r, req, HTTP_SERVICE_UNAVAILABLE,
                            err->kind == SL_EBUSY ? "Busy" : "Unavailable",
                            err->kind == SL_EBUSY ? err->message
                            : "The database is not available right now; try again shortly.");
}

/* A link that works for nobody: counted like a wrong token (it is a guess,
 * as far as the server can tell), then the page that says so. */
static int dead_link(request_rec *r, siali_req_t *req, const sl_err_t *err)
{
    apr_int64_t retry = 0;
    sl_err_t ferr;

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL30012: reset link that works for "
                  "nobody");
    if (sl_auth_failure(siali_db_source(r, req), r->useragent_ip, &req->conf->core, &retry,
                        &ferr, r->pool) == SL_ETHROTTLED) {
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(retry, r->pool));
        return siali_page_error_unlogged(r, req, HTTP_TOO_MANY_REQUESTS, "Too many attempts",
                                         ferr.message);
    }
    return siali_page_error_unlogged(r, req, HTTP_BAD_REQUEST, "Reset password",
                                     err->message);
}

static int reset_form(request_rec *r, siali_req_t *req, int status, const sl_user_t *u,
                      const char *token, const char *error)
{
    return siali_page_send(r, req, status, "Reset password", apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>Choose a new password</h1><p>For <strong>", e(r, u->email),
        "</strong>. Every session of the account ends; log in with the new password "
        "afterwards.</p><form method=\"post\" action=\"", e(r, req->prefix), RESET_PAGE,
        "\" novalidate><input type=\"hidden\" name=\"token\" value=\"", e(r, token), "\">"
        "<input type=\"text\" name=\"username\" autocomplete=\"username\" hidden value=\"",
        e(r, u->email), "\"><label for=\"password\">New password</label>"
        "<input id=\"password\" name=\"password\" type=\"password\" "
        "autocomplete=\"new-password\" required autofocus", error ? " aria-invalid=\"true\" "
        "aria-describedby=\"password-error\"" : "", ">", error
        ? apr_pstrcat(r->pool, "<p class=\"field-error\" id=\"password-error\" role=\"alert\">",
                      e(r, error), "</p>", NULL) : "",
        "<button type=\"submit\">Set password</button></form></main>", NULL));
}

int siali_page_reset(request_rec *r, siali_req_t *req)
{
    apr_table_t *q = siali_http_query(r), *form;
    const char *token = q ? apr_table_get(q, "token") : NULL, *pw;
    sl_user_t *u;
    sl_err_t err;
    sl_kind_e k;

    /* the URL holds the token: never leak it in a Referer */
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    if (r->method_number == M_GET) {
        k = sl_reset_find(siali_db_source(r, req), token, &u, &err, r->pool);
        if (k == SL_ENOTFOUND) {
            return dead_link(r, req, &err);
        }
        return k == SL_OK ? reset_form(r, req, HTTP_OK, u, token, NULL)
                          : unavailable(r, req, &err);
    }
    if (siali_http_read_form(r, &form) != OK) {
        return siali_page_error(r, req, HTTP_BAD_REQUEST, "Bad request",
                                "The form could not be read.");
    }
    token = apr_table_get(form, "token");
    pw = apr_table_get(form, "password");
    k = sl_reset_use(siali_db_source(r, req), token, pw, pw ? strlen(pw) : 0,
                     &req->conf->core, &u, &err, r->pool);
    switch (k) {
    case SL_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70013: user %s set a password with "
                      "a reset link", u->id);
        /* whatever session this browser had is gone with the others */
        siali_http_set_session_cookie(r, req->prefix, NULL, 0);
        return siali_page_send(r, req, HTTP_OK, "Password set", apr_pstrcat(r->pool,
            "<main class=\"card\"><h1>Password set</h1><p role=\"status\">Your new password "
            "is in place and every session of the account ended.</p><p><a class=\"button-link\""
            " href=\"", e(r, req->prefix), "/user/login/\">Log in</a></p></main>", NULL));
    case SL_EINVALID:
        return reset_form(r, req, HTTP_BAD_REQUEST, u, token, err.message);
    case SL_ENOTFOUND:
        return dead_link(r, req, &err);
    default:
        return unavailable(r, req, &err);
    }
}

/* ---- "Forgot password?" ---- */

typedef struct {
    apr_pool_t *pool;           /* its own: the request is long gone */
    sl_mail_cfg_t cfg;
    const char *to, *text, *user_id;
    server_rec *s;
} outgoing_t;

/* The mails go out from threads of their own, a few per child: the page
 * answers at once and alike whether or not a mail follows (its connection
 * is not held while the relay talks), and a slow or stalled relay holds
 * those threads, never the workers. */
static apr_thread_pool_t *mailers;

void siali_reset_child_init(apr_pool_t *p, server_rec *s)
{
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        if (siali_config_get(sp)->core.mail_relay) {
            if (apr_thread_pool_create(&mailers, 0, MAILERS, p) != APR_SUCCESS) {
                mailers = NULL;
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SL10032: no threads to send "
                             "mail: Forgot password? sends nothing");
            }
            return;
        }
    }
}

static void *APR_THREAD_FUNC send_mail(apr_thread_t *t, void *data)
{
    outgoing_t *o = data;
    const char *why = sl_mail_send(&o->cfg, o->to, o->text, o->pool);

    if (why) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, o->s, "SL10030: the reset mail for user %s "
                     "was not sent: %s", o->user_id, why);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, o->s, "SL70012: reset mail sent for user %s",
                     o->user_id);
    }
    apr_pool_destroy(o->pool);
    return NULL;
}

/* Hands the mail to the mailers (copied into a pool of its own); a queue
 * already this long means the relay does not keep up: said, and dropped. */
static void send_later(request_rec *r, const sl_config_t *cfg, const char *to,
                       const char *text, const char *user_id)
{
    apr_pool_t *p;
    outgoing_t *o;

    if (!mailers || apr_thread_pool_tasks_count(mailers) >= MAIL_QUEUE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SL10031: the reset mail for user %s "
                      "was dropped: %s", user_id, mailers ? "the relay does not keep up"
                                                           : "no threads to send it");
        return;
    }
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    o = apr_pcalloc(p, sizeof(*o));
    o->pool = p;
    o->cfg.relay = apr_pstrdup(p, cfg->mail_relay);
    o->cfg.from = apr_pstrdup(p, cfg->mail_from);
    o->cfg.user = cfg->mail_user ? apr_pstrdup(p, cfg->mail_user) : NULL;
    o->cfg.password = cfg->mail_password ? apr_pstrdup(p, cfg->mail_password) : NULL;
    o->cfg.ca_file = cfg->mail_ca_file ? apr_pstrdup(p, cfg->mail_ca_file) : NULL;
    o->cfg.timeout_ms = MAIL_TIMEOUT_MS;
    o->to = apr_pstrdup(p, to);
    o->text = apr_pstrdup(p, text);
    o->user_id = apr_pstrdup(p, user_id);
    o->s = r->server;
    if (apr_thread_pool_push(mailers, send_mail, o, APR_THREAD_TASK_PRIORITY_NORMAL, NULL)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SL10031: the reset mail for user %s "
                      "was dropped: no thread took it", user_id);
        apr_pool_destroy(p);
    }
}

static int forgot_form(request_rec *r, siali_req_t *req, int status, const char *email,
                       const char *notice, const char *error)
{
    return siali_page_send(r, req, status, "Forgot password", apr_pstrcat(r->pool,
        "<main class=\"card\"><h1>Forgot your password?</h1>",
        notice ? apr_pstrcat(r->pool, "<p class=\"notice\" role=\"status\">", e(r, notice),
                             "</p>", NULL) : "",
        error ? apr_pstrcat(r->pool, "<p class=\"error\" role=\"alert\">", e(r, error), "</p>",
                            NULL) : "",
        "<p>Enter the email of your account: a link to choose a new password is sent to it."
        "</p><form method=\"post\" action=\"", e(r, req->prefix), FORGOT_PAGE,
        "\" novalidate><label for=\"email\">Email</label><input id=\"email\" name=\"email\" "
        "type=\"email\" autocomplete=\"email\" required autofocus value=\"", e(r, email),
        "\"><button type=\"submit\">Send the link</button></form><p class=\"switch\"><a href=\"",
        e(r, req->prefix), "/user/login/\">Back to log in</a></p></main>", NULL));
}

int siali_page_forgot(request_rec *r, siali_req_t *req)
{
    const sl_config_t *cfg = &req->conf->core;
    apr_table_t *form;
    const char *email;
    sl_reset_mail_t m;
    apr_int64_t retry = 0;
    sl_err_t err;
    sl_kind_e k;

    if (!cfg->mail_relay) {
        return siali_page_error(r, req, HTTP_NOT_FOUND, "Not found", "This server sends no "
                                "mail: ask an administrator for a reset link.");
    }
    if (r->method_number == M_GET) {
        return forgot_form(r, req, HTTP_OK, NULL, NULL, NULL);
    }
    if (siali_http_read_form(r, &form) != OK) {
        return siali_page_error(r, req, HTTP_BAD_REQUEST, "Bad request",
                                "The form could not be read.");
    }
    email = apr_table_get(form, "email");
    k = sl_reset_request(siali_db_source(r, req), email, r->useragent_ip, cfg, &m, &retry,
                         &err, r->pool);
    switch (k) {
    case SL_OK:
        break;
    case SL_EINVALID:
        return forgot_form(r, req, HTTP_BAD_REQUEST, email, NULL, err.message);
    case SL_ETHROTTLED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SL40010: reset mails from %s "
                      "throttled, retry in %" APR_INT64_T_FMT " s", r->useragent_ip, retry);
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(retry, r->pool));
        return forgot_form(r, req, HTTP_TOO_MANY_REQUESTS, email, NULL, err.message);
    default:
        return unavailable(r, req, &err);
    }
    if (m.to) {
        send_later(r, cfg, m.to, sl_mail_message(cfg->mail_from, m.to,
            "Reset your Siali Label password", apr_psprintf(r->pool, "Someone, hopefully "
            "you, asked to reset the password of %s on Siali Label.\n\nOpen this link to "
            "choose a new one (it works once, for %s):\n\n%s\n\nIf you did not ask, "
            "ignore this mail: your password stays as it is.\n", m.to,
            lifetime(r, cfg->reset_link_life), link_url(r, req, m.token, 1)), r->pool),
            m.user_id);
    }
    /* the same answer for every email */
    return forgot_form(r, req, HTTP_OK, NULL, "If an account has that email, a link to "
                       "choose a new password is on its way to it.", NULL);
}

/* ---- the administrators' API ---- */

int siali_api_reset_link(request_rec *r, siali_req_t *req)
{
    const char *token;
    apr_int64_t expires;
    sl_err_t err;

    switch (sl_reset_create(siali_db_source(r, req), req->ids[0], req->user->id,
                            &req->conf->core, &token, &expires, &err, r->pool)) {
    case SL_OK:
        break;
    case SL_EINVALID:
        return siali_http_error(r, HTTP_CONFLICT, err.message, NULL, NULL);
    default:
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70014: user %s made a reset link for "
                  "user %s", req->user->id, req->ids[0]);
    /* for the administrator who asked: this request's own address */
    return siali_http_json(r, HTTP_CREATED, json_pack(
        "{s:s, s:s}", "url", link_url(r, req, token, 0),
        "expires_at", sl_iso_time(sl_i64(expires, r->pool), r->pool)));
}
