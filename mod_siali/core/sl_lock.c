#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <apr_shm.h>

#include "sl_lock.h"

struct sl_lock_t {
    pthread_mutex_t mutex;
};

apr_status_t sl_lock_create(sl_lock_t **out, apr_pool_t *p)
{
    pthread_mutexattr_t attr;
    apr_shm_t *shm;
    sl_lock_t *lock;
    apr_status_t rv;
    int rc;

    /* anonymous: only this process and its children can reach it */
    if ((rv = apr_shm_create(&shm, sizeof(*lock), NULL, p)) != APR_SUCCESS) {
        return rv;
    }
    lock = apr_shm_baseaddr_get(shm);
    if ((rc = pthread_mutexattr_init(&attr)) != 0) {
        return rc;
    }
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (rc == 0) {
        rc = pthread_mutex_init(&lock->mutex, &attr);
    }
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        return rc;
    }
    /* no pthread_mutex_destroy at cleanup: children of an older generation
     * may still hold their mapping of it after a graceful restart */
    *out = lock;
    return APR_SUCCESS;
}

apr_status_t sl_lock_acquire(sl_lock_t *lock, apr_interval_time_t wait, int *recovered)
{
    struct timespec until;
    int rc;

    if (recovered) {
        *recovered = 0;
    }
    if (wait == 0) {
        rc = pthread_mutex_trylock(&lock->mutex);
    }
    else if (wait < 0) {
        rc = pthread_mutex_lock(&lock->mutex);
    }
    else {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(wait / APR_USEC_PER_SEC);
        until.tv_nsec += (long)(wait % APR_USEC_PER_SEC) * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        rc = pthread_mutex_timedlock(&lock->mutex, &until);
    }
    if (rc == EOWNERDEAD) {
        /* the holder died: what it protected is the database's to recover
         * (SQLite rolls back a dead connection's transaction) */
        pthread_mutex_consistent(&lock->mutex);
        if (recovered) {
            *recovered = 1;
        }
        return APR_SUCCESS;
    }
    if (rc == 0) {
        return APR_SUCCESS;
    }
    return (rc == ETIMEDOUT || rc == EBUSY) ? APR_TIMEUP : rc;
}

void sl_lock_release(sl_lock_t *lock)
{
    pthread_mutex_unlock(&lock->mutex);
}
