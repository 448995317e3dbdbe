#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <unicase.h>
#include <uninorm.h>

#include "sl_validate.h"

long sl_utf8_count(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;
    long n = 0;

    while (i < len) {
        unsigned char c = u[i];
        apr_uint32_t cp;
        int extra, k;

        if (c == 0) {
            return -1;
        }
        if (c < 0x80) {
            i++;
            n++;
            continue;
        }
        else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        }
        else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        }
        else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        }
        else {
            return -1;
        }
        if (i + extra >= len) {
            return -1;
        }
        for (k = 1; k <= extra; k++) {
            if ((u[i + k] & 0xc0) != 0x80) {
                return -1;
            }
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        /* overlong forms, UTF-16 surrogates and values past Unicode */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800)
            || (extra == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff)) {
            return -1;
        }
        i += extra + 1;
        n++;
    }
    return n;
}

int sl_has_control(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    for (; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return 1;
        }
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F */
        if (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
            return 1;
        }
    }
    return 0;
}

static int email_local_char(unsigned char c)
{
    if (c >= 0x80) {
        return 1;   /* internationalised local parts (RFC 6531) */
    }
    return apr_isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int email_domain_char(unsigned char c)
{
    return c >= 0x80 || apr_isalnum(c) || c == '-' || c == '.';
}

typedef uint8_t *case_fn(const uint8_t *s, size_t n, const char *lang, uninorm_t nf,
                         uint8_t *buf, size_t *lengthp);

static const char *map_text(case_fn *fn, const char *s, apr_pool_t *p)
{
    size_t n = 0;
    uint8_t *r;
    char *out;

    if (!s || sl_utf8_count(s, strlen(s)) < 0) {
        return NULL;
    }
    if (!(r = fn((const uint8_t *)s, strlen(s), NULL, UNINORM_NFC, NULL, &n))) {
        return NULL;
    }
    out = apr_pstrmemdup(p, (const char *)r, n);
    free(r);
    return out;
}

const char *sl_text_lower(const char *s, apr_pool_t *p)
{
    return map_text(u8_tolower, s, p);
}

const char *sl_text_fold(const char *s, apr_pool_t *p)
{
    return map_text(u8_casefold, s, p);
}

sl_kind_e sl_validate_email(const char **out, const char *in, apr_size_t len,
                            sl_err_t *err, apr_pool_t *p)
{
    const char *at;
    char *e;
    apr_size_t i, start = 0, end = len, local_len;

    if (!in || sl_utf8_count(in, len) < 0) {
        return sl_err_set(err, SL_EINVALID, "email",
                          "Enter a valid email address (UTF-8 text only).");
    }
    while (start < end && apr_isspace(in[start])) {
        start++;
    }
    while (end > start && apr_isspace(in[end - 1])) {
        end--;
    }
    if (start == end) {
        return sl_err_set(err, SL_EINVALID, "email", "This field is required.");
    }
    if (end - start > SL_EMAIL_MAX) {
        return sl_err_set(err, SL_EINVALID, "email",
                          "Enter an email address of at most 254 characters.");
    }
    /* lower case for every letter (JÖ@x and jö@x are one address), in NFC
     * (a precomposed ö and o + combining diaeresis too), by the same rule on
     * SQLite and PostgreSQL: the database compares what this returns */
    {
        const char *lowered = sl_text_lower(apr_pstrmemdup(p, in + start, end - start), p);
        if (!lowered || strlen(lowered) > SL_EMAIL_MAX) {
            return sl_err_set(err, SL_EINVALID, "email", "Enter a valid email address.");
        }
        e = apr_pstrdup(p, lowered);
    }
    at = strchr(e, '@');
    if (!at || strchr(at + 1, '@')) {
        return sl_err_set(err, SL_EINVALID, "email", "Enter a valid email address.");
    }
    local_len = at - e;
    if (local_len == 0 || local_len > 64 || e[0] == '.' || e[local_len - 1] == '.'
        || strstr(e, "..")) {
        return sl_err_set(err, SL_EINVALID, "email", "Enter a valid email address.");
    }
    for (i = 0; i < local_len; i++) {
        if (!email_local_char((unsigned char)e[i])) {
            return sl_err_set(err, SL_EINVALID, "email",
                              "Enter a valid email address.");
        }
    }
    /* the domain: labels of letters, digits and '-', no empty label;
     * a single label (user@localhost) is allowed for local installs */
    if (!at[1] || at[1] == '.' || at[1] == '-' || e[strlen(e) - 1] == '.'
        || e[strlen(e) - 1] == '-') {
        return sl_err_set(err, SL_EINVALID, "email", "Enter a valid email address.");
    }
    for (i = 1; at[i]; i++) {
        if (!email_domain_char((unsigned char)at[i])) {
            return sl_err_set(err, SL_EINVALID, "email",
                              "Enter a valid email address.");
        }
    }
    *out = e;
    return SL_OK;
}

static int username_char(unsigned char c)
{
    return c < 0x80 && (apr_isalnum(c) || c == '.' || c == '_' || c == '+'
                        || c == '-');
}

sl_kind_e sl_validate_username(const char *in, apr_size_t len, sl_err_t *err)
{
    apr_size_t i;

    if (!in || len == 0) {
        return sl_err_set(err, SL_EINVALID, "username", "This field is required.");
    }
    if (len > SL_USERNAME_MAX) {
        return sl_err_set(err, SL_EINVALID, "username",
                          "Use at most 150 characters for the username.");
    }
    for (i = 0; i < len; i++) {
        if (!username_char((unsigned char)in[i])) {
            return sl_err_set(err, SL_EINVALID, "username",
                              "Use only letters, digits and . _ + - in the username.");
        }
    }
    return SL_OK;
}

const char *sl_username_from_email(const char *email, apr_pool_t *p)
{
    const char *at = strchr(email, '@');
    apr_size_t n = at ? (apr_size_t)(at - email) : strlen(email);
    char *u = apr_palloc(p, n + 1), *d = u;
    apr_size_t i;

    for (i = 0; i < n && (apr_size_t)(d - u) < SL_USERNAME_MAX - 8; i++) {
        if (username_char((unsigned char)email[i])) {
            *d++ = email[i];
        }
    }
    *d = '\0';
    return *u ? u : "user";
}

sl_kind_e sl_validate_password(const char *pw, apr_size_t len, int min_len,
                               sl_err_t *err, apr_pool_t *p)
{
    long n;

    if (!pw || len == 0) {
        return sl_err_set(err, SL_EINVALID, "password", "This field is required.");
    }
    n = sl_utf8_count(pw, len);
    if (n < 0) {
        return sl_err_set(err, SL_EINVALID, "password",
                          "The password must be valid UTF-8 text without NUL characters.");
    }
    if (n < min_len) {
        return sl_err_set(err, SL_EINVALID, "password",
                          apr_psprintf(p, "This password is too short. It must "
                                       "contain at least %d characters.", min_len));
    }
    if (n > SL_PASSWORD_MAX) {
        return sl_err_set(err, SL_EINVALID, "password",
                          "Use a password of at most 128 characters.");
    }
    return SL_OK;
}

sl_kind_e sl_validate_name(const char *field, const char *in, apr_size_t len,
                           sl_err_t *err)
{
    long n = sl_utf8_count(in, len);

    if (n < 0) {
        return sl_err_set(err, SL_EINVALID, field,
                          "Use valid UTF-8 text without NUL characters.");
    }
    if (n > SL_NAME_MAX) {
        return sl_err_set(err, SL_EINVALID, field,
                          "Use at most 256 characters.");
    }
    if (sl_has_control(in)) {
        return sl_err_set(err, SL_EINVALID, field,
                          "Control characters are not allowed.");
    }
    return SL_OK;
}

/* bytes of the first n code points of valid UTF-8 s */
static apr_size_t utf8_prefix(const char *s, int n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    while (n > 0 && u[i]) {
        i++;
        while ((u[i] & 0xc0) == 0x80) {
            i++;
        }
        n--;
    }
    return i;
}

const char *sl_initials(const char *first, const char *last,
                        const char *email, apr_pool_t *p)
{
    int has_first = first && *first, has_last = last && *last;

    if (has_first && has_last) {
        return apr_pstrcat(p, apr_pstrmemdup(p, first, utf8_prefix(first, 1)),
                           apr_pstrmemdup(p, last, utf8_prefix(last, 1)), NULL);
    }
    if (has_first) {
        return apr_pstrmemdup(p, first, utf8_prefix(first, 1));
    }
    if (has_last) {
        return apr_pstrmemdup(p, last, utf8_prefix(last, 1));
    }
    return apr_pstrmemdup(p, email ? email : "", email ? utf8_prefix(email, 2) : 0);
}

static int next_shape_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] != '/' || u[1] == '/' || u[1] == '\\') {
        return 0;
    }
    for (; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return 0;
        }
    }
    /* a path on this server never carries a scheme: "/x:..." is fine only
     * when a '/' comes before the ':' ("/a/b:c"), never "/javascript:..." */
    {
        const char *colon = strchr(s + 1, ':');
        const char *slash = strchr(s + 1, '/');
        if (colon && (!slash || colon < slash)) {
            return 0;
        }
    }
    return 1;
}

int sl_next_is_safe(const char *next)
{
    char buf[2049];
    apr_size_t i, j;

    if (!next || strlen(next) >= sizeof(buf) || !next_shape_ok(next)) {
        return 0;
    }
    for (i = 0, j = 0; next[i]; i++, j++) {
        if (next[i] == '%' && apr_isxdigit(next[i + 1]) && apr_isxdigit(next[i + 2])) {
            char hex[3] = { next[i + 1], next[i + 2], '\0' };
            buf[j] = (char)strtol(hex, NULL, 16);
            i += 2;
            if (buf[j] == '\0') {
                return 0;
            }
        }
        else {
            buf[j] = next[i];
        }
    }
    buf[j] = '\0';
    return next_shape_ok(buf);
}
