#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_account.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_secret.h"
#include "sl_sql.h"
#include "sl_validate.h"

#define TOUCH_INTERVAL 60   /* seconds between last_activity writes */

sl_user_t *sl_account_from_row(const char **cols, int first, apr_pool_t *p)
{
    sl_user_t *u = apr_pcalloc(p, sizeof(*u));
    const char **c = cols + first;

    u->id = c[SL_UC_ID];
    u->email = c[SL_UC_EMAIL];
    u->username = c[SL_UC_USERNAME];
    u->password = c[SL_UC_PASSWORD];
    u->first_name = c[SL_UC_FIRST] ? c[SL_UC_FIRST] : "";
    u->last_name = c[SL_UC_LAST] ? c[SL_UC_LAST] : "";
    u->phone = c[SL_UC_PHONE] ? c[SL_UC_PHONE] : "";
    u->avatar = c[SL_UC_AVATAR] && *c[SL_UC_AVATAR] ? c[SL_UC_AVATAR] : NULL;
    u->is_active = c[SL_UC_ACTIVE] && atoi(c[SL_UC_ACTIVE]) != 0;
    u->date_joined = c[SL_UC_JOINED];
    u->last_activity = c[SL_UC_ACTIVITY];
    u->org_id = c[SL_UC_ORG];
    return u;
}

static sl_kind_e one_user(sl_db_t *db, sl_user_t **out, const char *label,
                          const char *arg, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, label, &res, 1, &arg, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such user.");
    }
    *out = sl_account_from_row(SL_ROW(&res, 0), 0, p);
    return SL_OK;
}

sl_kind_e sl_account_by_id(sl_db_t *db, sl_user_t **out, const char *id,
                           sl_err_t *err, apr_pool_t *p)
{
    return one_user(db, out, "siali_user_by_id", id, err, p);
}

sl_kind_e sl_account_by_login(sl_db_t *db, sl_user_t **out, const char *login,
                              sl_err_t *err, apr_pool_t *p)
{
    const char *email;

    if (!login || !*login || sl_utf8_count(login, strlen(login)) < 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such user.");
    }
    if (strchr(login, '@')) {
        if (sl_validate_email(&email, login, strlen(login), NULL, p) != SL_OK) {
            return sl_err_set(err, SL_ENOTFOUND, NULL, "No such user.");
        }
        return one_user(db, out, "siali_user_by_email", email, err, p);
    }
    return one_user(db, out, "siali_user_by_username", login, err, p);
}

sl_kind_e sl_account_check_token(const char *token, sl_err_t *err)
{
    const unsigned char *c;
    apr_size_t n = token ? strlen(token) : 0;

    if (n < SL_TOKEN_MIN) {
        return sl_err_set(err, SL_EINVALID, "token",
                          "The user token must be at least 5 characters long.");
    }
    if (n > SL_TOKEN_MAX) {
        return sl_err_set(err, SL_EINVALID, "token",
                          "The user token must be at most 256 characters long.");
    }
    for (c = (const unsigned char *)token; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f) {
            return sl_err_set(err, SL_EINVALID, "token",
                              "The user token may hold only printable ASCII "
                              "characters without spaces.");
        }
    }
    return SL_OK;
}

sl_kind_e sl_account_named(sl_new_user_t *nu, const char *login, sl_err_t *err,
                           apr_pool_t *p)
{
    const char *email;
    sl_kind_e k;

    if (strchr(login, '@')) {
        nu->username = NULL;
        k = sl_validate_email(&email, login, strlen(login), err, p);
    }
    else if ((k = sl_validate_username(login, strlen(login), err)) == SL_OK) {
        nu->username = login;
        email = apr_pstrcat(p, login, "@localhost", NULL);
        k = sl_validate_email(&email, email, strlen(email), err, p);
    }
    if (k == SL_OK) {
        nu->email = email;
    }
    return k;
}

/* What the members search looks in: "email username first last",
 * lower-cased as the migration's SQL lower() does it (ASCII). */
static const char *search_doc(const char *email, const char *username, const char *first,
                              const char *last, apr_pool_t *p)
{
    char *d = apr_pstrcat(p, email, " ", username, " ", first, " ", last, NULL), *c;

    for (c = d; *c; c++) {
        *c = apr_tolower(*c);
    }
    return d;
}

static sl_kind_e count_add(sl_db_t *db, const char *org_id, int members, int active,
                           sl_err_t *err, apr_pool_t *p)
{
    const char *args[3] = { apr_itoa(p, members), apr_itoa(p, active), org_id };

    return sl_db_exec(db, p, "siali_org_count_add", NULL, 3, args, err);
}

static int exists(sl_db_t *db, const char *label, const char *arg, int *found,
                  sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, label, &res, 1, &arg, err);

    if (k == SL_OK) {
        *found = res.rows->nelts > 0;
    }
    return k;
}

/* The first free username among base, base2, base3, ... */
static sl_kind_e free_username(sl_db_t *db, const char **out, const char *base,
                               sl_err_t *err, apr_pool_t *p)
{
    int n, found = 0;
    sl_kind_e k;

    for (n = 1; n < 1000; n++) {
        const char *name = n == 1 ? base : apr_psprintf(p, "%s%d", base, n);
        if ((k = exists(db, "siali_user_username_taken", name, &found, err, p)) != SL_OK) {
            return k;
        }
        if (!found) {
            *out = name;
            return SL_OK;
        }
    }
    return sl_err_set(err, SL_ECONFLICT, "username", "No free username left for this name.");
}

static sl_kind_e create_in_tx(sl_db_t *db, const char **uid, const sl_new_user_t *nu,
                              sl_err_t *err, apr_pool_t *p)
{
    const char *now = sl_i64(sl_now(), p), *username = NULL, *token, *args[5];
    sl_org_t *org;
    sl_rows_t res;
    int found = 0;
    sl_kind_e k;

    if ((k = exists(db, "siali_user_email_taken", nu->email, &found, err, p)) != SL_OK) {
        return k;
    }
    if (found) {
        return sl_err_set(err, SL_ECONFLICT, "email",
                          "A user with this email already exists.");
    }
    if (nu->username) {
        if ((k = exists(db, "siali_user_username_taken", nu->username, &found, err, p)) != SL_OK) {
            return k;
        }
        if (found) {
            return sl_err_set(err, SL_ECONFLICT, "username",
                              "A user with this username already exists.");
        }
        username = nu->username;
    }
    else if ((k = free_username(db, &username, sl_username_from_email(nu->email, p),
                                err, p)) != SL_OK) {
        return k;
    }
    token = nu->token;
    if (token) {
        const char *h = sl_secret_sha256_hex(token, p);
        sl_rows_t tres;
        /* siali_token_user finds by hash; a bootstrap token must be unique */
        if ((k = sl_db_select(db, p, "siali_token_user", &tres, 1, &h, err)) != SL_OK) {
            return k;
        }
        if (tres.rows->nelts) {
            return sl_err_set(err, SL_ECONFLICT, "token",
                              "Another account already uses this token.");
        }
    }
    else if (sl_secret_hex(&token, SL_TOKEN_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }

    if ((k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    args[0] = nu->email;
    args[1] = username;
    args[2] = nu->password_hash;
    args[3] = now;
    if ((k = sl_db_select(db, p, "siali_user_insert", &res, 4, args, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts != 1) {
        return sl_err_set(err, SL_EDB, NULL, "the new user has no id");
    }
    *uid = SL_ROW(&res, 0)[0];

    args[0] = *uid;
    args[1] = org->id;
    args[2] = now;
    if ((k = sl_db_exec(db, p, "siali_membership_insert", NULL, 3, args, err)) != SL_OK) {
        return k;
    }
    if ((k = count_add(db, org->id, 1, 1, err, p)) != SL_OK) {
        return k;
    }
    args[0] = *uid;
    args[1] = search_doc(nu->email, username, "", "", p);
    if ((k = sl_db_exec(db, p, "siali_user_search_insert", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    args[0] = *uid;
    args[1] = org->id;
    if ((k = sl_db_exec(db, p, "siali_org_set_owner", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    args[0] = *uid;
    args[1] = token;
    args[2] = sl_secret_sha256_hex(token, p);
    args[3] = now;
    return sl_db_exec(db, p, "siali_token_insert", NULL, 4, args, err);
}

sl_kind_e sl_account_create(sl_db_t *db, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p)
{
    const char *uid = NULL;
    sl_kind_e k;
    int attempt;

    /* Checks and inserts run in one write transaction (BEGIN IMMEDIATE on
     * SQLite: writers queue up, the checks see the truth). On PostgreSQL
     * two transactions can still race past the checks; the unique indexes
     * refuse the second, and the retry then reports the conflict. */
    for (attempt = 0; attempt < 3; attempt++) {
        if ((k = sl_db_begin(db, p, err)) != SL_OK) {
            return k;
        }
        k = sl_db_finish(db, create_in_tx(db, &uid, nu, err, p), err);
        if (k != SL_EDB) {
            break;
        }
    }
    if (k != SL_OK) {
        return k;
    }
    return sl_account_by_id(db, out, uid, err, p);
}

sl_kind_e sl_account_set_password(sl_db_t *db, const char *user_id,
                                  const char *phc, int end_sessions,
                                  sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { phc, user_id };
    int n = 0;
    sl_kind_e k;

    if ((k = sl_db_begin(db, p, err)) != SL_OK) {
        return k;
    }
    k = sl_db_exec(db, p, "siali_user_set_password", &n, 2, args, err);
    if (k == SL_OK && n == 0) {
        k = sl_err_set(err, SL_ENOTFOUND, NULL, "No such user.");
    }
    if (k == SL_OK && end_sessions) {
        k = sl_db_exec(db, p, "siali_session_delete_user", NULL, 1, &user_id, err);
    }
    k = sl_db_finish(db, k, err);
    return k;
}

sl_kind_e sl_account_upgrade_hash(sl_db_t *db, const char *user_id,
                                  const char *phc, sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { phc, user_id };

    return sl_db_exec(db, p, "siali_user_set_password", NULL, 2, args, err);
}

sl_kind_e sl_account_token(sl_db_t *db, const char **token, const char *user_id,
                           sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, "siali_token_by_user", &res, 1, &user_id, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "This user has no token.");
    }
    *token = SL_ROW(&res, 0)[0];
    return SL_OK;
}

sl_kind_e sl_account_touch(sl_db_t *db, sl_user_t *u, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    const char *args[3];
    sl_kind_e k;
    int n = 0;

    if (u->last_activity && apr_atoi64(u->last_activity) >= now - TOUCH_INTERVAL) {
        return SL_OK;
    }
    args[0] = sl_i64(now, p);
    args[1] = u->id;
    args[2] = sl_i64(now - TOUCH_INTERVAL, p);
    u->last_activity = args[0];
    /* the WHERE clause keeps it to one write a minute even when several
     * requests see the old value at once; counted by the tests */
    if ((k = sl_db_exec(db, p, "siali_user_touch", &n, 3, args, err)) == SL_OK && n > 0) {
        SL_LOG(SL_LOG_DEBUG, "SL00401: last_activity written for user %s", u->id);
    }
    return k;
}

json_t *sl_account_json(const sl_user_t *u, const char *avatar_base, apr_pool_t *p)
{
    json_t *j = json_object();

    json_object_set_new(j, "id", json_integer(apr_atoi64(u->id)));
    json_object_set_new(j, "first_name", json_string(u->first_name));
    json_object_set_new(j, "last_name", json_string(u->last_name));
    json_object_set_new(j, "username", json_string(u->username));
    json_object_set_new(j, "email", json_string(u->email));
    json_object_set_new(j, "last_activity",
                        sl_json_str_or_null(sl_iso_time(u->last_activity, p)));
    json_object_set_new(j, "avatar", u->avatar ? json_string(apr_pstrcat(
                            p, avatar_base ? avatar_base : SL_AVATAR_BASE, u->avatar, NULL))
                        : json_null());
    json_object_set_new(j, "initials",
                        json_string(sl_initials(u->first_name, u->last_name, u->email, p)));
    json_object_set_new(j, "phone", json_string(u->phone));
    json_object_set_new(j, "active_organization",
                        u->org_id ? json_integer(apr_atoi64(u->org_id)) : json_null());
    json_object_set_new(j, "date_joined",
                        sl_json_str_or_null(sl_iso_time(u->date_joined, p)));
    json_object_set_new(j, "is_active", json_boolean(u->is_active));
    return sl_json_pool(j, p);
}

static sl_kind_e guard_owner_self(sl_db_t *db, const char *target_id, const char *actor_id,
                                  const char *what, sl_err_t *err, apr_pool_t *p)
{
    sl_org_t *org;
    sl_kind_e k;

    if (!strcmp(target_id, actor_id)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL,
                          apr_psprintf(p, "You cannot %s yourself.", what));
    }
    if ((k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    if (org->owner_id && !strcmp(org->owner_id, target_id)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL,
                          apr_psprintf(p, "Nobody can %s the organization's owner.", what));
    }
    return SL_OK;
}

static sl_kind_e patch_in_tx(sl_db_t *db, sl_user_t *u, const char *actor_id,
                             const sl_user_patch_t *pa, sl_err_t *err, apr_pool_t *p)
{
    const char *args[5];
    sl_rows_t res;
    sl_kind_e k;

    if (pa->username && strcmp(pa->username, u->username)) {
        args[0] = pa->username;
        args[1] = u->id;
        if ((k = sl_db_select(db, p, "siali_user_username_taken_by_other", &res, 2, args,
                              err)) != SL_OK) {
            return k;
        }
        if (res.rows->nelts) {
            return sl_err_set(err, SL_ECONFLICT, "username",
                              "A user with this username already exists.");
        }
    }
    if (pa->is_active == 0 && u->is_active
        && (k = guard_owner_self(db, u->id, actor_id, "deactivate", err, p)) != SL_OK) {
        return k;
    }
    args[0] = pa->first_name ? pa->first_name : u->first_name;
    args[1] = pa->last_name ? pa->last_name : u->last_name;
    args[2] = pa->phone ? pa->phone : u->phone;
    args[3] = pa->username ? pa->username : u->username;
    args[4] = u->id;
    if ((k = sl_db_exec(db, p, "siali_user_set_names", NULL, 5, args, err)) != SL_OK) {
        return k;
    }
    args[0] = search_doc(u->email, args[3], args[0], args[1], p);
    args[1] = u->id;
    if ((k = sl_db_exec(db, p, "siali_user_search_update", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    if (pa->is_active >= 0 && pa->is_active != u->is_active && u->org_id
        && (k = count_add(db, u->org_id, 0, pa->is_active ? 1 : -1, err, p)) != SL_OK) {
        return k;
    }
    if (pa->is_active >= 0) {
        args[0] = pa->is_active ? "1" : "0";
        args[1] = u->id;
        if ((k = sl_db_exec(db, p, "siali_user_set_active", NULL, 2, args, err)) != SL_OK) {
            return k;
        }
        /* deactivated: every session ends now (the token is refused while
         * is_active is 0, and works again on reactivation) */
        if (!pa->is_active) {
            k = sl_db_exec(db, p, "siali_session_delete_user", NULL, 1, &u->id, err);
        }
    }
    return k;
}

sl_kind_e sl_account_patch(sl_db_t *db, sl_user_t **out, const char *target_id,
                           const char *actor_id, const sl_user_patch_t *patch,
                           sl_err_t *err, apr_pool_t *p)
{
    sl_user_t *u;
    sl_kind_e k;

    if ((k = sl_db_begin(db, p, err)) != SL_OK) {
        return k;
    }
    k = sl_account_by_id(db, &u, target_id, err, p);
    if (k == SL_OK) {
        k = patch_in_tx(db, u, actor_id, patch, err, p);
    }
    k = sl_db_finish(db, k, err);
    return k == SL_OK ? sl_account_by_id(db, out, target_id, err, p) : k;
}

sl_kind_e sl_account_delete(sl_db_t *db, const char *target_id, const char *actor_id,
                            sl_err_t *err, apr_pool_t *p)
{
    static const char *const steps[] = {
        "siali_session_delete_user", "siali_user_delete_tokens",
        "siali_user_delete_memberships", "siali_user_search_delete", "siali_user_delete",
        NULL
    };
    sl_user_t *u;
    sl_kind_e k;
    int i;

    if ((k = sl_db_begin(db, p, err)) != SL_OK) {
        return k;
    }
    k = sl_account_by_id(db, &u, target_id, err, p);
    if (k == SL_OK) {
        k = guard_owner_self(db, target_id, actor_id, "delete", err, p);
    }
    if (k == SL_OK && u->org_id) {
        k = count_add(db, u->org_id, -1, u->is_active ? -1 : 0, err, p);
    }
    for (i = 0; k == SL_OK && steps[i]; i++) {
        k = sl_db_exec(db, p, steps[i], NULL, 1, &target_id, err);
    }
    k = sl_db_finish(db, k, err);
    return k;
}

sl_kind_e sl_account_list(sl_db_t *db, json_t **out, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    json_t *list;
    sl_kind_e k;
    int i;

    if ((k = sl_db_select(db, p, "siali_user_list", &res, 0, NULL, err)) != SL_OK) {
        return k;
    }
    list = sl_json_pool(json_array(), p);
    for (i = 0; i < res.rows->nelts; i++) {
        json_array_append(list, sl_account_json(sl_account_from_row(SL_ROW(&res, i), 0, p),
                                                db->avatar_base, p));
    }
    *out = list;
    return SL_OK;
}
