/* The PATCH /api/users/{id} body on arbitrary bytes, as the API reads it
 * (a JSON object, then sl_account_patch_read). What it accepts changes at
 * most the four editable fields, each valid UTF-8 without controls, and
 * is_active is -1, 0 or 1. */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "fuzz.h"
#include "sl_account.h"
#include "sl_validate.h"

static void check(const char *s)
{
    if (s && (sl_utf8_count(s, strlen(s)) < 0 || sl_has_control(s))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    sl_user_patch_t pa;
    sl_err_t err;
    json_t *body;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!body) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    if (json_is_object(body) && sl_account_patch_read(&pa, body, &err, p) == SL_OK) {
        check(pa.first_name);
        check(pa.last_name);
        check(pa.phone);
        check(pa.username);
        if (pa.is_active < -1 || pa.is_active > 1) {
            abort();
        }
    }
    else if (json_is_object(body) && (err.kind != SL_EINVALID || !err.field || !err.message)) {
        abort();
    }
    json_decref(body);
    apr_pool_destroy(p);
    return 0;
}
