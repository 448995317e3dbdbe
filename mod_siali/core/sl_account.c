#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_account.h"
#include "sl_audit.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_role.h"
#include "sl_secret.h"
#include "sl_sql.h"
#include "sl_validate.h"

#define TOUCH_INTERVAL 60   /* seconds between last_activity writes */
#define NO_USER "No such user."

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
    u->role = c[SL_UC_ROLE];
    return u;
}

static sl_kind_e one_user(sl_db_t *db, sl_user_t **out, const char *label,
                          const char *arg, sl_err_t *err, apr_pool_t *p)
{
    const char **row;
    sl_kind_e k = sl_db_select_one(db, p, label, &row, 1, &arg, NO_USER, err);

    if (k == SL_OK) {
        *out = sl_account_from_row(row, 0, p);
    }
    return k;
}

sl_kind_e sl_account_get(sl_db_t *db, sl_user_t **out, const char *id,
                         sl_err_t *err, apr_pool_t *p)
{
    return one_user(db, out, "siali_user_by_id", id, err, p);
}

sl_kind_e sl_account_find(sl_db_t *db, sl_user_t **out, const char *login,
                          sl_err_t *err, apr_pool_t *p)
{
    const char *email;

    if (!login || !*login || sl_utf8_count(login, strlen(login)) < 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_USER);
    }
    if (strchr(login, '@')) {
        if (sl_validate_email(&email, login, strlen(login), NULL, p) != SL_OK) {
            return sl_err_set(err, SL_ENOTFOUND, NULL, NO_USER);
        }
        return one_user(db, out, "siali_user_by_email", email, err, p);
    }
    return one_user(db, out, "siali_user_by_username", login, err, p);
}

typedef struct {
    sl_user_t **out;
    const char *key;     /* id or login */
    const sl_new_user_t *nu;
} lookup_t;

static sl_kind_e by_id_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    lookup_t *b = baton;

    return sl_account_get(db, b->out, b->key, err, p);
}

static sl_kind_e by_login_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    lookup_t *b = baton;

    return sl_account_find(db, b->out, b->key, err, p);
}

sl_kind_e sl_account_by_id(sl_conn_src_t *src, sl_user_t **out, const char *id,
                           sl_err_t *err, apr_pool_t *p)
{
    lookup_t b = { out, id, NULL };

    return sl_conn_run(src, SL_CONN_READ, by_id_unit, &b, err, p);
}

sl_kind_e sl_account_by_login(sl_conn_src_t *src, sl_user_t **out, const char *login,
                              sl_err_t *err, apr_pool_t *p)
{
    lookup_t b = { out, login, NULL };

    return sl_conn_run(src, SL_CONN_READ, by_login_unit, &b, err, p);
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

const char *sl_account_search_doc(const char *email, const char *username, const char *first,
                                  const char *last, apr_pool_t *p)
{
    const char *d = apr_pstrcat(p, email, " ", username, " ", first, " ", last, NULL);
    const char *folded = sl_text_fold(d, p);

    return folded ? folded : d;
}

static sl_kind_e count_add(sl_db_t *db, const char *org_id, int members, int active,
                           sl_err_t *err, apr_pool_t *p)
{
    const char *args[3] = { apr_itoa(p, members), apr_itoa(p, active), org_id };

    return sl_db_exec(db, p, "siali_org_count_add", NULL, 3, args, err);
}

static sl_kind_e exists(sl_db_t *db, const char *label, const char *arg, int *found,
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

/* A unique value that a concurrent transaction took after our check (only
 * PostgreSQL gets here: SQLite writers run one at a time): the unit runs
 * again and its checks then see the other row. */
static sl_kind_e raced(sl_err_t *err)
{
    return sl_err_set(err, SL_EBUSY, NULL, "a concurrent write took the same value");
}

sl_kind_e sl_account_insert(sl_db_t *db, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p)
{
    const char *now = sl_i64(sl_now(), p), *username = NULL, *token, *uid, *args[5];
    sl_org_t *org;
    sl_rows_t res;
    int found = 0, n = 0;
    sl_kind_e k;

    /* the organization row first: every write that changes the members
     * takes it in the same order, so two of them cannot deadlock */
    if ((k = sl_org_lock(db, err, p)) != SL_OK
        || (k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
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
        if ((k = exists(db, "siali_token_taken", h, &found, err, p)) != SL_OK) {
            return k;
        }
        if (found) {
            return sl_err_set(err, SL_ECONFLICT, "token",
                              "Another account already uses this token.");
        }
    }
    else if (sl_secret_hex(&token, SL_TOKEN_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }

    args[0] = nu->email;
    args[1] = username;
    args[2] = nu->password_hash;
    args[3] = now;
    if ((k = sl_db_select(db, p, "siali_user_insert", &res, 4, args, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts != 1) {
        return raced(err);
    }
    uid = SL_ROW(&res, 0)[0];

    args[0] = uid;
    args[1] = org->id;
    args[2] = now;
    if ((k = sl_db_exec(db, p, "siali_membership_insert", NULL, 3, args, err)) != SL_OK
        || (k = count_add(db, org->id, 1, 1, err, p)) != SL_OK) {
        return k;
    }
    args[0] = org->id;
    args[1] = uid;
    if ((k = sl_db_exec(db, p, "siali_user_set_org", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    args[0] = uid;
    args[1] = sl_account_search_doc(nu->email, username, "", "", p);
    if ((k = sl_db_exec(db, p, "siali_user_search_insert", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    args[0] = uid;
    args[1] = org->id;
    if ((k = sl_db_exec(db, p, "siali_org_set_owner", &n, 2, args, err)) != SL_OK) {
        return k;
    }
    /* the first account owns the organization; the others get the default
     * role while roles are on, AD while they are off (so that switching them
     * on takes nothing from anyone) */
    args[0] = n == 1 ? "OW" : nu->role ? nu->role : nu->roles_on && org->default_role
              ? org->default_role : "AD";
    args[1] = nu->role_source ? nu->role_source : "default";
    args[2] = uid;
    if ((k = sl_db_exec(db, p, "siali_user_set_role", NULL, 3, args, err)) != SL_OK) {
        return k;
    }
    n = 0;
    args[0] = uid;
    args[1] = token;
    args[2] = sl_secret_sha256_hex(token, p);
    args[3] = now;
    if ((k = sl_db_exec(db, p, "siali_token_insert", &n, 4, args, err)) != SL_OK) {
        return k;
    }
    if (n != 1) {
        return raced(err);
    }
    return sl_account_get(db, out, uid, err, p);
}

static sl_kind_e create_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    lookup_t *b = baton;

    return sl_account_insert(db, b->out, b->nu, err, p);
}

sl_kind_e sl_account_create(sl_conn_src_t *src, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p)
{
    lookup_t b = { out, NULL, nu };

    return sl_conn_run(src, SL_CONN_WRITE, create_unit, &b, err, p);
}

sl_kind_e sl_account_bootstrap(sl_conn_src_t *src, sl_user_t **out, int *created,
                               const char *login, const char *password,
                               const char *token, const sl_config_t *cfg,
                               sl_err_t *err, apr_pool_t *p)
{
    sl_new_user_t nu;
    sl_kind_e k;

    *created = 0;
    memset(&nu, 0, sizeof(nu));
    nu.roles_on = cfg->roles;
    if ((k = sl_account_named(&nu, login, err, p)) != SL_OK) {
        return k;
    }
    if (token && (k = sl_account_check_token(token, err)) != SL_OK) {
        return k;
    }
    if ((k = sl_validate_password(password, strlen(password), cfg->password_min, err, p))
        != SL_OK) {
        return k;
    }
    k = sl_account_by_login(src, out, login, err, p);
    if (k != SL_ENOTFOUND) {
        return k;   /* there already, or the database failed */
    }
    nu.token = token;
    /* hashed between units: no connection held */
    if (sl_password_hash(&nu.password_hash, password, strlen(password), &cfg->hash, p)
        != APR_SUCCESS) {
        return sl_err_set(err, SL_EBUSY, NULL, "cannot hash the password now");
    }
    k = sl_account_create(src, out, &nu, err, p);
    if (k == SL_ECONFLICT && !strcmp(err->field ? err->field : "", "email")) {
        /* another node created it since our lookup: it exists, unchanged */
        return sl_account_by_login(src, out, login, err, p);
    }
    *created = k == SL_OK;
    return k;
}

typedef struct {
    const char *user_id;
    const char *phc;
    const char *keep;
    const char **token;
    const char *name;
    const char **old;
} change_t;

static sl_kind_e password_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    const char *args[2] = { b->phc, b->user_id };
    int n = 0;
    sl_kind_e k;

    if ((k = sl_db_exec(db, p, "siali_user_set_password", &n, 2, args, err)) != SL_OK) {
        return k;
    }
    if (n == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_USER);
    }
    /* a reset link made before (in a mailbox, maybe) is void with the new
     * password */
    if ((k = sl_audit_add(db, SL_EVENT_PASSWORD_RESET, NULL, b->user_id, NULL, err, p))
        != SL_OK
        || (k = sl_db_exec(db, p, "siali_reset_delete_user", NULL, 1, &b->user_id, err))
           != SL_OK) {
        return k;
    }
    if (b->keep) {
        args[0] = b->user_id;
        args[1] = b->keep;
        return sl_db_exec(db, p, "siali_session_delete_others", NULL, 2, args, err);
    }
    return sl_db_exec(db, p, "siali_session_delete_user", NULL, 1, &b->user_id, err);
}

sl_kind_e sl_account_set_password(sl_conn_src_t *src, const char *user_id,
                                  const char *phc, const char *keep_session,
                                  sl_err_t *err, apr_pool_t *p)
{
    change_t b = { user_id, phc, keep_session, NULL, NULL, NULL };

    return sl_conn_run(src, SL_CONN_WRITE, password_unit, &b, err, p);
}

sl_kind_e sl_account_token(sl_conn_src_t *src, const char **token, const char *user_id,
                           sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_conn_select(src, "siali_token_by_user", &res, 1, &user_id, err, p);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "This user has no token.");
    }
    *token = SL_ROW(&res, 0)[0];
    return SL_OK;
}

static sl_kind_e reset_token_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    const char *token, *args[4];
    int n = 0;
    sl_kind_e k;

    if (sl_secret_hex(&token, SL_TOKEN_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }
    args[0] = token;
    args[1] = sl_secret_sha256_hex(token, p);
    args[2] = sl_i64(sl_now(), p);
    args[3] = b->user_id;
    if ((k = sl_db_exec(db, p, "siali_token_replace", &n, 4, args, err)) != SL_OK) {
        return k;
    }
    if (n == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_USER);
    }
    *b->token = token;
    return sl_audit_add(db, SL_EVENT_TOKEN_RESET, NULL, b->user_id, NULL, err, p);
}

sl_kind_e sl_account_reset_token(sl_conn_src_t *src, const char **token,
                                 const char *user_id, sl_err_t *err, apr_pool_t *p)
{
    change_t b = { user_id, NULL, NULL, token, NULL, NULL };

    return sl_conn_run(src, SL_CONN_WRITE, reset_token_unit, &b, err, p);
}

typedef struct {
    const char **name;
    const char *user_id;
    const char *data;
    apr_size_t len;
    const char *ext;
    const char *content_type;
    sl_avatar_t *out;
    const char *want;
    int want_data;
} avatar_t;

static const char *sha256_hex_of(const char *data, apr_size_t len, apr_pool_t *p)
{
    return sl_secret_sha256_hex_mem(data, len, p);
}

sl_kind_e sl_account_import_avatar(sl_db_t *db, const char *user_id, const char *name,
                                   const char *data, apr_size_t len,
                                   const char *content_type, sl_err_t *err, apr_pool_t *p)
{
    char *b64 = apr_palloc(p, apr_base64_encode_len((int)len));
    const char *args[6];

    apr_base64_encode(b64, data, (int)len);
    args[0] = name;
    args[1] = user_id;
    args[2] = content_type;
    args[3] = sha256_hex_of(data, len, p);
    args[4] = b64;
    args[5] = sl_i64(sl_now(), p);
    return sl_db_exec(db, p, "siali_avatar_insert", NULL, 6, args, err);
}

static sl_kind_e set_avatar_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    avatar_t *b = baton;
    const char *args[2], *hex, *name = NULL;
    sl_user_t *u;
    sl_kind_e k;

    /* under the row's lock: overlapping uploads of one user queue here, and
     * each leaves exactly its own picture */
    if ((k = sl_db_exec(db, p, "siali_user_lock", NULL, 1, &b->user_id, err)) != SL_OK
        || (k = sl_account_get(db, &u, b->user_id, err, p)) != SL_OK) {
        return k;
    }
    if (b->data) {
        /* a new name for every picture: a URL serves one picture for good
         * (cached long), and the name tells nothing of the bytes */
        if (sl_secret_hex(&hex, 16, p) != APR_SUCCESS) {
            return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
        }
        name = apr_psprintf(p, "%s-%s.%s", b->user_id, hex, b->ext);
        if ((k = sl_account_import_avatar(db, b->user_id, name, b->data, b->len,
                                          b->content_type, err, p)) != SL_OK) {
            return k;
        }
    }
    args[0] = name;
    args[1] = b->user_id;
    if ((k = sl_db_exec(db, p, "siali_user_set_avatar", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    args[0] = b->user_id;
    args[1] = name ? name : "";
    if ((k = sl_db_exec(db, p, "siali_avatar_delete_others", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    *b->name = name;
    return SL_OK;
}

sl_kind_e sl_account_set_avatar(sl_conn_src_t *src, const char **name, const char *user_id,
                                const char *data, apr_size_t len, const char *ext,
                                const char *content_type, sl_err_t *err, apr_pool_t *p)
{
    avatar_t b;

    memset(&b, 0, sizeof(b));
    b.name = name;
    b.user_id = user_id;
    b.data = data;
    b.len = len;
    b.ext = ext;
    b.content_type = content_type;
    *name = NULL;
    return sl_conn_run(src, SL_CONN_WRITE, set_avatar_unit, &b, err, p);
}

static sl_kind_e get_avatar_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    avatar_t *b = baton;
    const char **row;
    sl_kind_e k = sl_db_select_one(db, p, b->want_data ? "siali_avatar_get"
                                                       : "siali_avatar_meta",
                                   &row, 1, &b->want, "No such avatar.", err);

    if (k != SL_OK) {
        return k;
    }
    b->out->name = b->want;
    b->out->content_type = row[0];
    b->out->sha256 = row[1];
    if (b->want_data) {
        char *bytes = apr_palloc(p, apr_base64_decode_len(row[2]));
        b->out->len = (apr_size_t)apr_base64_decode(bytes, row[2]);
        b->out->data = bytes;
    }
    return SL_OK;
}

sl_kind_e sl_account_avatar(sl_conn_src_t *src, sl_avatar_t *out, const char *name,
                            int want_data, sl_err_t *err, apr_pool_t *p)
{
    avatar_t b;

    memset(&b, 0, sizeof(b));
    memset(out, 0, sizeof(*out));
    b.out = out;
    b.want = name;
    b.want_data = want_data;
    return sl_conn_run(src, SL_CONN_READ, get_avatar_unit, &b, err, p);
}

sl_kind_e sl_account_avatars_missing(sl_db_t *db, apr_array_header_t **names,
                                     sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, "siali_user_avatars_missing", &res, 0, NULL, err);
    int i;

    if (k != SL_OK) {
        return k;
    }
    *names = apr_array_make(p, res.rows->nelts + 1, sizeof(const char *));
    for (i = 0; i < res.rows->nelts; i++) {
        APR_ARRAY_PUSH(*names, const char *) = SL_ROW(&res, i)[0];
    }
    return SL_OK;
}

int sl_account_touch_due(const sl_user_t *u)
{
    return !u->last_activity || apr_atoi64(u->last_activity) < sl_now() - TOUCH_INTERVAL;
}

void sl_account_touch(sl_db_t *db, sl_user_t *u, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    const char *args[3];
    int n = 0;

    if (u->last_activity && apr_atoi64(u->last_activity) >= now - TOUCH_INTERVAL) {
        return;
    }
    if (!sl_conn_may_write(db)) {
        return;   /* a writer is busy: the next request writes it */
    }
    args[0] = sl_i64(now, p);
    args[1] = u->id;
    args[2] = sl_i64(now - TOUCH_INTERVAL, p);
    /* the WHERE clause keeps it to one write a minute even when several
     * requests see the old value at once; counted by the tests. u changes
     * only once it is written: a unit run again writes it again */
    if (sl_db_exec(db, p, "siali_user_touch", &n, 3, args, NULL) == SL_OK) {
        u->last_activity = args[0];
        if (n > 0) {
            SL_LOG(SL_LOG_DEBUG, "SL00401: last_activity written for user %s", u->id);
        }
    }
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

/* Refuses acting on oneself or on the organization's owner. */
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

typedef struct {
    sl_user_t **out;
    const char *target_id;
    const char *actor_id;
    const sl_user_patch_t *pa;
    const char **avatar;
} manage_t;

/* The role a member acts with, the owner's being OW whatever is stored. */
static sl_role_e acting_role(const sl_org_t *org, const sl_user_t *u)
{
    if (u->is_active && org->owner_id && !strcmp(org->owner_id, u->id)) {
        return SL_ROLE_OW;
    }
    return sl_role_effective(u->role, u->is_active);
}

/* Inside patch_unit, after the checks: a role given (pa->role), as what it
 * changes: *is_active for DI and for a deactivated member given a role, the
 * stored role otherwise, and the owner for OW. */
static sl_kind_e apply_role(sl_db_t *db, const sl_org_t *org, const sl_user_t *u,
                            const char *actor_id, const sl_user_patch_t *pa,
                            int *is_active, sl_err_t *err, apr_pool_t *p)
{
    sl_user_t *actor;
    sl_role_e to;
    const char *args[3];
    sl_kind_e k;

    if (!sl_role_parse(pa->role, &to)) {
        to = SL_ROLE_COUNT;     /* refused below, with the list of codes */
    }
    if ((k = sl_account_get(db, &actor, actor_id, err, p)) != SL_OK
        || (k = sl_role_change_check(pa->roles_on, acting_role(org, actor),
                                     !strcmp(actor_id, u->id), acting_role(org, u), to,
                                     err, p)) != SL_OK) {
        return k;
    }
    if (to == SL_ROLE_DI) {
        *is_active = 0;
        return SL_OK;
    }
    if (to == SL_ROLE_OW && !u->is_active) {
        return sl_err_set(err, SL_EINVALID, "role", "Reactivate the member before making "
                          "them the owner.");
    }
    *is_active = 1;
    if (to == SL_ROLE_OW) {
        args[0] = u->id;
        args[1] = org->id;
        args[2] = NULL;
        if ((k = sl_db_exec(db, p, "siali_org_transfer", NULL, 2, args, err)) != SL_OK) {
            return k;
        }
        args[0] = "AD";
        args[1] = "manual";
        args[2] = org->owner_id;
        if (org->owner_id
            && ((k = sl_db_exec(db, p, "siali_user_set_role", NULL, 3, args, err)) != SL_OK
                || (k = sl_audit_add(db, SL_EVENT_ROLE_CHANGED, NULL, org->owner_id,
                                     "{\"from\":\"OW\",\"to\":\"AD\",\"transfer\":true}",
                                     err, p)) != SL_OK)) {
            return k;
        }
    }
    args[0] = sl_role_code(to);
    args[1] = "manual";
    args[2] = u->id;
    return sl_db_exec(db, p, "siali_user_set_role", NULL, 3, args, err);
}

/* role_changed, when the role asked for is not the one the member had
 * (DI is deactivation: member_deactivated says it) */
static sl_kind_e audit_role(sl_db_t *db, const sl_user_t *u, const sl_user_patch_t *pa,
                            sl_err_t *err, apr_pool_t *p)
{
    if (!strcmp(pa->role, "DI") || !strcmp(pa->role, u->role ? u->role : "")) {
        return SL_OK;
    }
    return sl_audit_add(db, SL_EVENT_ROLE_CHANGED, NULL, u->id, sl_json_dump(sl_json_pool(
        json_pack("{s:s, s:s}", "from", u->role ? u->role : "", "to", pa->role), p), p),
        err, p);
}

static sl_kind_e patch_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    manage_t *b = baton;
    sl_user_patch_t patch = *b->pa, *pa = &patch;
    const char *args[5];
    sl_user_t *u;
    sl_org_t *org;
    sl_rows_t res;
    sl_kind_e k;

    if ((k = sl_org_lock(db, err, p)) != SL_OK
        || (k = sl_org_get(db, &org, err, p)) != SL_OK
        || (k = sl_account_get(db, &u, b->target_id, err, p)) != SL_OK) {
        return k;
    }
    if (pa->role && (k = apply_role(db, org, u, b->actor_id, b->pa, &pa->is_active, err, p))
        != SL_OK) {
        return k;
    }
    /* with roles, the owner is nobody's to manage: their profile too */
    if (pa->roles_on && !pa->role && org->owner_id && !strcmp(org->owner_id, u->id)
        && strcmp(b->actor_id, u->id)
        && (pa->first_name || pa->last_name || pa->phone || pa->username)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, "Only the owner changes the owner's "
                          "profile.");
    }
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
        && (k = guard_owner_self(db, u->id, b->actor_id, "deactivate", err, p)) != SL_OK) {
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
    args[0] = sl_account_search_doc(u->email, args[3], args[0], args[1], p);
    args[1] = u->id;
    if ((k = sl_db_exec(db, p, "siali_user_search_update", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    if (pa->is_active >= 0 && pa->is_active != u->is_active && u->org_id
        && (k = count_add(db, u->org_id, 0, pa->is_active ? 1 : -1, err, p)) != SL_OK) {
        return k;
    }
    if (pa->role && (k = audit_role(db, u, pa, err, p)) != SL_OK) {
        return k;
    }
    if (pa->is_active >= 0 && pa->is_active != u->is_active
        && (k = sl_audit_add(db, pa->is_active ? SL_EVENT_MEMBER_REACTIVATED
                                               : SL_EVENT_MEMBER_DEACTIVATED,
                             b->actor_id, u->id, NULL, err, p)) != SL_OK) {
        return k;
    }
    if (pa->is_active >= 0) {
        args[0] = pa->is_active ? "1" : "0";
        args[1] = u->id;
        if ((k = sl_db_exec(db, p, "siali_user_set_active", NULL, 2, args, err)) != SL_OK) {
            return k;
        }
        /* deactivated: every session ends now (the token is refused while
         * is_active is 0, and works again on reactivation), and so do a
         * login halfway through its second step and a reset link (neither
         * comes back with a reactivation) */
        if (!pa->is_active
            && ((k = sl_db_exec(db, p, "siali_session_delete_user", NULL, 1, &u->id, err))
                != SL_OK
                || (k = sl_db_exec(db, p, "siali_pending_delete_user", NULL, 1, &u->id, err))
                   != SL_OK
                || (k = sl_db_exec(db, p, "siali_reset_delete_user", NULL, 1, &u->id, err))
                   != SL_OK)) {
            return k;
        }
    }
    return sl_account_get(db, b->out, b->target_id, err, p);
}

sl_kind_e sl_account_patch(sl_conn_src_t *src, sl_user_t **out, const char *target_id,
                           const char *actor_id, const sl_user_patch_t *patch,
                           sl_err_t *err, apr_pool_t *p)
{
    manage_t b = { out, target_id, actor_id, patch, NULL };

    return sl_conn_run(src, SL_CONN_WRITE, patch_unit, &b, err, p);
}

static sl_kind_e delete_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    static const char *const steps[] = {
        "siali_session_delete_user", "siali_user_delete_tokens",
        "siali_user_delete_memberships", "siali_user_search_delete",
        "siali_avatar_delete_user", "siali_2fa_delete", "siali_recovery_delete",
        "siali_pending_delete_user", "siali_reset_delete_user", "siali_user_delete", NULL
    };
    manage_t *b = baton;
    sl_user_t *u;
    sl_org_t *org;
    sl_kind_e k;
    int i;

    if ((k = sl_org_lock(db, err, p)) != SL_OK
        || (k = sl_org_get(db, &org, err, p)) != SL_OK
        || (k = sl_account_get(db, &u, b->target_id, err, p)) != SL_OK
        || (k = guard_owner_self(db, b->target_id, b->actor_id, "delete", err, p)) != SL_OK) {
        return k;
    }
    if (u->org_id && (k = count_add(db, u->org_id, -1, u->is_active ? -1 : 0, err, p))
        != SL_OK) {
        return k;
    }
    /* before the row goes: the event copies the email */
    if ((k = sl_audit_add(db, SL_EVENT_MEMBER_DELETED, b->actor_id, u->id, NULL, err, p))
        != SL_OK) {
        return k;
    }
    for (i = 0; steps[i]; i++) {
        if ((k = sl_db_exec(db, p, steps[i], NULL, 1, &b->target_id, err)) != SL_OK) {
            return k;
        }
    }
    return SL_OK;
}

sl_kind_e sl_account_delete(sl_conn_src_t *src, const char *target_id, const char *actor_id,
                            sl_err_t *err, apr_pool_t *p)
{
    manage_t b = { NULL, target_id, actor_id, NULL, NULL };

    return sl_conn_run(src, SL_CONN_WRITE, delete_unit, &b, err, p);
}

sl_kind_e sl_account_list(sl_conn_src_t *src, json_t **out, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    json_t *list;
    sl_kind_e k;
    int i;

    if ((k = sl_conn_select(src, "siali_user_list", &res, 0, NULL, err, p)) != SL_OK) {
        return k;
    }
    list = sl_json_pool(json_array(), p);
    for (i = 0; i < res.rows->nelts; i++) {
        json_array_append(list, sl_account_json(sl_account_from_row(SL_ROW(&res, i), 0, p),
                                                src->avatar_base, p));
    }
    *out = list;
    return SL_OK;
}

sl_kind_e sl_account_patch_read(sl_user_patch_t *pa, json_t *body, sl_err_t *err,
                                apr_pool_t *p)
{
    static const char *const read_only[] = {
        "id", "email", "date_joined", "last_activity", "avatar", "initials",
        "active_organization", NULL
    };
    const char *key, *s;
    json_t *v;
    sl_kind_e k;
    int i;

    memset(pa, 0, sizeof(*pa));
    pa->is_active = -1;
    json_object_foreach(body, key, v) {
        for (i = 0; read_only[i]; i++) {
            if (!strcmp(key, read_only[i])) {
                k = sl_err_set(err, SL_EINVALID, key,
                               apr_psprintf(p, "%s is read-only.", key));
                if (err) {
                    err->hint = "This field is read-only.";
                }
                return k;
            }
        }
        if (!strcmp(key, "is_active")) {
            if (!json_is_boolean(v)) {
                return sl_err_set(err, SL_EINVALID, key, "is_active must be true or false.");
            }
            pa->is_active = json_is_true(v);
            continue;
        }
        if (strcmp(key, "first_name") && strcmp(key, "last_name") && strcmp(key, "phone")
            && strcmp(key, "username")) {
            k = sl_err_set(err, SL_EINVALID, key, apr_psprintf(p, "Unknown field %s.", key));
            if (err) {
                err->hint = "Unknown field.";
            }
            return k;
        }
        if (!json_is_string(v)) {
            return sl_err_set(err, SL_EINVALID, key,
                              apr_psprintf(p, "%s must be a string.", key));
        }
        s = json_string_value(v);
        if (!strcmp(key, "username")) {
            if ((k = sl_validate_username(s, json_string_length(v), err)) != SL_OK) {
                if (err) {
                    err->field = key;
                }
                return k;
            }
            pa->username = s;
            continue;
        }
        if ((k = sl_validate_name(key, s, json_string_length(v), err)) != SL_OK) {
            if (err) {
                err->field = key;
            }
            return k;
        }
        if (!strcmp(key, "first_name")) {
            pa->first_name = s;
        }
        else if (!strcmp(key, "last_name")) {
            pa->last_name = s;
        }
        else {
            pa->phone = s;
        }
    }
    return SL_OK;
}
