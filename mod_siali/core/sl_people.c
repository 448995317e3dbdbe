#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_json.h"
#include "sl_people.h"
#include "sl_role.h"
#include "sl_sql.h"
#include "sl_validate.h"

static const char *const orderings[] = {
    "username", "email", "last_activity", "-last_activity", "date_joined",
    "-date_joined", NULL
};

int sl_people_ordering_ok(const char *ordering)
{
    int i;

    for (i = 0; ordering && orderings[i]; i++) {
        if (!strcmp(ordering, orderings[i])) {
            return 1;
        }
    }
    return 0;
}

/* the folded search between open and close, each of specials preceded by
 * esc (LIKE's '!' escape, or FTS5's doubled quote) */
static const char *quoted(const char *search, char open, char close, const char *specials,
                          char esc, apr_pool_t *p)
{
    const char *folded = sl_text_fold(search, p), *s;
    char *out, *d;

    folded = folded ? folded : search;
    d = out = apr_palloc(p, strlen(folded) * 2 + 3);
    *d++ = open;
    for (s = folded; *s; s++) {
        if (strchr(specials, *s)) {
            *d++ = esc;
        }
        *d++ = *s;
    }
    *d++ = close;
    *d = '\0';
    return out;
}

const char *sl_people_like_pattern(const char *search, apr_pool_t *p)
{
    return quoted(search, '%', '%', "%_!", '!', p);
}

/* [{"id", "title"}] from rows whose columns start at `first` */
static void push_project(json_t *list, const char **row, int first)
{
    json_array_append_new(list, json_pack("{s:I, s:s}", "id",
                                          (json_int_t)apr_atoi64(row[first]),
                                          "title", row[first + 1] ? row[first + 1] : ""));
}

/* the statement label of an ordering: "-x" is "x_desc" (labels are SQL
 * identifiers on PostgreSQL) */
static const char *order_label(const char *ordering, apr_pool_t *p)
{
    return *ordering == '-' ? apr_pstrcat(p, ordering + 1, "_desc", NULL) : ordering;
}

const char *sl_people_match_phrase(const char *search, apr_pool_t *p)
{
    return quoted(search, '"', '"', "\"", '"', p);
}

/* a LIKE metacharacter or the escape: only an escaped LIKE is right */
static int needs_escape(const char *search)
{
    return strpbrk(search, "%_!\\") != NULL;
}

/* characters, not bytes: a trigram is three of them */
static apr_size_t code_points(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* How a search reads the trigram index (sl_sql.c): "_s" with the FTS5
 * phrase on SQLite (any characters, three or more) or a plain LIKE on
 * PostgreSQL; otherwise "_e", an escaped LIKE. */
static const char *search_kind(const sl_db_t *db, const char *search, const char *folded)
{
    if (!db->is_pgsql) {
        return code_points(folded) >= 3 ? "_s" : "_e";
    }
    return needs_escape(search) ? "_e" : "_s";
}

/* The key a mark of ordering holds (sl_sql.c "_a"), NULL for orderings
 * without marks: last_activity moves once a minute for every active member
 * without moving people_version. */
static const char *mark_key(const char *ordering, const sl_user_t *u)
{
    if (!strcmp(ordering, "username")) {
        return u->username;
    }
    if (!strcmp(ordering, "email")) {
        return u->email;
    }
    if (!strcmp(ordering, "date_joined") || !strcmp(ordering, "-date_joined")) {
        return u->date_joined;
    }
    return NULL;
}

static int marked(const char *ordering)
{
    static const sl_user_t any = { .username = "", .email = "", .date_joined = "" };

    return mark_key(ordering, &any) != NULL;
}

typedef struct {
    json_t **out;
    apr_int64_t *count;
    int *capped;
    const char *org_id;
    const char *user_id;
    const sl_members_query_t *q;
    const char *scope_user;
} people_t;

static sl_kind_e members_in(sl_db_t *db, json_t **results, apr_int64_t *count,
                            int *capped, const char *org_id, const sl_members_query_t *q,
                            sl_err_t *err, apr_pool_t *p)
{
    const char *ordering = q->ordering ? q->ordering : "username";
    const char *search = q->search && *q->search ? q->search : NULL;
    const char *active = q->active_only ? "1" : "0";
    const char *limit = sl_i64(q->page_size, p);
    const char *offset = sl_i64((q->page - 1) * q->page_size, p);
    const char *kind = "", *label, *args[14], *list = NULL;
    apr_int64_t version = 0, pos = (q->page - 1) * q->page_size;
    apr_hash_t *by_user = apr_hash_make(p);
    sl_rows_t res, created, contrib;
    json_t *page;
    int nargs, i, first = 0, shift = 0, paged = 0;
    sl_kind_e k;

    if (!sl_people_ordering_ok(ordering)) {
        return sl_err_set(err, SL_EINVALID, "ordering", "Unknown ordering.");
    }
    label = apr_pstrcat(p, "siali_members_", order_label(ordering, p), NULL);
    if (q->role || q->scope_user) {
        /* "_f" (sl_sql.c): filters no index holds, counted by walking */
        const char *who = q->scope_user ? q->scope_user : "0";

        kind = "_f";
        args[0] = org_id;
        args[1] = active;
        args[2] = q->scope_user ? "1" : "0";
        for (i = 3; i < 8; i++) {
            args[i] = who;
        }
        args[8] = args[9] = q->role ? q->role : "";
        args[10] = args[11] = search ? sl_people_like_pattern(search, p) : "";
        if ((k = sl_db_select(db, p, "siali_members_count_f", &res, 12, args, err)) != SL_OK) {
            return k;
        }
        *count = res.rows->nelts ? apr_atoi64(SL_ROW(&res, 0)[0]) : 0;
        args[12] = limit;
        args[13] = offset;
        nargs = 14;
    }
    else if (search) {
        /* folded as the documents are (sl_account_search_doc) */
        const char *folded = sl_text_fold(search, p);
        /* escaped: right with ESCAPE '!' ("_e", "_we") and, with nothing to
         * escape, the plain pattern of "_s" / "_w" */
        const char *like = sl_people_like_pattern(search, p);

        kind = search_kind(db, search, folded ? folded : search);
        /* the trigram index read once: the matches, no further than the cap
         * + 1, counted and, if no more than the cap, the page of them
         * (FOUND in sl_sql.c). Counted with the filters, never from the
         * documents alone: a word most deactivated accounts share is not
         * "many" for the active ones */
        args[0] = !strcmp(kind, "_s") && !db->is_pgsql ? sl_people_match_phrase(search, p)
                  : like;
        args[1] = org_id;
        args[2] = active;
        args[3] = sl_i64(SL_PEOPLE_COUNT_CAP + 1, p);
        args[4] = sl_i64(SL_PEOPLE_COUNT_CAP, p);
        args[5] = limit;
        args[6] = offset;
        if ((k = sl_db_select(db, p, apr_pstrcat(p, label, kind, NULL), &res, 7, args,
                              err)) != SL_OK) {
            return k;
        }
        *count = res.rows->nelts ? apr_atoi64(SL_ROW(&res, 0)[0]) : 0;
        /* the count's row alone when the page is empty (apr_dbd_pgsql gives
         * NULL as "") */
        first = res.rows->nelts == 1 && (!SL_ROW(&res, 0)[1] || !*SL_ROW(&res, 0)[1]);
        shift = paged = 1;
        /* the project statements: pattern, org, active, limit, offset */
        args[3] = limit;
        args[4] = offset;
        nargs = 5;
        if (*count > SL_PEOPLE_COUNT_CAP) {
            /* many: a page of them by walking the ordering, each member's
             * document checked (SEARCH_W): org, active, LIKE, limit, offset */
            *count = SL_PEOPLE_COUNT_CAP;
            *capped = 1;
            kind = needs_escape(search) ? "_we" : "_w";
            args[0] = org_id;
            args[1] = active;
            args[2] = like;
            paged = 0;
        }
    }
    else {
        if ((k = sl_db_select(db, p, "siali_org_counts", &res, 1, &org_id, err)) != SL_OK) {
            return k;
        }
        if (res.rows->nelts == 0) {
            return sl_err_set(err, SL_ENOTFOUND, NULL, "No such organization.");
        }
        *count = apr_atoi64(SL_ROW(&res, 0)[q->active_only ? 1 : 0]);
        version = apr_atoi64(SL_ROW(&res, 0)[2]);
        args[0] = org_id;
        args[1] = active;
        args[2] = limit;
        args[3] = offset;
        nargs = 4;
        if (q->marks && marked(ordering)) {
            apr_int64_t at, id;
            const char *key;

            list = apr_pstrcat(p, org_id, " ", ordering, " ", active, NULL);
            if (pos < *count
                && sl_pagemarks_find(q->marks, list, version, pos, &at, &key, &id, p)) {
                /* from the mark: org, active, key twice, id, limit, the rest */
                kind = "_a";
                args[2] = args[3] = key;
                args[4] = sl_i64(id, p);
                args[5] = limit;
                args[6] = sl_i64(pos - at, p);
                nargs = 7;
            }
        }
    }
    if (!*capped && (q->page - 1) * q->page_size >= *count && q->page > 1) {
        return sl_err_set(err, SL_ENOTFOUND, "page", "Invalid page: past the last one.");
    }
    if (!paged) {
        first = shift = 0;
        if ((k = sl_db_select(db, p, apr_pstrcat(p, label, kind, NULL), &res, nargs, args,
                              err)) != SL_OK) {
            return k;
        }
    }
    if (list && res.rows->nelts == (int)q->page_size) {
        /* this page's first member, for the next request of it or after it;
         * a full page only: the walk found page_size members, and the join
         * with memberships kept them all, so the first is at pos */
        sl_user_t *u = sl_account_from_row(SL_ROW(&res, 0), 1, p);
        sl_pagemarks_put(q->marks, list, version, pos, mark_key(ordering, u),
                         apr_atoi64(u->id));
    }
    page = sl_json_pool(json_array(), p);
    for (i = first; i < res.rows->nelts; i++) {
        const char **row = SL_ROW(&res, i) + shift;
        sl_user_t *u = sl_account_from_row(row, 1, p);
        /* a reference of our own to the pool's object, not a copy of it: the
         * pool's cleanup lets go of its reference, the page of its own */
        json_t *user = json_incref(sl_account_json(u, db->avatar_base, p));
        json_t *m = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)apr_atoi64(row[0]),
                              "organization", (json_int_t)apr_atoi64(org_id), "role",
                              sl_role_code(sl_role_shown(u->role, u->is_active,
                                                         u->last_activity)));
        json_t *cp = q->with_projects ? json_array() : json_null();
        json_t *tp = q->with_projects ? json_array() : json_null();

        json_object_set(user, "created_projects", cp);
        json_object_set(user, "contributed_to_projects", tp);
        json_object_set_new(m, "user", user);
        json_object_set_new(m, "created_projects", cp);
        json_object_set_new(m, "contributed_to_projects", tp);
        json_array_append_new(page, m);
        apr_hash_set(by_user, u->id, APR_HASH_KEY_STRING, m);
    }
    if (q->with_projects && res.rows->nelts > first) {
        const char *which[2] = { "siali_members_created_", "siali_members_contrib_" };
        const char *field[2] = { "created_projects", "contributed_to_projects" };
        sl_rows_t *out[2] = { &created, &contrib };
        int w;

        /* two more queries for the whole page, not two per member */
        for (w = 0; w < 2; w++) {
            const char *name = apr_pstrcat(p, which[w], order_label(ordering, p), kind, NULL);

            if ((k = sl_db_select(db, p, name, out[w], nargs, args, err)) != SL_OK) {
                return k;
            }
            for (i = 0; i < out[w]->rows->nelts; i++) {
                const char **row = SL_ROW(out[w], i);
                json_t *m = row[0] ? apr_hash_get(by_user, row[0], APR_HASH_KEY_STRING) : NULL;
                if (m) {
                    push_project(json_object_get(m, field[w]), row, 1);
                }
            }
        }
    }
    *results = page;
    return SL_OK;
}

static sl_kind_e members_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    people_t *b = baton;
    int custom = b->q->search && *b->q->search && sl_db_pg_custom_plans(db, 1);
    sl_kind_e k = members_in(db, b->out, b->count, b->capped, b->org_id, b->q, err, p);

    if (custom && !sl_db_pg_custom_plans(db, 0) && k == SL_OK) {
        /* the next unit on this connection would plan everything anew */
        k = sl_err_set(err, SL_ELOST, NULL, "The database is not available right now.");
    }
    return k;
}

sl_kind_e sl_people_members(sl_conn_src_t *src, json_t **results, apr_int64_t *count,
                            int *capped, const char *org_id, const sl_members_query_t *q,
                            sl_err_t *err, apr_pool_t *p)
{
    people_t b = { results, count, capped, org_id, NULL, q };

    *capped = 0;
    return sl_conn_run(src, SL_CONN_READ, members_unit, &b, err, p);
}

static sl_kind_e member_in(sl_db_t *db, json_t **out, const char *org_id,
                           const char *user_id, const char *scope_user, sl_err_t *err,
                           apr_pool_t *p)
{
    static const char *const labels[2] = { "siali_user_created_projects",
                                           "siali_user_contributed_projects" };
    static const char *const fields[2] = { "created_projects", "contributed_to_projects" };
    const char *args[2] = { org_id, user_id };
    sl_rows_t res, projects;
    json_t *j, *list;
    sl_kind_e k;
    int i, w;

    sl_user_t *u;

    if (scope_user && strcmp(scope_user, user_id)) {
        const char *peer[5] = { user_id, scope_user, scope_user, scope_user, scope_user };

        if ((k = sl_db_select(db, p, "siali_member_is_peer", &res, 5, peer, err)) != SL_OK) {
            return k;
        }
        if (res.rows->nelts == 0) {
            return sl_err_set(err, SL_EFORBIDDEN, NULL, "Permission view_people is needed "
                              "to see a member who works in none of your projects.");
        }
    }
    if ((k = sl_db_select(db, p, "siali_member_get", &res, 2, args, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such member.");
    }
    u = sl_account_from_row(SL_ROW(&res, 0), 1, p);
    j = sl_json_pool(json_object(), p);
    json_object_set(j, "user", sl_account_json(u, db->avatar_base, p));
    json_object_set_new(j, "organization", json_integer(apr_atoi64(org_id)));
    json_object_set_new(j, "role", json_string(sl_role_code(
                            sl_role_shown(u->role, u->is_active, u->last_activity))));
    for (w = 0; w < 2; w++) {
        if ((k = sl_db_select(db, p, labels[w], &projects, 1, &user_id, err)) != SL_OK) {
            return k;
        }
        list = json_array();
        for (i = 0; i < projects.rows->nelts; i++) {
            push_project(list, SL_ROW(&projects, i), 0);
        }
        json_object_set_new(j, fields[w], list);
    }
    if ((k = sl_db_select(db, p, "siali_user_annotation_count", &projects, 1, &user_id,
                          err)) != SL_OK) {
        return k;
    }
    json_object_set_new(j, "annotations_count",
                        json_integer(apr_atoi64(SL_ROW(&projects, 0)[0])));
    *out = j;
    return SL_OK;
}

static sl_kind_e member_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    people_t *b = baton;

    return member_in(db, b->out, b->org_id, b->user_id, b->scope_user, err, p);
}

sl_kind_e sl_people_member(sl_conn_src_t *src, json_t **out, const char *org_id,
                           const char *user_id, const char *scope_user, sl_err_t *err,
                           apr_pool_t *p)
{
    people_t b = { out, NULL, NULL, org_id, user_id, NULL, scope_user };

    return sl_conn_run(src, SL_CONN_READ, member_unit, &b, err, p);
}

sl_kind_e sl_people_organizations(sl_conn_src_t *src, json_t **out, sl_err_t *err,
                                  apr_pool_t *p)
{
    sl_rows_t res;
    json_t *list;
    sl_kind_e k;
    int i;

    if ((k = sl_conn_select(src, "siali_org_list", &res, 0, NULL, err, p)) != SL_OK) {
        return k;
    }
    list = sl_json_pool(json_array(), p);
    for (i = 0; i < res.rows->nelts; i++) {
        const char **row = SL_ROW(&res, i);
        json_array_append_new(list, json_pack("{s:I, s:s, s:o}", "id",
                                              (json_int_t)apr_atoi64(row[0]), "title", row[1],
                                              "created_at",
                                              sl_json_str_or_null(sl_iso_time(row[2], p))));
    }
    *out = list;
    return SL_OK;
}
