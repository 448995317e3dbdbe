/* argon2id password hashes in PHC form ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
 * through libargon2, with a cap on how many run at once in a process:
 * hashing is the CPU and memory amplifier of login. */
#ifndef SL_PASSWORD_H
#define SL_PASSWORD_H

#include <apr_pools.h>
#include <apr_time.h>

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

#define SL_PASSWORD_WAIT_DEFAULT (10 * APR_USEC_PER_SEC)
#define SL_PASSWORD_BUSY (-1)
/* The stored password of an account that has none (created by single
 * sign-on): not a PHC string, so nothing verifies against it; a login that
 * finds it is checked against the dummy hash, like an unknown account. */
#define SL_PASSWORD_UNUSABLE "!"

/* Hashes pw (len bytes, never truncated) with a fresh 16-byte salt.
 * APR_TIMEUP when no hashing slot came within the wait (busy). */
apr_status_t sl_password_hash(const char **out, const char *pw, apr_size_t len,
                              const sl_argon2_params_t *params, apr_pool_t *p);

/* 1 when pw matches the PHC string; 0 otherwise (also for any hash that is
 * not argon2id); SL_PASSWORD_BUSY when no hashing slot came within the
 * wait. Constant-time in the comparison (libargon2). */
int sl_password_verify(const char *phc, const char *pw, apr_size_t len);

/* 1 when phc is a hash a password can match (not SL_PASSWORD_UNUSABLE). */
int sl_password_usable(const char *phc);

/* 1 when phc was made with less memory, time or lanes than params. */
int sl_password_needs_upgrade(const char *phc, const sl_argon2_params_t *params);

/* A PHC string of the given cost for a password nobody knows: unknown
 * accounts are checked against it so they cost one hash like real ones. */
const char *sl_password_dummy(const sl_argon2_params_t *params, apr_pool_t *p);

/* The cap on concurrent hashes (0 = the number of cores) for a process and
 * every process it forks: slots in shared memory that name their pid, so
 * the slot of a process that died mid-hash is taken back. Lives as long as
 * p (the httpd parent's process pool: one cap across generations). */
typedef struct sl_password_limit_t sl_password_limit_t;
apr_status_t sl_password_limit_create(sl_password_limit_t **out, int max_concurrent,
                                      apr_pool_t *p);

/* Hashes of this process (and its children from now on) take a slot of
 * limit first, waiting at most `wait` (0: the default, 10 s). NULL: no cap. */
void sl_password_limit_use(sl_password_limit_t *limit, apr_interval_time_t wait);

/* create + use with the default wait (the unit tests). */
apr_status_t sl_password_limit_init(int max_concurrent, apr_pool_t *p);

/* How many hashes this process computed: tests read it to prove that a
 * path did or did not hash. */
apr_uint64_t sl_password_hash_count(void);

#endif
