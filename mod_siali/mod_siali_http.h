/* HTTP helpers of the glue. One convention for their results:
 *  - a helper that SENDS a reply (JSON, a page, a redirect) returns OK when
 *    it sent a whole answer the handler can return as is, or DONE when it
 *    sent an error while reading or checking the request: the caller stops
 *    and returns OK; it never returns a status for httpd to render;
 *  - a parser that sends NOTHING (read_body, read_form) returns OK or the
 *    HTTP status of what was wrong, for the caller to send in its own form
 *    (the pages render a form error, the API a JSON error).
 * Handlers themselves return OK after a helper sent the answer. */
#ifndef MOD_SIALI_HTTP_H
#define MOD_SIALI_HTTP_H

#include <jansson.h>

#include "mod_siali_request.h"
#include "sl_err.h"

/* The protocol's constants */
#define SIALI_HANDLER "siali"
#define SIALI_COOKIE "siali_session"
#define SIALI_JSON_MAX (64 * 1024)     /* JSON bodies: 64 KiB (docs/api.md) */
#define SIALI_FORM_MAX (16 * 1024)
#define SIALI_RETRY_AFTER "5"

/* Reads the whole body, refusing with 413 before reading past limit.
 * Returns OK or an HTTP status (413, 400). */
int siali_http_read_body(request_rec *r, apr_size_t limit, const char **buf,
                         apr_size_t *len);

/* application/x-www-form-urlencoded -> table (values valid UTF-8 without
 * NUL). Returns OK, 400, 413 or 415. */
int siali_http_read_form(request_rec *r, apr_table_t **form);

/* A JSON object body: OK, or DONE when a 415/413/400 reply was sent. */
int siali_http_read_json(request_rec *r, json_t **out);

/* Sends j with status; returns OK (the handler's answer). */
int siali_http_json(request_rec *r, int status, json_t *j);

/* {"status_code", "detail"[, "validation_errors": {field: [message]}]},
 * logged once at info with a tag. */
int siali_http_error(request_rec *r, int status, const char *detail,
                     const char *field, const char *message);

/* Maps a core error to its status and sends it as JSON. */
int siali_http_core_error(request_rec *r, const sl_err_t *err);

/* 503 with Retry-After: the database is unreachable. */
int siali_http_unavailable(request_rec *r, int html);

/* 302 to a path that is known to be safe (no CR/LF). */
int siali_http_redirect(request_rec *r, const char *location);

/* The session cookie: Set-Cookie on err_headers_out so it survives
 * redirects; HttpOnly, SameSite=Lax, Secure over TLS. value NULL clears. */
void siali_http_set_session_cookie(request_rec *r, const char *prefix,
                                   const char *value, apr_int64_t max_age);
const char *siali_http_session_cookie(request_rec *r);
/* Any cookie of ours, with the same attributes. */
void siali_http_set_cookie(request_rec *r, const char *name, const char *path,
                           const char *value, apr_int64_t max_age);
const char *siali_http_cookie(request_rec *r, const char *name);


/* An invite token in the query (GET /user/signup/?token=...) never reaches
 * the access log: r->args and r->the_request are redacted, the real query
 * kept for siali_http_query. */
void siali_http_redact_secrets(request_rec *r);

/* post_read_request: the same for the signup page before anything else sees
 * the request (the original request is what %r logs, also after an internal
 * redirect, and also when the request never reaches the handler). */
int siali_http_redact_early(request_rec *r);

/* All query arguments (first value of each), NULL when the query string
 * is not valid urlencoded UTF-8. */
apr_table_t *siali_http_query(request_rec *r);

/* A whole number in [min, max] from a query argument: OK, or DONE when a
 * 400 was sent (JSON, naming the argument). absent -> def. */
int siali_http_query_int(request_rec *r, apr_table_t *q, const char *name,
                         apr_int64_t def, apr_int64_t min, apr_int64_t max,
                         apr_int64_t *out);

int siali_http_is_tls(request_rec *r);

/* scheme://host[:port] of this request, as a browser would write Origin */
const char *siali_http_own_origin(request_rec *r);

/* No caching of anything personal. */
void siali_http_no_store(request_rec *r);

#endif
