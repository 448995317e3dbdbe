/* Signed JWTs (HS256 only) for refresh and access tokens, over libjwt.
 * libjwt parses and checks the signature; every rule that says which
 * token we accept (the algorithm, the claims and their types, the times)
 * is checked here, so that no libjwt default decides it. */
#ifndef SL_JWT_H
#define SL_JWT_H

#include <apr.h>
#include <apr_pools.h>

#include "sl_err.h"

/* Longest token accepted: ours are a few hundred bytes, and the limit keeps
 * an attacker's megabyte header away from the decoder. */
#define SL_JWT_MAX_LEN 2048

typedef struct {
    const char *token_type;   /* "refresh" or "access" */
    apr_int64_t user_id;
    apr_int64_t iat;          /* seconds since the epoch */
    apr_int64_t exp;
    const char *jti;          /* 32 lowercase hex characters */
    const char *pat;          /* access tokens: the jti of the personal access
                               * token they were minted from (claim "pat"), so
                               * that revoking it ends them at once; or NULL */
} sl_jwt_claims_t;

/* HS256-signed compact JWT of the claims (header {"alg":"HS256","typ":"JWT"}), NULL on
 * failure (claims verify would refuse, an empty key, a token over SL_JWT_MAX_LEN). */
const char *sl_jwt_sign(const sl_jwt_claims_t *c, const unsigned char *key, apr_size_t keylen,
                        apr_pool_t *p);

/* Verifies: at most SL_JWT_MAX_LEN bytes, three base64url segments, header alg exactly
 * HS256, the signature with key, the claims present with the right JSON types (token_type
 * string, user_id integer > 0, iat and exp integers, jti 32 lowercase hex), exp > now,
 * iat <= now + 30 (clock skew) and, when want_type is not NULL, token_type equal to it.
 * On success fills *out (strings in p) and returns SL_OK; otherwise SL_EDENIED with
 * err->message "Token is expired", "Token has wrong type" or, for anything malformed or
 * wrongly signed, "Token is invalid or expired" (nothing more for a forger to learn). */
sl_kind_e sl_jwt_verify(sl_jwt_claims_t *out, const char *token, const char *want_type,
                        const unsigned char *key, apr_size_t keylen, apr_int64_t now,
                        sl_err_t *err, apr_pool_t *p);

/* The claims of a token that looks like ours, NOT verified: only to find
 * what to look up (the key, the token's row) before sl_jwt_verify decides.
 * SL_EDENIED when it is no token of that shape. */
sl_kind_e sl_jwt_peek(sl_jwt_claims_t *out, const char *token, sl_err_t *err, apr_pool_t *p);

/* 1 when s looks like a compact JWT (three non-empty base64url segments separated by two
 * dots, starting with "eyJ"), 0 otherwise: tells a PAT/access token from a legacy 40-hex
 * token without verifying it. */
int sl_jwt_looks_like(const char *s);

#endif
