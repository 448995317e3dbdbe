/* Login sessions: a 256-bit random cookie value of which only the SHA-256
 * is stored; absolute and idle limits enforced here, on every lookup. */
#ifndef SL_SESSION_H
#define SL_SESSION_H

#include "sl_account.h"
#include "sl_config.h"

#define SL_SESSION_BYTES 32
#define SL_SESSION_TOUCH 60   /* seconds between last_seen writes */

/* Inside a write unit: a session for user_id; *cookie is the value for
 * the browser. */
sl_kind_e sl_session_create(sl_db_t *db, const char **cookie, const char *user_id,
                            const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

/* A unit: the active user of a live session. SL_ENOTFOUND when nobody
 * ever had that cookie (malformed or unknown: a guess, as far as the
 * server can tell), SL_EDENIED when it expired, idled out or the user is
 * deactivated (an expired row is removed). Refreshes last_seen and
 * last_activity at most once a minute. */
sl_kind_e sl_session_lookup(sl_conn_src_t *src, sl_user_t **user, const char *cookie,
                            const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

/* Inside a unit / as a unit: ends one session (a malformed cookie is no
 * session: nothing to do). */
sl_kind_e sl_session_end(sl_db_t *db, const char *cookie, sl_err_t *err, apr_pool_t *p);
/* (logout: with the caller's logout event, when a session ended) */
sl_kind_e sl_session_delete(sl_conn_src_t *src, const char *cookie, sl_err_t *err,
                            apr_pool_t *p);

/* 1 when the cookie value has the shape we hand out (43 base64url chars):
 * anything else is not looked up at all. */
int sl_session_cookie_ok(const char *cookie);

/* Removes the sessions that ended (their expiry, or cfg's idle timeout);
 * best effort, at start. */
void sl_session_purge(sl_db_t *db, const sl_config_t *cfg, apr_pool_t *p);

#endif
