/* A per-process cache of what identifies a caller: the row a token or a
 * session cookie found (keyed by the credential's SHA-256, never by the
 * credential). On PostgreSQL every request would otherwise spend a round
 * trip and an executor start on the same few rows, which costs as much CPU
 * as httpd spends on the whole request; on SQLite a pooled connection, the
 * library's process-wide mutex and two file locks.
 *
 * Correctness rests on invalidation, not on a short life:
 *  - PostgreSQL announces every change that can alter an answer
 *    (triggers on users, api_tokens, sessions and memberships NOTIFY
 *    siali_auth, schema v5); a listener calls sl_authcache_flush() for each;
 *    on SQLite every writer shares the counter (below), the siali command
 *    too (sl_dbfile_counter_open);
 *  - while the listener is not connected the cache is off (enabled 0), and
 *    it is flushed when it connects again, so nothing missed meanwhile is
 *    ever served from it;
 *  - a row read from the database is stored only if no flush happened
 *    since the read began (the generation taken before it), so a lookup
 *    that raced a change cannot put the old row back;
 *  - every write unit flushes it too, and with a shared counter (one per
 *    httpd, in shared memory) every child's cache at once: a change made
 *    through one node is seen by that node's next request, exactly; other
 *    nodes and changes made outside httpd are seen once the notification
 *    arrives (milliseconds; SialiAuthCache Off when that is too late);
 *  - entries also expire after ttl, whatever happens.
 * Thread-safe; memory is bounded by max entries (then it starts over). */
#ifndef SL_AUTHCACHE_H
#define SL_AUTHCACHE_H

#include <apr_pools.h>
#include <apr_time.h>

#include "sl_db.h"

typedef struct sl_authcache_t sl_authcache_t;

apr_status_t sl_authcache_create(sl_authcache_t **c, int max_entries,
                                 apr_interval_time_t ttl, apr_pool_t *p);

/* Flushes of other processes, through a counter they share (in shared
 * memory, zeroed by its creator); NULL: this process only. */
void sl_authcache_share(sl_authcache_t *c, volatile apr_uint32_t *counter);

/* The same through functions: read gives a value that changes whenever any
 * process called bump (a new value at every read means nothing is ever
 * served from the cache). */
typedef apr_uint64_t sl_authcache_read_fn(void *baton);
typedef void sl_authcache_bump_fn(void *baton);
void sl_authcache_share_with(sl_authcache_t *c, sl_authcache_read_fn *read,
                             sl_authcache_bump_fn *bump, void *baton);

/* Taken before the database is read, given to put(). */
typedef struct {
    apr_uint32_t gen;               /* 0 while the cache is off */
    apr_uint64_t shared;
} sl_authcache_ticket_t;

sl_authcache_ticket_t sl_authcache_begin(sl_authcache_t *c);

/* A copy of the row stored under key (ncols strings, NULL for SQL NULL) in
 * p, or NULL. */
const char **sl_authcache_get(sl_authcache_t *c, const char *key, int ncols,
                              apr_pool_t *p);

/* Stores a copy of the row, unless the cache was off or flushed (here or
 * in any process sharing the counter) since the ticket was taken. */
void sl_authcache_put(sl_authcache_t *c, sl_authcache_ticket_t t, const char *key,
                      const char *const *row, int ncols);

/* Forgets everything, in every process sharing the counter; lookups that
 * began before store nothing. */
void sl_authcache_flush(sl_authcache_t *c);

/* On (1) once the listener listens; off (0) and flushed when it lost it. */
void sl_authcache_enable(sl_authcache_t *c, int on);

/* Entries stored from now on live at most ttl. */
void sl_authcache_set_ttl(sl_authcache_t *c, apr_interval_time_t ttl);

/* Hits and misses since creation (the tests and the log read them). */
void sl_authcache_stats(sl_authcache_t *c, apr_uint64_t *hits, apr_uint64_t *misses);

#endif
