/* application/x-www-form-urlencoded: the login and signup forms, and every
 * query string. Hostile input: fuzzed (test/fuzz/fuzz_form.c). */
#ifndef SL_FORM_H
#define SL_FORM_H

#include <apr_tables.h>

#include "sl_err.h"

#define SL_FORM_MAX_FIELDS 64

/* Decodes buf into out ('+' is a space, %XX a byte). SL_EINVALID for a
 * malformed escape, a NUL (raw or %00: apr_dbd would cut a value there),
 * invalid UTF-8, or more than max_fields fields; out is then unchanged in
 * meaning (the caller refuses the request). The first value of a repeated
 * name counts; a field without a name is skipped. */
sl_kind_e sl_form_parse(apr_table_t *out, const char *buf, apr_size_t len, int max_fields,
                        sl_err_t *err, apr_pool_t *p);

#endif
