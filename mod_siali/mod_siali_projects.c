/* The minimal projects API behind People's created/contributed lists. */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_people.h"
#include "mod_siali_projects.h"
#include "sl_json.h"
#include "sl_people.h"
#include "sl_project.h"
#include "sl_role.h"

/* only the listed keys, each of the given type; else a 400 naming it */
static int only_keys(request_rec *r, json_t *body, const char *const *keys)
{
    const char *key;
    json_t *v;
    int i;

    json_object_foreach(body, key, v) {
        for (i = 0; keys[i] && strcmp(keys[i], key); i++)
            ;
        if (!keys[i]) {
            siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(r->pool, "Unknown field %s.",
                                                               key), key, "Unknown field.");
            return 0;
        }
        if (!json_is_string(v)) {
            siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(r->pool, "%s must be a "
                                                               "string.", key), key, NULL);
            return 0;
        }
    }
    return 1;
}

static void creators_for(siali_req_t *req, json_t *project);

int siali_api_projects(request_rec *r, siali_req_t *req)
{
    static const char *const keys[] = { "title", "description", NULL };
    apr_table_t *q;
    apr_int64_t page, size, count;
    json_t *body, *j;
    sl_err_t err;

    if (r->method_number == M_POST) {
        if (siali_http_read_json(r, &body) != OK || !only_keys(r, body, keys)) {
            return OK;
        }
        if (sl_project_create(siali_db_source(r, req), &j, json_string_value(json_object_get(body, "title")),
                              json_string_value(json_object_get(body, "description")),
                              req->user->id, &err, r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        return siali_http_json(r, HTTP_CREATED, j);
    }
    if (!(q = siali_http_query(r))) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "The query string is not valid.",
                                NULL, NULL);
    }
    if (siali_http_query_int(r, q, "page", 1, 1, 1000000000, &page) != OK
        || siali_http_query_int(r, q, "page_size", SL_PAGE_SIZE_DEFAULT, 1,
                                SL_PAGE_SIZE_MAX, &size) != OK) {
        return OK;
    }
    if (sl_project_page(siali_db_source(r, req), &j, &count, page, size, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    {
        size_t i;
        json_t *one;

        json_array_foreach(j, i, one) {
            creators_for(req, one);
        }
    }
    return siali_api_page_reply(r, req, q, j, count, 0, page, size);
}

/* A caller whose role may not see every member (sl_role.h, view_people)
 * gets a project's creator as an id, unless it is themselves: projects are
 * listed to every member, their creators' names and emails are not. */
static void creators_for(siali_req_t *req, json_t *project)
{
    json_t *by = json_object_get(project, "created_by");
    json_t *id = json_object_get(by, "id");

    if (siali_caller_may(req, SL_PERM_PEOPLE) || !json_is_integer(id)
        || json_integer_value(id) == apr_atoi64(req->user->id)) {
        return;
    }
    json_object_set_new(project, "created_by", json_pack("{s:I}", "id",
                                                         json_integer_value(id)));
}

int siali_api_project(request_rec *r, siali_req_t *req)
{
    json_t *j;
    sl_err_t err;

    if (sl_project_get(siali_db_source(r, req), &j, req->ids[0], &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    creators_for(req, j);
    return siali_http_json(r, HTTP_OK, j);
}

int siali_api_project_import(request_rec *r, siali_req_t *req)
{
    const char *buf;
    apr_size_t len;
    json_t *tasks;
    sl_err_t err;
    int rc, nt, na;

    /* the body is an array, not an object: read it here */
    if (!apr_table_get(r->headers_in, "Content-Type")
        || strncasecmp(apr_table_get(r->headers_in, "Content-Type"), "application/json", 16)) {
        return siali_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "Send the tasks as application/json.", NULL, NULL);
    }
    if ((rc = siali_http_read_body(r, SIALI_JSON_MAX, &buf, &len)) != OK) {
        return siali_http_error(r, rc, rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                                ? "The request body is too large (64 KiB at most)."
                                : "The request body could not be read.", NULL, NULL);
    }
    if (sl_json_decode(&tasks, buf, len, &err, r->pool) != SL_OK) {
        return siali_http_error(r, HTTP_BAD_REQUEST, err.message, NULL, NULL);
    }
    if (sl_project_import(siali_db_source(r, req), req->ids[0], tasks, req->user->id, &nt, &na, &err,
                          r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_CREATED, sl_json_pool(json_pack(
        "{s:i, s:i}", "task_count", nt, "annotation_count", na), r->pool));
}

int siali_api_annotations(request_rec *r, siali_req_t *req)
{
    json_t *body, *j;
    const char *key;
    json_t *v;
    sl_err_t err;

    if (siali_http_read_json(r, &body) != OK) {
        return OK;
    }
    json_object_foreach(body, key, v) {
        if (strcmp(key, "result")) {
            return siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(
                r->pool, "Unknown field %s.", key), key, "Unknown field.");
        }
    }
    if (sl_annotation_create(siali_db_source(r, req), &j, req->ids[0], json_object_get(body, "result"),
                             req->user->id, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_CREATED, j);
}
