/* A lock shared by a process and every process it forks (the httpd parent
 * makes it, the children use it), that a holder's death cannot wedge: a
 * robust, process-shared pthread mutex in anonymous shared memory. The
 * next process to take the lock after its holder died gets it, and is told
 * (so it can say so in the log). */
#ifndef SL_LOCK_H
#define SL_LOCK_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct sl_lock_t sl_lock_t;

/* Lives as long as p; make it before forking. */
apr_status_t sl_lock_create(sl_lock_t **out, apr_pool_t *p);

/* Waits at most `wait` (0: only tries; negative: no limit). APR_SUCCESS,
 * or APR_TIMEUP when it did not come in time. *recovered (may be NULL) is
 * 1 when the previous holder died holding it. */
apr_status_t sl_lock_acquire(sl_lock_t *lock, apr_interval_time_t wait, int *recovered);

void sl_lock_release(sl_lock_t *lock);

#endif
