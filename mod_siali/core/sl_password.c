#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <semaphore.h>
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

/* One semaphore in anonymous shared memory, made by the httpd parent and
 * inherited by every child: the cap holds for the whole server, not per
 * process. */
static sem_t *limit_sem;
static int limit_max;
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

static apr_status_t limit_cleanup(void *data)
{
    /* no sem_destroy: after a graceful restart the old children still use
     * their mapping of it until they exit */
    if (limit_sem == data) {
        limit_sem = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t sl_password_limit_init(int max_concurrent, apr_pool_t *p)
{
    apr_shm_t *shm;
    apr_status_t rv;
    sem_t *sem;

    if (max_concurrent <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max_concurrent = n > 0 ? (int)n : 1;
    }
    rv = apr_shm_create(&shm, sizeof(sem_t), NULL, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    sem = apr_shm_baseaddr_get(shm);
    if (sem_init(sem, 1, (unsigned)max_concurrent) != 0) {
        return errno;
    }
    limit_sem = sem;
    limit_max = max_concurrent;
    apr_pool_cleanup_register(p, sem, limit_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* 1 when a slot was taken (give it back with limit_leave). A child that
 * died while hashing never gave its slot back: after 10 s of waiting the
 * hash goes ahead rather than locking everyone out, and says so. */
static int limit_enter(void)
{
    struct timespec until;
    int free_slots = 0;

    if (!limit_sem) {
        return 0;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (sem_timedwait(limit_sem, &until) != 0) {
        if (errno == ETIMEDOUT) {
            SL_LOG(SL_LOG_WARNING, "SL00304: waited 10 s for a hashing slot: going "
                   "ahead (a crashed process may hold one)");
            return 0;
        }
        if (errno != EINTR) {
            return 0;
        }
    }
    sem_getvalue(limit_sem, &free_slots);
    SL_LOG(SL_LOG_DEBUG, "SL00303: hashing slots in use: %d of %d",
           limit_max - free_slots, limit_max);
    return 1;
}

static void limit_leave(int taken)
{
    if (taken && limit_sem) {
        /* logged before the slot is free: in the log, a "released" line
         * always comes before the next "in use" line that reuses it */
        SL_LOG(SL_LOG_DEBUG, "SL00305: hashing slot released");
        sem_post(limit_sem);
    }
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
    taken = limit_enter();
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
    taken = limit_enter();
    rc = argon2id_verify(phc, pw, len);
    limit_leave(taken);
    apr_atomic_inc32(&hash_count);
    SL_LOG(SL_LOG_DEBUG, "SL00302: argon2id hash verified");
    return rc == ARGON2_OK;
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
