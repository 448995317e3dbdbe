#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

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
    k1 = one_check(db, KIND_ACCOUNT, key->account, cfg,
                   key->account_max > 0 && key->account_max < allowed ? key->account_max
                                                                      : allowed,
                   now, retry_after, err, p);
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

/* the account's counter by `account_label`; the attempt the address had
 * reserved given back (it was no failure) */
static sl_kind_e give_back(sl_db_t *db, const sl_throttle_key_t *key,
                           const char *account_label, sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { KIND_ACCOUNT, key->account };
    sl_kind_e k = SL_OK;

    if (key->account) {
        k = sl_db_exec(db, p, account_label, NULL, 2, args, err);
    }
    if (k == SL_OK && key->address) {
        args[0] = KIND_ADDRESS;
        args[1] = key->address;
        k = sl_db_exec(db, p, "siali_throttle_undo", NULL, 2, args, err);
    }
    return k;
}

sl_kind_e sl_throttle_success(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p)
{
    return give_back(db, key, "siali_throttle_clear", err, p);
}

sl_kind_e sl_throttle_release(sl_db_t *db, const sl_throttle_key_t *key,
                              sl_err_t *err, apr_pool_t *p)
{
    return give_back(db, key, "siali_throttle_undo", err, p);
}

sl_kind_e sl_throttle_count(sl_db_t *db, const char *kind, const char *subject, int max,
                            apr_int64_t window, apr_int64_t *retry_after, sl_err_t *err,
                            apr_pool_t *p)
{
    apr_int64_t t = sl_now(), start, left;
    const char *expired = sl_i64(t - window, p);
    const char *args[5] = { kind, subject, sl_i64(t, p), expired, expired };
    const char **row;
    sl_kind_e k;

    *retry_after = 0;
    if (!subject || max <= 0) {
        return SL_OK;
    }
    if ((k = sl_db_exec(db, p, "siali_throttle_fail", NULL, 5, args, err)) != SL_OK
        || (k = sl_db_select_one(db, p, "siali_throttle_get", &row, 2, args, "", err))
           != SL_OK) {
        return k == SL_ENOTFOUND ? SL_OK : k;
    }
    start = apr_atoi64(row[0]);
    left = start + window - t;
    if (left > 0 && atoi(row[1]) > max) {
        *retry_after = left;
        return sl_err_set(err, SL_ETHROTTLED, NULL, "Too many attempts from this address: "
                          "try again later.");
    }
    return SL_OK;
}

struct sl_blocklist_t {
    apr_pool_t *pool;           /* cleared when the table is full */
    apr_hash_t *until;          /* address -> apr_int64_t * */
    apr_thread_mutex_t *mutex;
    int max;
};

sl_blocklist_t *sl_blocklist_create(int max_entries, apr_pool_t *p)
{
    sl_blocklist_t *b = apr_pcalloc(p, sizeof(*b));

    if (apr_thread_mutex_create(&b->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_pool_create(&b->pool, p) != APR_SUCCESS) {
        return NULL;
    }
    b->until = apr_hash_make(b->pool);
    b->max = max_entries;
    return b;
}

apr_int64_t sl_blocklist_left(sl_blocklist_t *b, const char *address, apr_int64_t now)
{
    apr_int64_t *until, left = 0;

    if (!b || !address) {
        return 0;
    }
    apr_thread_mutex_lock(b->mutex);
    until = apr_hash_get(b->until, address, APR_HASH_KEY_STRING);
    if (until && *until > now) {
        left = *until - now;
    }
    apr_thread_mutex_unlock(b->mutex);
    return left;
}

void sl_blocklist_add(sl_blocklist_t *b, const char *address, apr_int64_t until,
                      apr_int64_t now)
{
    apr_int64_t *v;

    if (!b || !address) {
        return;
    }
    apr_thread_mutex_lock(b->mutex);
    if ((int)apr_hash_count(b->until) >= b->max) {
        /* full: start again (every entry is also in the database, which the
         * next failure from a blocked address consults) */
        apr_pool_clear(b->pool);
        b->until = apr_hash_make(b->pool);
    }
    v = apr_hash_get(b->until, address, APR_HASH_KEY_STRING);
    if (!v) {
        v = apr_palloc(b->pool, sizeof(*v));
        apr_hash_set(b->until, apr_pstrdup(b->pool, address), APR_HASH_KEY_STRING, v);
    }
    *v = until;
    apr_thread_mutex_unlock(b->mutex);
    (void)now;
}

const char *sl_throttle_address(const char *address, apr_pool_t *p)
{
    unsigned char a[16];
    char buf[INET6_ADDRSTRLEN];
    int i;

    if (!address || !strchr(address, ':') || inet_pton(AF_INET6, address, a) != 1) {
        return address;
    }
    if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
        return apr_psprintf(p, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    }
    for (i = 8; i < 16; i++) {
        a[i] = 0;
    }
    if (!inet_ntop(AF_INET6, a, buf, sizeof(buf))) {
        return address;
    }
    return apr_pstrcat(p, buf, "/64", NULL);
}

sl_kind_e sl_throttle_uncount(sl_db_t *db, const char *kind, const char *subject,
                              sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { kind, subject };

    return subject ? sl_db_exec(db, p, "siali_throttle_undo", NULL, 2, args, err) : SL_OK;
}

void sl_throttle_purge(sl_db_t *db, apr_int64_t before, apr_pool_t *p)
{
    const char *arg = sl_i64(before, p);

    sl_db_exec(db, p, "siali_throttle_purge", NULL, 1, &arg, NULL);
}
