/* Two-factor login: the second page of the login, and the account API. */
#ifndef MOD_SIALI_TWOFACTOR_H
#define MOD_SIALI_TWOFACTOR_H

#include "mod_siali_request.h"

/* After a right password, for a member who has a second step to do: the
 * pending login's cookie (only the second page sees it), then that page. */
int siali_2fa_page_begin(request_rec *r, siali_req_t *req, const char *pending,
                         const char *next);

/* /user/login/two-factor/: the code (or, to enrol, the QR code and the
 * first code); a session once it is right. */
int siali_page_two_factor(request_rec *r, siali_req_t *req);

/* /api/current-user/two-factor[/setup|/enable|/disable] */
int siali_api_two_factor(request_rec *r, siali_req_t *req);
int siali_api_two_factor_setup(request_rec *r, siali_req_t *req);
int siali_api_two_factor_enable(request_rec *r, siali_req_t *req);
int siali_api_two_factor_disable(request_rec *r, siali_req_t *req);

#endif
