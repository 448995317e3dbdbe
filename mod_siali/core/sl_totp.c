#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_escape.h>
#include <apr_strings.h>
#include <liboath/oath.h>
#include <qrencode.h>

#include "sl_secret.h"
#include "sl_totp.h"

/* liboath keeps no state worth freeing; oath_init only checks the
 * library's own crypto backend. Called once per process before threads
 * (sl_totp_init, from child_init); the lazy call is for the CLI and tests,
 * which have one thread. */
static int ready;

void sl_totp_init(void)
{
    ready = oath_init() == OATH_OK ? 1 : -1;
}

static int lib_ready(void)
{
    if (!ready) {
        sl_totp_init();
    }
    return ready == 1;
}

static const char *b32(const unsigned char *raw, apr_size_t n, apr_pool_t *p)
{
    char *out = NULL, *copy;
    size_t len = 0;

    if (oath_base32_encode((const char *)raw, n, &out, &len) != OATH_OK) {
        return NULL;
    }
    copy = apr_pstrmemdup(p, out, len);
    free(out);
    /* the padding is no use to a person typing it */
    for (len = strlen(copy); len && copy[len - 1] == '='; len--) {
        copy[len - 1] = '\0';
    }
    return copy;
}

int sl_totp_new_secret(const char **raw, const char **base32, apr_pool_t *p)
{
    unsigned char *buf = apr_palloc(p, SL_TOTP_SECRET_BYTES);

    if (sl_secret_random(buf, SL_TOTP_SECRET_BYTES) != APR_SUCCESS
        || !(*base32 = b32(buf, SL_TOTP_SECRET_BYTES, p))) {
        return APR_EGENERAL;
    }
    *raw = (const char *)buf;
    return APR_SUCCESS;
}

int sl_totp_decode(const char **raw, apr_size_t *len, const char *base32, apr_pool_t *p)
{
    char *clean = apr_palloc(p, strlen(base32) + 9), *out = NULL;
    size_t n = 0, outlen = 0;
    const char *c;

    for (c = base32; *c; c++) {
        if (*c != ' ' && *c != '=' && *c != '-') {
            clean[n++] = (char)apr_toupper(*c);
        }
    }
    if (!n) {
        return 0;
    }
    while (n % 8) {
        clean[n++] = '=';   /* liboath wants whole blocks */
    }
    clean[n] = '\0';
    if (oath_base32_decode(clean, n, &out, &outlen) != OATH_OK) {
        return 0;
    }
    *raw = apr_pmemdup(p, out, outlen);
    *len = outlen;
    free(out);
    return 1;
}

const char *sl_totp_code(const char *raw, apr_size_t len, apr_int64_t t, int digits,
                         apr_pool_t *p)
{
    char out[16];

    if (!lib_ready() || (digits != 6 && digits != 8)
        || oath_totp_generate(raw, len, (time_t)t, SL_TOTP_STEP, 0, (unsigned)digits, out)
           != OATH_OK) {
        return NULL;
    }
    return apr_pstrdup(p, out);
}

/* liboath's comparison asks "differs?": ours answers in constant time */
static int same_code(void *handle, const char *test)
{
    return !sl_secret_equal(handle, test);
}

int sl_totp_check(const char *raw, apr_size_t len, const char *code, apr_int64_t now,
                  apr_int64_t last_step, apr_int64_t *step)
{
    uint64_t counter = 0;
    int pos = 0, rc;
    apr_size_t i;

    if (!lib_ready() || !code || strlen(code) != SL_TOTP_DIGITS) {
        return 0;
    }
    for (i = 0; i < SL_TOTP_DIGITS; i++) {
        if (!apr_isdigit(code[i])) {
            return 0;
        }
    }
    rc = oath_totp_validate3_callback(raw, len, (time_t)now, SL_TOTP_STEP, 0, SL_TOTP_DIGITS,
                                      1, &pos, &counter, same_code, (void *)code);
    if (rc < 0 || (apr_int64_t)counter <= last_step) {
        return 0;
    }
    *step = (apr_int64_t)counter;
    return 1;
}

/* URL-encoded with a space as %20: the label is a path, where '+' is a
 * plus (apps show "Siali+Label" otherwise) */
static const char *pct(const char *s, apr_pool_t *p)
{
    const char *e = apr_pescape_urlencoded(p, s);
    char *out = apr_palloc(p, 3 * strlen(e) + 1), *o = out;

    for (; *e; e++) {
        if (*e == '+') {
            memcpy(o, "%20", 3);
            o += 3;
        }
        else {
            *o++ = *e;
        }
    }
    *o = '\0';
    return out;
}

const char *sl_totp_uri(const char *issuer, const char *account, const char *base32,
                        apr_pool_t *p)
{
    const char *is = pct(issuer, p);

    return apr_psprintf(p, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
                        "&digits=%d&period=%d", is, pct(account, p),
                        base32, is, SL_TOTP_DIGITS, SL_TOTP_STEP);
}

const char *sl_totp_qr_svg(const char *text, apr_pool_t *p)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    char *path, *at;
    int x, y, w;
    const char *svg;

    if (!qr) {
        return NULL;
    }
    w = qr->width;
    /* "M%d %dh1v1h-1z" is at most 16 bytes for a module (w <= 177) */
    at = path = apr_palloc(p, (apr_size_t)w * w * 16 + 1);
    *at = '\0';
    for (y = 0; y < w; y++) {
        for (x = 0; x < w; x++) {
            if (qr->data[y * w + x] & 1) {
                at += sprintf(at, "M%d %dh1v1h-1z", x + 4, y + 4);
            }
        }
    }
    svg = apr_psprintf(p, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                       "shape-rendering=\"crispEdges\"><rect width=\"100%%\" height=\"100%%\" "
                       "fill=\"#fff\"/><path fill=\"#000\" d=\"%s\"/></svg>", w + 8, w + 8, path);
    QRcode_free(qr);
    return svg;
}

const char *sl_totp_recovery_hash(const char *typed, apr_pool_t *p)
{
    char *clean = apr_palloc(p, strlen(typed) + 1);
    apr_size_t n = 0;

    for (; *typed; typed++) {
        if (*typed != ' ' && *typed != '-') {
            clean[n++] = (char)apr_tolower(*typed);
        }
    }
    clean[n] = '\0';
    return sl_secret_sha256_hex(clean, p);
}

int sl_totp_recovery_codes(apr_array_header_t **codes, apr_array_header_t **hashes,
                           apr_pool_t *p)
{
    int i;

    *codes = apr_array_make(p, SL_TOTP_RECOVERY_CODES, sizeof(const char *));
    *hashes = apr_array_make(p, SL_TOTP_RECOVERY_CODES, sizeof(const char *));
    for (i = 0; i < SL_TOTP_RECOVERY_CODES; i++) {
        unsigned char raw[7];
        const char *s;
        char *code;

        /* 7 bytes: 12 base32 characters, of which 10 are kept (50 bits) */
        if (sl_secret_random(raw, sizeof(raw)) != APR_SUCCESS || !(s = b32(raw, 7, p))) {
            return APR_EGENERAL;
        }
        code = apr_psprintf(p, "%.5s-%.5s", s, s + 5);
        for (char *c = code; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
        APR_ARRAY_PUSH(*codes, const char *) = code;
        APR_ARRAY_PUSH(*hashes, const char *) = sl_totp_recovery_hash(code, p);
    }
    return APR_SUCCESS;
}
