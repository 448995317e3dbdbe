/* Minimal projects: only what People's "created" and "contributed to"
 * need. Tasks carry their data as JSON text; annotations their result. */
#ifndef SL_PROJECT_H
#define SL_PROJECT_H

#include <jansson.h>

#include "sl_conn.h"

#define SL_PROJECT_TITLE_MAX 50
#define SL_PROJECT_DESCRIPTION_MAX 10000
#define SL_IMPORT_MAX_TASKS 10000

sl_kind_e sl_project_create(sl_conn_src_t *src, json_t **out, const char *title,
                            const char *description, const char *creator_id,
                            sl_err_t *err, apr_pool_t *p);

sl_kind_e sl_project_get(sl_conn_src_t *src, json_t **out, const char *id, sl_err_t *err,
                         apr_pool_t *p);

sl_kind_e sl_project_page(sl_conn_src_t *src, json_t **results, apr_int64_t *count,
                          apr_int64_t page, apr_int64_t page_size, sl_err_t *err,
                          apr_pool_t *p);

/* tasks: [{"data": {...}, "annotations"?: [{"result": [...]}]}], all or
 * nothing in one transaction; imported annotations are the caller's. */
sl_kind_e sl_project_import(sl_conn_src_t *src, const char *project_id, json_t *tasks,
                            const char *actor_id, int *task_count, int *annotation_count,
                            sl_err_t *err, apr_pool_t *p);

/* result must be a JSON array. */
sl_kind_e sl_annotation_create(sl_conn_src_t *src, json_t **out, const char *task_id,
                               json_t *result, const char *actor_id, sl_err_t *err,
                               apr_pool_t *p);

/* Inside a unit: {"id", "first_name", "last_name", "email", "avatar"}, or
 * a deleted user. */
json_t *sl_project_user_simple(sl_db_t *db, const char *user_id, apr_pool_t *p);

#endif
