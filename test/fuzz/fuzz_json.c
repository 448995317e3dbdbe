/* Strict JSON decoding of request bodies. */
#include <apr_general.h>
#include <apr_pools.h>

#include "fuzz.h"
#include "sl_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    json_t *j;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    if (sl_json_decode(&j, (const char *)data, size, NULL, p) == SL_OK) {
        sl_json_dump(j, p);
    }
    apr_pool_destroy(p);
    return 0;
}
