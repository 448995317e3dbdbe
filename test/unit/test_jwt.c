/* sl_jwt: HS256 tokens signed and verified through libjwt, and every way a
 * token may be refused. Hand-made tokens are encoded with APR's base64 and
 * signed with OpenSSL's HMAC here, never with the code under test, so that
 * a test cannot agree with a bug. */
#include <stdio.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test_core.h"
#include "sl_jwt.h"

#define NOW ((apr_int64_t)1700000000)
#define JTI "0123456789abcdef0123456789abcdef"
#define INVALID "Token is invalid or expired"

static const unsigned char key[] = "k3y-of-the-tests-32-bytes-long!!";
#define KEYLEN (sizeof(key) - 1)
static const unsigned char other_key[] = "k3y-of-the-tests-32-bytes-long!?";

static sl_jwt_claims_t claims(const char *type)
{
    sl_jwt_claims_t c = { type, 42, NOW, NOW + 900, JTI };

    return c;
}

/* base64url without padding of len bytes */
static char *b64url(const void *data, apr_size_t len)
{
    char *s = apr_palloc(test_pool, apr_base64_encode_len((int)len));
    char *d, *e;

    apr_base64_encode(s, data, (int)len);
    for (d = e = s; *e; e++) {
        if (*e == '=') {
            continue;
        }
        *d++ = *e == '+' ? '-' : *e == '/' ? '_' : *e;
    }
    *d = '\0';
    return s;
}

static char *b64url_str(const char *s)
{
    return b64url(s, strlen(s));
}

/* "h.p." and, when md is not NULL, the HMAC of "h.p" with k appended:
 * the segments are taken as they are, however malformed */
static char *sign_segments(const char *h, const char *pl, const EVP_MD *md,
                           const unsigned char *k, apr_size_t klen)
{
    char *input = apr_pstrcat(test_pool, h, ".", pl, NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (md == NULL) {
        return apr_pstrcat(test_pool, input, ".", NULL);
    }
    ck_assert_ptr_nonnull(HMAC(md, k, (int)klen, (const unsigned char *)input, strlen(input),
                               mac, &maclen));
    return apr_pstrcat(test_pool, input, ".", b64url(mac, maclen), NULL);
}

/* a token of this header and payload (JSON texts), signed with the tests' key */
static char *forge(const char *header, const char *payload, const EVP_MD *md)
{
    return sign_segments(b64url_str(header), b64url_str(payload), md, key, KEYLEN);
}

#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const char *payload_of(const char *type, const char *uid, const char *iat,
                              const char *exp, const char *jti)
{
    return apr_psprintf(test_pool, "{\"token_type\":%s,\"user_id\":%s,\"iat\":%s,"
                        "\"exp\":%s,\"jti\":%s}", type, uid, iat, exp, jti);
}

static const char *good_payload(void)
{
    return payload_of("\"access\"", "42", "1700000000", "1700000900", "\"" JTI "\"");
}

static sl_kind_e verify(const char *tok, const char *want, sl_jwt_claims_t *out,
                        const char **msg)
{
    sl_err_t err = { SL_OK, NULL, NULL, NULL };
    sl_jwt_claims_t scratch;
    sl_kind_e k = sl_jwt_verify(out ? out : &scratch, tok, want, key, KEYLEN, NOW, &err,
                                test_pool);

    ck_assert_int_eq(k, err.kind);
    *msg = err.message;
    return k;
}

static void expect_ok(const char *tok)
{
    const char *msg = NULL;

    ck_assert_msg(verify(tok, "access", NULL, &msg) == SL_OK, "refused: %s (%s)", tok,
                  msg ? msg : "");
}

static void expect_refused(const char *tok, const char *message)
{
    const char *msg = NULL;

    ck_assert_msg(verify(tok, "access", NULL, &msg) == SL_EDENIED, "accepted: %s",
                  tok ? tok : "(null)");
    ck_assert_str_eq(msg, message);
}

static void expect_invalid(const char *tok)
{
    expect_refused(tok, INVALID);
}

/* ---- sign ---- */

START_TEST(test_jwt_round_trip)
{
    sl_jwt_claims_t c = claims("access"), out;
    const char *tok = sl_jwt_sign(&c, key, KEYLEN, test_pool), *msg = NULL, *dot;
    unsigned char head[256];
    json_t *h;
    int n;

    ck_assert_ptr_nonnull(tok);
    ck_assert_int_le(strlen(tok), SL_JWT_MAX_LEN);
    ck_assert_int_eq(sl_jwt_looks_like(tok), 1);
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(verify(tok, "access", &out, &msg), SL_OK);
    ck_assert_str_eq(out.token_type, "access");
    ck_assert_int_eq(out.user_id, 42);
    ck_assert_int_eq(out.iat, NOW);
    ck_assert_int_eq(out.exp, NOW + 900);
    ck_assert_str_eq(out.jti, JTI);
    ck_assert_ptr_ne(out.jti, c.jti);                      /* copied into the pool */
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(verify(tok, NULL, &out, &msg), SL_OK); /* any type */
    ck_assert_str_eq(out.token_type, "access");

    /* the header is exactly {"alg":"HS256","typ":"JWT"} */
    dot = strchr(tok, '.');
    ck_assert_ptr_nonnull(dot);
    {
        char *seg = apr_pstrmemdup(test_pool, tok, (apr_size_t)(dot - tok));
        char *q;

        for (q = seg; *q; q++) {
            *q = *q == '-' ? '+' : *q == '_' ? '/' : *q;
        }
        ck_assert_int_lt(apr_base64_decode_len(seg), (int)sizeof(head));
        n = apr_base64_decode_binary(head, seg);
    }
    h = json_loadb((const char *)head, (size_t)n, 0, NULL);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(json_object_size(h), 2);
    ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "HS256");
    ck_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
    json_decref(h);

    /* and a token made by hand the same way verifies: the forger below is sound */
    expect_ok(forge(HS256_HEADER, good_payload(), EVP_sha256()));
    expect_ok(forge("{\"alg\":\"HS256\"}", good_payload(), EVP_sha256()));
}
END_TEST

START_TEST(test_jwt_sign_refuses)
{
    sl_jwt_claims_t c = claims("access");

    ck_assert_ptr_null(sl_jwt_sign(NULL, key, KEYLEN, test_pool));
    ck_assert_ptr_null(sl_jwt_sign(&c, key, 0, test_pool));
    ck_assert_ptr_null(sl_jwt_sign(&c, NULL, KEYLEN, test_pool));
    c = claims(NULL);
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c = claims("");
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c = claims("access");
    c.user_id = 0;
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c = claims("access");
    c.jti = "0123456789ABCDEF0123456789abcdef";
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c.jti = "0123456789abcdef";
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c.jti = NULL;
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    /* nothing verify would refuse for its length */
    c = claims(apr_pstrcat(test_pool, "x", apr_psprintf(test_pool, "%2000d", 1), NULL));
    ck_assert_ptr_null(sl_jwt_sign(&c, key, KEYLEN, test_pool));
}
END_TEST

/* ---- times and type ---- */

START_TEST(test_jwt_expired)
{
    sl_jwt_claims_t c = claims("access");

    c.exp = NOW;                                /* exp must be after now */
    expect_refused(sl_jwt_sign(&c, key, KEYLEN, test_pool), "Token is expired");
    c.exp = NOW - 3600;
    expect_refused(sl_jwt_sign(&c, key, KEYLEN, test_pool), "Token is expired");
    c.exp = NOW + 1;
    expect_ok(sl_jwt_sign(&c, key, KEYLEN, test_pool));
}
END_TEST

START_TEST(test_jwt_not_yet_valid)
{
    sl_jwt_claims_t c = claims("access");

    c.iat = NOW + 30;                           /* within the clock skew */
    c.exp = NOW + 3600;
    expect_ok(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c.iat = NOW + 31;
    expect_invalid(sl_jwt_sign(&c, key, KEYLEN, test_pool));
    c.iat = NOW + 86400;
    c.exp = NOW + 2 * 86400;
    expect_invalid(sl_jwt_sign(&c, key, KEYLEN, test_pool));
}
END_TEST

START_TEST(test_jwt_wrong_type)
{
    sl_jwt_claims_t c = claims("refresh");
    const char *tok = sl_jwt_sign(&c, key, KEYLEN, test_pool), *msg = NULL;

    expect_refused(tok, "Token has wrong type");
    ck_assert_int_eq(verify(tok, "refresh", NULL, &msg), SL_OK);
    ck_assert_int_eq(verify(tok, NULL, NULL, &msg), SL_OK);
    ck_assert_int_eq(verify(tok, "refreshx", NULL, &msg), SL_EDENIED);
    ck_assert_str_eq(msg, "Token has wrong type");
    ck_assert_int_eq(verify(tok, "", NULL, &msg), SL_EDENIED);
    ck_assert_str_eq(msg, "Token has wrong type");
}
END_TEST

/* ---- signature and algorithm ---- */

START_TEST(test_jwt_wrong_key)
{
    sl_jwt_claims_t c = claims("access"), out;
    const char *tok = sl_jwt_sign(&c, key, KEYLEN, test_pool);
    sl_err_t err;

    ck_assert_ptr_nonnull(tok);
    ck_assert_int_eq(sl_jwt_verify(&out, tok, "access", other_key, KEYLEN, NOW, &err,
                                   test_pool), SL_EDENIED);
    ck_assert_str_eq(err.message, INVALID);
    ck_assert_int_eq(sl_jwt_verify(&out, tok, "access", key, KEYLEN - 1, NOW, &err,
                                   test_pool), SL_EDENIED);
    ck_assert_str_eq(err.message, INVALID);
    /* an empty key is no key: libjwt would then take an unsigned token */
    ck_assert_int_eq(sl_jwt_verify(&out, tok, "access", key, 0, NOW, &err, test_pool),
                     SL_EDENIED);
    ck_assert_int_eq(sl_jwt_verify(&out, tok, "access", NULL, KEYLEN, NOW, &err, test_pool),
                     SL_EDENIED);
    ck_assert_str_eq(err.message, INVALID);
    /* a token signed by hand with another key */
    expect_invalid(sign_segments(b64url_str(HS256_HEADER), b64url_str(good_payload()),
                                 EVP_sha256(), other_key, KEYLEN));
    /* a NULL err is allowed */
    ck_assert_int_eq(sl_jwt_verify(&out, tok, "access", other_key, KEYLEN, NOW, NULL,
                                   test_pool), SL_EDENIED);
}
END_TEST

START_TEST(test_jwt_alg_none)
{
    const char *h = b64url_str("{\"alg\":\"none\"}");

    /* the classic unsigned token: header, payload, empty signature */
    ck_assert_str_eq(h, "eyJhbGciOiJub25lIn0");
    expect_invalid(apr_pstrcat(test_pool, h, ".", b64url_str(good_payload()), ".", NULL));
    expect_invalid(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", good_payload(), NULL));
    /* and with something in the signature's place, even a correct HMAC */
    expect_invalid(forge("{\"alg\":\"none\"}", good_payload(), EVP_sha256()));
    expect_invalid(forge("{\"alg\":\"None\"}", good_payload(), EVP_sha256()));
    expect_invalid(forge("{\"alg\":\"NONE\",\"typ\":\"JWT\"}", good_payload(), EVP_sha256()));
    expect_invalid(apr_pstrcat(test_pool, h, ".", b64url_str(good_payload()), ".AAAA",
                               NULL));
}
END_TEST

START_TEST(test_jwt_alg_other)
{
    static const char *const algs[] = {
        "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
        "PS256", "EdDSA", "hs256", "Hs256", "HS256 ", "", "HS2560"
    };
    const EVP_MD *mds[3];
    apr_size_t i, j;

    mds[0] = EVP_sha256();
    mds[1] = EVP_sha384();
    mds[2] = EVP_sha512();
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const char *h = apr_psprintf(test_pool, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]);

        /* unsigned, and signed with our key by each HMAC: libjwt itself would
         * take the HS512 one and the "hs256" one */
        expect_invalid(forge(h, good_payload(), NULL));
        for (j = 0; j < 3; j++) {
            expect_invalid(forge(h, good_payload(), mds[j]));
        }
    }
}
END_TEST

START_TEST(test_jwt_header_without_alg)
{
    static const char *const headers[] = {
        "{\"typ\":\"JWT\"}", "{}", "{\"alg\":null}", "{\"alg\":256}", "{\"alg\":[\"HS256\"]}",
        "{\"alg\":true}", "[\"HS256\"]", "\"HS256\"", "null", "{\"alg\":\"HS256\""
    };
    apr_size_t i;

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        expect_invalid(forge(headers[i], good_payload(), EVP_sha256()));
    }
}
END_TEST

/* ---- shape ---- */

START_TEST(test_jwt_truncated)
{
    sl_jwt_claims_t c = claims("access");
    const char *tok = sl_jwt_sign(&c, key, KEYLEN, test_pool);
    apr_size_t len, n;

    ck_assert_ptr_nonnull(tok);
    len = strlen(tok);
    for (n = 0; n < len; n++) {
        expect_invalid(apr_pstrmemdup(test_pool, tok, n));
    }
    expect_ok(apr_pstrmemdup(test_pool, tok, len));
    expect_invalid(NULL);
}
END_TEST

/* any one character changed, in any segment, is refused */
START_TEST(test_jwt_flipped)
{
    sl_jwt_claims_t c = claims("access");
    const char *tok = sl_jwt_sign(&c, key, KEYLEN, test_pool);
    const char *sig;
    apr_size_t len, i;
    int flipped_payload = 0, flipped_sig = 0;

    ck_assert_ptr_nonnull(tok);
    len = strlen(tok);
    sig = strrchr(tok, '.');
    for (i = 0; i < len; i++) {
        char *t = apr_pstrdup(test_pool, tok);

        if (t[i] == '.') {
            continue;
        }
        /* another letter of the alphabet. At the end of a segment that may
         * decode to the same bytes (unused low bits): still refused, as the
         * HMAC covers the text and the signature is compared as text */
        t[i] = t[i] == 'A' ? 'B' : t[i] == 'B' ? 'A' : 'A';
        expect_invalid(t);
        if (tok + i > sig) {
            flipped_sig++;
        }
        else if (memchr(tok, '.', i) != NULL) {
            flipped_payload++;
        }
    }
    ck_assert_int_eq(flipped_sig, 43);              /* 32 bytes of HMAC-SHA256 */
    ck_assert_int_gt(flipped_payload, 100);
}
END_TEST

START_TEST(test_jwt_bad_base64)
{
    const char *h = b64url_str(HS256_HEADER), *pl = b64url_str(good_payload());
    static const char *const bad[] = { "+", "/", "=", " ", "\n", "!", "%", "\xc3\xa9", "*" };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* appended to or inserted in the header, the payload, the signature,
         * and correctly signed, so that only the alphabet is wrong */
        const char *h2 = apr_pstrcat(test_pool, h, bad[i], NULL);
        const char *p2 = apr_pstrcat(test_pool, apr_pstrmemdup(test_pool, pl, 8), bad[i],
                                     pl + 8, NULL);
        const char *ok = forge(HS256_HEADER, good_payload(), EVP_sha256());

        expect_invalid(sign_segments(h2, pl, EVP_sha256(), key, KEYLEN));
        expect_invalid(sign_segments(h, p2, EVP_sha256(), key, KEYLEN));
        expect_invalid(apr_pstrcat(test_pool, ok, bad[i], NULL));
        expect_invalid(apr_pstrcat(test_pool, bad[i], ok, NULL));
    }
    /* standard base64 (with padding) is not base64url */
    expect_invalid(sign_segments(apr_pstrcat(test_pool, h, "=", NULL), pl, EVP_sha256(), key,
                                 KEYLEN));
    /* a segment of 4k+1 characters encodes no whole byte */
    expect_invalid(sign_segments(h, apr_pstrcat(test_pool, pl, "A", NULL), EVP_sha256(), key,
                                 KEYLEN));
}
END_TEST

START_TEST(test_jwt_segments)
{
    const char *ok = forge(HS256_HEADER, good_payload(), EVP_sha256());
    const char *h = b64url_str(HS256_HEADER), *pl = b64url_str(good_payload());

    expect_ok(ok);
    expect_invalid(apr_pstrcat(test_pool, ok, ".", NULL));
    expect_invalid(apr_pstrcat(test_pool, ok, ".AAAA", NULL));
    expect_invalid(apr_pstrcat(test_pool, ok, ".", ok, NULL));
    expect_invalid(apr_pstrcat(test_pool, ".", ok, NULL));
    /* four segments, signed as if the first three were the signed part */
    expect_invalid(sign_segments(apr_pstrcat(test_pool, h, ".", pl, NULL), pl, EVP_sha256(),
                                 key, KEYLEN));
    expect_invalid(apr_pstrcat(test_pool, h, ".", pl, NULL));
    expect_invalid(apr_pstrcat(test_pool, h, "..", NULL));
    expect_invalid(sign_segments(h, "", EVP_sha256(), key, KEYLEN));
    expect_invalid(sign_segments("", pl, EVP_sha256(), key, KEYLEN));
    expect_invalid("..");
    expect_invalid("");
}
END_TEST

START_TEST(test_jwt_huge)
{
    apr_size_t n;
    int below = 0, above = 0;
    char *big;

    /* validly signed tokens around the limit: the length alone decides */
    for (n = 1300; n < 1600; n++) {
        char *pad = apr_palloc(test_pool, n + 1);
        const char *pl, *tok;

        memset(pad, 'x', n);
        pad[n] = '\0';
        pl = apr_psprintf(test_pool, "{\"token_type\":\"access\",\"user_id\":42,"
                          "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"" JTI "\","
                          "\"pad\":\"%s\"}", pad);
        tok = forge(HS256_HEADER, pl, EVP_sha256());
        if (strlen(tok) <= SL_JWT_MAX_LEN) {
            expect_ok(tok);
            below++;
        }
        else {
            expect_invalid(tok);
            above++;
        }
    }
    ck_assert_int_gt(below, 0);
    ck_assert_int_gt(above, 0);
    /* a megabyte of something JWT-shaped */
    big = apr_palloc(test_pool, 1024 * 1024 + 1);
    memset(big, 'A', 1024 * 1024);
    big[1024 * 1024] = '\0';
    memcpy(big, "eyJhbGciOiJIUzI1NiJ9.", 21);
    big[512 * 1024] = '.';
    expect_invalid(big);
}
END_TEST

/* ---- claims ---- */

START_TEST(test_jwt_claim_types)
{
    const char *const type = "\"access\"", *const jti = "\"" JTI "\"";
    const char *const payloads[] = {
        /* user_id */
        payload_of(type, "\"42\"", "1700000000", "1700000900", jti),
        payload_of(type, "42.0", "1700000000", "1700000900", jti),
        payload_of(type, "0", "1700000000", "1700000900", jti),
        payload_of(type, "-42", "1700000000", "1700000900", jti),
        payload_of(type, "true", "1700000000", "1700000900", jti),
        payload_of(type, "null", "1700000000", "1700000900", jti),
        payload_of(type, "[42]", "1700000000", "1700000900", jti),
        /* exp and iat */
        payload_of(type, "42", "1700000000", "1700000900.0", jti),
        payload_of(type, "42", "1700000000", "1.7000009e9", jti),
        payload_of(type, "42", "1700000000", "\"1700000900\"", jti),
        payload_of(type, "42", "1700000000", "null", jti),
        payload_of(type, "42", "\"1700000000\"", "1700000900", jti),
        payload_of(type, "42", "1700000000.5", "1700000900", jti),
        payload_of(type, "42", "false", "1700000900", jti),
        /* jti */
        payload_of(type, "42", "1700000000", "1700000900", "null"),
        payload_of(type, "42", "1700000000", "1700000900", "12345"),
        payload_of(type, "42", "1700000000", "1700000900", "\"0123456789abcdef\""),
        payload_of(type, "42", "1700000000", "1700000900",
                   "\"0123456789abcdef0123456789abcde\""),
        payload_of(type, "42", "1700000000", "1700000900",
                   "\"0123456789abcdef0123456789abcdef0\""),
        payload_of(type, "42", "1700000000", "1700000900",
                   "\"0123456789ABCDEF0123456789abcdef\""),
        payload_of(type, "42", "1700000000", "1700000900",
                   "\"0123456789abcdef0123456789abcdeg\""),
        payload_of(type, "42", "1700000000", "1700000900",
                   "\"0123456789abcdef0123456789abcd\\u0000e\""),
        /* token_type */
        payload_of("1", "42", "1700000000", "1700000900", jti),
        payload_of("null", "42", "1700000000", "1700000900", jti),
        payload_of("\"\"", "42", "1700000000", "1700000900", jti),
        payload_of("[\"access\"]", "42", "1700000000", "1700000900", jti),
        payload_of("\"access\\u0000\"", "42", "1700000000", "1700000900", jti),
        /* missing claims */
        "{\"token_type\":\"access\",\"user_id\":42,\"iat\":1700000000,\"exp\":1700000900}",
        "{\"token_type\":\"access\",\"user_id\":42,\"iat\":1700000000,\"jti\":\"" JTI "\"}",
        "{\"token_type\":\"access\",\"user_id\":42,\"exp\":1700000900,\"jti\":\"" JTI "\"}",
        "{\"token_type\":\"access\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"" JTI "\"}",
        "{\"user_id\":42,\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"" JTI "\"}",
        /* not an object at all */
        "{}", "[]", "[1,2,3]", "42", "\"access\"", "null", "not json",
        "{\"token_type\":\"access\",\"user_id\":42,\"iat\":1700000000,\"exp\":1700000900,"
        "\"jti\":\"" JTI "\"} trailing"
    };
    apr_size_t i;

    /* the same shape with good values passes: each failure is the one value */
    expect_ok(forge(HS256_HEADER, payload_of(type, "42", "1700000000", "1700000900", jti),
                    EVP_sha256()));
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        expect_invalid(forge(HS256_HEADER, payloads[i], EVP_sha256()));
    }
    /* extra claims are fine; a big user_id is still an integer */
    expect_ok(forge(HS256_HEADER, "{\"token_type\":\"access\",\"user_id\":9007199254740993,"
                    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"" JTI "\",\"x\":[1]}",
                    EVP_sha256()));
}
END_TEST

/* ---- looks_like ---- */

START_TEST(test_jwt_looks_like)
{
    sl_jwt_claims_t c = claims("access");
    static const char *const no[] = {
        "", "eyJ", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ",
        "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.", "eyJhbGciOiJIUzI1NiJ9..c2ln",
        ".eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln", "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln.",
        "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln.c2ln", "abJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln",
        "EYJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln", "eyJhbGciOiJIUzI1NiJ9.eyJ4I+oxfQ.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2l/", "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ==.c2ln",
        "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln ", " eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln",
        "0123456789abcdef0123456789abcdef01234567", "siali_0123456789abcdef",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"
    };
    apr_size_t i;

    ck_assert_int_eq(sl_jwt_looks_like(sl_jwt_sign(&c, key, KEYLEN, test_pool)), 1);
    ck_assert_int_eq(sl_jwt_looks_like(forge("{\"alg\":\"RS256\"}", "{}", EVP_sha256())), 1);
    ck_assert_int_eq(sl_jwt_looks_like("eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"), 1);
    ck_assert_int_eq(sl_jwt_looks_like("eyJh.eyJ4.c2-_"), 1);
    ck_assert_int_eq(sl_jwt_looks_like(NULL), 0);
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(sl_jwt_looks_like(no[i]) == 0, "looks like a JWT: '%s'", no[i]);
    }
}
END_TEST

Suite *test_jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("sl_jwt");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_jwt_round_trip);
    tcase_add_test(tc, test_jwt_sign_refuses);
    tcase_add_test(tc, test_jwt_expired);
    tcase_add_test(tc, test_jwt_not_yet_valid);
    tcase_add_test(tc, test_jwt_wrong_type);
    tcase_add_test(tc, test_jwt_wrong_key);
    tcase_add_test(tc, test_jwt_alg_none);
    tcase_add_test(tc, test_jwt_alg_other);
    tcase_add_test(tc, test_jwt_header_without_alg);
    tcase_add_test(tc, test_jwt_truncated);
    tcase_add_test(tc, test_jwt_flipped);
    tcase_add_test(tc, test_jwt_bad_base64);
    tcase_add_test(tc, test_jwt_segments);
    tcase_add_test(tc, test_jwt_huge);
    tcase_add_test(tc, test_jwt_claim_types);
    tcase_add_test(tc, test_jwt_looks_like);
    suite_add_tcase(s, tc);
    return s;
}
