#ifndef MOD_SIALI_AUDIT_H
#define MOD_SIALI_AUDIT_H

#include "mod_siali_request.h"

/* GET /api/activity-logs/: the organization's security events (sl_audit.h),
 * shaped like Label Studio Enterprise's activity log. */
int siali_api_activity_logs(request_rec *r, siali_req_t *req);

/* GET /api/current-user/activity: the caller's own recent events (Account). */
int siali_api_my_activity(request_rec *r, siali_req_t *req);

#endif
