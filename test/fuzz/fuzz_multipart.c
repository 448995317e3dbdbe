/* The multipart parser on hostile bodies, fed in the chunk sizes the input
 * itself chooses (first byte), under the avatar upload's limits. */
#include <apr_general.h>
#include <apr_pools.h>

#include "fuzz.h"
#include "sl_multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    sl_multipart_t *mp;
    apr_array_header_t *parts;
    size_t step, off;
    int i;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    step = data[0] ? data[0] : 1;
    apr_pool_create(&p, NULL);
    if (sl_multipart_create(&mp, "multipart/form-data; boundary=XyZ", 65536, 8, 1024, NULL, p)
        == SL_OK) {
        for (off = 1; off < size; off += step) {
            size_t n = size - off < step ? size - off : step;
            if (sl_multipart_feed(mp, (const char *)data + off, n, NULL) != SL_OK) {
                goto done;
            }
        }
        if (sl_multipart_finish(mp, &parts, NULL) == SL_OK) {
            /* touch every byte handed out: ASan catches a bad pointer */
            for (i = 0; i < parts->nelts; i++) {
                const sl_multipart_part_t *pt = &APR_ARRAY_IDX(parts, i, sl_multipart_part_t);
                volatile char sink = 0;
                size_t k;
                for (k = 0; k < pt->len; k++) {
                    sink ^= pt->data[k];
                }
                (void)sink;
            }
        }
    }
done:
    apr_pool_destroy(p);
    return 0;
}
