/* Secrets: kernel randomness, encodings, SHA-256, constant-time compare. */
#ifndef SL_SECRET_H
#define SL_SECRET_H

#include <apr_pools.h>

/* n random bytes from the kernel (getrandom / /dev/urandom via APR). */
apr_status_t sl_secret_random(unsigned char *buf, apr_size_t n);

/* Random bytes encoded as lowercase hex (2*n chars): API tokens. */
apr_status_t sl_secret_hex(const char **out, apr_size_t nbytes, apr_pool_t *p);

/* Random bytes encoded as base64url without padding: cookies, invite tokens. */
apr_status_t sl_secret_b64url(const char **out, apr_size_t nbytes, apr_pool_t *p);

/* Lowercase hex SHA-256 of len bytes (64 chars). */
const char *sl_secret_sha256_hex_mem(const void *data, apr_size_t len, apr_pool_t *p);

/* Lowercase hex SHA-256 of a NUL-terminated string (64 chars). */
const char *sl_secret_sha256_hex(const char *s, apr_pool_t *p);

/* 1 when equal. Time depends only on the lengths, never on where the
 * strings differ. NULL equals nothing. */
int sl_secret_equal(const char *a, const char *b);

#endif
