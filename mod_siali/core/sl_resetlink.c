#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_resetlink.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_throttle.h"
#include "sl_validate.h"

#define NO_LINK "This link does not work (any more): it was used, it expired, or a newer " \
    "one was made. Ask for a new one."

/* a link's token has a session cookie's shape (SL_RESET_BYTES ==
 * SL_SESSION_BYTES, base64url): sl_session_cookie_ok tells whether it is one
 * we could have made; anything else is not looked up */
typedef char reset_token_is_cookie_sized[SL_RESET_BYTES == SL_SESSION_BYTES ? 1 : -1];

int sl_reset_may_make(int roles_on, int may_manage, int is_owner)
{
    /* with roles off every member is an administrator, but a link is the
     * account: the owner alone hands them out then */
    return roles_on ? may_manage : is_owner;
}

/* Inside a unit: a new link for u (active), replacing any older one, made
 * by actor_id ("0": nobody, a "Forgot password?" mail or the CLI). */
static sl_kind_e put_link(sl_db_t *db, const sl_user_t *u, const char *actor_id,
                          const sl_config_t *cfg, const char *detail, const char **token,
                          apr_int64_t *expires, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    const char *args[5];
    sl_kind_e k;

    if (sl_secret_b64url(token, SL_RESET_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "No randomness for a link.");
    }
    *expires = now + cfg->reset_link_life;
    args[0] = u->id;
    args[1] = sl_secret_sha256_hex(*token, p);
    args[2] = sl_i64(now, p);
    args[3] = sl_i64(*expires, p);
    args[4] = actor_id;
    if ((k = sl_db_exec(db, p, "siali_reset_put", NULL, 5, args, err)) != SL_OK) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_RESET_LINK_CREATED, actor_id, u->id, detail, err, p);
}

typedef struct {
    const char *user_id;
    const char *actor_id;
    const sl_config_t *cfg;
    const char **token;
    apr_int64_t *expires;
} create_t;

static sl_kind_e create_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    create_t *b = baton;
    sl_user_t *u;
    sl_org_t *org;
    sl_kind_e k;

    if ((k = sl_account_get(db, &u, b->user_id, err, p)) != SL_OK
        || (k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    /* a link is the account: the owner's only for the owner (or the shell);
     * with roles off only the owner makes any */
    if (b->actor_id && org->owner_id && !strcmp(org->owner_id, u->id)
        && strcmp(b->actor_id, u->id)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, "Only the owner can make a reset link "
                          "for the organization's owner.");
    }
    if (b->actor_id && !b->cfg->roles
        && !sl_reset_may_make(0, 1, org->owner_id && !strcmp(org->owner_id, b->actor_id))) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, "With SialiRoles Off only the "
                          "organization's owner can make reset links.");
    }
    /* an account that signs in through single sign-on only has no password
     * of its own, and a link must not give it one behind the provider */
    if (!sl_password_usable(u->password)) {
        return sl_err_set(err, SL_EINVALID, NULL, "This member signs in through single "
                          "sign-on only: there is no password to reset.");
    }
    if (!u->is_active) {
        return sl_err_set(err, SL_EINVALID, NULL, "The member is deactivated: reactivate "
                          "them first.");
    }
    return put_link(db, u, b->actor_id ? b->actor_id : "0", b->cfg, NULL, b->token,
                    b->expires, err, p);
}

sl_kind_e sl_reset_create(sl_conn_src_t *src, const char *user_id, const char *actor_id,
                          const sl_config_t *cfg, const char **token, apr_int64_t *expires,
                          sl_err_t *err, apr_pool_t *p)
{
    create_t b = { user_id, actor_id, cfg, token, expires };

    return sl_conn_run(src, SL_CONN_WRITE, create_unit, &b, err, p);
}

/* Inside a unit: the live link of token and its member. */
static sl_kind_e link_read(sl_db_t *db, const char *token, sl_user_t **user, sl_err_t *err,
                           apr_pool_t *p)
{
    const char *hash, *by;
    sl_rows_t res;
    sl_org_t *org;
    sl_kind_e k;

    if (!sl_session_cookie_ok(token)) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_LINK);
    }
    hash = sl_secret_sha256_hex(token, p);
    if ((k = sl_db_select(db, p, "siali_reset_get", &res, 1, &hash, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0 || apr_atoi64(SL_ROW(&res, 0)[1]) < sl_now()) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_LINK);
    }
    by = SL_ROW(&res, 0)[2];
    k = sl_account_get(db, user, SL_ROW(&res, 0)[0], err, p);
    if (k == SL_ENOTFOUND || (k == SL_OK && !(*user)->is_active)) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_LINK);
    }
    if (k != SL_OK || (k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    /* a member who became the owner since: only links the owner (or the
     * shell) made still work, as if it had been made now */
    if (org->owner_id && !strcmp(org->owner_id, (*user)->id) && strcmp(by, "0")
        && strcmp(by, (*user)->id)) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_LINK);
    }
    return SL_OK;
}

typedef struct {
    const char *token;
    sl_user_t **user;
    const char *phc;
} use_t;

static sl_kind_e find_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    use_t *b = baton;

    return link_read(db, b->token, b->user, err, p);
}

sl_kind_e sl_reset_find(sl_conn_src_t *src, const char *token, sl_user_t **user,
                        sl_err_t *err, apr_pool_t *p)
{
    use_t b = { token, user, NULL };

    return sl_conn_run(src, SL_CONN_READ, find_unit, &b, err, p);
}

static sl_kind_e use_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    static const char *const ends[] = { "siali_session_delete_user",
                                        "siali_pending_delete_user", NULL };
    use_t *b = baton;
    const char *hash, *args[2];
    int n = 0, i;
    sl_kind_e k;

    if ((k = link_read(db, b->token, b->user, err, p)) != SL_OK) {
        return k;
    }
    hash = sl_secret_sha256_hex(b->token, p);
    /* spent once: of two uses at once, the second finds nothing to take */
    if ((k = sl_db_exec(db, p, "siali_reset_take", &n, 1, &hash, err)) != SL_OK) {
        return k;
    }
    if (n != 1) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, NO_LINK);
    }
    args[0] = b->phc;
    args[1] = (*b->user)->id;
    if ((k = sl_db_exec(db, p, "siali_user_set_password", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    for (i = 0; ends[i]; i++) {
        if ((k = sl_db_exec(db, p, ends[i], NULL, 1, &args[1], err)) != SL_OK) {
            return k;
        }
    }
    if ((k = sl_audit_add(db, SL_EVENT_RESET_LINK_USED, (*b->user)->id, (*b->user)->id, NULL,
                          err, p)) != SL_OK) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_PASSWORD_RESET, (*b->user)->id, (*b->user)->id,
                        "{\"method\":\"reset_link\"}", err, p);
}

sl_kind_e sl_reset_use(sl_conn_src_t *src, const char *token, const char *password,
                       apr_size_t len, const sl_config_t *cfg, sl_user_t **user,
                       sl_err_t *err, apr_pool_t *p)
{
    use_t b = { token, user, NULL };
    sl_kind_e k;

    /* a dead link costs no hash */
    if ((k = sl_conn_run(src, SL_CONN_READ, find_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if ((k = sl_validate_password(password ? password : "", password ? len : 0,
                                  cfg->password_min, err, p)) != SL_OK) {
        return k;
    }
    if (sl_password_hash(&b.phc, password, len, &cfg->hash, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EBUSY, NULL, "The server is busy: try again in 5 seconds.");
    }
    return sl_conn_run(src, SL_CONN_WRITE, use_unit, &b, err, p);
}

typedef struct {
    const char *email;
    const char *address;
    const sl_config_t *cfg;
    sl_reset_mail_t *out;
    apr_int64_t *retry_after;
    int throttled;
} request_t;

static sl_kind_e request_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    request_t *b = baton;
    apr_int64_t wait = 0;
    sl_user_t *u;
    sl_kind_e k;

    k = sl_throttle_count(db, "reset_mail", sl_throttle_address(b->address, p),
                          SL_RESET_MAIL_PER_ADDRESS, SL_RESET_MAIL_WINDOW, b->retry_after,
                          err, p);
    if (k == SL_ETHROTTLED) {
        b->throttled = 1;
        return SL_OK;
    }
    if (k != SL_OK) {
        return k;
    }
    k = sl_account_find(db, &u, b->email, err, p);
    if (k == SL_ENOTFOUND) {
        return SL_OK;
    }
    if (k != SL_OK) {
        return k;
    }
    /* a deactivated member gets nothing; nor does an account that only ever
     * signs in through single sign-on (no password of its own to reset) */
    if (!u->is_active || !sl_password_usable(u->password)) {
        return SL_OK;
    }
    k = sl_throttle_count(db, "reset_mail_user", apr_pstrcat(p, "user:", u->id, NULL),
                          SL_RESET_MAIL_PER_ACCOUNT, SL_RESET_MAIL_WINDOW, &wait, err, p);
    if (k == SL_ETHROTTLED) {
        /* said to nobody: the page answers as always */
        SL_LOG(SL_LOG_NOTICE, "SL00902: no reset mail for user %s: %d were sent within "
               "the hour", u->id, SL_RESET_MAIL_PER_ACCOUNT);
        return SL_OK;
    }
    if (k != SL_OK
        || (k = put_link(db, u, "0", b->cfg, "{\"method\":\"email\"}", &b->out->token,
                         &b->out->expires, err, p)) != SL_OK) {
        return k;
    }
    b->out->to = u->email;
    b->out->user_id = u->id;
    return SL_OK;
}

sl_kind_e sl_reset_request(sl_conn_src_t *src, const char *email, const char *address,
                           const sl_config_t *cfg, sl_reset_mail_t *out,
                           apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    request_t b = { NULL, address, cfg, out, retry_after, 0 };
    sl_kind_e k;

    memset(out, 0, sizeof(*out));
    *retry_after = 0;
    if (!email || sl_validate_email(&b.email, email, strlen(email), err, p) != SL_OK) {
        return sl_err_set(err, SL_EINVALID, "email", "Enter the email of your account.");
    }
    if ((k = sl_conn_run(src, SL_CONN_WRITE_KEEP, request_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if (b.throttled) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, apr_psprintf(
            p, "Too many requests from this address. Try again in %" APR_INT64_T_FMT
            " seconds.", *retry_after));
    }
    return SL_OK;
}
