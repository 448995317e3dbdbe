/* HTTP helpers: bounded bodies, forms, JSON replies, errors, cookies. */
#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cookies.h>
#include <http_ssl.h>

#include "mod_siali_http.h"
#include "sl_form.h"
#include "sl_json.h"
#include "sl_validate.h"

int siali_http_read_body(request_rec *r, apr_size_t limit, const char **buf,
                         apr_size_t *len)
{
    char *data;
    apr_size_t have = 0, cap;
    long n;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > (apr_off_t)limit) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    cap = r->remaining > 0 ? (apr_size_t)r->remaining : 4096;
    if (cap > limit) {
        cap = limit;
    }
    data = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        char chunk[8192];
        while ((n = ap_get_client_block(r, chunk, sizeof(chunk))) > 0) {
            if (have + (apr_size_t)n > limit) {
                /* stop reading: the rest is discarded by httpd */
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (have + (apr_size_t)n > cap) {
                char *bigger;
                cap = cap * 2 > have + n ? cap * 2 : have + n;
                if (cap > limit) {
                    cap = limit;
                }
                bigger = apr_palloc(r->pool, cap + 1);
                memcpy(bigger, data, have);
                data = bigger;
            }
            memcpy(data + have, chunk, n);
            have += n;
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    data[have] = '\0';
    *buf = data;
    *len = have;
    return OK;
}

static int content_type_is(request_rec *r, const char *type)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = strlen(type);

    return ct && !strncasecmp(ct, type, n) && (ct[n] == '\0' || ct[n] == ';'
                                               || ct[n] == ' ');
}

/* the form rules are the core's (sl_form.c: fuzzed, unit-tested) */
static int parse_urlencoded(apr_pool_t *p, const char *buf, apr_size_t len,
                            apr_table_t *out)
{
    return sl_form_parse(out, buf, len, SL_FORM_MAX_FIELDS, NULL, p) == SL_OK
           ? OK : HTTP_BAD_REQUEST;
}

int siali_http_read_form(request_rec *r, apr_table_t **form)
{
    const char *buf;
    apr_size_t len;
    int rc;

    if (!content_type_is(r, "application/x-www-form-urlencoded")) {
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = siali_http_read_body(r, SIALI_FORM_MAX, &buf, &len)) != OK) {
        return rc;
    }
    if (memchr(buf, '\0', len)) {
        return HTTP_BAD_REQUEST;
    }
    *form = apr_table_make(r->pool, 8);
    return parse_urlencoded(r->pool, buf, len, *form);
}

/* an error reply went out: DONE tells the caller to stop */
static int sent(int rc)
{
    return rc == OK ? DONE : rc;
}

int siali_http_read_json(request_rec *r, json_t **out)
{
    const char *buf;
    apr_size_t len;
    sl_err_t err;
    int rc;

    if (!content_type_is(r, "application/json")) {
        return sent(siali_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "Send the body as application/json.", NULL, NULL));
    }
    if ((rc = siali_http_read_body(r, SIALI_JSON_MAX, &buf, &len)) != OK) {
        return sent(siali_http_error(r, rc, rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                                ? "The request body is too large (64 KiB at most)."
                                : "The request body could not be read.", NULL, NULL));
    }
    if (sl_json_decode(out, buf, len, &err, r->pool) != SL_OK) {
        return sent(siali_http_error(r, HTTP_BAD_REQUEST, err.message, NULL, NULL));
    }
    if (!json_is_object(*out)) {
        return sent(siali_http_error(r, HTTP_BAD_REQUEST, "Send a JSON object.", NULL, NULL));
    }
    return OK;
}

void siali_http_no_store(request_rec *r)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
}

int siali_http_json(request_rec *r, int status, json_t *j)
{
    const char *body = sl_json_dump(j, r->pool);

    r->status = status;
    siali_http_no_store(r);
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (status == HTTP_NO_CONTENT) {
        return OK;
    }
    ap_set_content_length(r, strlen(body));
    if (!r->header_only) {
        ap_rwrite(body, strlen(body), r);
    }
    return OK;
}

int siali_http_error(request_rec *r, int status, const char *detail,
                     const char *field, const char *message)
{
    json_t *j = sl_json_pool(json_object(), r->pool);

    json_object_set_new(j, "status_code", json_integer(status));
    json_object_set_new(j, "detail", json_string(detail));
    if (field) {
        json_t *errs = json_object(), *list = json_array();
        json_array_append_new(list, json_string(message ? message : detail));
        json_object_set_new(errs, field, list);
        json_object_set_new(j, "validation_errors", errs);
    }
    if (status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Token");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL30001: %d %s %s: %s%s%s", status,
                  r->method, r->uri, detail, field ? " field " : "",
                  field ? field : "");
    return siali_http_json(r, status, j);
}

int siali_http_core_error(request_rec *r, const sl_err_t *err)
{
    switch (err->kind) {
    case SL_EINVALID:
    case SL_ECONFLICT:
        return siali_http_error(r, HTTP_BAD_REQUEST, err->message, err->field,
                                err->hint ? err->hint : err->message);
    case SL_ENOTFOUND:
        return siali_http_error(r, HTTP_NOT_FOUND, err->message, NULL, NULL);
    case SL_EFORBIDDEN:
        return siali_http_error(r, HTTP_FORBIDDEN, err->message, NULL, NULL);
    case SL_EDENIED:
        return siali_http_error(r, HTTP_UNAUTHORIZED, err->message, NULL, NULL);
    case SL_ETOOLARGE:
        return siali_http_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, err->message, NULL, NULL);
    case SL_ETHROTTLED:
        /* the caller set Retry-After */
        return siali_http_error(r, HTTP_TOO_MANY_REQUESTS, err->message, NULL, NULL);
    case SL_EBUSY:
    case SL_EDB:
        return siali_http_unavailable(r, 0);
    default:
        /* a bug: logged by whoever found it */
        return HTTP_INTERNAL_SERVER_ERROR;
    }
}

int siali_http_unavailable(request_rec *r, int html)
{
    apr_table_setn(r->err_headers_out, "Retry-After", SIALI_RETRY_AFTER);
    if (html) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return siali_http_error(r, HTTP_SERVICE_UNAVAILABLE,
                            "The database is not available right now; try again shortly.",
                            NULL, NULL);
}

int siali_http_redirect(request_rec *r, const char *location)
{
    /* httpd answers 500 for a header with CR/LF: never let one through */
    if (strpbrk(location, "\r\n")) {
        location = "/";
    }
    apr_table_setn(r->headers_out, "Location", location);
    siali_http_no_store(r);
    r->status = HTTP_MOVED_TEMPORARILY;
    return HTTP_MOVED_TEMPORARILY;
}

int siali_http_is_tls(request_rec *r)
{
    return ap_ssl_conn_is_ssl(r->connection)
           || !strcasecmp(ap_http_scheme(r), "https");
}

void siali_http_set_session_cookie(request_rec *r, const char *prefix,
                                   const char *value, apr_int64_t max_age)
{
    siali_http_set_cookie(r, SIALI_COOKIE, prefix && *prefix ? prefix : "/", value, max_age);
}

void siali_http_set_cookie(request_rec *r, const char *name, const char *path,
                           const char *value, apr_int64_t max_age)
{
    const char *c = apr_psprintf(r->pool, "%s=%s; Path=%s; HttpOnly; SameSite=Lax%s%s",
                                 name, value ? value : "", path,
                                 siali_http_is_tls(r) ? "; Secure" : "",
                                 !value ? "; Max-Age=0"
                                 : max_age > 0 ? apr_psprintf(r->pool, "; Max-Age=%"
                                                              APR_INT64_T_FMT, max_age)
                                 : "");
    apr_table_addn(r->err_headers_out, "Set-Cookie", c);
}

const char *siali_http_session_cookie(request_rec *r)
{
    return siali_http_cookie(r, SIALI_COOKIE);
}

const char *siali_http_cookie(request_rec *r, const char *name)
{
    const char *v = NULL;

    if (ap_cookie_read(r, name, &v, 0) != APR_SUCCESS) {
        return NULL;
    }
    return v;
}

#define REDACTED "REDACTED"

/* 1 when the raw key k[0..n) is "token" once percent-decoded (the parser
 * decodes keys: ?%74oken= is the invite too) */
static int is_token_key(apr_pool_t *p, const char *k, apr_size_t n)
{
    char *key = apr_pstrmemdup(p, k, n);

    return ap_unescape_urlencoded(key) == OK && !strcmp(key, "token");
}

/* raw query text with the value of every token parameter replaced; NULL
 * when there is none */
static char *redact_query(apr_pool_t *p, const char *q, apr_size_t n)
{
    char *out = apr_palloc(p, n + sizeof(REDACTED) * (n / 2 + 1) + 1), *d = out;
    const char *s = q, *end = q + n;
    int found = 0;

    while (s < end) {
        const char *amp = memchr(s, '&', end - s), *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', stop - s);
        if (eq && is_token_key(p, s, eq - s)) {
            memcpy(d, s, eq + 1 - s);
            d += eq + 1 - s;
            memcpy(d, REDACTED, sizeof(REDACTED) - 1);
            d += sizeof(REDACTED) - 1;
            found = 1;
        }
        else {
            memcpy(d, s, stop - s);
            d += stop - s;
        }
        if (amp) {
            *d++ = '&';
        }
        s = stop + 1;
    }
    *d = '\0';
    return found ? out : NULL;
}

void siali_http_redact_secrets(request_rec *r)
{
    const char *q, *space;
    char *args;

    if (!r->args || apr_table_get(r->notes, "siali-args")
        || !(args = redact_query(r->pool, r->args, strlen(r->args)))) {
        return;
    }
    /* the handler reads the real one; the access log (%r, %q) and any other
     * module after us see the redacted one */
    apr_table_setn(r->notes, "siali-args", r->args);
    r->args = args;
    if (r->the_request && (q = strchr(r->the_request, '?'))) {
        const char *rq;
        space = strchr(q, ' ');
        rq = redact_query(r->pool, q + 1, space ? (apr_size_t)(space - q - 1) : strlen(q + 1));
        if (rq) {
            r->the_request = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, r->the_request,
                                                                 q + 1 - r->the_request),
                                         rq, space ? space : "", NULL);
        }
    }
}

/* 1 when uri ends in page or page + "/" */
static int ends_in(const char *uri, apr_size_t n, const char *page)
{
    apr_size_t m = strlen(page);

    return (n >= m && !strcmp(uri + n - m, page))
           || (n >= m + 1 && uri[n - 1] == '/' && !strncmp(uri + n - m - 1, page, m));
}

int siali_http_redact_early(request_rec *r)
{
    apr_size_t n = r->uri ? strlen(r->uri) : 0;

    /* our pages whose URL holds a token only (wherever they are mounted):
     * other applications of this server keep their query strings as they
     * are */
    if (r->args && (ends_in(r->uri, n, "/user/signup")
                    || ends_in(r->uri, n, "/user/reset-password"))) {
        siali_http_redact_secrets(r);
    }
    return DECLINED;
}

apr_table_t *siali_http_query(request_rec *r)
{
    apr_table_t *t = apr_table_make(r->pool, 8);
    const char *args = NULL;
    request_rec *o;

    /* the query before redaction, kept on this request or the one an
     * internal redirect started from */
    for (o = r; o && !args; o = o->prev) {
        args = apr_table_get(o->notes, "siali-args");
    }
    if (!args) {
        args = r->args;
    }
    if (args && parse_urlencoded(r->pool, args, strlen(args), t) != OK) {
        return NULL;
    }
    return t;
}

int siali_http_query_int(request_rec *r, apr_table_t *q, const char *name,
                         apr_int64_t def, apr_int64_t min, apr_int64_t max,
                         apr_int64_t *out)
{
    const char *v = apr_table_get(q, name), *c;

    if (!v) {
        *out = def;
        return OK;
    }
    for (c = v; *c >= '0' && *c <= '9'; c++)
        ;
    if (!*v || *c || c - v > 12 || apr_atoi64(v) < min || apr_atoi64(v) > max) {
        siali_http_error(r, HTTP_BAD_REQUEST,
                         apr_psprintf(r->pool, "%s must be a whole number from %"
                                      APR_INT64_T_FMT " to %" APR_INT64_T_FMT ".",
                                      name, min, max), name, NULL);
        return DONE;
    }
    *out = apr_atoi64(v);
    return OK;
}

const char *siali_http_own_origin(request_rec *r)
{
    const char *scheme = ap_http_scheme(r);
    apr_port_t port = ap_get_server_port(r);
    int default_port = (!strcmp(scheme, "https") && port == 443)
                       || (!strcmp(scheme, "http") && port == 80);
    const char *host = apr_table_get(r->headers_in, "Host");

    /* the browser writes Origin from the URL it used: scheme + Host */
    if (host && *host) {
        return apr_pstrcat(r->pool, scheme, "://", host, NULL);
    }
    return default_port ? apr_pstrcat(r->pool, scheme, "://", r->hostname, NULL)
                        : apr_psprintf(r->pool, "%s://%s:%u", scheme, r->hostname, port);
}
