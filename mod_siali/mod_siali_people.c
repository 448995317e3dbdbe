/* People: organizations, the members list and detail, user management. */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "mod_siali_people.h"
#include "sl_json.h"
#include "sl_org.h"
#include "sl_people.h"
#include "sl_role.h"
#include "sl_validate.h"

void siali_people_child_init(apr_pool_t *p, server_rec *s)
{
    for (; s; s = s->next) {
        /* a server's own marks: two servers may use two databases */
        siali_config_get(s)->marks = sl_pagemarks_create(p);
    }
}

int siali_api_organizations(request_rec *r, siali_req_t *req)
{
    json_t *list;
    sl_err_t err;

    if (sl_people_organizations(siali_db_source(r, req), &list, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, list);
}

/* 1 for the caller's organization; else a 404 is sent and 0 returned */
static int own_org(request_rec *r, siali_req_t *req)
{
    if (!req->user->org_id || strcmp(req->ids[0], req->user->org_id)) {
        siali_http_error(r, HTTP_NOT_FOUND, "No such organization.", NULL, NULL);
        return 0;
    }
    return 1;
}

static const char *page_url(request_rec *r, siali_req_t *req, apr_table_t *q,
                            apr_int64_t page)
{
    const apr_array_header_t *arr = apr_table_elts(q);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *url = apr_pstrcat(r->pool, req->prefix, req->path, "?page=",
                                  sl_i64(page, r->pool), NULL);
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (strcmp(e[i].key, "page")) {
            url = apr_pstrcat(r->pool, url, "&", ap_escape_urlencoded(r->pool, e[i].key), "=",
                              ap_escape_urlencoded(r->pool, e[i].val), NULL);
        }
    }
    return url;
}

int siali_api_page_reply(request_rec *r, siali_req_t *req, apr_table_t *q, json_t *results,
                         apr_int64_t count, int capped, apr_int64_t page, apr_int64_t page_size)
{
    json_t *j = sl_json_pool(json_object(), r->pool);
    /* a capped count says nothing of the end: a full page may have a next */
    int more = capped ? (apr_int64_t)json_array_size(results) == page_size
                      : page * page_size < count;

    json_object_set_new(j, "count", json_integer(count));
    if (capped) {
        json_object_set_new(j, "count_capped", json_true());
    }
    json_object_set_new(j, "next", more ? json_string(page_url(r, req, q, page + 1))
                                        : json_null());
    json_object_set_new(j, "previous", page > 1
                        ? json_string(page_url(r, req, q, page - 1)) : json_null());
    json_object_set(j, "results", results);
    return siali_http_json(r, HTTP_OK, j);
}

static int flag(apr_table_t *q, const char *name)
{
    const char *v = apr_table_get(q, name);

    return v && sl_config_parse_bool(v) == 1;
}

/* NULL when the caller may see every member; else their id: they see
 * themselves and the members of their projects (sl_role.h) */
static const char *people_scope(siali_req_t *req)
{
    return siali_caller_may(req, SL_PERM_PEOPLE) ? NULL : req->user->id;
}

/* PATCH {"user_id": N, "role": "AN"}: a member's role (the rules:
 * sl_account_patch) */
static int set_member_role(request_rec *r, siali_req_t *req)
{
    sl_conn_src_t *src = siali_db_source(r, req);
    sl_user_patch_t pa = { NULL, NULL, NULL, NULL, -1, NULL, req->conf->core.roles };
    json_t *body, *uid, *role;
    const char *target;
    sl_user_t *u;
    sl_err_t err;

    if (siali_http_read_json(r, &body) != OK) {
        return OK;   /* the 4xx is sent */
    }
    uid = json_object_get(body, "user_id");
    role = json_object_get(body, "role");
    if (!json_is_integer(uid) || json_integer_value(uid) < 1) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "user_id must be a member's id.",
                                "user_id", NULL);
    }
    if (!json_is_string(role)) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "role must be one of OW, AD, MA, RE, "
                                "AN, DI.", "role", NULL);
    }
    if (json_object_size(body) != 2) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "Only user_id and role can be given.",
                                NULL, NULL);
    }
    target = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(uid));
    pa.role = json_string_value(role);
    if (sl_account_patch(src, &u, target, req->user->id, &pa, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL50004: user %s gave user %s the role %s",
                  req->user->id, u->id, pa.role);
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack(
        "{s:s, s:I, s:s, s:I}", "organization", req->ids[0], "user_id",
        (json_int_t)apr_atoi64(u->id), "role", sl_role_code(sl_role_shown(
            u->role, u->is_active, u->last_activity)), "id",
        (json_int_t)apr_atoi64(u->id)), r->pool));
}

int siali_api_memberships(request_rec *r, siali_req_t *req)
{
    sl_members_query_t mq;
    apr_table_t *q = siali_http_query(r);
    apr_int64_t count;
    json_t *results;
    sl_err_t err;
    int capped = 0;

    if (!own_org(r, req)) {
        return OK;
    }
    if (r->method_number == M_PATCH) {
        return set_member_role(r, req);
    }
    if (!q) {
        return siali_http_error(r, HTTP_BAD_REQUEST,
                                "The query string is not valid (UTF-8, urlencoded).", NULL, NULL);
    }
    memset(&mq, 0, sizeof(mq));
    if (siali_http_query_int(r, q, "page", 1, 1, 1000000000, &mq.page) != OK
        || siali_http_query_int(r, q, "page_size", SL_PAGE_SIZE_DEFAULT, 1,
                                SL_PAGE_SIZE_MAX, &mq.page_size) != OK) {
        return OK;   /* the 400 is sent */
    }
    mq.ordering = apr_table_get(q, "ordering");
    if (mq.ordering && !sl_people_ordering_ok(mq.ordering)) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "ordering must be one of username, "
                                "email, last_activity, -last_activity, date_joined, "
                                "-date_joined.", "ordering", NULL);
    }
    mq.search = apr_table_get(q, "search");
    if (mq.search && (strlen(mq.search) > SL_SEARCH_MAX || sl_has_control(mq.search))) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "search must be at most 256 "
                                "characters without control characters.", "search", NULL);
    }
    mq.with_projects = flag(q, "contributed_to_projects");
    mq.active_only = flag(q, "active");
    mq.marks = req->conf->marks;
    mq.scope_user = people_scope(req);
    mq.role = apr_table_get(q, "role");
    if (mq.role && !*mq.role) {
        mq.role = NULL;         /* "role=": every role, as an empty search */
    }
    if (mq.role) {
        sl_role_e role;
        if (!sl_role_parse(mq.role, &role)) {
            return siali_http_error(r, HTTP_BAD_REQUEST, "role must be one of OW, AD, MA, RE, "
                                    "AN, DI, NO.", "role", NULL);
        }
    }
    if (sl_people_members(siali_db_source(r, req), &results, &count, &capped, req->ids[0],
                          &mq, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_api_page_reply(r, req, q, results, count, capped, mq.page, mq.page_size);
}

int siali_api_member(request_rec *r, siali_req_t *req)
{
    json_t *j;
    sl_err_t err;

    if (!own_org(r, req)) {
        return OK;
    }
    if (sl_people_member(siali_db_source(r, req), &j, req->ids[0], req->ids[1],
                         people_scope(req), &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, j);
}

int siali_api_users(request_rec *r, siali_req_t *req)
{
    json_t *list;
    sl_err_t err;

    if (sl_account_list(siali_db_source(r, req), &list, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, list);
}

/* PATCH body -> patch (the rules: sl_account_patch_read): OK, or DONE
 * after a 400 naming the field */
static int read_patch(request_rec *r, json_t *body, sl_user_patch_t *pa)
{
    sl_err_t err;

    if (sl_account_patch_read(pa, body, &err, r->pool) != SL_OK) {
        siali_http_core_error(r, &err);
        return DONE;
    }
    return OK;
}

int siali_api_user(request_rec *r, siali_req_t *req)
{
    sl_conn_src_t *src = siali_db_source(r, req);
    sl_user_patch_t pa;
    sl_user_t *u;
    json_t *body;
    sl_err_t err;
    int rc;

    switch (r->method_number) {
    case M_PATCH:
        /* the body is read before any connection is taken */
        if ((rc = siali_http_read_json(r, &body)) != OK || (rc = read_patch(r, body, &pa)) != OK) {
            return OK;   /* the 4xx is sent */
        }
        pa.roles_on = req->conf->core.roles;
        if (sl_account_patch(src, &u, req->ids[0], req->user->id, &pa, &err, r->pool)
            != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL50002: user %s changed user %s",
                      req->user->id, u->id);
        return siali_http_json(r, HTTP_OK, sl_account_json(u, src->avatar_base, r->pool));
    case M_DELETE:
        if (sl_account_delete(src, req->ids[0], req->user->id, &err, r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL50003: user %s deleted user %s",
                      req->user->id, req->ids[0]);
        return siali_http_json(r, HTTP_NO_CONTENT, NULL);
    default:
        if (sl_account_by_id(src, &u, req->ids[0], &err, r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        return siali_http_json(r, HTTP_OK, sl_account_json(u, src->avatar_base, r->pool));
    }
}

int siali_api_default_role(request_rec *r, siali_req_t *req)
{
    json_t *body, *role;
    sl_role_e code;
    sl_err_t err;

    if (!own_org(r, req)) {
        return OK;
    }
    if (siali_http_read_json(r, &body) != OK) {
        return OK;   /* the 4xx is sent */
    }
    role = json_object_get(body, "default_role");
    if (!json_is_string(role) || !sl_role_parse(json_string_value(role), &code)
        || !sl_role_default_ok(code) || json_object_size(body) != 1) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "default_role must be one of MA, RE, AN "
                                "(administrators are made by hand).", "default_role", NULL);
    }
    if (sl_org_set_default_role(siali_db_source(r, req), req->ids[0], sl_role_code(code), &err,
                                r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "SL50005: user %s set the default role %s",
                  req->user->id, sl_role_code(code));
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack(
        "{s:I, s:s}", "id", (json_int_t)apr_atoi64(req->ids[0]), "default_role",
        sl_role_code(code)), r->pool));
}
