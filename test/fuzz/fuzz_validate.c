/* Every input rule on arbitrary bytes: UTF-8, emails, usernames,
 * passwords, names, initials, next=. */
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "sl_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *out, *s;
    size_t n;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    sl_utf8_count((const char *)data, size);
    s = apr_pstrmemdup(p, (const char *)data, size);   /* up to the first NUL */
    n = strlen(s);
    sl_validate_email(&out, s, n, NULL, p);
    sl_validate_username(s, n, NULL);
    sl_validate_password(s, n, 8, NULL, p);
    if (sl_utf8_count(s, n) >= 0) {
        sl_validate_name("first_name", s, n, NULL);
        sl_initials(s, s + n / 2, s, p);
    }
    sl_username_from_email(s, p);
    sl_next_is_safe(s);
    sl_has_control(s);
    apr_pool_destroy(p);
    return 0;
}
