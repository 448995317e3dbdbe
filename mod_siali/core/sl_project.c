#include <string.h>

#include <apr_strings.h>

#include "sl_account.h"
#include "sl_json.h"
#include "sl_project.h"
#include "sl_validate.h"

json_t *sl_project_user_simple(sl_db_t *db, const char *user_id, apr_pool_t *p)
{
    sl_user_t *u;

    if (user_id && sl_account_get(db, &u, user_id, NULL, p) == SL_OK) {
        return json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)apr_atoi64(u->id),
                         "first_name", u->first_name, "last_name", u->last_name,
                         "email", u->email, "avatar", u->avatar
                         ? json_string(apr_pstrcat(p, db->avatar_base, u->avatar, NULL))
                         : json_null());
    }
    /* the account is gone; its work stays */
    return json_pack("{s:o, s:s, s:s, s:n, s:n, s:b}", "id",
                     user_id ? json_integer(apr_atoi64(user_id)) : json_null(),
                     "first_name", "", "last_name", "", "email", "avatar", "deleted", 1);
}

static json_t *project_json(sl_db_t *db, const char **row, apr_pool_t *p)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)apr_atoi64(row[0]),
                     "title", row[1], "description", row[2] ? row[2] : "",
                     "created_by", sl_project_user_simple(db, row[3], p),
                     "created_at", sl_json_str_or_null(sl_iso_time(row[4], p)));
}

typedef struct {
    json_t **out;
    const char **args;
    const char *id;
    apr_int64_t *count;
    apr_int64_t page, page_size;
    json_t *tasks;
    const char *actor_id;
    int *task_count, *annotation_count;
} project_t;

static sl_kind_e get_in(sl_db_t *db, json_t **out, const char *id, sl_err_t *err,
                        apr_pool_t *p);

static sl_kind_e create_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    project_t *b = baton;
    const char **row;
    sl_kind_e k = sl_db_select_one(db, p, "siali_project_insert", &row, 4, b->args,
                                   "the new project has no id", err);

    if (k == SL_ENOTFOUND) {
        k = sl_err_set(err, SL_EDB, NULL, "the new project has no id");
    }
    return k == SL_OK ? get_in(db, b->out, row[0], err, p) : k;
}

sl_kind_e sl_project_create(sl_conn_src_t *src, json_t **out, const char *title,
                            const char *description, const char *creator_id,
                            sl_err_t *err, apr_pool_t *p)
{
    const char *args[4];
    project_t b;
    long n;

    n = title ? sl_utf8_count(title, strlen(title)) : -1;
    if (n < 1 || n > SL_PROJECT_TITLE_MAX || sl_has_control(title)) {
        return sl_err_set(err, SL_EINVALID, "title",
                          "The title must be 1 to 50 characters without control characters.");
    }
    description = description ? description : "";
    if (sl_utf8_count(description, strlen(description)) > SL_PROJECT_DESCRIPTION_MAX) {
        return sl_err_set(err, SL_EINVALID, "description",
                          "The description must be at most 10000 characters.");
    }
    args[0] = title;
    args[1] = description;
    args[2] = creator_id;
    args[3] = sl_i64(sl_now(), p);
    memset(&b, 0, sizeof(b));
    b.out = out;
    b.args = args;
    return sl_conn_run(src, SL_CONN_WRITE_KEEP, create_unit, &b, err, p);
}

static sl_kind_e get_in(sl_db_t *db, json_t **out, const char *id, sl_err_t *err,
                        apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, "siali_project_get", &res, 1, &id, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such project.");
    }
    *out = sl_json_pool(project_json(db, SL_ROW(&res, 0), p), p);
    return SL_OK;
}

static sl_kind_e get_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    project_t *b = baton;

    return get_in(db, b->out, b->id, err, p);
}

sl_kind_e sl_project_get(sl_conn_src_t *src, json_t **out, const char *id, sl_err_t *err,
                         apr_pool_t *p)
{
    project_t b;

    memset(&b, 0, sizeof(b));
    b.out = out;
    b.id = id;
    return sl_conn_run(src, SL_CONN_READ, get_unit, &b, err, p);
}

static sl_kind_e page_in(sl_db_t *db, json_t **results, apr_int64_t *count,
                         apr_int64_t page, apr_int64_t page_size, sl_err_t *err,
                         apr_pool_t *p)
{
    const char *args[2];
    sl_rows_t res;
    json_t *list;
    sl_kind_e k;
    int i;

    if ((k = sl_db_select(db, p, "siali_project_count", &res, 0, NULL, err)) != SL_OK) {
        return k;
    }
    *count = apr_atoi64(SL_ROW(&res, 0)[0]);
    if ((page - 1) * page_size >= *count && page > 1) {
        return sl_err_set(err, SL_ENOTFOUND, "page", "Invalid page: past the last one.");
    }
    args[0] = sl_i64(page_size, p);
    args[1] = sl_i64((page - 1) * page_size, p);
    if ((k = sl_db_select(db, p, "siali_project_page", &res, 2, args, err)) != SL_OK) {
        return k;
    }
    list = sl_json_pool(json_array(), p);
    for (i = 0; i < res.rows->nelts; i++) {
        json_array_append_new(list, project_json(db, SL_ROW(&res, i), p));
    }
    *results = list;
    return SL_OK;
}

static sl_kind_e page_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    project_t *b = baton;

    return page_in(db, b->out, b->count, b->page, b->page_size, err, p);
}

sl_kind_e sl_project_page(sl_conn_src_t *src, json_t **results, apr_int64_t *count,
                          apr_int64_t page, apr_int64_t page_size, sl_err_t *err,
                          apr_pool_t *p)
{
    project_t b;

    memset(&b, 0, sizeof(b));
    b.out = results;
    b.count = count;
    b.page = page;
    b.page_size = page_size;
    return sl_conn_run(src, SL_CONN_READ, page_unit, &b, err, p);
}

static sl_kind_e check_tasks(json_t *tasks, sl_err_t *err, apr_pool_t *p)
{
    size_t i, j;
    json_t *t, *a;

    if (!json_is_array(tasks) || json_array_size(tasks) == 0) {
        return sl_err_set(err, SL_EINVALID, NULL, "Send a non-empty array of tasks.");
    }
    if (json_array_size(tasks) > SL_IMPORT_MAX_TASKS) {
        return sl_err_set(err, SL_EINVALID, NULL, "At most 10000 tasks per import.");
    }
    json_array_foreach(tasks, i, t) {
        json_t *anns = json_object_get(t, "annotations");
        const char *key;
        json_t *v;

        if (!json_is_object(t) || !json_is_object(json_object_get(t, "data"))) {
            return sl_err_set(err, SL_EINVALID, "data",
                              apr_psprintf(p, "Task %d: \"data\" must be an object.", (int)i));
        }
        json_object_foreach(t, key, v) {
            if (strcmp(key, "data") && strcmp(key, "annotations")) {
                return sl_err_set(err, SL_EINVALID, key,
                                  apr_psprintf(p, "Task %d: unknown field \"%s\".", (int)i,
                                               key));
            }
        }
        if (anns && !json_is_array(anns)) {
            return sl_err_set(err, SL_EINVALID, "annotations",
                              apr_psprintf(p, "Task %d: \"annotations\" must be an array.",
                                           (int)i));
        }
        json_array_foreach(anns, j, a) {
            if (!json_is_object(a) || !json_is_array(json_object_get(a, "result"))) {
                return sl_err_set(err, SL_EINVALID, "result",
                                  apr_psprintf(p, "Task %d, annotation %d: \"result\" must "
                                               "be an array.", (int)i, (int)j));
            }
        }
    }
    return SL_OK;
}

static sl_kind_e import_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    project_t *b = baton;
    const char *now = sl_i64(sl_now(), p), *args[5], *project_id = b->id;
    const char *actor_id = b->actor_id;
    int *task_count = b->task_count, *annotation_count = b->annotation_count;
    sl_rows_t res;
    json_t *project, *t, *a;
    sl_kind_e k;
    size_t i, j;

    /* counted again from zero when the unit runs again */
    *task_count = *annotation_count = 0;
    if ((k = get_in(db, &project, project_id, err, p)) != SL_OK) {
        return k;
    }
    json_array_foreach(b->tasks, i, t) {
        args[0] = project_id;
        args[1] = sl_json_dump(json_object_get(t, "data"), p);
        args[2] = now;
        if ((k = sl_db_select(db, p, "siali_task_insert", &res, 3, args, err)) != SL_OK) {
            break;
        }
        (*task_count)++;
        json_array_foreach(json_object_get(t, "annotations"), j, a) {
            args[0] = SL_ROW(&res, 0)[0];
            args[1] = project_id;
            args[2] = actor_id;
            args[3] = sl_json_dump(json_object_get(a, "result"), p);
            args[4] = now;
            sl_rows_t ares;
            if ((k = sl_db_select(db, p, "siali_annotation_insert", &ares, 5, args, err))
                != SL_OK) {
                break;
            }
            (*annotation_count)++;
        }
        if (k != SL_OK) {
            break;
        }
    }
    return k;
}

sl_kind_e sl_project_import(sl_conn_src_t *src, const char *project_id, json_t *tasks,
                            const char *actor_id, int *task_count, int *annotation_count,
                            sl_err_t *err, apr_pool_t *p)
{
    project_t b;
    sl_kind_e k;

    *task_count = *annotation_count = 0;
    if ((k = check_tasks(tasks, err, p)) != SL_OK) {
        return k;
    }
    memset(&b, 0, sizeof(b));
    b.id = project_id;
    b.tasks = tasks;
    b.actor_id = actor_id;
    b.task_count = task_count;
    b.annotation_count = annotation_count;
    k = sl_conn_run(src, SL_CONN_WRITE_KEEP, import_unit, &b, err, p);
    if (k != SL_OK) {
        *task_count = *annotation_count = 0;
    }
    return k;
}

typedef struct {
    json_t **out;
    const char *task_id;
    json_t *result;
    const char *actor_id;
} annotation_t;

static sl_kind_e annotation_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    annotation_t *b = baton;
    const char *args[5], *task_id = b->task_id, *actor_id = b->actor_id;
    json_t *result = b->result, **out = b->out;
    sl_rows_t task, res;
    sl_kind_e k;

    if ((k = sl_db_select(db, p, "siali_task_get", &task, 1, &task_id, err)) != SL_OK) {
        return k;
    }
    if (task.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such task.");
    }
    args[0] = task_id;
    args[1] = SL_ROW(&task, 0)[1];
    args[2] = actor_id;
    args[3] = sl_json_dump(result, p);
    args[4] = sl_i64(sl_now(), p);
    if ((k = sl_db_select(db, p, "siali_annotation_insert", &res, 5, args, err)) != SL_OK) {
        return k;
    }
    *out = sl_json_pool(json_pack("{s:I, s:I, s:I, s:I, s:O, s:o}",
                                  "id", (json_int_t)apr_atoi64(SL_ROW(&res, 0)[0]),
                                  "task", (json_int_t)apr_atoi64(task_id),
                                  "project", (json_int_t)apr_atoi64(args[1]),
                                  "completed_by", (json_int_t)apr_atoi64(actor_id),
                                  "result", result,
                                  "created_at", sl_json_str_or_null(sl_iso_time(args[4], p))),
                        p);
    return SL_OK;
}

sl_kind_e sl_annotation_create(sl_conn_src_t *src, json_t **out, const char *task_id,
                               json_t *result, const char *actor_id, sl_err_t *err,
                               apr_pool_t *p)
{
    annotation_t b = { out, task_id, result, actor_id };

    if (!json_is_array(result)) {
        return sl_err_set(err, SL_EINVALID, "result", "\"result\" must be an array.");
    }
    return sl_conn_run(src, SL_CONN_WRITE_KEEP, annotation_unit, &b, err, p);
}
