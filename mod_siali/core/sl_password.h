/* argon2id password hashes in PHC form ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
 * through libargon2, with a cap on how many run at once in a process:
 * hashing is the CPU and memory amplifier of login. */
#ifndef SL_PASSWORD_H
#define SL_PASSWORD_H

#include <apr_pools.h>

#include "sl_err.h"

typedef struct {
    apr_uint32_t m_kib;
    apr_uint32_t t;
    apr_uint32_t p;
} sl_argon2_params_t;

#define SL_ARGON2_DEFAULT_M 19456
#define SL_ARGON2_DEFAULT_T 2
#define SL_ARGON2_DEFAULT_P 1

/* Parses "argon2id m=KIB t=N p=N" (any order, each optional, defaults as
 * above). Returns NULL or an error sentence. */
const char *sl_password_parse_params(sl_argon2_params_t *out, const char *arg,
                                     apr_pool_t *p);

/* Hashes pw (len bytes, never truncated) with a fresh 16-byte salt. */
apr_status_t sl_password_hash(const char **out, const char *pw, apr_size_t len,
                              const sl_argon2_params_t *params, apr_pool_t *p);

/* 1 when pw matches the PHC string; 0 otherwise (also for any hash that is
 * not argon2id). Constant-time in the comparison (libargon2). */
int sl_password_verify(const char *phc, const char *pw, apr_size_t len);

/* 1 when phc was made with less memory, time or lanes than params. */
int sl_password_needs_upgrade(const char *phc, const sl_argon2_params_t *params);

/* A PHC string of the given cost for a password nobody knows: unknown
 * accounts are checked against it so they cost one hash like real ones. */
const char *sl_password_dummy(const sl_argon2_params_t *params, apr_pool_t *p);

/* Cap on concurrent hashes (0 = number of cores) for this process and every
 * process forked after the call (the httpd parent calls it in post_config);
 * released with p. */
apr_status_t sl_password_limit_init(int max_concurrent, apr_pool_t *p);

/* How many hashes this process computed: tests read it to prove that a
 * path did or did not hash. */
apr_uint64_t sl_password_hash_count(void);

#endif
