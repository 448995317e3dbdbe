#ifndef MOD_SIALI_AUTH_H
#define MOD_SIALI_AUTH_H

#include "mod_siali.h"

/* Finds the caller: Authorization: Token / X-Api-Key first (a bad token is
 * 401 even with a good cookie), else the session cookie. Returns OK (with
 * req->auth possibly NONE), 401 (JSON already sent) or 503. */
int siali_auth_identify(request_rec *r, siali_req_t *req);

/* Cross-site check for cookie-authenticated unsafe methods (Fetch
 * Metadata, else Origin). 1 when the request may go on. */
int siali_auth_same_site(request_rec *r, siali_req_t *req);

#endif
