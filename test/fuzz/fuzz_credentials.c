/* The credential headers on arbitrary bytes: the first half as the
 * Authorization value, the rest as X-Api-Key (or absent when empty). A key
 * accepted is printable ASCII of 1 to SL_JWT_MAX_LEN (2048) bytes, and never taken from two
 * headers at once. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "sl_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *authz, *xkey, *key;
    const unsigned char *c;
    int present = -1;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    authz = apr_pstrmemdup(p, (const char *)data, size / 2);
    xkey = size - size / 2 > 1 ? apr_pstrmemdup(p, (const char *)data + size / 2,
                                                size - size / 2 - 1) : NULL;
    key = sl_auth_token_key(size % 2 ? NULL : authz, xkey, &present);
    if (present != 0 && present != 1) {
        abort();
    }
    if (key) {
        if (!present || !*key || strlen(key) > 2048) {
            abort();
        }
        for (c = (const unsigned char *)key; *c; c++) {
            if (*c <= 0x20 || *c >= 0x7f) {
                abort();
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
