/* The per-request state: which server's configuration, where the request
 * is below the <Location>, and who is calling. */
#ifndef MOD_SIALI_REQUEST_H
#define MOD_SIALI_REQUEST_H

#include "mod_siali_config.h"
#include "sl_account.h"
#include "sl_conn.h"
#include "sl_role.h"

/* Who is calling, found once per request. */
typedef enum { SIALI_AUTH_NONE = 0, SIALI_AUTH_SESSION, SIALI_AUTH_TOKEN } siali_auth_e;
/* SIALI_AUTH_TOKEN: a legacy key or a personal access token's access token */

typedef struct {
    siali_srv_conf_t *conf;
    const char *prefix;        /* the <Location> of SetHandler siali, no
                                * trailing '/', "" at / */
    const char *path;          /* the path below the prefix, "/" at least */
    sl_conn_src_t *src;        /* units of work run on mod_dbd's pool
                                * through it (siali_db_source) */
    siali_auth_e auth;
    sl_user_t *user;
    const char *session;       /* the cookie value, when authenticated by it */
    const char *ids[2];        /* the numeric path segments matched by '*' */
    apr_int64_t retry_after;   /* SIALI_FOUND_THROTTLED: seconds */
    const char *auth_detail;   /* SIALI_FOUND_BAD_TOKEN: why, for the 401 */
} siali_req_t;

/* Whether the caller's role allows perm (sl_role.h): the one question every
 * route check, page and handler asks. */
static inline int siali_caller_may(const siali_req_t *req, sl_perm_e perm)
{
    return req->user && sl_role_may(req->conf->core.roles,
                                    sl_role_effective(req->user->role, req->user->is_active),
                                    perm);
}

#endif
