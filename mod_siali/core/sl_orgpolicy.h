/* An organization's rules for tokens and sessions: whether it takes
 * personal access tokens and legacy API tokens, the lifetime of new
 * personal access tokens, and its session policy (NULL: the directives).
 * Read where they apply (the token and session lookups join them), set
 * here. */
#ifndef SL_ORGPOLICY_H
#define SL_ORGPOLICY_H

#include <jansson.h>

#include "sl_config.h"
#include "sl_conn.h"

typedef struct {
    int api_enabled;
    int legacy_enabled;
    apr_int64_t ttl_days;
    apr_int64_t max_age;    /* seconds, 0: the directive */
    apr_int64_t idle;
} sl_org_tokens_t;

/* Inside a unit; org_id NULL: the defaults. */
sl_kind_e sl_org_tokens_get(sl_db_t *db, const char *org_id, sl_org_tokens_t *o,
                            sl_err_t *err, apr_pool_t *p);

/* GET/POST /api/jwt/settings: {"api_tokens_enabled", "legacy_api_tokens_enabled",
 * "api_token_ttl_days"}. body NULL: read. A body sets what it names
 * (SL_EINVALID naming a field of the wrong type or range, or unknown). */
sl_kind_e sl_orgpolicy_tokens(sl_conn_src_t *src, const char *org_id, json_t *body,
                              json_t **out, sl_err_t *err, apr_pool_t *p);

/* GET/PATCH /api/session-policy/: {"max_session_age",
 * "max_time_between_activity"} in minutes (>= 1); what the directives say
 * while the organization has set none. */
sl_kind_e sl_orgpolicy_sessions(sl_conn_src_t *src, const char *org_id, json_t *body,
                                const sl_config_t *cfg, json_t **out, sl_err_t *err,
                                apr_pool_t *p);

#endif
