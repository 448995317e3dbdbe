#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "sl_authcache.h"

/* One entry: one malloc'd block with the key and the row's strings after
 * it, so that dropping an entry is one free(). */
typedef struct {
    apr_time_t expires;
    apr_uint32_t gen;               /* served only in its generation */
    apr_uint64_t shared;            /* and while the shared counter is this */
    int ncols;
    const char *key;
    const char **cols;
} entry_t;

struct sl_authcache_t {
    apr_thread_mutex_t *mutex;
    apr_hash_t *entries;            /* key -> entry_t * */
    apr_pool_t *pool;
    apr_uint32_t generation;        /* never 0 */
    sl_authcache_read_fn *shared_read;  /* flushes of the other processes */
    sl_authcache_bump_fn *shared_bump;
    void *shared_baton;
    int enabled;
    int max;
    apr_interval_time_t ttl;
    apr_uint64_t hits, misses;
};

static void drop_all(sl_authcache_t *c)
{
    unsigned int n = apr_hash_count(c->entries), i = 0;
    void **vals = n ? malloc(sizeof(void *) * n) : NULL;
    apr_hash_index_t *hi;

    if (n && !vals) {
        return;     /* out of memory: kept, but never served (generation) */
    }
    for (hi = apr_hash_first(NULL, c->entries); hi && i < n; hi = apr_hash_next(hi)) {
        apr_hash_this(hi, NULL, NULL, &vals[i++]);
    }
    /* the keys live inside the entries: the hash lets go of them first (its
     * nodes are reused by the next inserts), then they are freed */
    apr_hash_clear(c->entries);
    while (i > 0) {
        free(vals[--i]);
    }
    free(vals);
}

/* the entries are malloc'd: freed with the pool the cache lives in */
static apr_status_t cache_cleanup(void *data)
{
    drop_all(data);
    return APR_SUCCESS;
}

apr_status_t sl_authcache_create(sl_authcache_t **pc, int max_entries,
                                 apr_interval_time_t ttl, apr_pool_t *p)
{
    sl_authcache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->pool = p;
    c->entries = apr_hash_make(p);
    c->generation = 1;
    c->max = max_entries > 0 ? max_entries : 1;
    c->ttl = ttl;
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    *pc = c;
    return APR_SUCCESS;
}

static apr_uint64_t counter_read(void *baton)
{
    return apr_atomic_read32(baton);
}

static void counter_bump(void *baton)
{
    apr_atomic_inc32(baton);
}

void sl_authcache_share(sl_authcache_t *c, volatile apr_uint32_t *counter)
{
    if (counter) {
        sl_authcache_share_with(c, counter_read, counter_bump, (void *)counter);
    }
    else {
        sl_authcache_share_with(c, NULL, NULL, NULL);
    }
}

void sl_authcache_share_with(sl_authcache_t *c, sl_authcache_read_fn *read,
                             sl_authcache_bump_fn *bump, void *baton)
{
    c->shared_read = read;
    c->shared_bump = bump;
    c->shared_baton = baton;
}

static apr_uint64_t shared_now(sl_authcache_t *c)
{
    return c->shared_read ? c->shared_read(c->shared_baton) : 0;
}

sl_authcache_ticket_t sl_authcache_begin(sl_authcache_t *c)
{
    sl_authcache_ticket_t t = { 0, 0 };

    if (!c) {
        return t;
    }
    apr_thread_mutex_lock(c->mutex);
    t.gen = c->enabled ? c->generation : 0;
    t.shared = shared_now(c);
    apr_thread_mutex_unlock(c->mutex);
    return t;
}

const char **sl_authcache_get(sl_authcache_t *c, const char *key, int ncols, apr_pool_t *p)
{
    const char **row = NULL;
    entry_t *e;
    int i;

    if (!c) {
        return NULL;
    }
    apr_thread_mutex_lock(c->mutex);
    e = c->enabled ? apr_hash_get(c->entries, key, APR_HASH_KEY_STRING) : NULL;
    if (e && (e->expires <= apr_time_now() || e->ncols != ncols
              || e->gen != c->generation || e->shared != shared_now(c))) {
        apr_hash_set(c->entries, key, APR_HASH_KEY_STRING, NULL);
        free(e);
        e = NULL;
    }
    if (e) {
        row = apr_palloc(p, sizeof(char *) * (ncols + 1));
        for (i = 0; i < ncols; i++) {
            row[i] = e->cols[i] ? apr_pstrdup(p, e->cols[i]) : NULL;
        }
        row[ncols] = NULL;
        c->hits++;
    }
    else {
        c->misses++;
    }
    apr_thread_mutex_unlock(c->mutex);
    return row;
}

void sl_authcache_put(sl_authcache_t *c, sl_authcache_ticket_t t, const char *key,
                      const char *const *row, int ncols)
{
    apr_size_t size = sizeof(entry_t) + sizeof(char *) * ncols + strlen(key) + 1;
    entry_t *e, *old;
    char *at;
    int i;

    if (!c || !t.gen) {
        return;
    }
    for (i = 0; i < ncols; i++) {
        size += row[i] ? strlen(row[i]) + 1 : 0;
    }
    if (!(e = malloc(size))) {
        return;
    }
    e->ncols = ncols;
    e->cols = (const char **)(e + 1);
    at = (char *)(e->cols + ncols);
    e->key = memcpy(at, key, strlen(key) + 1);
    at += strlen(key) + 1;
    for (i = 0; i < ncols; i++) {
        if (row[i]) {
            e->cols[i] = memcpy(at, row[i], strlen(row[i]) + 1);
            at += strlen(row[i]) + 1;
        }
        else {
            e->cols[i] = NULL;
        }
    }
    e->gen = t.gen;
    e->shared = t.shared;
    apr_thread_mutex_lock(c->mutex);
    e->expires = apr_time_now() + c->ttl;
    if (!c->enabled || t.gen != c->generation || t.shared != shared_now(c)) {
        /* a change was announced after this row was read */
        apr_thread_mutex_unlock(c->mutex);
        free(e);
        return;
    }
    if ((int)apr_hash_count(c->entries) >= c->max) {
        drop_all(c);
    }
    old = apr_hash_get(c->entries, e->key, APR_HASH_KEY_STRING);
    if (old) {
        /* the hash holds old's key pointer: replace the pair */
        apr_hash_set(c->entries, old->key, APR_HASH_KEY_STRING, NULL);
        free(old);
    }
    apr_hash_set(c->entries, e->key, APR_HASH_KEY_STRING, e);
    apr_thread_mutex_unlock(c->mutex);
}

void sl_authcache_flush(sl_authcache_t *c)
{
    if (!c) {
        return;
    }
    if (c->shared_bump) {
        /* the other children drop theirs at their next look */
        c->shared_bump(c->shared_baton);
    }
    apr_thread_mutex_lock(c->mutex);
    if (++c->generation == 0) {
        c->generation = 1;
    }
    drop_all(c);
    apr_thread_mutex_unlock(c->mutex);
}

void sl_authcache_enable(sl_authcache_t *c, int on)
{
    if (!c) {
        return;
    }
    apr_thread_mutex_lock(c->mutex);
    c->enabled = on;
    if (++c->generation == 0) {
        c->generation = 1;
    }
    drop_all(c);
    apr_thread_mutex_unlock(c->mutex);
}

void sl_authcache_set_ttl(sl_authcache_t *c, apr_interval_time_t ttl)
{
    apr_thread_mutex_lock(c->mutex);
    c->ttl = ttl;
    apr_thread_mutex_unlock(c->mutex);
}

void sl_authcache_stats(sl_authcache_t *c, apr_uint64_t *hits, apr_uint64_t *misses)
{
    apr_thread_mutex_lock(c->mutex);
    *hits = c->hits;
    *misses = c->misses;
    apr_thread_mutex_unlock(c->mutex);
}
