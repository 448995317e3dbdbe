/* Login throttling: failed logins counted per account and per client
 * address in the database, so every child and every node shares the
 * counters. Checked before any password hashing. */
#ifndef SL_THROTTLE_H
#define SL_THROTTLE_H

#include "sl_config.h"
#include "sl_db.h"

/* The subjects of one attempt: "user:<id>" for a known account, else
 * "login:<normalised login>", and the client address. */
typedef struct {
    const char *account;
    const char *address;
} sl_throttle_key_t;

/* Inside a write unit: counts this attempt for both subjects first, then
 * refuses it (SL_ETHROTTLED, *retry_after) when a subject is over the limit: parallel
 * attempts cannot all slip past a read-then-write. Before any hashing. */
sl_kind_e sl_throttle_reserve(sl_db_t *db, const sl_throttle_key_t *key,
                              const sl_config_t *cfg, apr_int64_t *retry_after,
                              sl_err_t *err, apr_pool_t *p);

/* One more failure for both subjects (a new window when the old one ended). */
sl_kind_e sl_throttle_fail(sl_db_t *db, const sl_throttle_key_t *key,
                           const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

/* A success clears the account's count and gives back the address's
 * reserved attempt. */
sl_kind_e sl_throttle_success(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p);

#endif
