#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sl_json.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

json_t *sl_json_pool(json_t *j, apr_pool_t *p)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

/* jansson has no depth limit of its own below 2048: check the text first,
 * cheaply, counting brackets outside strings */
static int too_deep(const char *buf, apr_size_t len)
{
    int depth = 0, in_str = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            }
            else if (c == '"') {
                in_str = 0;
            }
        }
        else if (c == '"') {
            in_str = 1;
        }
        else if (c == '[' || c == '{') {
            if (++depth > SL_JSON_MAX_DEPTH) {
                return 1;
            }
        }
        else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

sl_kind_e sl_json_decode(json_t **out, const char *buf, apr_size_t len,
                         sl_err_t *err, apr_pool_t *p)
{
    json_error_t jerr;
    json_t *j;

    if (too_deep(buf, len)) {
        return sl_err_set(err, SL_EINVALID, NULL, "JSON nested too deeply.");
    }
    /* no JSON_ALLOW_NUL: a "\u0000" inside a string is refused */
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        return sl_err_set(err, SL_EINVALID, NULL,
                          apr_psprintf(p, "Invalid JSON: %s (line %d, column %d).",
                                       jerr.text, jerr.line, jerr.column));
    }
    *out = sl_json_pool(j, p);
    return SL_OK;
}

const char *sl_json_dump(json_t *j, apr_pool_t *p)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    const char *r;

    if (!s) {
        return "null";
    }
    r = apr_pstrdup(p, s);
    free(s);
    return r;
}

json_t *sl_json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}
