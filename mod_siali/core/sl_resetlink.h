/* One-time password-reset links, for teams without email (an administrator
 * makes one and hands it over) and, with a mail relay, for members who ask
 * on the login page. A link is a 256-bit random token of which only the
 * SHA-256 is stored, one per member: a newer link retires the older. It
 * works once, until SialiResetLinkLifetime after it was made, while the
 * member is active; using it sets the password, ends every session of the
 * member (and a login waiting for its second factor) and retires it.
 * Two-factor login stays on: a link replaces the password, not the phone. */
#ifndef SL_RESETLINK_H
#define SL_RESETLINK_H

#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"

#define SL_RESET_BYTES 32
/* "Forgot password?": requests per client address, and mails per member,
 * in an hour */
#define SL_RESET_MAIL_PER_ADDRESS 10
#define SL_RESET_MAIL_PER_ACCOUNT 3
#define SL_RESET_MAIL_WINDOW 3600

/* Whether a caller may make links: with roles on, who may manage members;
 * with roles off (every member an administrator), the owner alone. */
int sl_reset_may_make(int roles_on, int may_manage, int is_owner);

/* A new link for user_id, made by actor_id (NULL: the CLI): *token for the
 * URL, *expires (epoch seconds). SL_ENOTFOUND: no such user; SL_EINVALID:
 * the member is deactivated, or signs in through single sign-on only;
 * SL_EFORBIDDEN: the owner's, by someone else; anyone's, by a member who is
 * not the owner, with roles off. A link made by someone else stops working
 * when its member becomes the owner. */
sl_kind_e sl_reset_create(sl_conn_src_t *src, const char *user_id, const char *actor_id,
                          const sl_config_t *cfg, const char **token, apr_int64_t *expires,
                          sl_err_t *err, apr_pool_t *p);

/* The member a live link is for; SL_ENOTFOUND for anything else (unknown,
 * used, expired, retired by a newer one, the member deactivated). */
sl_kind_e sl_reset_find(sl_conn_src_t *src, const char *token, sl_user_t **user,
                        sl_err_t *err, apr_pool_t *p);

/* The new password through the link: validated (SL_EINVALID, field
 * "password"), hashed holding no connection, then set in the unit that
 * retires the link, so that of two uses at once one sets it.
 * SL_ENOTFOUND as sl_reset_find. */
sl_kind_e sl_reset_use(sl_conn_src_t *src, const char *token, const char *password,
                       apr_size_t len, const sl_config_t *cfg, sl_user_t **user,
                       sl_err_t *err, apr_pool_t *p);

typedef struct {
    const char *to;             /* NULL: nothing to send (unknown email,
                                 * deactivated, no password of its own, or
                                 * the member's budget of mails used) */
    const char *token;
    apr_int64_t expires;
    const char *user_id;
} sl_reset_mail_t;

/* "Forgot password?" for email, from address: the same SL_OK whether or not
 * someone has that email (out->to says whether to send); SL_ETHROTTLED
 * (*retry_after) when the address asked too often, before any lookup;
 * SL_EINVALID when it is no email at all. */
sl_kind_e sl_reset_request(sl_conn_src_t *src, const char *email, const char *address,
                           const sl_config_t *cfg, sl_reset_mail_t *out,
                           apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p);

#endif
