#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_authcache.h"
#include "sl_log.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_sql.h"

#define COOKIE_LEN 43   /* base64url of 32 bytes, unpadded */

int sl_session_cookie_ok(const char *cookie)
{
    apr_size_t i;

    if (!cookie || strlen(cookie) != COOKIE_LEN) {
        return 0;
    }
    for (i = 0; i < COOKIE_LEN; i++) {
        if (!apr_isalnum(cookie[i]) && cookie[i] != '-' && cookie[i] != '_') {
            return 0;
        }
    }
    return 1;
}

sl_kind_e sl_session_create(sl_db_t *db, const char **cookie, const char *user_id,
                            const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    const char *value, *args[5];
    sl_kind_e k;

    if (sl_secret_b64url(&value, SL_SESSION_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }
    args[0] = sl_secret_sha256_hex(value, p);
    args[1] = user_id;
    args[2] = sl_i64(now, p);
    args[3] = args[2];
    args[4] = sl_i64(now + cfg->session_max_age, p);
    k = sl_db_exec(db, p, "siali_session_insert", NULL, 5, args, err);
    if (k == SL_OK) {
        *cookie = value;
    }
    return k;
}

typedef struct {
    sl_user_t **user;
    const char *cookie;
    const sl_config_t *cfg;
    const char *hash;
    sl_authcache_t *cache;
    sl_authcache_ticket_t gen;
} lookup_t;

#define SESSION_COLS (5 + SL_UC_COUNT)
/* the organization's session policy (seconds, "" / NULL: the directives) */
#define SESSION_MAX_AGE (3 + SL_UC_COUNT)
#define SESSION_IDLE (4 + SL_UC_COUNT)

/* a limit of the organization's session policy, or the directive's */
static apr_int64_t limit(const char *policy, apr_int64_t directive)
{
    return policy && *policy && apr_atoi64(policy) > 0 ? apr_atoi64(policy) : directive;
}

/* at most once a minute, but often enough that a session in use never
 * idles out under a short SialiSessionIdleTimeout */
static apr_int64_t touch_every(apr_int64_t idle)
{
    return idle / 4 < SL_SESSION_TOUCH ? idle / 4 : SL_SESSION_TOUCH;
}

/* The limits in force now, not those of the day the row was written: the
 * organization's session policy (GET/PATCH /api/session-policy/) where it
 * has one, else the directives; the stored expiry only bounds a session
 * that no policy governs (a policy may have made sessions longer). */
static int expired(const char *const *row, const sl_config_t *cfg, apr_int64_t now)
{
    int governed = row[SESSION_MAX_AGE] && *row[SESSION_MAX_AGE];

    return (!governed && now >= apr_atoi64(row[2]))
           || now >= apr_atoi64(row[0]) + limit(row[SESSION_MAX_AGE], cfg->session_max_age)
           || now >= apr_atoi64(row[1]) + limit(row[SESSION_IDLE], cfg->session_idle);
}

static sl_kind_e lookup_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    lookup_t *b = baton;
    const sl_config_t *cfg = b->cfg;
    apr_int64_t now = sl_now(), touch;
    const char **row, *args[3];
    sl_user_t *u;
    sl_kind_e k;
    int n = 0;

    k = sl_db_select_one(db, p, "siali_session_user", &row, 1, &b->hash,
                         "No valid session.", err);
    if (k != SL_OK) {
        return k;
    }
    u = sl_account_from_row(row, 3, p);
    touch = touch_every(limit(row[SESSION_IDLE], cfg->session_idle));
    if (expired(row, cfg, now)) {
        if (sl_conn_may_write(db)) {
            sl_db_exec(db, p, "siali_session_delete", NULL, 1, &b->hash, NULL);
        }
        return sl_err_set(err, SL_EDENIED, NULL, "The session has expired.");
    }
    if (!u->is_active) {
        return sl_err_set(err, SL_EDENIED, NULL, "This account is deactivated.");
    }
    if (apr_atoi64(row[1]) < now - touch && sl_conn_may_write(db)) {
        args[0] = sl_i64(now, p);
        args[1] = b->hash;
        args[2] = sl_i64(now - touch, p);
        /* a failed refresh must not log anyone out: no error from here */
        if (sl_db_exec(db, p, "siali_session_touch", &n, 3, args, NULL) == SL_OK && n > 0) {
            SL_LOG(SL_LOG_DEBUG, "SL00402: session last_seen written for user %s", u->id);
            row[1] = args[0];
        }
    }
    sl_account_touch(db, u, p);
    if (b->cache) {
        row[3 + SL_UC_ACTIVITY] = u->last_activity;
        sl_authcache_put(b->cache, b->gen, apr_pstrcat(p, "s:", b->hash, NULL), row,
                         SESSION_COLS);
    }
    *b->user = u;
    return SL_OK;
}

sl_kind_e sl_session_lookup(sl_conn_src_t *src, sl_user_t **user, const char *cookie,
                            const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p)
{
    lookup_t b = { user, cookie, cfg, NULL, src->authcache, { 0, 0 } };

    if (!sl_session_cookie_ok(cookie)) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No valid session.");
    }
    b.hash = sl_secret_sha256_hex(cookie, p);
    if (b.cache) {
        /* from the cache only while nothing is due: an expiry, a refresh of
         * last_seen or last_activity all go to the database */
        apr_int64_t now = sl_now();
        const char **row = sl_authcache_get(b.cache, apr_pstrcat(p, "s:", b.hash, NULL),
                                            SESSION_COLS, p);
        if (row && !expired(row, cfg, now)
            && apr_atoi64(row[1]) >= now - touch_every(limit(row[SESSION_IDLE],
                                                             cfg->session_idle))) {
            sl_user_t *u = sl_account_from_row(row, 3, p);
            if (u->is_active && !sl_account_touch_due(u)) {
                *user = u;
                return SL_OK;
            }
        }
        b.gen = sl_authcache_begin(b.cache);
    }
    return sl_conn_run(src, SL_CONN_READ, lookup_unit, &b, err, p);
}

sl_kind_e sl_session_end(sl_db_t *db, const char *cookie, sl_err_t *err, apr_pool_t *p)
{
    const char *hash;

    if (!sl_session_cookie_ok(cookie)) {
        return SL_OK;
    }
    hash = sl_secret_sha256_hex(cookie, p);
    return sl_db_exec(db, p, "siali_session_delete", NULL, 1, &hash, err);
}

/* logout: the event only when a session ended here (the same cookie sent
 * twice at once ends one session, once); the session is the caller's, who
 * the source names */
static sl_kind_e delete_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    const char *hash = sl_secret_sha256_hex(baton, p);
    const char *who = db->src ? db->src->actor_id : NULL;
    int n = 0;
    sl_kind_e k = sl_db_exec(db, p, "siali_session_delete", &n, 1, &hash, err);

    if (k != SL_OK || n != 1 || !who) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_LOGOUT, who, who, NULL, err, p);
}

sl_kind_e sl_session_delete(sl_conn_src_t *src, const char *cookie, sl_err_t *err,
                            apr_pool_t *p)
{
    if (!sl_session_cookie_ok(cookie)) {
        return SL_OK;
    }
    return sl_conn_run(src, SL_CONN_WRITE, delete_unit, (void *)cookie, err, p);
}

void sl_session_purge(sl_db_t *db, const sl_config_t *cfg, apr_pool_t *p)
{
    apr_int64_t now = sl_now(), age = 0, idle = cfg->session_idle;
    const char **row, *args[2];

    /* a session policy may keep sessions longer than the directives: none
     * that one still admits is purged */
    if (sl_db_select_one(db, p, "siali_org_policy_longest", &row, 0, NULL, "", NULL) == SL_OK) {
        age = row[0] && *row[0] ? apr_atoi64(row[0]) : 0;
        idle = row[1] && *row[1] && apr_atoi64(row[1]) > idle ? apr_atoi64(row[1]) : idle;
    }
    args[0] = sl_i64(age > cfg->session_max_age ? now - (age - cfg->session_max_age) : now, p);
    args[1] = sl_i64(now - idle, p);
    sl_db_exec(db, p, "siali_session_purge", NULL, 2, args, NULL);
}
