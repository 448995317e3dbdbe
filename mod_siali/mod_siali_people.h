#ifndef MOD_SIALI_PEOPLE_H
#define MOD_SIALI_PEOPLE_H

#include "mod_siali_request.h"

/* Each server's marks of deep members pages, in this child. */
void siali_people_child_init(apr_pool_t *p, server_rec *s);

int siali_api_organizations(request_rec *r, siali_req_t *req);
int siali_api_memberships(request_rec *r, siali_req_t *req);
int siali_api_member(request_rec *r, siali_req_t *req);
/* PATCH /api/organizations/{id}/set-default-role {"default_role": "AN"} */
int siali_api_default_role(request_rec *r, siali_req_t *req);
int siali_api_users(request_rec *r, siali_req_t *req);
int siali_api_user(request_rec *r, siali_req_t *req);

/* {"count", "next", "previous", "results"} with next/previous as paths
 * carrying the same query but the page. */
int siali_api_page_reply(request_rec *r, siali_req_t *req, apr_table_t *q, json_t *results,
                         apr_int64_t count, int capped, apr_int64_t page, apr_int64_t page_size);

#endif
