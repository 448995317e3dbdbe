#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sl_secret.h"

apr_status_t sl_secret_random(unsigned char *buf, apr_size_t n)
{
    return apr_generate_random_bytes(buf, n);
}

static char *to_hex(const unsigned char *b, apr_size_t n, apr_pool_t *p)
{
    static const char digits[] = "0123456789abcdef";
    char *s = apr_palloc(p, 2 * n + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 0x0f];
    }
    s[2 * n] = '\0';
    return s;
}

apr_status_t sl_secret_hex(const char **out, apr_size_t nbytes, apr_pool_t *p)
{
    unsigned char buf[64];
    apr_status_t rv;

    if (nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    rv = sl_secret_random(buf, nbytes);
    if (rv == APR_SUCCESS) {
        *out = to_hex(buf, nbytes, p);
    }
    return rv;
}

apr_status_t sl_secret_b64url(const char **out, apr_size_t nbytes, apr_pool_t *p)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char buf[64];
    char *s, *d;
    apr_size_t i;
    apr_status_t rv;

    if (nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    rv = sl_secret_random(buf, nbytes);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    d = s = apr_palloc(p, (nbytes * 4) / 3 + 4);
    for (i = 0; i + 2 < nbytes; i += 3) {
        *d++ = alphabet[buf[i] >> 2];
        *d++ = alphabet[((buf[i] & 3) << 4) | (buf[i + 1] >> 4)];
        *d++ = alphabet[((buf[i + 1] & 15) << 2) | (buf[i + 2] >> 6)];
        *d++ = alphabet[buf[i + 2] & 63];
    }
    if (nbytes - i == 1) {
        *d++ = alphabet[buf[i] >> 2];
        *d++ = alphabet[(buf[i] & 3) << 4];
    }
    else if (nbytes - i == 2) {
        *d++ = alphabet[buf[i] >> 2];
        *d++ = alphabet[((buf[i] & 3) << 4) | (buf[i + 1] >> 4)];
        *d++ = alphabet[(buf[i + 1] & 15) << 2];
    }
    *d = '\0';
    *out = s;
    return APR_SUCCESS;
}

const char *sl_secret_sha256_hex_mem(const void *data, apr_size_t n, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL)) {
        return NULL;
    }
    return to_hex(md, len, p);
}

const char *sl_secret_sha256_hex(const char *s, apr_pool_t *p)
{
    return sl_secret_sha256_hex_mem(s, strlen(s), p);
}

int sl_secret_equal(const char *a, const char *b)
{
    size_t la, lb;

    if (!a || !b) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}
