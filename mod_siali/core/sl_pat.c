#include <pthread.h>
#include <string.h>

#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_authcache.h"
#include "sl_jwt.h"
#include "sl_json.h"
#include "sl_orgpolicy.h"
#include "sl_pat.h"
#include "sl_secret.h"
#include "sl_sql.h"

/* siali_pat_user: the key, the PAT's user, expiry, revocation, whether the
 * organization takes PATs, then the user's columns */
#define PAT_KEY 0
#define PAT_USER 1
#define PAT_EXPIRES 2
#define PAT_REVOKED 3
#define PAT_ENABLED 4
#define PAT_COLS (5 + SL_UC_COUNT)

#define INVALID "Token is invalid or expired"

static int is_set(const char *v)
{
    return v && *v;
}

/* the row of the PAT named jti; SL_EDENIED when there is none */
static sl_kind_e pat_row(sl_db_t *db, const char *jti, const char ***row, sl_err_t *err,
                         apr_pool_t *p)
{
    sl_kind_e k = sl_db_select_one(db, p, "siali_pat_user", row, 1, &jti, INVALID, err);

    return k == SL_ENOTFOUND ? sl_err_set(err, SL_EDENIED, NULL, INVALID) : k;
}

/* A token checked against the key of its row and the row itself: the PAT
 * is live, its organization takes PATs, its user is active and the one the
 * token names. */
/* what the row says of a token whose signature is good */
static sl_kind_e row_ok(const char **row, const sl_jwt_claims_t *c, sl_user_t **user,
                        sl_err_t *err, apr_pool_t *p)
{
    apr_int64_t now = sl_now();
    sl_user_t *u;

    if (c->exp <= now) {
        return sl_err_set(err, SL_EDENIED, NULL, "Token is expired");
    }
    u = sl_account_from_row(row, PAT_COLS - SL_UC_COUNT, p);
    if (is_set(row[PAT_REVOKED])) {
        return sl_err_set(err, SL_EDENIED, NULL, "Token is blacklisted");
    }
    if (apr_atoi64(row[PAT_EXPIRES]) <= now || c->user_id != apr_atoi64(row[PAT_USER])
        || !u->is_active) {
        return sl_err_set(err, SL_EDENIED, NULL, INVALID);
    }
    if (is_set(row[PAT_ENABLED]) && !strcmp(row[PAT_ENABLED], "0")) {
        return sl_err_set(err, SL_EDENIED, NULL,
                          "Personal access tokens are disabled for this organization");
    }
    *user = u;
    return SL_OK;
}

static sl_kind_e check(const char **row, const char *token, const char *type,
                       sl_jwt_claims_t *c, sl_user_t **user, sl_err_t *err, apr_pool_t *p)
{
    const char *key = row[PAT_KEY];
    sl_kind_e k;

    if ((k = sl_jwt_verify(c, token, type, (const unsigned char *)key, strlen(key), sl_now(),
                           err, p)) != SL_OK) {
        return k;
    }
    return row_ok(row, c, user, err, p);
}

/* the PAT (a refresh token) verified against its row, inside a unit */
static sl_kind_e live_pat(sl_db_t *db, const char *token, sl_jwt_claims_t *c,
                          sl_user_t **user, const char ***row, sl_err_t *err, apr_pool_t *p)
{
    sl_jwt_claims_t peek;
    sl_kind_e k;

    if ((k = sl_jwt_peek(&peek, token, err, p)) != SL_OK) {
        return k;
    }
    if ((k = pat_row(db, peek.jti, row, err, p)) != SL_OK) {
        return k;
    }
    return check(*row, token, "refresh", c, user, err, p);
}

/* ---- create, list ---- */

static const char *new_jti(apr_pool_t *p)
{
    const char *jti = NULL;

    return sl_secret_hex(&jti, 16, p) == APR_SUCCESS ? jti : NULL;
}

/* a PAT's claims as they were issued (the token is never stored) */
static sl_jwt_claims_t pat_claims(const char *jti, apr_int64_t user_id, apr_int64_t created,
                                  apr_int64_t expires)
{
    sl_jwt_claims_t c = { "refresh", user_id, created, expires, jti, NULL };

    return c;
}

static json_t *pat_json(const char *token, apr_int64_t created, apr_int64_t expires,
                        apr_pool_t *p)
{
    return json_pack("{s:s, s:o, s:o}", "token", token,
                     "created_at", sl_json_str_or_null(sl_iso_time(sl_i64(created, p), p)),
                     "expires_at", sl_json_str_or_null(sl_iso_time(sl_i64(expires, p), p)));
}

typedef struct {
    const sl_user_t *u;
    apr_int64_t ttl_days;
    const char *token;        /* in: a PAT (rotate, blacklist, refresh) */
    const char *out;          /* the token made */
    json_t *json;
    sl_user_t **user;
    int n;
} pat_t;

/* a new PAT of u, inside a write unit */
static sl_kind_e insert_pat(sl_db_t *db, const sl_user_t *u, apr_int64_t ttl_days,
                            const char **token, apr_int64_t *created, apr_int64_t *expires,
                            sl_err_t *err, apr_pool_t *p)
{
    const char **row, *args[4], *jti = new_jti(p);
    sl_org_tokens_t o;
    sl_jwt_claims_t c;
    sl_rows_t live;
    sl_kind_e k;

    if (!jti) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness for a token");
    }
    if ((k = sl_org_tokens_get(db, u->org_id, &o, err, p)) != SL_OK) {
        return k;
    }
    if (!o.api_enabled) {
        return sl_err_set(err, SL_EFORBIDDEN, NULL,
                          "Personal access tokens are disabled for this organization.");
    }
    /* PostgreSQL: one creation per user at a time, so that the count holds
     * (SQLite has one writer anyway) */
    args[0] = u->id;
    if ((k = sl_db_exec(db, p, "siali_pat_lock_user", NULL, 1, args, err)) != SL_OK) {
        return k;
    }
    *created = sl_now();
    args[1] = sl_i64(*created, p);
    if ((k = sl_db_select(db, p, "siali_pat_live", &live, 2, args, err)) != SL_OK) {
        return k;
    }
    if (live.rows->nelts >= SL_PAT_LIVE_MAX) {
        return sl_err_set(err, SL_ECONFLICT, NULL,
                          apr_psprintf(p, "You have %d personal access tokens: revoke one "
                                       "before creating another.", SL_PAT_LIVE_MAX));
    }
    if ((k = sl_db_select_one(db, p, "siali_jwt_key", &row, 0, NULL, "No token key.",
                              err)) != SL_OK) {
        return k;
    }
    *expires = *created + (ttl_days > 0 ? ttl_days : o.ttl_days) * 86400;
    c = pat_claims(jti, apr_atoi64(u->id), *created, *expires);
    if (!(*token = sl_jwt_sign(&c, (const unsigned char *)row[0], strlen(row[0]), p))) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "cannot sign a token");
    }
    args[0] = jti;
    args[1] = u->id;
    args[2] = sl_i64(*created, p);
    args[3] = sl_i64(*expires, p);
    return sl_db_exec(db, p, "siali_pat_insert", NULL, 4, args, err);
}

static sl_kind_e create_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    apr_int64_t created, expires;
    sl_kind_e k = insert_pat(db, b->u, b->ttl_days, &b->out, &created, &expires, err, p);

    if (k == SL_OK) {
        b->json = sl_json_pool(pat_json(b->out, created, expires, p), p);
        k = sl_audit_add(db, SL_EVENT_PAT_CREATED, NULL, b->u->id, NULL, err, p);
    }
    return k;
}

sl_kind_e sl_pat_create(sl_conn_src_t *src, const sl_user_t *u, apr_int64_t ttl_days,
                        json_t **out, sl_err_t *err, apr_pool_t *p)
{
    pat_t b = { u, ttl_days, NULL, NULL, NULL, NULL, 0 };
    sl_kind_e k;

    if (ttl_days < 0 || ttl_days > SL_PAT_TTL_DAYS_MAX) {
        return sl_err_set(err, SL_EINVALID, "ttl_days",
                          apr_psprintf(p, "ttl_days must be from 1 to %d.",
                                       SL_PAT_TTL_DAYS_MAX));
    }
    if ((k = sl_conn_run(src, SL_CONN_WRITE, create_unit, &b, err, p)) == SL_OK) {
        *out = b.json;
    }
    return k;
}

static sl_kind_e list_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    const char *args[2] = { b->u->id, sl_i64(sl_now(), p) }, **key;
    sl_rows_t res;
    sl_kind_e k;
    int i;

    if ((k = sl_db_select(db, p, "siali_pat_live", &res, 2, args, err)) != SL_OK
        || (k = sl_db_select_one(db, p, "siali_jwt_key", &key, 0, NULL, "No token key.",
                                 err)) != SL_OK) {
        return k;
    }
    b->json = sl_json_pool(json_array(), p);
    for (i = 0; i < res.rows->nelts; i++) {
        const char **row = SL_ROW(&res, i);
        apr_int64_t created = apr_atoi64(row[1]), expires = apr_atoi64(row[2]);
        sl_jwt_claims_t c = pat_claims(row[0], apr_atoi64(b->u->id), created, expires);
        const char *token = sl_jwt_sign(&c, (const unsigned char *)key[0], strlen(key[0]), p);
        char *dot = token ? strrchr(token, '.') : NULL;

        if (dot) {
            /* the name of the token, never the token: no signature */
            *dot = '\0';
            json_array_append_new(b->json, pat_json(token, created, expires, p));
        }
    }
    return SL_OK;
}

sl_kind_e sl_pat_list(sl_conn_src_t *src, const sl_user_t *u, json_t **out, sl_err_t *err,
                      apr_pool_t *p)
{
    pat_t b = { u, 0, NULL, NULL, NULL, NULL, 0 };
    sl_kind_e k;

    if ((k = sl_conn_run(src, SL_CONN_READ, list_unit, &b, err, p)) == SL_OK) {
        *out = b.json;
    }
    return k;
}

/* ---- refresh, blacklist, rotate ---- */

static sl_kind_e refresh_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    const char **row, *jti = new_jti(p);
    sl_jwt_claims_t c, a;
    sl_user_t *u;
    apr_int64_t now = sl_now();
    sl_kind_e k;

    if ((k = live_pat(db, b->token, &c, &u, &row, err, p)) != SL_OK) {
        return k;
    }
    if (!jti) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness for a token");
    }
    a.token_type = "access";
    a.user_id = c.user_id;
    a.iat = now;
    /* never past the PAT's own end */
    a.exp = now + SL_ACCESS_TTL < c.exp ? now + SL_ACCESS_TTL : c.exp;
    a.jti = jti;
    a.pat = c.jti;
    b->out = sl_jwt_sign(&a, (const unsigned char *)row[PAT_KEY], strlen(row[PAT_KEY]), p);
    return b->out ? SL_OK : sl_err_set(err, SL_EINTERNAL, NULL, "cannot sign a token");
}

sl_kind_e sl_pat_refresh(sl_conn_src_t *src, const char *refresh, const char **access,
                         sl_err_t *err, apr_pool_t *p)
{
    pat_t b = { NULL, 0, refresh, NULL, NULL, NULL, 0 };
    sl_kind_e k;

    if ((k = sl_conn_run(src, SL_CONN_READ, refresh_unit, &b, err, p)) == SL_OK) {
        *access = b.out;
    }
    return k;
}

static sl_kind_e revoke_pat(sl_db_t *db, const char *jti, int *n, sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { sl_i64(sl_now(), p), jti };

    return sl_db_exec(db, p, "siali_pat_revoke", n, 2, args, err);
}

/* "header.payload" of one of the owner's PATs, as the list shows it: the
 * jti, or NULL. Only the owner may name a PAT so (Label Studio lets anyone
 * who saw the list revoke it). */
static const char *owned_jti(const char *shown, const sl_user_t *owner, apr_pool_t *p)
{
    sl_jwt_claims_t c;
    sl_err_t err;
    const char *dot = strchr(shown, '.');

    if (!owner || !dot || strchr(dot + 1, '.')
        || sl_jwt_peek(&c, apr_pstrcat(p, shown, ".AA", NULL), &err, p) != SL_OK
        || strcmp(c.token_type, "refresh") || c.user_id != apr_atoi64(owner->id)) {
        return NULL;
    }
    return c.jti;
}

static sl_kind_e blacklist_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    const char **row, *jti = owned_jti(b->token, b->u, p);
    sl_jwt_claims_t peek, c;
    sl_kind_e k;

    if (jti) {
        /* the owner, naming it as the list does; the row says it is theirs */
        if ((k = pat_row(db, jti, &row, err, p)) == SL_OK
            && (is_set(row[PAT_REVOKED]) || strcmp(row[PAT_USER], b->u->id))) {
            k = SL_EDENIED;
        }
        c.jti = jti;
    }
    /* otherwise only the signature, the expiry and the row matter: a PAT of
     * a deactivated user or of an organization with PATs off can be revoked */
    else if (sl_jwt_peek(&peek, b->token, err, p) != SL_OK) {
        k = SL_EDENIED;
    }
    else if ((k = pat_row(db, peek.jti, &row, err, p)) == SL_OK
             && (sl_jwt_verify(&c, b->token, "refresh", (const unsigned char *)row[PAT_KEY],
                               strlen(row[PAT_KEY]), sl_now(), err, p) != SL_OK
                 || is_set(row[PAT_REVOKED]))) {
        k = SL_EDENIED;
    }
    if (k == SL_EDENIED) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "Token is invalid or already blacklisted.");
    }
    if (k != SL_OK) {
        return k;
    }
    b->n = 0;
    if ((k = revoke_pat(db, c.jti, &b->n, err, p)) != SL_OK) {
        return k;
    }
    /* two at once: the one that changed the row answered 204 */
    if (!b->n) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "Token is invalid or already blacklisted.");
    }
    return sl_audit_add(db, SL_EVENT_PAT_REVOKED, NULL, row[PAT_USER], NULL, err, p);
}

sl_kind_e sl_pat_blacklist(sl_conn_src_t *src, const sl_user_t *owner, const char *refresh,
                           sl_err_t *err, apr_pool_t *p)
{
    pat_t b = { owner, 0, refresh, NULL, NULL, NULL, 0 };

    return sl_conn_run(src, SL_CONN_WRITE, blacklist_unit, &b, err, p);
}

static sl_kind_e rotate_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    apr_int64_t created, expires;
    const char **row;
    sl_jwt_claims_t c;
    sl_user_t *u;
    sl_kind_e k;

    k = live_pat(db, b->token, &c, &u, &row, err, p);
    /* the caller's own PAT only (Label Studio rotates anyone's) */
    if (k == SL_EDENIED || (k == SL_OK && strcmp(u->id, b->u->id))) {
        return sl_err_set(err, SL_EINVALID, "refresh", "Invalid refresh token");
    }
    if (k != SL_OK || (k = revoke_pat(db, c.jti, &b->n, err, p)) != SL_OK) {
        return k;
    }
    if (!b->n) {
        return sl_err_set(err, SL_EINVALID, "refresh", "Invalid refresh token");
    }
    if ((k = insert_pat(db, b->u, 0, &b->out, &created, &expires, err, p)) != SL_OK
        || (k = sl_audit_add(db, SL_EVENT_PAT_REVOKED, NULL, b->u->id,
                             "{\"rotated\":true}", err, p)) != SL_OK) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_PAT_CREATED, NULL, b->u->id, "{\"rotated\":true}",
                        err, p);
}

sl_kind_e sl_pat_rotate(sl_conn_src_t *src, const sl_user_t *u, const char *refresh,
                        const char **fresh, sl_err_t *err, apr_pool_t *p)
{
    pat_t b = { u, 0, refresh, NULL, NULL, NULL, 0 };
    sl_kind_e k;

    if ((k = sl_conn_run(src, SL_CONN_WRITE, rotate_unit, &b, err, p)) == SL_OK) {
        *fresh = b.out;
    }
    return k;
}

/* ---- Bearer ---- */

/* Access tokens this process has verified, by their SHA-256, with the key
 * that verified them: a Bearer request then costs a hash and its row
 * (which still decides revocation, deactivation, the organization's
 * switch, and whether the key is still that key), not a JWT decode (which
 * made Bearer half as fast as a legacy key). Dropped whole when full.
 * Readers share a read lock: every thread of a process reads the same few
 * entries, and a mutex made them queue (futex waits were the largest
 * difference between a Bearer and a legacy-key request). */
#define VERIFIED_MAX 8192

typedef struct {
    sl_jwt_claims_t c;
    const char *key;
} verified_t;

static pthread_once_t verified_once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t verified_lock = PTHREAD_RWLOCK_INITIALIZER;
static apr_pool_t *verified_pool;
static apr_hash_t *verified;

static void verified_init(void)
{
    if (apr_pool_create(&verified_pool, NULL) == APR_SUCCESS) {
        verified = apr_hash_make(verified_pool);
    }
}

/* a copy in p of what was verified of the token named hash, or 0 */
static int verified_get(const char *hash, verified_t *out, apr_pool_t *p)
{
    verified_t *v;
    int found = 0;

    pthread_once(&verified_once, verified_init);
    pthread_rwlock_rdlock(&verified_lock);
    if (verified && (v = apr_hash_get(verified, hash, APR_HASH_KEY_STRING))) {
        out->c = v->c;
        out->c.token_type = apr_pstrdup(p, v->c.token_type);
        out->c.jti = apr_pstrdup(p, v->c.jti);
        out->c.pat = apr_pstrdup(p, v->c.pat);
        out->key = apr_pstrdup(p, v->key);
        found = 1;
    }
    pthread_rwlock_unlock(&verified_lock);
    return found;
}

static void verified_put(const char *hash, const sl_jwt_claims_t *c, const char *key)
{
    verified_t *v;

    pthread_once(&verified_once, verified_init);
    pthread_rwlock_wrlock(&verified_lock);
    if (verified) {
        if (apr_hash_count(verified) >= VERIFIED_MAX) {
            apr_pool_clear(verified_pool);
            verified = apr_hash_make(verified_pool);
        }
        v = apr_palloc(verified_pool, sizeof(*v));
        v->c = *c;
        v->c.token_type = apr_pstrdup(verified_pool, c->token_type);
        v->c.jti = apr_pstrdup(verified_pool, c->jti);
        v->c.pat = apr_pstrdup(verified_pool, c->pat);
        v->key = apr_pstrdup(verified_pool, key);
        apr_hash_set(verified, apr_pstrdup(verified_pool, hash), APR_HASH_KEY_STRING, v);
    }
    pthread_rwlock_unlock(&verified_lock);
}

typedef struct {
    sl_user_t **user;
    const char *token;
    const char *pat;
    sl_authcache_t *cache;
    sl_authcache_ticket_t gen;
    const char *cache_key;
    const char *hash;          /* SHA-256 of the token */
    int known;                 /* verified by this process before */
    verified_t v;
} bearer_t;

/* the token against the row: its signature only if this process has not
 * verified it with the row's key before */
static sl_kind_e bearer_check(bearer_t *b, const char **row, sl_jwt_claims_t *c,
                              sl_user_t **u, sl_err_t *err, apr_pool_t *p)
{
    sl_kind_e k;

    if (b->known && sl_secret_equal(b->v.key, row[PAT_KEY])) {
        *c = b->v.c;
        return row_ok(row, c, u, err, p);
    }
    if ((k = check(row, b->token, "access", c, u, err, p)) == SL_OK && c->pat) {
        verified_put(b->hash, c, row[PAT_KEY]);
    }
    return k;
}

static sl_kind_e bearer_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    bearer_t *b = baton;
    const char **row;
    sl_jwt_claims_t c;
    sl_user_t *u;
    sl_kind_e k;

    if ((k = pat_row(db, b->pat, &row, err, p)) != SL_OK
        || (k = bearer_check(b, row, &c, &u, err, p)) != SL_OK) {
        return k;
    }
    if (!c.pat || strcmp(c.pat, b->pat)) {
        return sl_err_set(err, SL_EDENIED, NULL, INVALID);
    }
    sl_account_touch(db, u, p);
    if (b->cache) {
        row[PAT_COLS - SL_UC_COUNT + SL_UC_ACTIVITY] = u->last_activity;
        sl_authcache_put(b->cache, b->gen, b->cache_key, row, PAT_COLS);
    }
    *b->user = u;
    return SL_OK;
}

sl_kind_e sl_pat_bearer(sl_conn_src_t *src, sl_user_t **user, const char *access,
                        sl_err_t *err, apr_pool_t *p)
{
    bearer_t b = { user, access, NULL, src->authcache, { 0, 0 }, NULL, NULL, 0,
                   { { NULL, 0, 0, 0, NULL, NULL }, NULL } };
    sl_jwt_claims_t peek, c;
    sl_kind_e k;

    b.hash = sl_secret_sha256_hex(access, p);
    if ((b.known = verified_get(b.hash, &b.v, p))) {
        b.pat = b.v.c.pat;
    }
    else {
        /* what to look up, from the token as sent; the signature decides
         * after */
        if ((k = sl_jwt_peek(&peek, access, err, p)) != SL_OK) {
            return k;
        }
        if (strcmp(peek.token_type, "access") || !peek.pat) {
            return sl_err_set(err, SL_EDENIED, NULL, "Token has wrong type");
        }
        b.pat = peek.pat;
    }
    if (b.cache) {
        /* PostgreSQL: the row as the last request found it, while no change
         * was announced (sl_authcache.h); the token checked against it */
        const char **row;

        b.cache_key = apr_pstrcat(p, "a:", b.hash, NULL);
        row = sl_authcache_get(b.cache, b.cache_key, PAT_COLS, p);
        if (row && bearer_check(&b, row, &c, user, err, p) == SL_OK
            && c.pat && !strcmp(c.pat, b.pat) && !sl_account_touch_due(*user)) {
            return SL_OK;
        }
        b.gen = sl_authcache_begin(b.cache);
    }
    return sl_conn_run(src, SL_CONN_READ, bearer_unit, &b, err, p);
}

/* ---- CLI ---- */

static sl_kind_e revoke_user_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    pat_t *b = baton;
    const char *args[2] = { sl_i64(sl_now(), p), b->token };
    sl_kind_e k = sl_db_exec(db, p, "siali_pat_revoke_user", &b->n, 2, args, err);

    if (k != SL_OK || !b->n) {
        return k;
    }
    return sl_audit_add(db, SL_EVENT_PAT_REVOKED, NULL, b->token, apr_psprintf(
        p, "{\"all\":%d}", b->n), err, p);
}

sl_kind_e sl_pat_revoke_user(sl_conn_src_t *src, const char *user_id, int *n, sl_err_t *err,
                             apr_pool_t *p)
{
    pat_t b = { NULL, 0, user_id, NULL, NULL, NULL, 0 };
    sl_kind_e k = sl_conn_run(src, SL_CONN_WRITE, revoke_user_unit, &b, err, p);

    *n = b.n;
    return k;
}

static sl_kind_e rotate_key_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { NULL, sl_i64(sl_now(), p) };
    sl_kind_e k;

    if (sl_secret_hex(&args[0], 32, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness for the token key");
    }
    if ((k = sl_db_exec(db, p, "siali_jwt_key_set", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    /* their signatures no longer verify; revoked too, so that no list shows
     * them as live */
    return sl_db_exec(db, p, "siali_pat_revoke_all", NULL, 1, &args[1], err);
}

sl_kind_e sl_pat_rotate_key(sl_conn_src_t *src, sl_err_t *err, apr_pool_t *p)
{
    return sl_conn_run(src, SL_CONN_WRITE, rotate_key_unit, NULL, err, p);
}

