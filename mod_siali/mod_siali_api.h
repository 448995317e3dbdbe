#ifndef MOD_SIALI_API_H
#define MOD_SIALI_API_H

#include "mod_siali_request.h"

int siali_api_health(request_rec *r, siali_req_t *req);
int siali_api_whoami(request_rec *r, siali_req_t *req);
int siali_api_token(request_rec *r, siali_req_t *req);
int siali_api_reset_token(request_rec *r, siali_req_t *req);
int siali_api_invite(request_rec *r, siali_req_t *req);
int siali_api_invite_reset(request_rec *r, siali_req_t *req);

#endif
