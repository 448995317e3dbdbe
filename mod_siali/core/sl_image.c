#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <gd.h>
#include <gd_errors.h>

#include "sl_image.h"
#include "sl_log.h"

sl_image_type_e sl_image_sniff(const unsigned char *d, apr_size_t n)
{
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
        return SL_IMG_PNG;
    }
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
        return SL_IMG_JPEG;
    }
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) {
        return SL_IMG_GIF;
    }
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) {
        return SL_IMG_WEBP;
    }
    return SL_IMG_NONE;
}

static long be16(const unsigned char *d)
{
    return ((long)d[0] << 8) | d[1];
}

static long be32(const unsigned char *d)
{
    return ((long)d[0] << 24) | ((long)d[1] << 16) | ((long)d[2] << 8) | d[3];
}

static int jpeg_dimensions(const unsigned char *d, apr_size_t n, long *w, long *h)
{
    apr_size_t i = 2;

    while (i + 4 <= n) {
        unsigned char m;
        long len;

        if (d[i] != 0xff) {
            return 0;
        }
        while (i < n && d[i] == 0xff) {
            i++;
        }
        if (i >= n) {
            return 0;
        }
        m = d[i++];
        if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
            continue;   /* markers without a length */
        }
        if (i + 2 > n) {
            return 0;
        }
        len = be16(d + i);
        if (len < 2) {
            return 0;
        }
        /* SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC) */
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (i + 7 > n) {
                return 0;
            }
            *h = be16(d + i + 3);
            *w = be16(d + i + 5);
            return 1;
        }
        i += len;
    }
    return 0;
}

static int webp_dimensions(const unsigned char *d, apr_size_t n, long *w, long *h)
{
    if (n < 30) {
        return 0;
    }
    if (!memcmp(d + 12, "VP8 ", 4)) {
        if (d[23] != 0x9d || d[24] != 0x01 || d[25] != 0x2a) {
            return 0;
        }
        *w = (d[26] | (d[27] << 8)) & 0x3fff;
        *h = (d[28] | (d[29] << 8)) & 0x3fff;
        return 1;
    }
    if (!memcmp(d + 12, "VP8L", 4)) {
        if (d[20] != 0x2f) {
            return 0;
        }
        *w = 1 + (((d[22] & 0x3f) << 8) | d[21]);
        *h = 1 + (((d[24] & 0x0f) << 10) | (d[23] << 2) | ((d[22] & 0xc0) >> 6));
        return 1;
    }
    if (!memcmp(d + 12, "VP8X", 4)) {
        *w = 1 + (d[24] | (d[25] << 8) | ((long)d[26] << 16));
        *h = 1 + (d[27] | (d[28] << 8) | ((long)d[29] << 16));
        return 1;
    }
    return 0;
}

int sl_image_dimensions(sl_image_type_e type, const unsigned char *d, apr_size_t n,
                        long *w, long *h)
{
    switch (type) {
    case SL_IMG_PNG:
        if (n < 24 || memcmp(d + 12, "IHDR", 4)) {
            return 0;
        }
        *w = be32(d + 16);
        *h = be32(d + 20);
        return 1;
    case SL_IMG_GIF:
        if (n < 10) {
            return 0;
        }
        *w = d[6] | (d[7] << 8);
        *h = d[8] | (d[9] << 8);
        return 1;
    case SL_IMG_JPEG:
        return jpeg_dimensions(d, n, w, h);
    case SL_IMG_WEBP:
        return webp_dimensions(d, n, w, h);
    default:
        return 0;
    }
}

/* libgd reports through stderr by default, which would land in httpd's
 * error log unformatted: route it to our log at debug level */
static void gd_to_log(int priority, const char *format, va_list args)
{
    char buf[512];

    vsnprintf(buf, sizeof(buf), format, args);
    SL_LOG(SL_LOG_DEBUG, "SL00501: libgd: %s", buf);
}

static gdImagePtr decode(sl_image_type_e type, const char *data, int len)
{
    switch (type) {
    case SL_IMG_PNG:
        return gdImageCreateFromPngPtr(len, (void *)data);
    case SL_IMG_JPEG:
        /* warnings (a truncated file) are failures here, not gray pixels */
        return gdImageCreateFromJpegPtrEx(len, (void *)data, 0);
    case SL_IMG_GIF:
        return gdImageCreateFromGifPtr(len, (void *)data);
    case SL_IMG_WEBP:
        return gdImageCreateFromWebpPtr(len, (void *)data);
    default:
        return NULL;
    }
}

sl_kind_e sl_image_reencode(sl_image_t *out, const char *data, apr_size_t len,
                            long max_px, sl_err_t *err, apr_pool_t *p)
{
    const unsigned char *d = (const unsigned char *)data;
    sl_image_type_e type = sl_image_sniff(d, len);
    long w = 0, h = 0;
    gdImagePtr im;
    void *enc;
    int size = 0;

    gdSetErrorMethod(gd_to_log);
    if (len == 0) {
        return sl_err_set(err, SL_EINVALID, "avatar", "The file is empty.");
    }
    if (type == SL_IMG_NONE) {
        return sl_err_set(err, SL_EINVALID, "avatar",
                          "Please use a PNG, JPEG, GIF or WebP image.");
    }
    if (!sl_image_dimensions(type, d, len, &w, &h) || w <= 0 || h <= 0) {
        return sl_err_set(err, SL_EINVALID, "avatar",
                          "The image is damaged or truncated: its size cannot be read.");
    }
    /* before any decoding: a header may claim 100000 x 100000 */
    if (w > max_px || h > max_px) {
        return sl_err_set(err, SL_EINVALID, "avatar",
                          apr_psprintf(p, "Please use an image that is %ld x %ld pixels "
                                       "or smaller.", max_px, max_px));
    }
    /* a GIF ends with its trailer; without it the file was cut short */
    if (type == SL_IMG_GIF && d[len - 1] != 0x3b) {
        return sl_err_set(err, SL_EINVALID, "avatar", "The image is damaged or truncated.");
    }
    if (len > 0x7fffffff || !(im = decode(type, data, (int)len))) {
        return sl_err_set(err, SL_EINVALID, "avatar",
                          "The image could not be decoded: it is damaged or truncated.");
    }
    if (gdImageSX(im) > max_px || gdImageSY(im) > max_px) {
        gdImageDestroy(im);
        return sl_err_set(err, SL_EINVALID, "avatar",
                          apr_psprintf(p, "Please use an image that is %ld x %ld pixels "
                                       "or smaller.", max_px, max_px));
    }
    out->width = gdImageSX(im);
    out->height = gdImageSY(im);
    if (type == SL_IMG_JPEG) {
        enc = gdImageJpegPtr(im, &size, 90);
        out->ext = "jpg";
        out->mime = "image/jpeg";
    }
    else {
        /* never through libgd's palette writer: a GIF whose pixel indices
         * pass its palette made it fail ("Wrote palette index exceeding
         * num_palette") and lose its row buffers, ~w*h bytes a picture
         * (libgd 2.3.3, Debian 12). As true colour every index reads one
         * of gd's 256 palette slots and the PNG writer has nothing to fail. */
        if (!gdImageTrueColor(im) && !gdImagePaletteToTrueColor(im)) {
            gdImageDestroy(im);
            return sl_err_set(err, SL_EINTERNAL, NULL, "The image could not be converted.");
        }
        gdImageSaveAlpha(im, 1);
        enc = gdImagePngPtr(im, &size);
        out->ext = "png";
        out->mime = "image/png";
    }
    gdImageDestroy(im);
    if (!enc || size <= 0) {
        if (enc) {
            gdFree(enc);
        }
        return sl_err_set(err, SL_EINTERNAL, NULL, "The image could not be encoded.");
    }
    out->data = apr_pmemdup(p, enc, size);
    out->len = (apr_size_t)size;
    gdFree(enc);
    return SL_OK;
}
