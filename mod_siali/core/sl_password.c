#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <argon2.h>

#include "sl_password.h"
#include "sl_log.h"
#include "sl_secret.h"

#define SALT_LEN 16
#define HASH_LEN 32

/* The slots of the hashing cap, in anonymous shared memory made by the httpd
 * parent and inherited by every child: the cap holds for the whole server,
 * not per process. A slot names the pid that holds it, so a slot of a child
 * that died mid-hash (SIGKILL, a crash) is taken back instead of lowering
 * the cap for good; the mutex is robust for the same reason. */
#define SLOTS_MAX 256

struct sl_password_limit_t {
    pthread_mutex_t mutex;
    pthread_cond_t freed;
    int max;
    pid_t owner[SLOTS_MAX];
    unsigned long long started[SLOTS_MAX];   /* the owner's start time: a pid
                                              * used again names another process */
};

static sl_password_limit_t *limiter;
static apr_interval_time_t limit_wait = SL_PASSWORD_WAIT_DEFAULT;
static volatile apr_uint32_t hash_count;

const char *sl_password_parse_params(sl_argon2_params_t *out, const char *arg,
                                     apr_pool_t *p)
{
    char *copy, *tok, *last;
    int seen_alg = 0;

    out->m_kib = SL_ARGON2_DEFAULT_M;
    out->t = SL_ARGON2_DEFAULT_T;
    out->p = SL_ARGON2_DEFAULT_P;
    copy = apr_pstrdup(p, arg ? arg : "");
    for (tok = apr_strtok(copy, " \t", &last); tok; tok = apr_strtok(NULL, " \t", &last)) {
        char *end;
        unsigned long v;

        if (!seen_alg && !strcmp(tok, "argon2id")) {
            seen_alg = 1;
            continue;
        }
        if (strlen(tok) < 3 || tok[1] != '=' || !strchr("mtp", tok[0])) {
            return apr_psprintf(p, "expected 'argon2id m=KIB t=N p=N', got '%s'", tok);
        }
        v = strtoul(tok + 2, &end, 10);
        if (*end || tok[2] == '-' || v == 0 || v > 4194304) {
            return apr_psprintf(p, "'%s' is not a positive whole number", tok);
        }
        switch (tok[0]) {
        case 'm':
            if (v < 8) {
                return "m (memory in KiB) must be at least 8";
            }
            out->m_kib = (apr_uint32_t)v;
            break;
        case 't':
            if (v > 100) {
                return "t (iterations) must be between 1 and 100";
            }
            out->t = (apr_uint32_t)v;
            break;
        default:
            if (v > 64) {
                return "p (lanes) must be between 1 and 64";
            }
            out->p = (apr_uint32_t)v;
        }
    }
    if (!seen_alg) {
        return "only argon2id is supported: 'argon2id m=KIB t=N p=N'";
    }
    if (out->m_kib < 8 * out->p) {
        return "m must be at least 8 KiB per lane (8 * p)";
    }
    return NULL;
}

apr_status_t sl_password_limit_create(sl_password_limit_t **out, int max_concurrent,
                                      apr_pool_t *p)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    sl_password_limit_t *l;
    apr_shm_t *shm;
    apr_status_t rv;
    int rc;

    if (max_concurrent <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max_concurrent = n > 0 ? (int)n : 1;
    }
    if (max_concurrent > SLOTS_MAX) {
        max_concurrent = SLOTS_MAX;
    }
    if ((rv = apr_shm_create(&shm, sizeof(*l), NULL, p)) != APR_SUCCESS) {
        return rv;
    }
    l = apr_shm_baseaddr_get(shm);
    memset(l, 0, sizeof(*l));
    l->max = max_concurrent;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    rc = pthread_mutex_init(&l->mutex, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0) {
        rc = pthread_cond_init(&l->freed, &ca);
    }
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        return rc;
    }
    *out = l;
    return APR_SUCCESS;
}

void sl_password_limit_use(sl_password_limit_t *limit, apr_interval_time_t wait)
{
    limiter = limit;
    limit_wait = wait > 0 ? wait : SL_PASSWORD_WAIT_DEFAULT;
}

apr_status_t sl_password_limit_init(int max_concurrent, apr_pool_t *p)
{
    sl_password_limit_t *l;
    apr_status_t rv = sl_password_limit_create(&l, max_concurrent, p);

    if (rv == APR_SUCCESS) {
        sl_password_limit_use(l, limit_wait);
    }
    return rv;
}

static void lock_limiter(sl_password_limit_t *l)
{
    if (pthread_mutex_lock(&l->mutex) == EOWNERDEAD) {
        /* a process died while it held the table's lock (never while
         * hashing: that runs unlocked); the table itself is consistent */
        pthread_mutex_consistent(&l->mutex);
    }
}

/* When a process started, in clock ticks since boot (/proc/PID/stat,
 * field 22); 0 when it cannot be read. */
static unsigned long long start_time(pid_t pid)
{
    char path[64], buf[1024], *c;
    unsigned long long t = 0;
    int field;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r"))) {
        return 0;
    }
    if (!fgets(buf, sizeof(buf), f)) {
        buf[0] = '\0';
    }
    fclose(f);
    /* after the command, which is in parentheses and may hold anything */
    if (!(c = strrchr(buf, ')'))) {
        return 0;
    }
    for (field = 2; *c && field < 22; c++) {
        if (*c == ' ') {
            field++;
        }
    }
    sscanf(c, "%llu", &t);
    return t;
}

/* 1 when the slot's owner is gone: no such process, or a process that
 * started after the owner did (its pid was used again) */
static int owner_gone(sl_password_limit_t *l, int i)
{
    unsigned long long now;

    if (kill(l->owner[i], 0) != 0 && errno == ESRCH) {
        return 1;
    }
    now = start_time(l->owner[i]);
    return l->started[i] && now && now != l->started[i];
}

/* A free slot, or one whose owner is gone (taken back, logged). -1 none.
 * Owners are looked at only when every slot is taken. */
static int claim_slot(sl_password_limit_t *l, pid_t me)
{
    static __thread pid_t cached_pid;
    static __thread unsigned long long cached_start;
    int i, in_use = 0, found = -1;

    if (cached_pid != me) {
        cached_pid = me;
        cached_start = start_time(me);
    }
    for (i = 0; i < l->max && found < 0; i++) {
        if (!l->owner[i]) {
            found = i;
        }
    }
    for (i = 0; i < l->max && found < 0; i++) {
        if (owner_gone(l, i)) {
            SL_LOG(SL_LOG_WARNING, "SL00306: hashing slot of pid %ld taken back: that "
                   "process is gone", (long)l->owner[i]);
            l->owner[i] = 0;
            found = i;
        }
    }
    for (i = 0; i < l->max; i++) {
        in_use += l->owner[i] != 0;
    }
    if (found >= 0) {
        l->owner[found] = me;
        l->started[found] = cached_start;
        SL_LOG(SL_LOG_DEBUG, "SL00303: hashing slots in use: %d of %d", in_use + 1, l->max);
    }
    return found;
}

/* The slot taken (give it back with limit_leave), SLOT_NONE without a
 * limiter, SLOT_BUSY when none came within the wait: the caller answers
 * busy rather than lifting the cap. */
#define SLOT_NONE (-1)
#define SLOT_BUSY (-2)

static int limit_enter(void)
{
    sl_password_limit_t *l = limiter;
    struct timespec now, until, nap;
    pid_t me = getpid();
    int slot;

    if (!l) {
        return SLOT_NONE;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(limit_wait / APR_USEC_PER_SEC);
    until.tv_nsec += (long)(limit_wait % APR_USEC_PER_SEC) * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    lock_limiter(l);
    while ((slot = claim_slot(l, me)) < 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec
            || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)) {
            pthread_mutex_unlock(&l->mutex);
            SL_LOG(SL_LOG_WARNING, "SL00304: no hashing slot within %" APR_INT64_T_FMT
                   " ms (%d in use): answering busy", (apr_int64_t)apr_time_as_msec(limit_wait),
                   l->max);
            return SLOT_BUSY;
        }
        /* wake at least once a second: a holder that died signals nothing */
        nap = now;
        nap.tv_sec += 1;
        if (nap.tv_sec > until.tv_sec
            || (nap.tv_sec == until.tv_sec && nap.tv_nsec > until.tv_nsec)) {
            nap = until;
        }
        if (pthread_cond_timedwait(&l->freed, &l->mutex, &nap) == EOWNERDEAD) {
            pthread_mutex_consistent(&l->mutex);
        }
    }
    pthread_mutex_unlock(&l->mutex);
    return slot;
}

static void limit_leave(int slot)
{
    sl_password_limit_t *l = limiter;

    if (slot < 0 || !l) {
        return;
    }
    lock_limiter(l);
    /* logged before the slot is free: in the log, a "released" line
     * always comes before the next "in use" line that reuses it */
    SL_LOG(SL_LOG_DEBUG, "SL00305: hashing slot released");
    l->owner[slot] = 0;
    pthread_cond_signal(&l->freed);
    pthread_mutex_unlock(&l->mutex);
}

apr_uint64_t sl_password_hash_count(void)
{
    return apr_atomic_read32(&hash_count);
}

apr_status_t sl_password_hash(const char **out, const char *pw, apr_size_t len,
                              const sl_argon2_params_t *params, apr_pool_t *p)
{
    unsigned char salt[SALT_LEN];
    size_t enclen;
    char *enc;
    int rc, taken;
    apr_status_t rv;

    rv = sl_secret_random(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    enclen = argon2_encodedlen(params->t, params->m_kib, params->p, SALT_LEN,
                               HASH_LEN, Argon2_id);
    enc = apr_palloc(p, enclen);
    if ((taken = limit_enter()) == SLOT_BUSY) {
        return APR_TIMEUP;
    }
    rc = argon2id_hash_encoded(params->t, params->m_kib, params->p, pw, len,
                               salt, SALT_LEN, HASH_LEN, enc, enclen);
    limit_leave(taken);
    apr_atomic_inc32(&hash_count);
    /* tests count these lines (LogLevel siali:debug) to prove which paths
     * hash and which do not, without timing anything */
    SL_LOG(SL_LOG_DEBUG, "SL00301: argon2id hash computed (m=%u t=%u p=%u)",
           params->m_kib, params->t, params->p);
    if (rc != ARGON2_OK) {
        return APR_EGENERAL;
    }
    *out = enc;
    return APR_SUCCESS;
}

int sl_password_verify(const char *phc, const char *pw, apr_size_t len)
{
    int rc, taken;

    if (!phc || strncmp(phc, "$argon2id$", 10) != 0) {
        return 0;
    }
    if ((taken = limit_enter()) == SLOT_BUSY) {
        return SL_PASSWORD_BUSY;
    }
    rc = argon2id_verify(phc, pw, len);
    limit_leave(taken);
    apr_atomic_inc32(&hash_count);
    SL_LOG(SL_LOG_DEBUG, "SL00302: argon2id hash verified");
    return rc == ARGON2_OK;
}

int sl_password_usable(const char *phc)
{
    return phc && !strncmp(phc, "$argon2id$", 10);
}

/* Reads m, t and p from "$argon2id$v=19$m=19456,t=2,p=1$..." */
static int parse_phc(const char *phc, sl_argon2_params_t *out)
{
    unsigned long m, t, p;

    if (!phc || strncmp(phc, "$argon2id$", 10) != 0) {
        return 0;
    }
    phc = strstr(phc + 10, "m=");
    if (!phc || sscanf(phc, "m=%lu,t=%lu,p=%lu", &m, &t, &p) != 3) {
        return 0;
    }
    out->m_kib = (apr_uint32_t)m;
    out->t = (apr_uint32_t)t;
    out->p = (apr_uint32_t)p;
    return 1;
}

int sl_password_needs_upgrade(const char *phc, const sl_argon2_params_t *params)
{
    sl_argon2_params_t have;

    if (!parse_phc(phc, &have)) {
        return 1;
    }
    return have.m_kib < params->m_kib || have.t < params->t || have.p < params->p;
}

const char *sl_password_dummy(const sl_argon2_params_t *params, apr_pool_t *p)
{
    const char *out = NULL, *secret = NULL;

    if (sl_secret_hex(&secret, 16, p) != APR_SUCCESS
        || sl_password_hash(&out, secret, strlen(secret), params, p) != APR_SUCCESS) {
        return NULL;
    }
    return out;
}
