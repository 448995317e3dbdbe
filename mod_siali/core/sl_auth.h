/* Who may come in: API tokens, signup, login, the password change. Each
 * runs its database work as units (sl_conn.h) and hashes between them, so
 * that no connection is held while argon2 runs. */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"

/* The active account whose API token is key: found by the key's SHA-256
 * (indexed), then compared in constant time. SL_EDENIED for anything
 * else. Touches last_activity. */
/* The API key the caller sent: "Authorization: Token <key>" or "Bearer
 * <key>" (scheme in any case) or "X-Api-Key: <key>" (header values as
 * received, NULL when absent); a legacy key or an access token alike (the
 * caller tells them apart, sl_jwt_looks_like). *present says whether either
 * was sent at all; the key, or NULL when what was sent is no key: both
 * headers at once (refused rather than guessed), empty, over SL_JWT_MAX_LEN
 * bytes, or anything but printable ASCII. */
const char *sl_auth_token_key(const char *authorization, const char *x_api_key,
                              int *present);

sl_kind_e sl_auth_token(sl_conn_src_t *src, sl_user_t **user, const char *key,
                        sl_err_t *err, apr_pool_t *p);

typedef struct {
    const char *email;          /* as typed; NULL when absent */
    const char *password;
    apr_size_t password_len;
    const char *invite;         /* the invite link's token, or NULL */
    const char *address;        /* the client's, for the signup budget */
} sl_signup_in_t;

typedef struct {
    const char *email_error;    /* SL_EINVALID: the message beside each field */
    const char *password_error;
    sl_user_t *user;            /* SL_OK */
    const char *cookie;
    apr_int64_t retry_after;    /* SL_ETHROTTLED: seconds */
} sl_signup_out_t;

/* SL_OK: account, membership, token and a session; SL_EINVALID: field
 * errors in out (a taken email is found before anything is hashed);
 * SL_EFORBIDDEN: signup is restricted and the invite is missing or not the
 * current one, or a wrong invite was given (checked again in the
 * transaction that creates the account); SL_ETHROTTLED: this address used
 * its signup budget (SialiSignupThrottle), before anything is hashed;
 * SL_EBUSY / SL_EDB. */
sl_kind_e sl_auth_signup(sl_conn_src_t *src, sl_signup_out_t *out, const sl_signup_in_t *in,
                         const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

typedef struct {
    const char *login;          /* email or username */
    const char *password;
    apr_size_t password_len;
    const char *address;        /* the client's, for the throttle */
    const char *old_cookie;     /* this browser's session before: ended */
    int persist;                /* a lasting session was asked for */
} sl_login_in_t;

typedef struct {
    const char *login_error;    /* SL_EINVALID: an empty field */
    const char *password_error;
    sl_user_t *user;            /* SL_OK */
    const char *cookie;         /* the session; NULL when a second step is due */
    const char *pending;        /* the pending login (sl_twofactor.h) instead */
    int enrol;                  /* ... which must set up a second factor */
    apr_int64_t retry_after;    /* SL_ETHROTTLED: seconds */
} sl_login_out_t;

/* SL_OK: a new session (the old one of this browser ended), or, for a
 * member with two-factor login or on a server that requires it, a pending
 * login (out->pending) and no session yet; SL_EDENIED:
 * wrong password, unknown or deactivated account, all alike (one hash
 * each); SL_ETHROTTLED before any hashing; SL_EINVALID: a field is empty.
 * A hash below today's cost is upgraded. */
sl_kind_e sl_auth_login(sl_conn_src_t *src, sl_login_out_t *out, const sl_login_in_t *in,
                        const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

/* The password change of a signed-in user: the current password checked
 * (throttled like a login), the new one validated; every other session
 * ends (all of them when keep_cookie is NULL: a token made the change).
 * SL_EINVALID names the field; SL_ETHROTTLED sets *retry_after. */
sl_kind_e sl_auth_change_password(sl_conn_src_t *src, const sl_user_t *user,
                                  const char *current, const char *fresh,
                                  apr_size_t fresh_len, const char *keep_cookie,
                                  const char *address, const sl_config_t *cfg,
                                  apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p);

/* A token or session cookie that admitted nobody, from address: counted
 * (SialiAuthThrottle); SL_ETHROTTLED with *retry_after once the address is
 * over its budget. */
sl_kind_e sl_auth_failure(sl_conn_src_t *src, const char *address, const sl_config_t *cfg,
                          apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p);

#endif
