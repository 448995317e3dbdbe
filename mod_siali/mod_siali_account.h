#ifndef MOD_SIALI_ACCOUNT_H
#define MOD_SIALI_ACCOUNT_H

#include "mod_siali_request.h"

int siali_api_password(request_rec *r, siali_req_t *req);

#endif
