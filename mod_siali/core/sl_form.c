#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_form.h"
#include "sl_validate.h"

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* one component, decoded; NULL when it is not acceptable */
static char *decode(const char *s, apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hex(s[i + 1])) < 0 || (lo = hex(s[i + 2])) < 0) {
                return NULL;
            }
            *o = (char)(hi << 4 | lo);
            i += 2;
        }
        else {
            *o = s[i] == '+' ? ' ' : s[i];
        }
        if (*o == '\0') {
            return NULL;
        }
        o++;
    }
    *o = '\0';
    return sl_utf8_count(out, (apr_size_t)(o - out)) < 0 ? NULL : out;
}

sl_kind_e sl_form_parse(apr_table_t *out, const char *buf, apr_size_t len, int max_fields,
                        sl_err_t *err, apr_pool_t *p)
{
    const char *s = buf, *end = buf + len;
    int fields = 0;

    while (s < end) {
        const char *amp = memchr(s, '&', (apr_size_t)(end - s));
        const char *stop = amp ? amp : end, *eq;
        char *k, *v;

        if (++fields > max_fields) {
            return sl_err_set(err, SL_EINVALID, NULL, "Too many fields.");
        }
        eq = memchr(s, '=', (apr_size_t)(stop - s));
        k = decode(s, (apr_size_t)((eq ? eq : stop) - s), p);
        v = eq ? decode(eq + 1, (apr_size_t)(stop - eq - 1), p) : apr_pstrdup(p, "");
        if (!k || !v) {
            return sl_err_set(err, SL_EINVALID, NULL,
                              "The form is not valid urlencoded UTF-8.");
        }
        if (*k && !apr_table_get(out, k)) {
            apr_table_setn(out, k, v);
        }
        s = stop + 1;
    }
    return SL_OK;
}
