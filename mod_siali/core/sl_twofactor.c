#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_log.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_throttle.h"
#include "sl_totp.h"
#include "sl_twofactor.h"

#define WRONG_CODE "That code is not right. Enter the current code from your app, " \
    "or one of your recovery codes."
#define USED_CODE "That code was used already. Wait for the next one."
#define ENROL_WRONG "That code is not right. Check the time on your phone, and enter the " \
    "code your app shows now."

/* ---- codes ---- */

typedef enum { CODE_LOGIN, CODE_ENROL, CODE_DISABLE } code_use_e;

typedef enum { CODE_OK, CODE_WRONG, CODE_REPLAY } code_result_e;

typedef struct {
    const char *secret;         /* base32; NULL: none */
    int confirmed;
    apr_int64_t last_step;
} totp_row_t;

static sl_kind_e totp_row(sl_db_t *db, const char *user_id, totp_row_t *t, sl_err_t *err,
                          apr_pool_t *p)
{
    sl_rows_t res;
    sl_kind_e k = sl_db_select(db, p, "siali_2fa_get", &res, 1, &user_id, err);

    memset(t, 0, sizeof(*t));
    if (k == SL_OK && res.rows->nelts) {
        t->secret = SL_ROW(&res, 0)[0];
        t->confirmed = atoi(SL_ROW(&res, 0)[1]) == 1;
        t->last_step = apr_atoi64(SL_ROW(&res, 0)[2]);
    }
    return k;
}

/* What was typed, without white space: 6 digits are an app's code,
 * anything else is tried as a recovery code. */
static const char *squeeze(const char *typed, int *is_totp, apr_pool_t *p)
{
    char *s = apr_palloc(p, strlen(typed) + 1), *o = s;
    int digits = 0;

    for (; *typed; typed++) {
        if (!apr_isspace(*typed)) {
            digits += apr_isdigit(*typed) != 0;
            *o++ = *typed;
        }
    }
    *o = '\0';
    *is_totp = o - s == SL_TOTP_DIGITS && digits == SL_TOTP_DIGITS;
    return s;
}

/* Inside a write unit: whether code is good for use, and then spent (the
 * step marked, or the recovery code used), so that a second request with
 * the same code finds it spent even when both checked it at once. */
static sl_kind_e spend_code(sl_db_t *db, const char *user_id, const totp_row_t *t,
                            const char *typed, code_use_e use, code_result_e *res,
                            int *recovery, sl_err_t *err, apr_pool_t *p)
{
    const char *raw, *code, *args[4];
    apr_size_t len;
    apr_int64_t step = 0;
    int is_totp, n = 0;
    sl_kind_e k;

    *res = CODE_WRONG;
    *recovery = 0;
    if (!typed || !t->secret || (use == CODE_ENROL) == t->confirmed) {
        return SL_OK;
    }
    code = squeeze(typed, &is_totp, p);
    if (!is_totp) {
        if (use == CODE_ENROL || !*code) {
            return SL_OK;       /* enrolment proves the app, not a code list */
        }
        args[0] = sl_i64(sl_now(), p);
        args[1] = user_id;
        args[2] = sl_totp_recovery_hash(code, p);
        if ((k = sl_db_exec(db, p, "siali_recovery_use", &n, 3, args, err)) != SL_OK) {
            return k;
        }
        *res = n == 1 ? CODE_OK : CODE_WRONG;
        *recovery = n == 1;
        return SL_OK;
    }
    if (!sl_totp_decode(&raw, &len, t->secret, p)) {
        SL_LOG(SL_LOG_ERR, "SL00901: the two-factor secret of user %s is not base32", user_id);
        return SL_OK;
    }
    /* last_step -1: a code of any step in the window may confirm; after
     * that a step is accepted once */
    if (!sl_totp_check(raw, len, code, sl_now(), t->confirmed ? t->last_step : -1, &step)) {
        /* the right code of a step already used: a replay, said as such */
        *res = t->confirmed && sl_totp_check(raw, len, code, sl_now(), -1, &step)
               ? CODE_REPLAY : CODE_WRONG;
        return SL_OK;
    }
    args[0] = sl_i64(step, p);
    args[1] = user_id;
    args[2] = t->secret;
    args[3] = args[0];
    k = sl_db_exec(db, p, use == CODE_ENROL ? "siali_2fa_confirm" : "siali_2fa_step", &n,
                   use == CODE_ENROL ? 3 : 4, args, err);
    if (k == SL_OK) {
        *res = n == 1 ? CODE_OK : CODE_REPLAY;
    }
    return k;
}

static sl_kind_e new_recovery_codes(sl_db_t *db, const char *user_id,
                                    apr_array_header_t **codes, sl_err_t *err,
                                    apr_pool_t *p)
{
    apr_array_header_t *hashes;
    const char *args[2];
    sl_kind_e k;
    int i;

    if (sl_totp_recovery_codes(codes, &hashes, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "No randomness for recovery codes.");
    }
    if ((k = sl_db_exec(db, p, "siali_recovery_delete", NULL, 1, &user_id, err)) != SL_OK) {
        return k;
    }
    args[0] = user_id;
    for (i = 0; i < hashes->nelts; i++) {
        args[1] = APR_ARRAY_IDX(hashes, i, const char *);
        if ((k = sl_db_exec(db, p, "siali_recovery_insert", NULL, 2, args, err)) != SL_OK) {
            return k;
        }
    }
    return SL_OK;
}

static void code_key(sl_throttle_key_t *key, const char *user_id, const char *address,
                     apr_pool_t *p)
{
    key->account = apr_pstrcat(p, "totp:", user_id, NULL);
    key->address = sl_throttle_address(address, p);
    key->account_max = SL_2FA_MAX_FAILS;
}

static sl_kind_e throttled(apr_int64_t retry_after, sl_err_t *err, apr_pool_t *p)
{
    return sl_err_set(err, SL_ETHROTTLED, NULL, apr_psprintf(
        p, "Too many wrong codes. Try again in %" APR_INT64_T_FMT " seconds.", retry_after));
}

/* ---- status and enrolment ---- */

typedef struct {
    const char *user_id;
    sl_2fa_status_t *status;
} status_t;

static sl_kind_e status_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    status_t *b = baton;
    totp_row_t t;
    const char **row;
    sl_kind_e k;

    memset(b->status, 0, sizeof(*b->status));
    if ((k = totp_row(db, b->user_id, &t, err, p)) != SL_OK) {
        return k;
    }
    b->status->enabled = t.confirmed;
    if (t.confirmed) {
        if ((k = sl_db_select_one(db, p, "siali_recovery_left", &row, 1, &b->user_id, NULL,
                                  err)) != SL_OK) {
            return k;
        }
        b->status->recovery_left = atoi(row[0]);
    }
    return SL_OK;
}

sl_kind_e sl_2fa_status(sl_conn_src_t *src, const char *user_id, sl_2fa_status_t *out,
                        sl_err_t *err, apr_pool_t *p)
{
    status_t b = { user_id, out };

    return sl_conn_run(src, SL_CONN_READ, status_unit, &b, err, p);
}

sl_kind_e sl_2fa_is_on(sl_db_t *db, const char *user_id, int *on, sl_err_t *err,
                       apr_pool_t *p)
{
    totp_row_t t;
    sl_kind_e k = totp_row(db, user_id, &t, err, p);

    *on = k == SL_OK && t.confirmed;
    return k;
}

typedef struct {
    const sl_user_t *user;
    int reuse;
    const char *secret;
} setup_t;

static sl_kind_e setup_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    setup_t *b = baton;
    totp_row_t t;
    const char *raw, *args[3];
    int n = 0;
    sl_kind_e k;

    if ((k = totp_row(db, b->user->id, &t, err, p)) != SL_OK) {
        return k;
    }
    if (t.confirmed) {
        return sl_err_set(err, SL_ECONFLICT, NULL, "Two-factor login is on already.");
    }
    if (b->reuse && t.secret) {
        b->secret = t.secret;
        return SL_OK;
    }
    if (sl_totp_new_secret(&raw, &b->secret, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "No randomness for a secret.");
    }
    args[0] = b->user->id;
    args[1] = b->secret;
    args[2] = sl_i64(sl_now(), p);
    if ((k = sl_db_exec(db, p, "siali_2fa_put", &n, 3, args, err)) != SL_OK) {
        return k;
    }
    /* turned on meanwhile, by the same member elsewhere */
    return n == 1 ? SL_OK
                  : sl_err_set(err, SL_ECONFLICT, NULL, "Two-factor login is on already.");
}

sl_kind_e sl_2fa_setup(sl_conn_src_t *src, const sl_user_t *user, int reuse,
                       sl_2fa_setup_t *out, sl_err_t *err, apr_pool_t *p)
{
    setup_t b = { user, reuse, NULL };
    /* a key that waits changes nobody's identity: the caches stay */
    sl_kind_e k = sl_conn_run(src, SL_CONN_WRITE_KEEP, setup_unit, &b, err, p);

    if (k != SL_OK) {
        return k;
    }
    out->secret = b.secret;
    out->uri = sl_totp_uri(SL_2FA_ISSUER, user->email, b.secret, p);
    out->qr_svg = sl_totp_qr_svg(out->uri, p);
    return SL_OK;
}

/* ---- turning it on and off: the password, then the code ----
 * The password is counted as the password change counts it ("user:<id>"),
 * the code on the code's counter only once the password was right: a
 * stolen session guessing passwords cannot lock the member's own codes. */

typedef struct {
    const sl_user_t *user;
    const char *code;
    int enable;
    sl_throttle_key_t pw_key, code_key;
    const sl_config_t *cfg;
    apr_int64_t *retry_after;
    apr_array_header_t **codes;
    int throttled;
    int pw_ok;
    code_result_e result;
    const char *phc;            /* the hash the password is checked on */
    const char *secret;         /* the secret as it was when it began */
} change_t;

static sl_kind_e change_begin_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    totp_row_t t;
    sl_user_t *u;
    sl_kind_e k;

    if ((k = totp_row(db, b->user->id, &t, err, p)) != SL_OK
        || (k = sl_account_get(db, &u, b->user->id, err, p)) != SL_OK) {
        return k;
    }
    /* what cannot work is said before anything is counted */
    if (b->enable ? (!t.secret || t.confirmed) : !t.confirmed) {
        return sl_err_set(err, SL_ECONFLICT, NULL, t.confirmed
                          ? "Two-factor login is on already." : b->enable
                          ? "Set up two-factor login first: no key waits for its code."
                          : "Two-factor login is not on.");
    }
    b->phc = u->password;
    b->secret = t.secret;
    k = sl_throttle_reserve(db, &b->pw_key, b->cfg, b->retry_after, err, p);
    b->throttled = k == SL_ETHROTTLED;
    return b->throttled ? SL_OK : k;
}

static sl_kind_e change_release_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;

    return sl_throttle_release(db, &b->pw_key, err, p);
}

static sl_kind_e change_finish_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    change_t *b = baton;
    const char *step = b->enable ? "{\"step\":\"enable\"}" : "{\"step\":\"disable\"}";
    const char *args[2] = { b->user->id, b->secret };
    totp_row_t t;
    sl_user_t *u;
    int recovery, n = 0;
    sl_kind_e k;

    if (!b->pw_ok) {            /* counted by the reservation */
        return sl_audit_add(db, SL_EVENT_TWOFACTOR_FAILED, NULL, b->user->id, step, err, p);
    }
    if ((k = sl_throttle_success(db, &b->pw_key, err, p)) != SL_OK) {
        return k;
    }
    k = sl_throttle_reserve(db, &b->code_key, b->cfg, b->retry_after, err, p);
    if (k == SL_ETHROTTLED) {
        b->throttled = 1;
        return SL_OK;
    }
    if (k != SL_OK || (k = totp_row(db, b->user->id, &t, err, p)) != SL_OK
        || (k = sl_account_get(db, &u, b->user->id, err, p)) != SL_OK) {
        return k;
    }
    /* the password checked between the units is still the account's, and
     * the key the one it began with */
    if (strcmp(u->password, b->phc) || !t.secret || strcmp(t.secret, b->secret)
        || t.confirmed == b->enable) {
        b->result = CODE_WRONG;
        return SL_OK;
    }
    if ((k = spend_code(db, b->user->id, &t, b->code, b->enable ? CODE_ENROL : CODE_DISABLE,
                        &b->result, &recovery, err, p)) != SL_OK) {
        return k;
    }
    if (b->result != CODE_OK) {
        return sl_audit_add(db, SL_EVENT_TWOFACTOR_FAILED, NULL, b->user->id, step, err, p);
    }
    if ((k = sl_throttle_success(db, &b->code_key, err, p)) != SL_OK) {
        return k;
    }
    if (b->enable) {
        if ((k = new_recovery_codes(db, b->user->id, b->codes, err, p)) != SL_OK) {
            return k;
        }
        return sl_audit_add(db, SL_EVENT_TWOFACTOR_ENABLED, NULL, b->user->id, NULL, err, p);
    }
    if ((k = sl_db_exec(db, p, "siali_2fa_delete_if", &n, 2, args, err)) != SL_OK
        || (k = sl_db_exec(db, p, "siali_recovery_delete", NULL, 1, args, err)) != SL_OK) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_TWOFACTOR_DISABLED, NULL, b->user->id, NULL, err, p);
}

static sl_kind_e change(change_t *b, sl_conn_src_t *src, const char *password,
                        const char *address, sl_err_t *err, apr_pool_t *p)
{
    sl_kind_e k;
    int ok;

    if (!password || !*password) {
        return sl_err_set(err, SL_EINVALID, "password", "Enter your password.");
    }
    if (!b->code || !*b->code) {
        return sl_err_set(err, SL_EINVALID, "code", b->enable
                          ? "Enter the code your app shows."
                          : "Enter a code from your app, or a recovery code.");
    }
    b->pw_key.account = apr_pstrcat(p, "user:", b->user->id, NULL);
    b->pw_key.address = sl_throttle_address(address, p);
    code_key(&b->code_key, b->user->id, address, p);
    if ((k = sl_conn_run(src, SL_CONN_WRITE_KEEP, change_begin_unit, b, err, p)) != SL_OK) {
        return k;
    }
    if (b->throttled) {
        return sl_err_set(err, SL_ETHROTTLED, NULL, apr_psprintf(
            p, "Too many wrong passwords. Try again in %" APR_INT64_T_FMT " seconds.",
            *b->retry_after));
    }
    ok = sl_password_verify(b->phc, password, strlen(password));
    if (ok == SL_PASSWORD_BUSY) {
        /* not a guess: the attempt is given back */
        sl_conn_run(src, SL_CONN_WRITE_KEEP, change_release_unit, b, NULL, p);
        return sl_err_set(err, SL_EBUSY, NULL, "The server is busy: try again in 5 seconds.");
    }
    b->pw_ok = ok == 1;
    if ((k = sl_conn_run(src, SL_CONN_WRITE_KEEP, change_finish_unit, b, err, p)) != SL_OK) {
        return k;
    }
    if (!b->pw_ok) {
        return sl_err_set(err, SL_EINVALID, "password", "That is not your password.");
    }
    if (b->throttled) {
        return throttled(*b->retry_after, err, p);
    }
    if (b->result != CODE_OK) {
        return sl_err_set(err, SL_EINVALID, "code", b->result == CODE_REPLAY ? USED_CODE
                          : b->enable ? ENROL_WRONG : WRONG_CODE);
    }
    return SL_OK;
}

sl_kind_e sl_2fa_enable(sl_conn_src_t *src, const sl_user_t *user, const char *password,
                        const char *code, const char *address, const sl_config_t *cfg,
                        apr_array_header_t **codes, apr_int64_t *retry_after,
                        sl_err_t *err, apr_pool_t *p)
{
    change_t b;

    memset(&b, 0, sizeof(b));
    b.user = user;
    b.code = code;
    b.enable = 1;
    b.cfg = cfg;
    b.retry_after = retry_after;
    b.codes = codes;
    return change(&b, src, password, address, err, p);
}

sl_kind_e sl_2fa_disable(sl_conn_src_t *src, const sl_user_t *user, const char *password,
                         const char *code, const char *address, const sl_config_t *cfg,
                         apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    change_t b;

    memset(&b, 0, sizeof(b));
    b.user = user;
    b.code = code;
    b.cfg = cfg;
    b.retry_after = retry_after;
    return change(&b, src, password, address, err, p);
}

static sl_kind_e remove_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    const char *user_id = baton;
    int n = 0;
    sl_kind_e k;

    if ((k = sl_db_exec(db, p, "siali_2fa_delete", &n, 1, &user_id, err)) != SL_OK
        || (k = sl_db_exec(db, p, "siali_recovery_delete", NULL, 1, &user_id, err)) != SL_OK
        || (k = sl_db_exec(db, p, "siali_pending_delete_user", NULL, 1, &user_id, err))
           != SL_OK) {
        return k;
    }
    if (n == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "Two-factor login is not on.");
    }
    return sl_audit_add(db, SL_EVENT_TWOFACTOR_DISABLED, NULL, user_id, NULL, err, p);
}

sl_kind_e sl_2fa_remove(sl_conn_src_t *src, const char *user_id, sl_err_t *err,
                        apr_pool_t *p)
{
    return sl_conn_run(src, SL_CONN_WRITE, remove_unit, (void *)user_id, err, p);
}

/* ---- the login's second step ---- */

sl_kind_e sl_2fa_pending_create(sl_db_t *db, const char **cookie, const char *user_id,
                                const char *password, int enrol, int persist,
                                const char *subject, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    const char *args[8];
    sl_kind_e k;

    if (sl_secret_b64url(cookie, SL_SESSION_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "No randomness for a login.");
    }
    /* the expired ones go as new ones come (indexed): the table stays the
     * size of five minutes of logins */
    args[0] = sl_i64(now, p);
    if ((k = sl_db_exec(db, p, "siali_pending_purge", NULL, 1, args, err)) != SL_OK) {
        return k;
    }
    args[0] = sl_secret_sha256_hex(*cookie, p);
    args[1] = user_id;
    args[2] = password;
    args[3] = enrol ? "1" : "0";
    args[4] = persist ? "1" : "0";
    args[5] = sl_i64(now, p);
    args[6] = sl_i64(now + SL_2FA_PENDING_LIFE, p);
    args[7] = subject ? subject : "";
    return sl_db_exec(db, p, "siali_pending_insert", NULL, 8, args, err);
}

/* Inside a unit: the live pending login of cookie and its member, as they
 * are now; SL_ENOTFOUND otherwise. */
static sl_kind_e pending_read(sl_db_t *db, const char *cookie, sl_2fa_pending_t *out,
                              const char **hash, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    const char **row;
    sl_kind_e k;

    memset(out, 0, sizeof(*out));
    if (!cookie || !sl_session_cookie_ok(cookie)) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No login waits for a code.");
    }
    *hash = sl_secret_sha256_hex(cookie, p);
    if ((k = sl_db_select(db, p, "siali_pending_get", &res, 1, hash, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No login waits for a code.");
    }
    row = SL_ROW(&res, 0);
    if (apr_atoi64(row[4]) < sl_now()) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "The login expired: log in again.");
    }
    if ((k = sl_account_get(db, &out->user, row[0], err, p)) == SL_ENOTFOUND) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No login waits for a code.");
    }
    if (k != SL_OK) {
        return k;
    }
    /* deactivated, or the password changed, since the first step */
    if (!out->user->is_active || strcmp(out->user->password, row[1])) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "The login expired: log in again.");
    }
    out->enrol = atoi(row[2]) == 1;
    out->persist = atoi(row[3]) == 1;
    out->subject = row[5];
    return SL_OK;
}

typedef struct {
    const char *cookie;
    sl_2fa_pending_t *out;
} pending_t;

static sl_kind_e pending_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pending_t *b = baton;
    const char *hash;

    return pending_read(db, b->cookie, b->out, &hash, err, p);
}

sl_kind_e sl_2fa_pending_get(sl_conn_src_t *src, const char *cookie, sl_2fa_pending_t *out,
                             sl_err_t *err, apr_pool_t *p)
{
    pending_t b = { cookie, out };

    return sl_conn_run(src, SL_CONN_READ, pending_unit, &b, err, p);
}

typedef struct {
    const sl_2fa_login_in_t *in;
    sl_2fa_login_out_t *out;
    const sl_config_t *cfg;
    sl_throttle_key_t key;
    int throttled;
    int enrol;
    code_result_e result;
} second_t;

static sl_kind_e second_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    second_t *b = baton;
    sl_throttle_key_t login_key = { NULL, NULL, 0 };
    sl_2fa_pending_t pend;
    const char *hash;
    totp_row_t t;
    int n = 0;
    sl_kind_e k;

    if ((k = pending_read(db, b->in->pending, &pend, &hash, err, p)) != SL_OK) {
        return k;
    }
    b->enrol = pend.enrol;
    code_key(&b->key, pend.user->id, b->in->address, p);
    if ((k = sl_throttle_reserve(db, &b->key, b->cfg, &b->out->retry_after, err, p))
        == SL_ETHROTTLED) {
        b->throttled = 1;
        return SL_OK;
    }
    if (k != SL_OK || (k = totp_row(db, pend.user->id, &t, err, p)) != SL_OK) {
        return k;
    }
    if ((k = spend_code(db, pend.user->id, &t, b->in->code,
                        pend.enrol ? CODE_ENROL : CODE_LOGIN, &b->result,
                        &b->out->used_recovery, err, p)) != SL_OK) {
        return k;
    }
    if (b->result != CODE_OK) {
        return sl_audit_add(db, SL_EVENT_TWOFACTOR_FAILED, pend.user->id, pend.user->id,
                            pend.enrol ? "{\"step\":\"enrol\"}" : "{\"step\":\"login\"}",
                            err, p);
    }
    /* spent once: of two requests with one pending login, one goes on */
    if ((k = sl_db_exec(db, p, "siali_pending_delete", &n, 1, &hash, err)) != SL_OK) {
        return k;
    }
    if (n != 1) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No login waits for a code.");
    }
    if (pend.enrol) {
        if ((k = new_recovery_codes(db, pend.user->id, &b->out->recovery_codes, err, p))
            != SL_OK
            || (k = sl_audit_add(db, SL_EVENT_TWOFACTOR_ENABLED, pend.user->id,
                                 pend.user->id, NULL, err, p)) != SL_OK) {
            return k;
        }
    }
    /* done: the first step's failures go too, as after a login without a
     * second step */
    login_key.account = *pend.subject ? pend.subject : NULL;
    if ((k = sl_throttle_success(db, &b->key, err, p)) != SL_OK
        || (k = sl_throttle_success(db, &login_key, err, p)) != SL_OK
        || (k = sl_session_end(db, b->in->old_cookie, err, p)) != SL_OK
        || (k = sl_session_create(db, &b->out->cookie, pend.user->id, b->cfg, err, p))
           != SL_OK) {
        return k;
    }
    sl_account_touch(db, pend.user, p);
    b->out->user = pend.user;
    b->out->persist = pend.persist;
    return sl_audit_add(db, SL_EVENT_LOGIN, pend.user->id, pend.user->id,
                        b->out->used_recovery ? "{\"two_factor\":\"recovery_code\"}"
                                              : "{\"two_factor\":\"totp\"}", err, p);
}

sl_kind_e sl_2fa_login(sl_conn_src_t *src, const sl_2fa_login_in_t *in,
                       sl_2fa_login_out_t *out, const sl_config_t *cfg, sl_err_t *err,
                       apr_pool_t *p)
{
    second_t b;
    sl_kind_e k;

    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof(b));
    b.in = in;
    b.out = out;
    b.cfg = cfg;
    if (!in->code || !*in->code) {
        return sl_err_set(err, SL_EINVALID, "code", "Enter the code your app shows.");
    }
    /* a session that ends (the browser's before) is one the caches must
     * hear of; without one nothing any cache holds changes */
    if ((k = sl_conn_run(src, in->old_cookie ? SL_CONN_WRITE : SL_CONN_WRITE_KEEP,
                         second_unit, &b, err, p)) != SL_OK) {
        return k;
    }
    if (b.throttled) {
        return throttled(out->retry_after, err, p);
    }
    if (b.result != CODE_OK) {
        return sl_err_set(err, SL_EINVALID, "code", b.result == CODE_REPLAY ? USED_CODE
                          : b.enrol ? ENROL_WRONG : WRONG_CODE);
    }
    return SL_OK;
}

void sl_2fa_purge(sl_db_t *db, apr_pool_t *p)
{
    const char *now = sl_i64(sl_now(), p);

    sl_db_exec(db, p, "siali_pending_purge", NULL, 1, &now, NULL);
}
