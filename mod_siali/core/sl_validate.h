/* Input rules shared by the web and the CLI: UTF-8, emails, usernames,
 * passwords, names, initials and the next= redirect target. Pure
 * functions, unit-tested without a database. */
#ifndef SL_VALIDATE_H
#define SL_VALIDATE_H

#include <apr_pools.h>

#include "sl_err.h"

#define SL_PASSWORD_MAX 128   /* code points */
#define SL_EMAIL_MAX 254
#define SL_USERNAME_MAX 150
#define SL_NAME_MAX 256

/* Number of code points when s[0..len) is valid UTF-8 (no overlongs, no
 * surrogates, nothing past U+10FFFF) and holds no NUL; else -1. */
long sl_utf8_count(const char *s, apr_size_t len);

/* Unicode text the same way on every database (PostgreSQL's lower() and
 * SQLite's differ, SQLite's LIKE folds ASCII only): NFC and lower case
 * (emails), or NFC and full case folding (what search compares). Valid
 * UTF-8 in; NULL when it is not. (GNU libunistring.) */
const char *sl_text_lower(const char *s, apr_pool_t *p);
const char *sl_text_fold(const char *s, apr_pool_t *p);

/* 1 when s holds a C0/C1 control character or DEL. */
int sl_has_control(const char *s);

/* Trims ASCII white space, lower-cases, checks the shape of an address.
 * On success *out is the normalised address. */
sl_kind_e sl_validate_email(const char **out, const char *in, apr_size_t len,
                            sl_err_t *err, apr_pool_t *p);

/* Usernames: 1-150 of [A-Za-z0-9._+-]; '@' is kept for emails. */
sl_kind_e sl_validate_username(const char *in, apr_size_t len, sl_err_t *err);

/* The username a new account gets from its email's local part (before any
 * numeric suffix for uniqueness); never empty. */
const char *sl_username_from_email(const char *email, apr_pool_t *p);

/* min_len..128 code points of valid UTF-8, any character but NUL, never
 * truncated. len is the byte length as received. */
sl_kind_e sl_validate_password(const char *pw, apr_size_t len, int min_len,
                               sl_err_t *err, apr_pool_t *p);

/* first_name, last_name, phone: <= 256 code points, valid UTF-8, no
 * control characters. */
sl_kind_e sl_validate_name(const char *field, const char *in, apr_size_t len,
                           sl_err_t *err);

/* first letters of first and last name, else of the one present, else the
 * first two characters of the email (code points, not bytes). */
const char *sl_initials(const char *first, const char *last,
                        const char *email, apr_pool_t *p);

/* 1 when next may be used as a redirect target on this server: one leading
 * '/', then not '/' or '\', no control characters, no scheme, also after
 * one percent-decoding. */
int sl_next_is_safe(const char *next);

#endif
