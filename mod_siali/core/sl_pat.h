/* Personal access tokens (PATs) as Label Studio 1.16+ and its SDK know them:
 * a PAT is a long-lived signed JWT of type "refresh"; POST
 * /api/token/refresh/ trades it for an "access" JWT of five minutes, sent
 * as "Authorization: Bearer". The database keeps a row per PAT by its jti
 * (never the token), so that one can be listed and revoked; the signing
 * key is one per installation (siali_keys), read with that row, so that
 * every node uses the same key and a new one is in force at once. An
 * access token names the PAT it came from (claim "pat"): revoking the PAT
 * ends its access tokens at once, not when they expire. Whether an
 * organization takes PATs, and their lifetime: sl_orgpolicy.h. */
#ifndef SL_PAT_H
#define SL_PAT_H

#include <jansson.h>

#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"

#define SL_PAT_LIVE_MAX 20            /* live PATs per user */
#define SL_ACCESS_TTL 300             /* seconds, as simplejwt's default */
#define SL_PAT_TTL_DAYS_MAX 73000     /* Label Studio's "eternity": 200 years */

/* POST /api/token/: a new PAT of the user, {"token", "created_at",
 * "expires_at"} (the token shown this once). ttl_days 0: the
 * organization's api_token_ttl_days. SL_EFORBIDDEN when the organization
 * has PATs off; SL_ECONFLICT at SL_PAT_LIVE_MAX live ones. */
sl_kind_e sl_pat_create(sl_conn_src_t *src, const sl_user_t *u, apr_int64_t ttl_days,
                        json_t **out, sl_err_t *err, apr_pool_t *p);

/* GET /api/token/: the user's live PATs, newest first, each shown as its
 * header and payload without the signature (what Label Studio shows: it
 * names the token, and cannot be used). */
sl_kind_e sl_pat_list(sl_conn_src_t *src, const sl_user_t *u, json_t **out, sl_err_t *err,
                      apr_pool_t *p);

/* POST /api/token/refresh/: an access token for a live PAT of an active
 * user whose organization takes PATs. SL_EDENIED with the reason. */
sl_kind_e sl_pat_refresh(sl_conn_src_t *src, const char *refresh, const char **access,
                         sl_err_t *err, apr_pool_t *p);

/* POST /api/token/blacklist/: the PAT revoked, named by the whole signed
 * token (anyone holding it), or by the "header.payload" the list shows when
 * owner (the caller, or NULL) is the PAT's user. SL_ENOTFOUND when it is
 * no live PAT. */
sl_kind_e sl_pat_blacklist(sl_conn_src_t *src, const sl_user_t *owner, const char *refresh,
                           sl_err_t *err, apr_pool_t *p);

/* POST /api/token/rotate/: the caller's PAT revoked and a new one with the
 * organization's lifetime in its place, in one transaction. SL_EINVALID
 * ("Invalid refresh token") for anything but a live PAT of the caller. */
sl_kind_e sl_pat_rotate(sl_conn_src_t *src, const sl_user_t *u, const char *refresh,
                        const char **fresh, sl_err_t *err, apr_pool_t *p);

/* "Authorization: Bearer <access>" / "X-Api-Key: <access>": the active
 * user of a live PAT's access token. SL_EDENIED for anything else (a PAT
 * itself included: it is no access token). */
sl_kind_e sl_pat_bearer(sl_conn_src_t *src, sl_user_t **user, const char *access,
                        sl_err_t *err, apr_pool_t *p);

/* siali token revoke-all: every live PAT of the user; *n how many. */
sl_kind_e sl_pat_revoke_user(sl_conn_src_t *src, const char *user_id, int *n, sl_err_t *err,
                             apr_pool_t *p);

/* siali jwt rotate-secret: a new signing key; every PAT (and access token)
 * signed with the old one is refused from now on, on every node. */
sl_kind_e sl_pat_rotate_key(sl_conn_src_t *src, sl_err_t *err, apr_pool_t *p);

#endif
