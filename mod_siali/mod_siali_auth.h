#ifndef MOD_SIALI_AUTH_H
#define MOD_SIALI_AUTH_H

#include "mod_siali_request.h"

typedef enum {
    SIALI_FOUND_NONE = 0,      /* anonymous */
    SIALI_FOUND_OK,            /* req->user, req->auth set */
    SIALI_FOUND_BAD_TOKEN,     /* a token header that admits nobody: 401 */
    SIALI_FOUND_UNAVAILABLE,   /* database unreachable: 503 */
    SIALI_FOUND_THROTTLED      /* this address failed too often: 429,
                                * req->retry_after */
} siali_found_e;

/* Per child: the addresses refused without a lookup (sl_blocklist). */
void siali_auth_child_init(apr_pool_t *p);

/* Finds the caller, answering nothing: Authorization: Token / X-Api-Key
 * first (a bad token admits nobody, even with a good cookie), else the
 * session cookie. A token or cookie that admits nobody is logged (SL30010,
 * for fail2ban) and counted per address (SialiAuthThrottle); past the
 * budget the address is refused before any lookup. */
siali_found_e siali_auth_find(request_rec *r, siali_req_t *req);

/* Cross-site check for cookie-authenticated unsafe methods (Fetch
 * Metadata, else Origin). 1 when the request may go on. */
int siali_auth_same_site(request_rec *r, siali_req_t *req);

#endif
