#ifndef MOD_SIALI_SSO_H
#define MOD_SIALI_SSO_H

#include "mod_siali_request.h"

/* GET MOUNT/sso/NAME/: single sign-on through the module that protects that
 * <Location> (SialiTrustRemoteUser On, sl_sso.h). */
int siali_sso_login(request_rec *r, siali_req_t *req);

#endif
