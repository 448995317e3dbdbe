#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_auth.h"
#include "sl_jwt.h"
#include "sl_authcache.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_sql.h"
#include "sl_throttle.h"
#include "sl_twofactor.h"
#include "sl_validate.h"

#define RESTRICTED "Signup is restricted: ask for an invitation link"
#define REQUIRED "This field is required."
/* the hashing slots were all taken for the whole wait (sl_password) */
#define HASH_BUSY "The server is busy: try again in 5 seconds."

static sl_kind_e hash_failed(apr_status_t rv, sl_err_t *err)
{
    if (rv == APR_TIMEUP) {
        return sl_err_set(err, SL_EBUSY, NULL, HASH_BUSY);
    }
    SL_LOG(SL_LOG_ERR, "SL00601: password hashing failed");
    return sl_err_set(err, SL_EINTERNAL, NULL, "password hashing failed");
}

/* ---- API tokens ---- */

const char *sl_auth_token_key(const char *authz, const char *xkey, int *present)
{
    const char *key = NULL;
    const unsigned char *c;

    *present = 0;
    if (authz) {
        /* "Token" (legacy keys, and what Label Studio's SDK sends for one) or
         * "Bearer" (access tokens, and legacy keys as SCIM clients send them) */
        apr_size_t n = !strncasecmp(authz, "Token", 5) ? 5
                       : !strncasecmp(authz, "Bearer", 6) ? 6 : 0;
        /* the scheme ends at a space or a tab, as httpd's own modules read
         * it (ap_getword_white); AuthType Siali strips the same headers */
        if (n && (authz[n] == ' ' || authz[n] == '\t' || !authz[n])) {
            *present = 1;
            key = authz + n;
            while (*key == ' ' || *key == '\t') {
                key++;
            }
        }
    }
    if (xkey) {
        if (*present) {
            return NULL;   /* two keys: refuse rather than guess */
        }
        *present = 1;
        key = xkey;
    }
    if (!*present || !*key || strlen(key) > SL_JWT_MAX_LEN) {
        return NULL;
    }
    for (c = (const unsigned char *)key; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f) {
            return NULL;
        }
    }
    return key;
}

typedef struct {
    sl_user_t **user;
    const char *key;
    const char *hash;
    sl_authcache_t *cache;
    sl_authcache_ticket_t gen;
} token_t;

#define TOKEN_COLS (2 + SL_UC_COUNT)
/* the organization's legacy_tokens_enabled, after the user's columns */
#define TOKEN_LEGACY (1 + SL_UC_COUNT)
#define LEGACY_OFF "Authentication token no longer valid: legacy token authentication has " \
    "been disabled for this organization"

static int legacy_off(const char *const *row)
{
    return row[TOKEN_LEGACY] && *row[TOKEN_LEGACY] && !strcmp(row[TOKEN_LEGACY], "0");
}

static sl_kind_e token_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    token_t *b = baton;
    const char **row;
    sl_user_t *u;
    sl_kind_e k;

    k = sl_db_select_one(db, p, "siali_token_user", &row, 1, &b->hash, "", err);
    if (k != SL_OK && k != SL_ENOTFOUND) {
        return k;
    }
    /* the index finds the row by the key's hash; the key itself is then
     * compared in constant time */
    if (k == SL_ENOTFOUND || !sl_secret_equal(row[0], b->key)) {
        return sl_err_set(err, SL_EDENIED, NULL, "Invalid token.");
    }
    u = sl_account_from_row(row, 1, p);
    if (!u->is_active) {
        return sl_err_set(err, SL_EDENIED, NULL, "Invalid token.");
    }
    if (legacy_off(row)) {
        return sl_err_set(err, SL_EDENIED, "legacy", LEGACY_OFF);
    }
    sl_account_touch(db, u, p);
    if (b->cache) {
        row[1 + SL_UC_ACTIVITY] = u->last_activity;
        sl_authcache_put(b->cache, b->gen, apr_pstrcat(p, "t:", b->hash, NULL), row,
                         TOKEN_COLS);
    }
    *b->user = u;
    return SL_OK;
}

sl_kind_e sl_auth_token(sl_conn_src_t *src, sl_user_t **user, const char *key,
                        sl_err_t *err, apr_pool_t *p)
{
    token_t b = { user, key, sl_secret_sha256_hex(key, p), src->authcache, { 0, 0 } };

    if (b.cache) {
        const char **row = sl_authcache_get(b.cache, apr_pstrcat(p, "t:", b.hash, NULL),
                                            TOKEN_COLS, p);
        if (row && sl_secret_equal(row[0], key) && !legacy_off(row)) {
            sl_user_t *u = sl_account_from_row(row, 1, p);
            if (u->is_active && !sl_account_touch_due(u)) {
                *user = u;
                return SL_OK;
            }
        }
        b.gen = sl_authcache_begin(b.cache);
    }
    return sl_conn_run(src, SL_CONN_READ, token_unit, &b, err, p);
}

/* ---- signup ---- */

typedef struct {
    const sl_signup_in_t *in;
    sl_signup_out_t *out;
    const sl_config_t *cfg;
    const char *email;          /* normalised */
    const char *phc;
    sl_org_t *org;
    int taken;
    int count_attempt;          /* the form is valid: the attempt counts */
    int throttled;
} signup_t;

static int invite_needed(const signup_t *b)
{
    /* a wrong token is refused even when signup is open */
    return b->cfg->signup_restricted || b->in->invite;
}

static sl_kind_e signup_check_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    signup_t *b = baton;
    sl_rows_t res;
    sl_kind_e k;

    if ((k = sl_org_get(db, &b->org, err, p)) != SL_OK) {
        return k;
    }
    b->throttled = 0;
    if (b->count_attempt) {
        /* an attempt that will hash: spent from this address's budget */
        k = sl_throttle_count(db, "signup", sl_throttle_address(b->in->address, p),
                              b->cfg->signup_max,
                              b->cfg->signup_window, &b->out->retry_after, err, p);
        if (k == SL_ETHROTTLED) {
            b->throttled = 1;
            return SL_OK;   /* committed: the attempt counts */
        }
        if (k != SL_OK) {
            return k;
        }
    }
    b->taken = 0;
    if (b->email) {
        if ((k = sl_db_select(db, p, "siali_user_email_taken", &res, 1, &b->email, err))
            != SL_OK) {
            return k;
        }
        b->taken = res.rows->nelts > 0;
    }
    return SL_OK;
}

static sl_kind_e signup_release_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    signup_t *b = baton;

    return sl_throttle_uncount(db, "signup", sl_throttle_address(b->in->address, p), err, p);
}

static sl_kind_e signup_create_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    signup_t *b = baton;
    sl_new_user_t nu;
    sl_org_t *org;
    sl_kind_e k;

    /* the invite again, under the organization's lock: a reset that
     * finished while this signup was hashing stops it here */
    if ((k = sl_org_lock(db, err, p)) != SL_OK || (k = sl_org_get(db, &org, err, p)) != SL_OK) {
        return k;
    }
    if (invite_needed(b) && !sl_org_invite_ok(org, b->in->invite)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, RESTRICTED);
    }
    memset(&nu, 0, sizeof(nu));
    nu.email = b->email;
    nu.password_hash = b->phc;
    nu.roles_on = b->cfg->roles;
    if ((k = sl_account_insert(db, &b->out->user, &nu, err, p)) != SL_OK
        || (k = sl_session_create(db, &b->out->cookie, b->out->user->id, b->cfg, err, p))
           != SL_OK
        || (k = sl_audit_add(db, SL_EVENT_SIGNUP, b->out->user->id, b->out->user->id,
                             NULL, err, p)) != SL_OK) {
        return k;
    }
    sl_account_touch(db, b->out->user, p);
    return SL_OK;
}

sl_kind_e sl_auth_signup(sl_conn_src_t *src, sl_signup_out_t *out, const sl_signup_in_t *in,
                         const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    signup_t b;
    sl_err_t e;
    apr_status_t rv;
    sl_kind_e k;

    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof(b));
    b.in = in;
    b.out = out;
    b.cfg = cfg;
    if (sl_validate_email(&b.email, in->email ? in->email : "",
                          in->email ? strlen(in->email) : 0, &e, p) != SL_OK) {
        out->email_error = e.message;
        b.email = NULL;
    }
    if (sl_validate_password(in->password ? in->password : "", in->password_len,
                             cfg->password_min, &e, p) != SL_OK) {
        out->password_error = e.message;
    }
    /* may this person sign up, is the email free, is this address within
     * its budget: before anything is hashed */
    b.count_attempt = !out->email_error && !out->password_error;
    if ((k = sl_conn_run(src, b.count_attempt ? SL_CONN_WRITE_KEEP : SL_CONN_READ,
                         signup_check_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if (b.throttled) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, apr_psprintf(
            p, "Too many signups from this address. Try again in %" APR_INT64_T_FMT
            " seconds.", out->retry_after));
    }
    if (b.taken) {
        out->email_error = "A user with this email already exists.";
    }
    if (invite_needed(&b) && !sl_org_invite_ok(b.org, in->invite)) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL, RESTRICTED);
    }
    if (out->email_error || out->password_error) {
        return sl_err_set(err, SL_EINVALID, out->email_error ? "email" : "password",
                          out->email_error ? out->email_error : out->password_error);
    }
    if ((rv = sl_password_hash(&b.phc, in->password, in->password_len, &cfg->hash, p))
        != APR_SUCCESS) {
        if (rv == APR_TIMEUP) {
            /* not an attempt after all: the address's budget is given back */
            sl_conn_run(src, SL_CONN_WRITE_KEEP, signup_release_unit, &b, NULL, p);
        }
        return hash_failed(rv, err);
    }
    k = sl_conn_run(src, SL_CONN_WRITE, signup_create_unit, &b, err, p);
    if (k == SL_ECONFLICT) {
        /* taken since the check (a signup that ran alongside) */
        if (!strcmp(err->field ? err->field : "", "username")) {
            out->email_error = "A user with this username already exists.";
        }
        else {
            out->email_error = err->message;
        }
        return sl_err_set(err, SL_EINVALID, "email", out->email_error);
    }
    return k;
}

/* ---- login ---- */

/* The throttle's name for what was typed as the login, normalised as the
 * lookup normalises it (sl_account_find): an email as sl_validate_email
 * makes it (trimmed of all white space, lower-cased), anything else trimmed
 * the same way and lower-cased; then its SHA-256 (bounded, and never a
 * UTF-8 sequence cut in half). Spellings that find one account therefore
 * share a counter, except the email and the username of one account, which
 * the caller typed differently (and the address counter covers both). */
static const char *login_subject(const char *login, apr_pool_t *p)
{
    const char *norm = NULL;
    char *s, *c, *e;

    if (strchr(login, '@')
        && sl_validate_email(&norm, login, strlen(login), NULL, p) == SL_OK) {
        return apr_pstrcat(p, "login:", sl_secret_sha256_hex(norm, p), NULL);
    }
    while (apr_isspace(*login)) {
        login++;
    }
    s = apr_pstrdup(p, login);
    for (e = s + strlen(s); e > s && apr_isspace(e[-1]); e--)
        ;
    *e = '\0';
    for (c = s; *c; c++) {
        *c = apr_tolower(*c);
    }
    return apr_pstrcat(p, "login:", sl_secret_sha256_hex(s, p), NULL);
}

typedef struct {
    const sl_login_in_t *in;
    sl_login_out_t *out;
    const sl_config_t *cfg;
    sl_user_t *user;            /* NULL: nobody has that login */
    sl_throttle_key_t key;
    int throttled;
    const char *upgrade;        /* a new hash at today's cost */
    int changed;                /* the password or the account changed meanwhile */
} login_t;

static sl_kind_e login_begin_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    login_t *b = baton;
    sl_kind_e k = sl_account_find(db, &b->user, b->in->login, err, p);

    if (k != SL_OK && k != SL_ENOTFOUND) {
        return k;
    }
    if (k == SL_ENOTFOUND) {
        b->user = NULL;
    }
    /* counted by what was typed, known account or not: a limit reached on
     * one spelling says nothing about which other spellings name the same
     * account, and the address is counted too */
    b->key.account = login_subject(b->in->login, p);
    b->key.address = sl_throttle_address(b->in->address, p);
    /* counted first, then compared, before any hashing: a throttled attempt
     * costs no CPU, and parallel ones cannot all slip past */
    k = sl_throttle_reserve(db, &b->key, b->cfg, &b->out->retry_after, err, p);
    b->throttled = k == SL_ETHROTTLED;
    return b->throttled ? SL_OK : k;
}

static sl_kind_e login_release_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    login_t *b = baton;

    return sl_throttle_release(db, &b->key, err, p);
}

static sl_kind_e login_finish_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    login_t *b = baton;
    const char *args[3];
    int n = 0, on = 0;
    sl_kind_e k;

    /* the password checked between the units is still the account's, and
     * the account still active and there: a password change, deactivation
     * or deletion that finished while this login hashed makes it fail, and
     * one that comes later waits for this transaction and then ends the
     * new session with the others */
    args[0] = b->upgrade ? b->upgrade : b->user->password;
    args[1] = b->user->id;
    args[2] = b->user->password;
    if ((k = sl_db_exec(db, p, "siali_user_password_if", &n, 3, args, err)) != SL_OK) {
        return k;
    }
    if (n != 1) {
        b->changed = 1;
        return sl_err_set(err, SL_EDENIED, NULL,
                          "The email and password you entered don't match.");
    }
    if ((k = sl_2fa_is_on(db, b->user->id, &on, err, p)) != SL_OK) {
        return k;
    }
    if (on || b->cfg->require_2fa) {
        /* the password was right, but the failures before it stay counted
         * until the second step is done: knowing the password must not
         * reset what guessing it cost */
        b->out->enrol = !on;
        if ((k = sl_throttle_release(db, &b->key, err, p)) != SL_OK) {
            return k;
        }
        return sl_2fa_pending_create(db, &b->out->pending, b->user->id,
                                     b->upgrade ? b->upgrade : b->user->password, !on,
                                     b->in->persist, b->key.account, err, p);
    }
    if ((k = sl_throttle_success(db, &b->key, err, p)) != SL_OK) {
        return k;
    }
    /* rotation: the session this browser had before ends here */
    if ((k = sl_session_end(db, b->in->old_cookie, err, p)) != SL_OK
        || (k = sl_session_create(db, &b->out->cookie, b->user->id, b->cfg, err, p))
           != SL_OK) {
        return k;
    }
    sl_account_touch(db, b->user, p);
    b->out->user = b->user;
    return sl_audit_add(db, SL_EVENT_LOGIN, b->user->id, b->user->id, NULL, err, p);
}

sl_kind_e sl_auth_login(sl_conn_src_t *src, sl_login_out_t *out, const sl_login_in_t *in,
                        const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    login_t b;
    sl_kind_e k;
    int ok;

    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof(b));
    b.in = in;
    b.out = out;
    b.cfg = cfg;
    if (!in->login || !*in->login) {
        out->login_error = REQUIRED;
    }
    if (!in->password || !*in->password) {
        out->password_error = REQUIRED;
    }
    if (out->login_error || out->password_error) {
        return sl_err_set(err, SL_EINVALID, out->login_error ? "email" : "password", REQUIRED);
    }
    if ((k = sl_conn_run(src, SL_CONN_WRITE_KEEP, login_begin_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if (b.throttled) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, apr_psprintf(
            p, "Too many failed logins. Try again in %" APR_INT64_T_FMT " seconds.",
            out->retry_after));
    }
    /* unknown and deactivated accounts cost one hash too, and get the same
     * answer as a wrong password */
    if (!b.user || !b.user->is_active || !sl_password_usable(b.user->password)) {
        ok = sl_password_verify(cfg->dummy_hash, in->password, in->password_len);
        ok = ok == SL_PASSWORD_BUSY ? ok : 0;
    }
    else {
        apr_time_t t0 = apr_time_now();
        ok = sl_password_verify(b.user->password, in->password, in->password_len);
        /* a hash of an older, cheaper cost answers sooner than the dummy of
         * an unknown account would: the difference is waited out (asleep,
         * holding nothing), so the time says nothing about who exists */
        if (ok != SL_PASSWORD_BUSY && cfg->verify_time > 0
            && sl_password_needs_upgrade(b.user->password, &cfg->hash)) {
            apr_interval_time_t took = apr_time_now() - t0;
            if (took < cfg->verify_time) {
                apr_sleep(cfg->verify_time - took);
            }
        }
    }
    if (ok == SL_PASSWORD_BUSY) {
        /* not a failed guess: the attempt is given back */
        sl_conn_run(src, SL_CONN_WRITE_KEEP, login_release_unit, &b, NULL, p);
        return sl_err_set(err, SL_EBUSY, NULL, HASH_BUSY);
    }
    if (!ok) {
        /* already counted by the reservation; the event names the account
         * only when there is one, never what was typed (a password typed
         * into the wrong field must not end up in the log) */
        sl_audit_record(src, SL_EVENT_LOGIN_FAILED, "0", b.user ? b.user->id : NULL, NULL,
                        NULL, p);
        return sl_err_set(err, SL_EDENIED, NULL,
                          "The email and password you entered don't match.");
    }
    /* an upgrade that finds no hashing slot waits for the next login */
    if (sl_password_needs_upgrade(b.user->password, &cfg->hash)
        && sl_password_hash(&b.upgrade, in->password, in->password_len, &cfg->hash, p)
           != APR_SUCCESS) {
        b.upgrade = NULL;
    }
    k = sl_conn_run(src, SL_CONN_WRITE, login_finish_unit, &b, err, p);
    if (k == SL_EDENIED && b.changed) {
        SL_LOG(SL_LOG_INFO, "SL00604: login of user %s refused: its password or account "
               "changed while it was checked", b.user->id);
    }
    if (k == SL_OK && b.upgrade) {
        SL_LOG(SL_LOG_INFO, "SL00603: upgraded the password hash of user %s", b.user->id);
    }
    return k;
}

/* ---- the password change ---- */

typedef struct {
    sl_throttle_key_t key;
    const sl_config_t *cfg;
    apr_int64_t *retry_after;
    int throttled;
    const char *user_id;
    const char *phc;
    const char *keep;           /* SHA-256 of the session that stays */
    const char *verified;       /* the hash the current password matched */
} change_t;

static sl_kind_e change_begin_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    sl_kind_e k = sl_throttle_reserve(db, &b->key, b->cfg, b->retry_after, err, p);

    b->throttled = k == SL_ETHROTTLED;
    return b->throttled ? SL_OK : k;
}

static sl_kind_e change_release_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;

    return sl_throttle_release(db, &b->key, err, p);
}

static sl_kind_e change_finish_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    const char *args[3] = { b->phc, b->user_id, b->verified };
    int n = 0;
    sl_kind_e k;

    /* only over the hash the current password was checked against: of two
     * changes that checked the same one, the second finds it replaced */
    if ((k = sl_db_exec(db, p, "siali_user_password_if", &n, 3, args, err)) != SL_OK) {
        return k;
    }
    if (n != 1) {
        return sl_err_set(err, SL_EINVALID, "current_password",
                          "The current password is wrong.");
    }
    /* every other session ends; the one making the change stays */
    args[0] = b->user_id;
    args[1] = b->keep;
    k = b->keep ? sl_db_exec(db, p, "siali_session_delete_others", NULL, 2, args, err)
                : sl_db_exec(db, p, "siali_session_delete_user", NULL, 1, args, err);
    /* and a reset link made before is void with the new password */
    if (k != SL_OK
        || (k = sl_db_exec(db, p, "siali_reset_delete_user", NULL, 1, args, err)) != SL_OK
        || (k = sl_audit_add(db, SL_EVENT_PASSWORD_CHANGED, b->user_id, b->user_id, NULL,
                             err, p)) != SL_OK) {
        return k;
    }
    return sl_throttle_success(db, &b->key, err, p);
}

sl_kind_e sl_auth_change_password(sl_conn_src_t *src, const sl_user_t *user,
                                  const char *current, const char *fresh,
                                  apr_size_t fresh_len, const char *keep_cookie,
                                  const char *address, const sl_config_t *cfg,
                                  apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    change_t b;
    apr_status_t rv;
    sl_kind_e k;

    memset(&b, 0, sizeof(b));
    *retry_after = 0;
    if (!current || !*current) {
        return sl_err_set(err, SL_EINVALID, "current_password", "Enter your current password.");
    }
    if ((k = sl_validate_password(fresh, fresh ? fresh_len : 0, cfg->password_min, err, p))
        != SL_OK) {
        err->field = "new_password";
        return k;
    }
    b.key.account = apr_pstrcat(p, "user:", user->id, NULL);
    b.key.address = sl_throttle_address(address, p);
    b.cfg = cfg;
    b.retry_after = retry_after;
    b.user_id = user->id;
    b.verified = user->password;
    b.keep = keep_cookie ? sl_secret_sha256_hex(keep_cookie, p) : NULL;
    if ((k = sl_conn_run(src, SL_CONN_WRITE_KEEP, change_begin_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if (b.throttled) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, "Too many failed attempts: try again later.");
    }
    switch (sl_password_verify(user->password, current, strlen(current))) {
    case SL_PASSWORD_BUSY:
        sl_conn_run(src, SL_CONN_WRITE_KEEP, change_release_unit, &b, NULL, p);
        return sl_err_set(err, SL_EBUSY, NULL, HASH_BUSY);
    case 0:
        /* counted by the reservation */
        return sl_err_set(err, SL_EINVALID, "current_password", "The current password is wrong.");
    }
    if ((rv = sl_password_hash(&b.phc, fresh, fresh_len, &cfg->hash, p)) != APR_SUCCESS) {
        return hash_failed(rv, err);
    }
    return sl_conn_run(src, SL_CONN_WRITE, change_finish_unit, &b, err, p);
}

typedef struct {
    const char *address;
    const sl_config_t *cfg;
    apr_int64_t *retry_after;
} failure_t;

static sl_kind_e failure_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    failure_t *b = baton;
    sl_kind_e k = sl_throttle_count(db, "auth", sl_throttle_address(b->address, p),
                                    b->cfg->auth_max,
                                    b->cfg->auth_window, b->retry_after, err, p);

    /* committed either way: the failure is counted */
    return k == SL_ETHROTTLED ? SL_OK : k;
}

sl_kind_e sl_auth_failure(sl_conn_src_t *src, const char *address, const sl_config_t *cfg,
                          apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    failure_t b = { address, cfg, retry_after };
    sl_kind_e k = sl_conn_run(src, SL_CONN_WRITE_KEEP, failure_unit, &b, err, p);

    if (k == SL_OK && *retry_after > 0) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, "Too many failed authentications from "
                          "this address: try again later.");
    }
    return k;
}
