/* Password-reset links: the page a link opens, "Forgot password?", and
 * the API that makes one. */
#ifndef MOD_SIALI_RESET_H
#define MOD_SIALI_RESET_H

#include "mod_siali_request.h"

/* The threads that send mail (with a SialiMailRelay anywhere). */
void siali_reset_child_init(apr_pool_t *p, server_rec *s);

/* /user/reset-password/?token=T: the new password, once */
int siali_page_reset(request_rec *r, siali_req_t *req);
/* /user/forgot-password/: a link by email (SialiMailRelay) */
int siali_page_forgot(request_rec *r, siali_req_t *req);
/* POST /api/users/{id}/reset-link */
int siali_api_reset_link(request_rec *r, siali_req_t *req);

#endif
