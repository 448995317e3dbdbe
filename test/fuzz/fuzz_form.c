/* The urlencoded form / query decoder on arbitrary bytes. Besides "no
 * crash": whatever it accepts holds no NUL and only valid UTF-8, and never
 * more fields than allowed. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "fuzz.h"
#include "sl_form.h"
#include "sl_validate.h"

static int check(void *rec, const char *key, const char *value)
{
    (void)rec;
    if (sl_utf8_count(key, strlen(key)) < 0 || sl_utf8_count(value, strlen(value)) < 0
        || !*key) {
        abort();
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    apr_table_t *t;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    apr_pool_create(&p, NULL);
    t = apr_table_make(p, 8);
    if (sl_form_parse(t, (const char *)data, size, SL_FORM_MAX_FIELDS, NULL, p) == SL_OK) {
        if (apr_table_elts(t)->nelts > SL_FORM_MAX_FIELDS) {
            abort();
        }
        apr_table_do(check, NULL, t, NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
