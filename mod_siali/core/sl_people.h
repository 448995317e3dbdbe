/* People: the members list (pagination, search, ordering, the projects of
 * each member in a fixed number of queries) and one member's detail. */
#ifndef SL_PEOPLE_H
#define SL_PEOPLE_H

#include <jansson.h>

#include "sl_account.h"
#include "sl_pagemark.h"

#define SL_PAGE_SIZE_DEFAULT 20
#define SL_PAGE_SIZE_MAX 1000
#define SL_SEARCH_MAX 256

typedef struct {
    apr_int64_t page;           /* from 1 */
    apr_int64_t page_size;
    const char *ordering;       /* one of sl_people_orderings, NULL = username */
    const char *search;         /* NULL or "" = none */
    int active_only;
    int with_projects;          /* contributed_to_projects=1 */
    sl_pagemarks_t *marks;      /* NULL: deep pages walk from the start */
    const char *role;           /* NULL, or members shown with this code */
    const char *scope_user;     /* NULL: every member; else this user and the
                                 * members of the projects they work in */
} sl_members_query_t;

/* 1 when ordering is one the list knows. */
int sl_people_ordering_ok(const char *ordering);

/* A LIKE pattern for a case-insensitive substring: lower-cased, with
 * '%', '_' and the escape '!' taken literally. */
/* The search as an FTS5 phrase (folded, in double quotes, a quote doubled):
 * with the trigram tokenizer, the documents holding it as a substring. */
const char *sl_people_match_phrase(const char *search, apr_pool_t *p);

const char *sl_people_like_pattern(const char *search, apr_pool_t *p);

/* A search is counted no further than this: past it *capped is 1 and
 * *count the cap (counting every match of a common word would cost as much
 * as reading them all). */
#define SL_PEOPLE_COUNT_CAP 1000

/* One page: *results is an array of Member objects, *count all matches
 * (or SL_PEOPLE_COUNT_CAP with *capped 1). A page past the end is
 * SL_ENOTFOUND (except page 1 of nothing; not known when capped: then an
 * empty page). */
sl_kind_e sl_people_members(sl_conn_src_t *src, json_t **results, apr_int64_t *count,
                            int *capped, const char *org_id, const sl_members_query_t *q,
                            sl_err_t *err, apr_pool_t *p);

/* The detail panel: user, organization, role, created and contributed
 * projects, annotations count. scope_user: NULL for a caller who may see
 * everyone; else SL_EFORBIDDEN unless user_id is theirs or works in one of
 * their projects. */
sl_kind_e sl_people_member(sl_conn_src_t *src, json_t **out, const char *org_id,
                           const char *user_id, const char *scope_user, sl_err_t *err,
                           apr_pool_t *p);

/* {"id", "title", "created_at"} of every organization. */
sl_kind_e sl_people_organizations(sl_conn_src_t *src, json_t **out, sl_err_t *err,
                                  apr_pool_t *p);

#endif
