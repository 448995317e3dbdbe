/* jansson tied to APR pools: every object handed out is released by a pool
 * cleanup, so no error path leaks a reference (mod_md's md_json idea). */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#include "sl_err.h"

#define SL_JSON_MAX_DEPTH 32

/* Registers json_decref(j) on p; returns j. */
json_t *sl_json_pool(json_t *j, apr_pool_t *p);

/* Strict decode: UTF-8 without NUL, no duplicate keys, at most
 * SL_JSON_MAX_DEPTH deep, one value. */
sl_kind_e sl_json_decode(json_t **out, const char *buf, apr_size_t len,
                         sl_err_t *err, apr_pool_t *p);

/* Compact text, allocated from p. */
const char *sl_json_dump(json_t *j, apr_pool_t *p);

/* json_string or json_null for NULL */
json_t *sl_json_str_or_null(const char *s);

#endif
