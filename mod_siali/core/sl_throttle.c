#include <stdlib.h>

#include <apr_strings.h>

#include "sl_throttle.h"

#define KIND_ACCOUNT "account"
#define KIND_ADDRESS "address"

static sl_kind_e one_check(sl_db_t *db, const char *kind, const char *subject,
                           const sl_config_t *cfg, int allowed, apr_int64_t now,
                           apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { kind, subject };
    sl_rows_t res;
    apr_int64_t start, left;
    sl_kind_e k;

    if (!subject) {
        return SL_OK;
    }
    if ((k = sl_db_select(db, p, "siali_throttle_get", &res, 2, args, err)) != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return SL_OK;
    }
    start = apr_atoi64(SL_ROW(&res, 0)[0]);
    left = start + cfg->throttle_window - now;
    if (left > 0 && atoi(SL_ROW(&res, 0)[1]) > allowed) {
        if (left > *retry_after) {
            *retry_after = left;
        }
        return SL_ETHROTTLED;
    }
    return SL_OK;
}

/* allowed: how many counted attempts may already be in the window */
static sl_kind_e check(sl_db_t *db, const sl_throttle_key_t *key, const sl_config_t *cfg,
                       int allowed, apr_int64_t *retry_after, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    sl_kind_e k1, k2;

    *retry_after = 0;
    k1 = one_check(db, KIND_ACCOUNT, key->account, cfg, allowed, now, retry_after, err, p);
    if (k1 != SL_OK && k1 != SL_ETHROTTLED) {
        return k1;   /* busy, stale, lost: the unit decides */
    }
    k2 = one_check(db, KIND_ADDRESS, key->address, cfg, allowed, now, retry_after, err, p);
    if (k2 != SL_OK && k2 != SL_ETHROTTLED) {
        return k2;
    }
    if (k1 == SL_ETHROTTLED || k2 == SL_ETHROTTLED) {
        return sl_err_set(err, SL_ETHROTTLED, NULL,
                          "Too many failed logins: try again later.");
    }
    return SL_OK;
}

static sl_kind_e one_fail(sl_db_t *db, const char *kind, const char *subject,
                          const sl_config_t *cfg, const char *now,
                          const char *window_start_before, sl_err_t *err,
                          apr_pool_t *p)
{
    /* an upsert: one statement, no read-then-write race between children */
    const char *args[5] = { kind, subject, now, window_start_before,
                            window_start_before };

    if (!subject) {
        return SL_OK;
    }
    return sl_db_exec(db, p, "siali_throttle_fail", NULL, 5, args, err);
}

sl_kind_e sl_throttle_fail(sl_db_t *db, const sl_throttle_key_t *key,
                           const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t t = sl_now();
    const char *now = sl_i64(t, p);
    const char *expired = sl_i64(t - cfg->throttle_window, p);
    sl_kind_e k = one_fail(db, KIND_ACCOUNT, key->account, cfg, now, expired, err, p);

    if (k != SL_OK) {
        return k;
    }
    return one_fail(db, KIND_ADDRESS, key->address, cfg, now, expired, err, p);
}

sl_kind_e sl_throttle_reserve(sl_db_t *db, const sl_throttle_key_t *key,
                              const sl_config_t *cfg, apr_int64_t *retry_after,
                              sl_err_t *err, apr_pool_t *p)
{
    /* counted first, in one upsert each, then compared: requests that
     * arrive together each see the others' attempts */
    sl_kind_e k = sl_throttle_fail(db, key, cfg, err, p);

    if (k != SL_OK) {
        return k;
    }
    return check(db, key, cfg, cfg->throttle_max, retry_after, err, p);
}

sl_kind_e sl_throttle_success(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { KIND_ACCOUNT, key->account };
    sl_kind_e k = SL_OK;

    if (key->account) {
        k = sl_db_exec(db, p, "siali_throttle_clear", NULL, 2, args, err);
    }
    if (k == SL_OK && key->address) {
        /* the reserved attempt was no failure: give it back to the address */
        args[0] = KIND_ADDRESS;
        args[1] = key->address;
        k = sl_db_exec(db, p, "siali_throttle_undo", NULL, 2, args, err);
    }
    return k;
}
