#ifndef MOD_SIALI_PAGES_H
#define MOD_SIALI_PAGES_H

#include "mod_siali_request.h"

int siali_page_signup(request_rec *r, siali_req_t *req);
int siali_page_login(request_rec *r, siali_req_t *req);
int siali_page_logout(request_rec *r, siali_req_t *req);
int siali_page_root(request_rec *r, siali_req_t *req);
int siali_page_app(request_rec *r, siali_req_t *req);

/* Where a browser goes once signed in: a safe next= (same site), or the
 * app at the mount. */
const char *siali_page_after_login(request_rec *r, siali_req_t *req, const char *next);

/* A page in the site's frame (escaped title, body as given), with the
 * pages' headers; and the escaping every value in a body needs. */
int siali_page_send(request_rec *r, siali_req_t *req, int status, const char *title,
                    const char *body);
const char *siali_page_esc(request_rec *r, const char *s);
/* The page for a form siali_http_read_form refused (its rc: 400, 413, 415). */
int siali_page_form_error(request_rec *r, siali_req_t *req, int rc);

/* An HTML error page (403 signup restricted, 404, 405, 413, 503). */
int siali_page_error(request_rec *r, siali_req_t *req, int status,
                     const char *title, const char *message);
/* The same page, for a caller that logged the refusal itself. */
int siali_page_error_unlogged(request_rec *r, siali_req_t *req, int status,
                              const char *title, const char *message);

#endif
