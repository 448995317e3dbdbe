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
    int account_max;            /* failures the account may have in the window
                                 * (0: SialiLoginThrottle's; a second factor's
                                 * codes allow fewer) */
} sl_throttle_key_t;

/* Inside a write unit: counts this attempt for both subjects first, then
 * refuses it (SL_ETHROTTLED, *retry_after) when a subject is over the limit: parallel
 * attempts cannot all slip past a read-then-write. Before any hashing. */
/* Removes the counters of windows that began before `before` (epoch
 * seconds); best effort, at start. */
void sl_throttle_purge(sl_db_t *db, apr_int64_t before, apr_pool_t *p);

sl_kind_e sl_throttle_reserve(sl_db_t *db, const sl_throttle_key_t *key,
                              const sl_config_t *cfg, apr_int64_t *retry_after,
                              sl_err_t *err, apr_pool_t *p);

/* One more failure for both subjects (a new window when the old one ended). */
sl_kind_e sl_throttle_fail(sl_db_t *db, const sl_throttle_key_t *key,
                           const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

/* An attempt that was not made after all (the server was too busy to hash
 * it): its reservation is given back to both subjects. */
sl_kind_e sl_throttle_release(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p);

/* A success clears the account's count and gives back the address's
 * reserved attempt. */
sl_kind_e sl_throttle_success(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p);

/* The subject a client address is counted as: IPv4 as it is, an IPv4
 * mapped into IPv6 as IPv4, any other IPv6 address as its /64 (one host
 * usually has the whole /64: every address in it is one budget). */
const char *sl_throttle_address(const char *address, apr_pool_t *p);

/* Inside a write unit: one more event of `kind` for subject (a signup,
 * a failed token or cookie, by address), then SL_ETHROTTLED (*retry_after)
 * when more than max are in the window. Shared by every child and node. */
sl_kind_e sl_throttle_count(sl_db_t *db, const char *kind, const char *subject, int max,
                            apr_int64_t window, apr_int64_t *retry_after, sl_err_t *err,
                            apr_pool_t *p);

/* Inside a write unit: the last count of `kind` for subject given back
 * (an attempt the server was too busy to make). */
sl_kind_e sl_throttle_uncount(sl_db_t *db, const char *kind, const char *subject,
                              sl_err_t *err, apr_pool_t *p);

/* Addresses this process refuses without asking the database, until a
 * time: filled when the shared counter says an address is over its budget,
 * so a guesser is stopped before any lookup while a good request costs no
 * extra read. Thread-safe, bounded (expired entries go first, then all). */
typedef struct sl_blocklist_t sl_blocklist_t;

sl_blocklist_t *sl_blocklist_create(int max_entries, apr_pool_t *p);

/* Seconds the address stays refused, 0 when it is not. */
apr_int64_t sl_blocklist_left(sl_blocklist_t *b, const char *address, apr_int64_t now);

void sl_blocklist_add(sl_blocklist_t *b, const char *address, apr_int64_t until,
                      apr_int64_t now);

#endif
