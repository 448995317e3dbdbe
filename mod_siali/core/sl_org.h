/* The organization (one in this edition) and its invite link. */
#ifndef SL_ORG_H
#define SL_ORG_H

#include "sl_conn.h"

#define SL_INVITE_BYTES 24   /* 32 base64url characters */

typedef struct {
    const char *id;
    const char *title;
    const char *invite_token;
    const char *owner_id;    /* NULL until the first account */
    const char *created_at;
    const char *default_role;   /* of new members while SialiRoles is On */
} sl_org_t;

/* Inside a unit. */
sl_kind_e sl_org_get(sl_db_t *db, sl_org_t **out, sl_err_t *err, apr_pool_t *p);

/* A unit of its own. */
sl_kind_e sl_org_load(sl_conn_src_t *src, sl_org_t **out, sl_err_t *err, apr_pool_t *p);

/* Inside a write unit, before anything else it writes: the organization
 * row is locked first by every write that changes the members or their
 * counters (and the invite), so that on PostgreSQL two of them never wait
 * on each other in opposite orders, and what they read of it after the
 * lock is current. */
sl_kind_e sl_org_lock(sl_db_t *db, sl_err_t *err, apr_pool_t *p);

/* 1 when token is the current invite token (constant-time). */
int sl_org_invite_ok(const sl_org_t *org, const char *token);

/* A new invite token: the old link admits nobody from now on, on every
 * node, since it lives only in the database. */
sl_kind_e sl_org_reset_invite(sl_conn_src_t *src, sl_org_t **out, sl_err_t *err,
                              apr_pool_t *p);

/* The role new members get while SialiRoles is On (a code sl_role_default_ok
 * accepts). */
sl_kind_e sl_org_set_default_role(sl_conn_src_t *src, const char *org_id, const char *role,
                                  sl_err_t *err, apr_pool_t *p);

#endif
