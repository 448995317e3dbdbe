/* Personal access tokens, their settings and the session policy: the
 * endpoints of Label Studio 1.16+ (core: sl_pat.h). */
#ifndef MOD_SIALI_TOKENS_H
#define MOD_SIALI_TOKENS_H

#include "mod_siali_request.h"

int siali_api_pats(request_rec *r, siali_req_t *req);
int siali_api_pat_refresh(request_rec *r, siali_req_t *req);
int siali_api_pat_blacklist(request_rec *r, siali_req_t *req);
int siali_api_pat_rotate(request_rec *r, siali_req_t *req);
int siali_api_jwt_settings(request_rec *r, siali_req_t *req);
int siali_api_session_policy(request_rec *r, siali_req_t *req);

#endif
