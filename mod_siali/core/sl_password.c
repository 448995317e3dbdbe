#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <argon2.h>

#include "sl_password.h"
#include "sl_log.h"
#include "sl_secret.h"

#define SALT_LEN 16
#define HASH_LEN 32

static apr_thread_mutex_t *limit_mutex;
static apr_thread_cond_t *limit_cond;
static int limit_max, limit_running;
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

apr_status_t sl_password_limit_init(int max_concurrent, apr_pool_t *p)
{
    apr_status_t rv;

    if (max_concurrent <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max_concurrent = n > 0 ? (int)n : 1;
    }
    limit_max = max_concurrent;
    limit_running = 0;
    rv = apr_thread_mutex_create(&limit_mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&limit_cond, p);
    }
    return rv;
}

static void limit_enter(void)
{
    if (!limit_mutex) {
        return;
    }
    apr_thread_mutex_lock(limit_mutex);
    while (limit_running >= limit_max) {
        apr_thread_cond_wait(limit_cond, limit_mutex);
    }
    limit_running++;
    apr_thread_mutex_unlock(limit_mutex);
}

static void limit_leave(void)
{
    if (!limit_mutex) {
        return;
    }
    apr_thread_mutex_lock(limit_mutex);
    limit_running--;
    apr_thread_cond_signal(limit_cond);
    apr_thread_mutex_unlock(limit_mutex);
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
    int rc;
    apr_status_t rv;

    rv = sl_secret_random(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    enclen = argon2_encodedlen(params->t, params->m_kib, params->p, SALT_LEN,
                               HASH_LEN, Argon2_id);
    enc = apr_palloc(p, enclen);
    limit_enter();
    rc = argon2id_hash_encoded(params->t, params->m_kib, params->p, pw, len,
                               salt, SALT_LEN, HASH_LEN, enc, enclen);
    limit_leave();
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
    int rc;

    if (!phc || strncmp(phc, "$argon2id$", 10) != 0) {
        return 0;
    }
    limit_enter();
    rc = argon2id_verify(phc, pw, len);
    limit_leave();
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
