/* Two-factor login: a member's TOTP (sl_totp.h) and recovery codes, the
 * login's second step, enrolment and disabling.
 *
 * The login's first step (sl_auth_login) ends, for a member with two-factor
 * login or on a server that requires it, in a pending login instead of a
 * session: a random cookie (only its SHA-256 stored) that names the member
 * for SL_2FA_PENDING_LIFE seconds and admits to nothing but the second
 * step. Codes are counted with the login throttle's counters, as
 * "totp:<user id>" (at most SL_2FA_MAX_FAILS wrong codes per window,
 * whatever login was typed) and the client address. */
#ifndef SL_TWOFACTOR_H
#define SL_TWOFACTOR_H

#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"

#define SL_2FA_PENDING_LIFE 300
#define SL_2FA_MAX_FAILS 5
#define SL_2FA_ISSUER "Siali Label"

typedef struct {
    int enabled;                /* a confirmed secret */
    int recovery_left;          /* unused recovery codes */
} sl_2fa_status_t;

sl_kind_e sl_2fa_status(sl_conn_src_t *src, const char *user_id, sl_2fa_status_t *out,
                        sl_err_t *err, apr_pool_t *p);

/* What an authenticator app needs for a new secret. */
typedef struct {
    const char *secret;         /* base32 */
    const char *uri;            /* otpauth:// */
    const char *qr_svg;         /* the URI as a QR code */
} sl_2fa_setup_t;

/* A new secret for user, waiting for its first code (it replaces one that
 * waits; reuse: an existing waiting one is kept and shown again).
 * SL_ECONFLICT when two-factor login is on already. */
sl_kind_e sl_2fa_setup(sl_conn_src_t *src, const sl_user_t *user, int reuse,
                       sl_2fa_setup_t *out, sl_err_t *err, apr_pool_t *p);

/* The account's password and the first code of the waiting secret turn
 * two-factor login on: *codes gets SL_TOTP_RECOVERY_CODES new recovery
 * codes (shown once). SL_EINVALID names the wrong field; SL_ECONFLICT:
 * nothing waits (or it is on already); SL_ETHROTTLED (*retry_after): too
 * many wrong passwords (counted as the password change counts them) or,
 * once the password was right, wrong codes. The password costs a hash: no
 * connection is held meanwhile. */
sl_kind_e sl_2fa_enable(sl_conn_src_t *src, const sl_user_t *user, const char *password,
                        const char *code, const char *address, const sl_config_t *cfg,
                        apr_array_header_t **codes, apr_int64_t *retry_after,
                        sl_err_t *err, apr_pool_t *p);

/* Two-factor login off, with the account's password and a current code or
 * a recovery code; the same rules. SL_ECONFLICT: it is not on. */
sl_kind_e sl_2fa_disable(sl_conn_src_t *src, const sl_user_t *user, const char *password,
                         const char *code, const char *address, const sl_config_t *cfg,
                         apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p);

/* Off without any check (siali twofactor disable): SL_ENOTFOUND when it was
 * not on. */
sl_kind_e sl_2fa_remove(sl_conn_src_t *src, const char *user_id, sl_err_t *err,
                        apr_pool_t *p);

/* Inside the login's unit: a pending login for user_id, whose password
 * (the hash checked) must still be the account's at the second step;
 * enrol: the member has no second factor yet and must set one up; subject:
 * the login throttle's account counter of the first step, cleared when the
 * second is done. */
sl_kind_e sl_2fa_pending_create(sl_db_t *db, const char **cookie, const char *user_id,
                                const char *password, int enrol, int persist,
                                const char *subject, sl_err_t *err, apr_pool_t *p);

/* Inside a unit: whether user_id has two-factor login on. */
sl_kind_e sl_2fa_is_on(sl_db_t *db, const char *user_id, int *on, sl_err_t *err,
                       apr_pool_t *p);

typedef struct {
    sl_user_t *user;
    int enrol;
    int persist;                /* the login asked for a lasting session */
    const char *subject;        /* the first step's throttle counter, or "" */
} sl_2fa_pending_t;

/* The pending login of cookie: SL_ENOTFOUND when there is none (unknown,
 * expired, used, or the account changed since). */
sl_kind_e sl_2fa_pending_get(sl_conn_src_t *src, const char *cookie, sl_2fa_pending_t *out,
                             sl_err_t *err, apr_pool_t *p);

typedef struct {
    const char *pending;        /* the pending login's cookie */
    const char *code;           /* 6 digits, or a recovery code */
    const char *address;
    const char *old_cookie;     /* the browser's session before: ended */
} sl_2fa_login_in_t;

typedef struct {
    sl_user_t *user;            /* SL_OK */
    const char *cookie;         /* the new session */
    int persist;
    apr_array_header_t *recovery_codes; /* enrolment: the new codes, shown once */
    int used_recovery;          /* a recovery code was used */
    apr_int64_t retry_after;    /* SL_ETHROTTLED */
} sl_2fa_login_out_t;

/* The second step: the code of the pending login's member (enrolment: of
 * the waiting secret, which it confirms) makes a session and ends the
 * pending login. SL_EINVALID: wrong or replayed code (the pending login
 * stays, counted); SL_ENOTFOUND: no pending login; SL_ETHROTTLED. */
sl_kind_e sl_2fa_login(sl_conn_src_t *src, const sl_2fa_login_in_t *in,
                       sl_2fa_login_out_t *out, const sl_config_t *cfg, sl_err_t *err,
                       apr_pool_t *p);

/* Removes the pending logins that expired; best effort, at start. */
void sl_2fa_purge(sl_db_t *db, apr_pool_t *p);

#endif
