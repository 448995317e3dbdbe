/* sl_pat and sl_orgpolicy: personal access tokens through the core, on a
 * real SQLite database (test_store.h). */
#include <string.h>

#include <apr_strings.h>

#include "sl_json.h"
#include "sl_jwt.h"
#include "sl_orgpolicy.h"
#include "sl_pat.h"
#include "sl_session.h"
#include "test_store.h"

static json_t *J(const char *text)
{
    json_t *j = NULL;

    ck_assert_int_eq(sl_json_decode(&j, text, strlen(text), NULL, test_pool), SL_OK);
    return j;
}

static const char *pat_of(sl_user_t *u)
{
    json_t *j = NULL;
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_pat_create(S(), u, 0, &j, &err, test_pool), SL_OK);
    return json_string_value(json_object_get(j, "token"));
}

static const char *access_of(const char *pat)
{
    const char *access = NULL;
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_pat_refresh(S(), pat, &access, &err, test_pool), SL_OK);
    return access;
}

static sl_kind_e bearer(const char *access, sl_user_t **u)
{
    sl_err_t err = { 0 };

    return sl_pat_bearer(S(), u, access, &err, test_pool);
}

START_TEST(test_pat_create_refresh_bearer)
{
    sl_user_t *a = create_ok("ann@example.org"), *u = NULL;
    const char *pat = pat_of(a), *access = access_of(pat), *dummy;
    sl_jwt_claims_t c;
    sl_err_t err = { 0 };
    json_t *list = NULL;

    ck_assert_int_eq(sl_jwt_peek(&c, pat, &err, test_pool), SL_OK);
    ck_assert_str_eq(c.token_type, "refresh");
    ck_assert_int_eq(c.exp - c.iat, (apr_int64_t)SL_PAT_TTL_DAYS_MAX * 86400);
    ck_assert_int_eq(sl_jwt_peek(&c, access, &err, test_pool), SL_OK);
    ck_assert_str_eq(c.token_type, "access");
    ck_assert_int_eq(c.exp - c.iat, SL_ACCESS_TTL);
    ck_assert_ptr_nonnull(c.pat);
    ck_assert_int_eq(bearer(access, &u), SL_OK);
    ck_assert_str_eq(u->id, a->id);
    /* a PAT is no access token, and an access token no PAT */
    ck_assert_int_eq(bearer(pat, &u), SL_EDENIED);
    ck_assert_int_eq(sl_pat_refresh(S(), access, &dummy, &err, test_pool), SL_EDENIED);
    /* listed without its signature */
    ck_assert_int_eq(sl_pat_list(S(), a, &list, &err, test_pool), SL_OK);
    ck_assert_int_eq(json_array_size(list), 1);
    ck_assert(!strncmp(pat, json_string_value(json_object_get(json_array_get(list, 0), "token")),
                       strrchr(pat, '.') - pat));
    ck_assert_ptr_null(strchr(strchr(json_string_value(json_object_get(
                           json_array_get(list, 0), "token")), '.') + 1, '.'));
}
END_TEST

/* revoking a PAT ends its access tokens at once; only its owner may name it
 * by the listed form; a deactivated user's tokens stop too */
START_TEST(test_pat_revocation)
{
    sl_user_t *a = create_ok("ann@example.org"), *b = create_ok("bob@example.org"), *u;
    sl_user_patch_t off = { NULL, NULL, NULL, NULL, 0 };
    const char *pat = pat_of(a), *access = access_of(pat), *shown, *fresh;
    sl_err_t err = { 0 };

    shown = apr_pstrndup(test_pool, pat, strrchr(pat, '.') - pat);
    ck_assert_int_eq(sl_pat_blacklist(S(), NULL, shown, &err, test_pool), SL_ENOTFOUND);
    ck_assert_int_eq(sl_pat_blacklist(S(), b, shown, &err, test_pool), SL_ENOTFOUND);
    ck_assert_int_eq(bearer(access, &u), SL_OK);
    ck_assert_int_eq(sl_pat_blacklist(S(), a, shown, &err, test_pool), SL_OK);
    ck_assert_int_eq(bearer(access, &u), SL_EDENIED);
    ck_assert_int_eq(sl_pat_blacklist(S(), NULL, pat, &err, test_pool), SL_ENOTFOUND);
    /* rotate: the caller's own only */
    pat = pat_of(a);
    ck_assert_int_eq(sl_pat_rotate(S(), b, pat, &fresh, &err, test_pool), SL_EINVALID);
    ck_assert_int_eq(sl_pat_rotate(S(), a, pat, &fresh, &err, test_pool), SL_OK);
    ck_assert_int_eq(sl_pat_refresh(S(), pat, &access, &err, test_pool), SL_EDENIED);
    access = access_of(fresh);
    ck_assert_int_eq(bearer(access, &u), SL_OK);
    /* b deactivated (the owner a cannot be) */
    fresh = pat_of(b);
    access = access_of(fresh);
    ck_assert_int_eq(sl_account_patch(S(), &u, b->id, a->id, &off, NULL, test_pool), SL_OK);
    ck_assert_int_eq(bearer(access, &u), SL_EDENIED);
    ck_assert_int_eq(sl_pat_refresh(S(), fresh, &access, &err, test_pool), SL_EDENIED);
}
END_TEST

START_TEST(test_pat_limits_key_rotation_and_settings)
{
    sl_user_t *a = create_ok("ann@example.org"), *u;
    const char *pat = NULL, *access;
    sl_err_t err = { 0 };
    json_t *out = NULL, *body;
    int i, n = -1;

    for (i = 0; i < SL_PAT_LIVE_MAX; i++) {
        pat = pat_of(a);
    }
    ck_assert_int_eq(sl_pat_create(S(), a, 0, &out, &err, test_pool), SL_ECONFLICT);
    ck_assert_int_eq(sl_pat_revoke_user(S(), a->id, &n, &err, test_pool), SL_OK);
    ck_assert_int_eq(n, SL_PAT_LIVE_MAX);
    pat = pat_of(a);
    access = access_of(pat);
    /* a new key: everything signed before is refused */
    ck_assert_int_eq(sl_pat_rotate_key(S(), &err, test_pool), SL_OK);
    ck_assert_int_eq(bearer(access, &u), SL_EDENIED);
    ck_assert_int_eq(sl_pat_refresh(S(), pat, &access, &err, test_pool), SL_EDENIED);
    /* PATs off: none made, none refreshed */
    body = J("{\"api_tokens_enabled\": false, "
                                    "\"api_token_ttl_days\": 2}");
    ck_assert_int_eq(sl_orgpolicy_tokens(S(), a->org_id, body, &out, &err, test_pool), SL_OK);
    ck_assert(json_is_false(json_object_get(out, "api_tokens_enabled")));
    ck_assert_int_eq(sl_pat_create(S(), a, 0, &out, &err, test_pool), SL_EFORBIDDEN);
    body = J("{\"api_tokens_enabled\": true}");
    ck_assert_int_eq(sl_orgpolicy_tokens(S(), a->org_id, body, &out, &err, test_pool), SL_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "api_token_ttl_days")), 2);
    /* wrong types and ranges name the field */
    body = J("{\"api_token_ttl_days\": 0}");
    ck_assert_int_eq(sl_orgpolicy_tokens(S(), a->org_id, body, &out, &err, test_pool),
                     SL_EINVALID);
    ck_assert_str_eq(err.field, "api_token_ttl_days");
    body = J("{\"legacy_api_tokens_enabled\": 1}");
    ck_assert_int_eq(sl_orgpolicy_tokens(S(), a->org_id, body, &out, &err, test_pool),
                     SL_EINVALID);
}
END_TEST

/* the session policy shortens a live session at once, and tells the
 * directives' values while none is set */
START_TEST(test_orgpolicy_sessions)
{
    sl_user_t *a = create_ok("ann@example.org");
    const char *cookie = login(a);
    sl_err_t err = { 0 };
    json_t *out = NULL, *body;

    ck_assert_int_eq(sl_orgpolicy_sessions(S(), a->org_id, NULL, &cfg, &out, &err, test_pool),
                     SL_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "max_session_age")),
                     cfg.session_max_age / 60);
    ck_assert_int_eq(lookup(cookie, &cfg), SL_OK);
    body = J("{\"max_session_age\": 1}");
    ck_assert_int_eq(sl_orgpolicy_sessions(S(), a->org_id, body, &cfg, &out, &err, test_pool),
                     SL_OK);
    ck_assert_int_eq(lookup(cookie, &cfg), SL_OK);
    sql("UPDATE sessions SET created_at = created_at - 61");
    ck_assert_int_eq(lookup(cookie, &cfg), SL_EDENIED);
    body = J("{\"max_time_between_activity\": 0}");
    ck_assert_int_eq(sl_orgpolicy_sessions(S(), a->org_id, body, &cfg, &out, &err, test_pool),
                     SL_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "from 1 to 5256000."));
}
END_TEST

Suite *test_pat_suite(void)
{
    Suite *s = suite_create("pat");
    const TTest *tests[] = {
        test_pat_create_refresh_bearer, test_pat_revocation,
        test_pat_limits_key_rotation_and_settings, test_orgpolicy_sessions, NULL
    };

    add_tcase(s, "sl_pat", store_setup, tests);
    return s;
}
