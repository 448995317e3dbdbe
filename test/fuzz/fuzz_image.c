/* Image sniffing, header sizes and the libgd re-encode on hostile bytes
 * (a small pixel limit keeps each run fast). */
#include <apr_general.h>
#include <apr_pools.h>

#include "fuzz.h"
#include "sl_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    sl_image_t img;
    long w, h;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    sl_image_dimensions(sl_image_sniff(data, size), data, size, &w, &h);
    sl_image_reencode(&img, (const char *)data, size, 64, NULL, p);
    apr_pool_destroy(p);
    return 0;
}
