/* multipart/form-data (RFC 7578), bounded. Written by hand: Debian has no
 * maintained C library for it. Data arrives in any split (feed), parts are
 * known as soon as they are complete, and the limits (body, parts, header
 * bytes) are checked while feeding, so a hostile body is refused early. */
#ifndef SL_MULTIPART_H
#define SL_MULTIPART_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "sl_err.h"

typedef struct {
    const char *name;          /* form field name */
    const char *filename;      /* NULL when not a file */
    const char *content_type;  /* as declared (never trusted) or NULL */
    const char *data;          /* points into the parser's buffer */
    apr_size_t len;
} sl_multipart_part_t;

typedef struct sl_multipart_t sl_multipart_t;

/* content_type is the request's header ("multipart/form-data;
 * boundary=..."). SL_EINVALID when it is not multipart or has no usable
 * boundary. */
sl_kind_e sl_multipart_create(sl_multipart_t **mp, const char *content_type,
                              apr_size_t max_body, int max_parts,
                              apr_size_t max_header, sl_err_t *err, apr_pool_t *p);

/* SL_ETOOLARGE past max_body; SL_EINVALID for a malformed body, too many
 * parts or a part header over max_header. */
sl_kind_e sl_multipart_feed(sl_multipart_t *mp, const char *buf, apr_size_t len,
                            sl_err_t *err);

/* The parts, once the closing boundary was seen (SL_EINVALID otherwise). */
sl_kind_e sl_multipart_finish(sl_multipart_t *mp, apr_array_header_t **parts,
                              sl_err_t *err);

/* How many bytes the delimiter and header searches looked at so far: at
 * most a few times the bytes fed, however they were split. */
apr_size_t sl_multipart_examined(const sl_multipart_t *mp);

/* The first part named `name`, or NULL. */
const sl_multipart_part_t *sl_multipart_get(apr_array_header_t *parts, const char *name);

#endif
