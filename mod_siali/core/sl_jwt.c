#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <jansson.h>
#include <jwt.h>

#include "sl_jwt.h"

/* how far ahead of our clock a signer's clock may be (iat in the future) */
#define SL_JWT_SKEW 30
#define SL_JWT_JTI_LEN 32

/* One sentence for every malformed, forged or not-yet-valid token: which
 * check failed would tell a forger how far they got. */
static const char msg_invalid[] = "Token is invalid or expired";

static int b64url_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '-' || ch == '_';
}

/* Exactly three non-empty segments of the base64url alphabet (no padding)
 * joined by two dots. Checked before libjwt sees the token: its decoder
 * skips characters outside the alphabet instead of refusing them. A segment
 * of 4k+1 characters encodes no whole byte, so it is no base64 at all. */
static int compact_shape(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;
    int segs = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (n == 0 || n % 4 == 1 || ++segs > 3) {
                return 0;
            }
            n = 0;
        }
        else if (!b64url_char((unsigned char)s[i])) {
            return 0;
        }
        else {
            n++;
        }
    }
    return segs == 3;
}

/* 32 lowercase hex digits, the shape sl_secret_hex(16) gives; len is the
 * JSON string's length, so an embedded NUL is refused, not cut short. */
static int is_jti(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (s == NULL || len != SL_JWT_JTI_LEN) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* A non-empty JSON string without an embedded NUL, or NULL. */
static const char *json_text(json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL || s[0] == '\0' || strlen(s) != json_string_length(v)) {
        return NULL;
    }
    return s;
}

const char *sl_jwt_sign(const sl_jwt_claims_t *c, const unsigned char *key, apr_size_t keylen,
                        apr_pool_t *p)
{
    jwt_t *jwt = NULL;
    json_t *claims = NULL;
    char *json = NULL, *tok = NULL;
    const char *res = NULL;

    /* never issue what sl_jwt_verify would refuse; an empty key would make
     * libjwt sign nothing at all */
    if (c == NULL || key == NULL || keylen == 0 || keylen > INT_MAX
        || c->token_type == NULL || c->token_type[0] == '\0' || c->user_id <= 0
        || c->jti == NULL || !is_jti(c->jti, strlen(c->jti))) {
        return NULL;
    }
    /* built with jansson rather than jwt_add_grant_int: that takes a long,
     * which is 32 bits on some platforms */
    if (c->pat && !is_jti(c->pat, strlen(c->pat))) {
        return NULL;
    }
    claims = json_pack("{s:s, s:I, s:I, s:I, s:s}", "token_type", c->token_type,
                       "user_id", (json_int_t)c->user_id, "iat", (json_int_t)c->iat,
                       "exp", (json_int_t)c->exp, "jti", c->jti);
    if (claims && c->pat) {
        json_object_set_new(claims, "pat", json_string(c->pat));
    }
    if (claims != NULL) {
        json = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (json != NULL && jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, json) == 0
        && jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) == 0) {
        tok = jwt_encode_str(jwt);
    }
    if (tok != NULL && strlen(tok) <= SL_JWT_MAX_LEN) {
        res = apr_pstrdup(p, tok);
    }
    free(tok);
    jwt_free(jwt);              /* scrubs its copy of the key */
    free(json);
    json_decref(claims);
    return res;
}

/* The claims of a decoded token, type-checked strictly into *c (strings
 * still owned by claims). 0 when one is missing or of the wrong type. */
static int read_claims(sl_jwt_claims_t *c, json_t *claims)
{
    json_t *type = json_object_get(claims, "token_type");
    json_t *uid = json_object_get(claims, "user_id");
    json_t *iat = json_object_get(claims, "iat");
    json_t *exp = json_object_get(claims, "exp");
    json_t *jti = json_object_get(claims, "jti");
    json_t *pat = json_object_get(claims, "pat");

    /* json_is_integer is false for 1.5 and "1": no coercion */
    if (!json_is_integer(uid) || !json_is_integer(iat) || !json_is_integer(exp)
        || !json_is_string(type) || !json_is_string(jti)) {
        return 0;
    }
    c->token_type = json_text(type);
    c->user_id = json_integer_value(uid);
    c->iat = json_integer_value(iat);
    c->exp = json_integer_value(exp);
    c->jti = json_string_value(jti);
    c->pat = NULL;
    if (pat) {
        if (!json_is_string(pat) || !is_jti(json_string_value(pat), json_string_length(pat))) {
            return 0;
        }
        c->pat = json_string_value(pat);
    }
    return c->token_type != NULL && c->user_id > 0
           && is_jti(c->jti, json_string_length(jti));
}

sl_kind_e sl_jwt_verify(sl_jwt_claims_t *out, const char *token, const char *want_type,
                        const unsigned char *key, apr_size_t keylen, apr_int64_t now,
                        sl_err_t *err, apr_pool_t *p)
{
    jwt_t *jwt = NULL;
    char *grants = NULL;
    json_t *claims = NULL;
    const char *alg, *msg = msg_invalid;
    sl_jwt_claims_t c;
    apr_size_t len;

    /* without a key libjwt accepts "alg":"none" tokens unsigned */
    if (out == NULL || token == NULL || key == NULL || keylen == 0 || keylen > INT_MAX) {
        return sl_err_set(err, SL_EDENIED, NULL, msg_invalid);
    }
    len = strnlen(token, SL_JWT_MAX_LEN + 1);
    if (len > SL_JWT_MAX_LEN || !compact_shape(token, len)) {
        return sl_err_set(err, SL_EDENIED, NULL, msg_invalid);
    }
    /* libjwt checks the signature with whatever algorithm the header names
     * (case-insensitively), so the algorithm is pinned here afterwards: its
     * enum and the header's exact spelling */
    if (jwt_decode(&jwt, token, key, (int)keylen) != 0 || jwt == NULL
        || jwt_get_alg(jwt) != JWT_ALG_HS256
        || (alg = jwt_get_header(jwt, "alg")) == NULL || strcmp(alg, "HS256") != 0) {
        goto done;
    }
    /* the whole payload back as JSON: jwt_get_grant_int would read 0 both
     * for a missing claim and for a string one */
    grants = jwt_get_grants_json(jwt, NULL);
    if (grants == NULL) {
        goto done;
    }
    claims = json_loads(grants, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(claims) || !read_claims(&c, claims)) {
        goto done;
    }
    if (c.exp <= now) {
        msg = "Token is expired";
        goto done;
    }
    /* written so that now + SKEW cannot overflow */
    if (now < APR_INT64_MAX - SL_JWT_SKEW && c.iat > now + SL_JWT_SKEW) {
        goto done;
    }
    if (want_type != NULL && strcmp(c.token_type, want_type) != 0) {
        msg = "Token has wrong type";
        goto done;
    }
    out->token_type = apr_pstrdup(p, c.token_type);
    out->user_id = c.user_id;
    out->iat = c.iat;
    out->exp = c.exp;
    out->jti = apr_pstrdup(p, c.jti);
    out->pat = c.pat ? apr_pstrdup(p, c.pat) : NULL;
    msg = NULL;

done:
    json_decref(claims);
    free(grants);
    jwt_free(jwt);
    if (msg != NULL) {
        return sl_err_set(err, SL_EDENIED, NULL, msg);
    }
    return SL_OK;
}

sl_kind_e sl_jwt_peek(sl_jwt_claims_t *out, const char *token, sl_err_t *err, apr_pool_t *p)
{
    apr_size_t len = token ? strnlen(token, SL_JWT_MAX_LEN + 1) : 0;
    const char *dot1, *dot2;
    char *b64, *raw, *c;
    json_t *claims;
    sl_jwt_claims_t got;
    int n, ok;

    if (len == 0 || len > SL_JWT_MAX_LEN || !compact_shape(token, len)) {
        return sl_err_set(err, SL_EDENIED, NULL, msg_invalid);
    }
    dot1 = strchr(token, '.');
    dot2 = strchr(dot1 + 1, '.');
    /* the payload in standard base64 with its padding, for APR's decoder */
    n = (int)(dot2 - dot1 - 1);
    b64 = apr_palloc(p, n + 4);
    memcpy(b64, dot1 + 1, n);
    for (c = b64; c < b64 + n; c++) {
        *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    }
    while (n % 4) {
        b64[n++] = '=';
    }
    b64[n] = '\0';
    raw = apr_palloc(p, apr_base64_decode_len(b64) + 1);
    n = apr_base64_decode(raw, b64);
    raw[n] = '\0';
    claims = json_loadb(raw, n, JSON_REJECT_DUPLICATES, NULL);
    ok = json_is_object(claims) && read_claims(&got, claims);
    if (ok) {
        *out = got;
        out->token_type = apr_pstrdup(p, got.token_type);
        out->jti = apr_pstrdup(p, got.jti);
        out->pat = got.pat ? apr_pstrdup(p, got.pat) : NULL;
    }
    json_decref(claims);
    return ok ? SL_OK : sl_err_set(err, SL_EDENIED, NULL, msg_invalid);
}

int sl_jwt_looks_like(const char *s)
{
    return s != NULL && strncmp(s, "eyJ", 3) == 0 && compact_shape(s, strlen(s));
}
