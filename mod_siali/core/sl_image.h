/* Avatar images: recognised by their bytes (never a name or a declared
 * type), sized from the header before anything is decoded, then decoded
 * and re-encoded by libgd so that only pixels are ever stored or served. */
#ifndef SL_IMAGE_H
#define SL_IMAGE_H

#include <apr_pools.h>

#include "sl_err.h"

typedef enum {
    SL_IMG_NONE = 0, SL_IMG_PNG, SL_IMG_JPEG, SL_IMG_GIF, SL_IMG_WEBP
} sl_image_type_e;

sl_image_type_e sl_image_sniff(const unsigned char *d, apr_size_t n);

/* Width and height from the header; 0 when the header is not there whole. */
int sl_image_dimensions(sl_image_type_e type, const unsigned char *d, apr_size_t n,
                        long *w, long *h);

typedef struct {
    const char *data;          /* the re-encoded image */
    apr_size_t len;
    const char *ext;           /* "png" or "jpg" */
    const char *mime;          /* "image/png" or "image/jpeg" */
    long width, height;
} sl_image_t;

/* SL_EINVALID with a sentence for the person uploading: not an image we
 * take, too many pixels (max_px per side), damaged or truncated. */
sl_kind_e sl_image_reencode(sl_image_t *out, const char *data, apr_size_t len,
                            long max_px, sl_err_t *err, apr_pool_t *p);

#endif
