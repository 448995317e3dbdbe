/* Time-based one-time passwords (RFC 6238) as authenticator apps expect
 * them: HMAC-SHA-1, 30-second steps, 6 digits; computed and checked by
 * liboath (Debian's oath-toolkit), compared in constant time. Recovery
 * codes: random, shown once, stored as SHA-256 (they carry 50 bits of
 * randomness each, so a fast hash is enough; no guessing at them gets
 * past the login throttle). The building blocks of two-factor login
 * (sl_twofactor.h). */
#ifndef SL_TOTP_H
#define SL_TOTP_H

#include <apr_pools.h>
#include <apr_tables.h>

#define SL_TOTP_STEP 30
#define SL_TOTP_DIGITS 6
#define SL_TOTP_SECRET_BYTES 20     /* 160 bits, as RFC 4226 recommends */
#define SL_TOTP_RECOVERY_CODES 10

/* Once per process, before threads use the rest. */
void sl_totp_init(void);

/* A new secret: *raw (SL_TOTP_SECRET_BYTES bytes) and its base32 text, as
 * people type it into an app. APR_SUCCESS, or no randomness. */
int sl_totp_new_secret(const char **raw, const char **base32, apr_pool_t *p);

/* base32 text (any case, spaces and '=' ignored) to bytes: 1 and *raw,
 * *len; 0 when it is not base32. */
int sl_totp_decode(const char **raw, apr_size_t *len, const char *base32, apr_pool_t *p);

/* The code for the time t (epoch seconds) with digits digits (6 or 8):
 * NULL on a library error. */
const char *sl_totp_code(const char *raw, apr_size_t len, apr_int64_t t, int digits,
                         apr_pool_t *p);

/* Whether code is the code of one step of [now - 1 step, now + 1 step]
 * (clock drift) and that step comes after last_step (a code is accepted
 * once: a replay in the same window is refused). 1 and *step; 0. */
int sl_totp_check(const char *raw, apr_size_t len, const char *code, apr_int64_t now,
                  apr_int64_t last_step, apr_int64_t *step);

/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...: what the QR code
 * holds (Google Authenticator's key URI format). */
const char *sl_totp_uri(const char *issuer, const char *account, const char *base32,
                        apr_pool_t *p);

/* The QR code of text as an SVG document (libqrencode; dark modules as
 * one path, a quiet zone of 4), NULL when it does not fit. */
const char *sl_totp_qr_svg(const char *text, apr_pool_t *p);

/* SL_TOTP_RECOVERY_CODES new codes ("xxxxx-xxxxx", lowercase base32) in
 * *codes, their hashes (sl_totp_recovery_hash) in *hashes. */
int sl_totp_recovery_codes(apr_array_header_t **codes, apr_array_header_t **hashes,
                           apr_pool_t *p);

/* The stored form of a recovery code as typed: case, spaces and the dash
 * ignored. */
const char *sl_totp_recovery_hash(const char *typed, apr_pool_t *p);

#endif
