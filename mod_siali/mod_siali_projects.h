#ifndef MOD_SIALI_PROJECTS_H
#define MOD_SIALI_PROJECTS_H

#include "mod_siali_request.h"

int siali_api_projects(request_rec *r, siali_req_t *req);
int siali_api_project(request_rec *r, siali_req_t *req);
int siali_api_project_import(request_rec *r, siali_req_t *req);
int siali_api_annotations(request_rec *r, siali_req_t *req);

#endif
