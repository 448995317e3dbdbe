/* sl_account: the PATCH body rules without a database, then the account
 * store on one (the fixture of test_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

#include "test_core.h"
#include "sl_account.h"
#include "sl_auth.h"
#include "sl_json.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_validate.h"
#include "test_store.h"

static sl_kind_e patch(const char *json, sl_user_patch_t *pa, sl_err_t *err)
{
    json_t *body = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    sl_kind_e k;

    ck_assert_ptr_nonnull(body);
    /* the patch points into the body: it lives as long as the pool */
    sl_json_pool(body, test_pool);
    k = sl_account_patch_read(pa, body, err, test_pool);
    return k;
}

START_TEST(test_account_patch_read_fields)
{
    sl_user_patch_t pa;
    sl_err_t err = { 0 };

    ck_assert_int_eq(patch("{\"first_name\": \"Ann\", \"phone\": \"+1 555\", "
                           "\"is_active\": false}", &pa, &err), SL_OK);
    ck_assert_str_eq(pa.first_name, "Ann");
    ck_assert_str_eq(pa.phone, "+1 555");
    ck_assert_ptr_null(pa.last_name);
    ck_assert_ptr_null(pa.username);
    ck_assert_int_eq(pa.is_active, 0);
    ck_assert_int_eq(patch("{}", &pa, &err), SL_OK);
    ck_assert_int_eq(pa.is_active, -1);
}
END_TEST

START_TEST(test_account_patch_read_refusals)
{
    static const struct { const char *json, *field, *hint; } bad[] = {
        { "{\"email\": \"x@y.org\"}", "email", "This field is read-only." },
        { "{\"id\": 3}", "id", "This field is read-only." },
        { "{\"nickname\": \"x\"}", "nickname", "Unknown field." },
        { "{\"is_active\": 1}", "is_active", NULL },
        { "{\"first_name\": 7}", "first_name", NULL },
        { "{\"first_name\": \"a\\u0007b\"}", "first_name", NULL },
        { "{\"username\": \"has space\"}", "username", NULL },
        { NULL, NULL, NULL }
    };
    sl_user_patch_t pa;
    int i;

    for (i = 0; bad[i].json; i++) {
        sl_err_t err = { 0 };
        ck_assert_msg(patch(bad[i].json, &pa, &err) == SL_EINVALID, "%s", bad[i].json);
        ck_assert_str_eq(err.field, bad[i].field);
        ck_assert_ptr_nonnull(err.message);
        if (bad[i].hint) {
            ck_assert_str_eq(err.hint, bad[i].hint);
        }
        else {
            ck_assert_ptr_null(err.hint);
        }
    }
}
END_TEST

START_TEST(test_account_create_first_is_owner)
{
    sl_user_t *u = create_ok("jo.doe@example.org"), *v;
    sl_org_t *org = NULL;
    const char *token = NULL;
    apr_int64_t joined = apr_atoi64(u->date_joined);

    ck_assert_str_eq(u->email, "jo.doe@example.org");
    ck_assert_str_eq(u->username, "jo.doe");
    ck_assert_int_eq(u->is_active, 1);
    ck_assert_ptr_null(u->last_activity);
    ck_assert_int_eq(strncmp(u->password, "$argon2id$", 10), 0);
    ck_assert_int_eq(sl_password_verify(u->password, "password1", 9), 1);
    ck_assert_int_ge(joined, sl_now() - 60);
    ck_assert_int_eq(sl_org_get(db, &org, NULL, test_pool), SL_OK);
    ck_assert_str_eq(org->owner_id, u->id);
    ck_assert_str_eq(u->org_id, org->id);
    ck_assert_int_eq(sl_account_token(S(), &token, u->id, NULL, test_pool), SL_OK);
    ck_assert_uint_eq(strlen(token), 40);
    ck_assert_uint_eq(strspn(token, "0123456789abcdef"), 40);
    /* the second account is a member, not the owner */
    v = create_ok("ann@example.org");
    ck_assert_str_eq(v->org_id, org->id);
    ck_assert_int_eq(sl_org_get(db, &org, NULL, test_pool), SL_OK);
    ck_assert_str_eq(org->owner_id, u->id);
    ck_assert_int_eq(sl_account_token(S(), &token, v->id, NULL, test_pool), SL_OK);
    ck_assert_uint_eq(strlen(token), 40);
}
END_TEST

START_TEST(test_account_username_suffix)
{
    sl_user_t *u = NULL;
    sl_err_t err = { 0 };

    ck_assert_str_eq(create_ok("jo@example.org")->username, "jo");
    ck_assert_str_eq(create_ok("jo@other.org")->username, "jo2");
    ck_assert_str_eq(create_ok("jo@third.org")->username, "jo3");
    /* taken case-insensitively */
    ck_assert_int_eq(create(&u, "x@example.org", "Admin", NULL, &err), SL_OK);
    ck_assert_str_eq(u->username, "Admin");
    ck_assert_str_eq(create_ok("admin@example.org")->username, "admin2");
    ck_assert_int_eq(create(&u, "y@example.org", "JO2", NULL, &err), SL_ECONFLICT);
    ck_assert_str_eq(err.field, "username");
}
END_TEST

START_TEST(test_account_duplicate_email)
{
    sl_user_t *u = NULL;
    sl_err_t err = { 0 };

    create_ok("jo@example.org");
    ck_assert_int_eq(create(&u, "jo@example.org", NULL, NULL, &err), SL_ECONFLICT);
    ck_assert_int_eq(err.kind, SL_ECONFLICT);
    ck_assert_str_eq(err.field, "email");
    ck_assert_int_eq(create(&u, "jo@example.org", "other", NULL, &err), SL_ECONFLICT);
    ck_assert_str_eq(err.field, "email");
    ck_assert_str_eq(scalar("SELECT count(*) FROM users"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM memberships"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM api_tokens"), "1");
}
END_TEST

/* An address differing only in case or composition of letters beyond
 * ASCII is the same address: one account. */
START_TEST(test_account_duplicate_email_unicode)
{
    sl_user_t *u = NULL;
    sl_err_t err = { 0 };
    const char *e1 = NULL, *e2 = NULL;

    ck_assert_int_eq(sl_validate_email(&e1, "J\xc3\x96@x.org", 9, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_validate_email(&e2, "jo\xcc\x88@x.org", 10, NULL, test_pool), SL_OK);
    create_ok(e1);
    ck_assert_int_eq(create(&u, e2, "other", NULL, &err), SL_ECONFLICT);
    ck_assert_str_eq(err.field, "email");
    ck_assert_int_eq(sl_account_by_login(S(), &u, "J\xc3\x96@X.ORG", NULL, test_pool),
                     SL_OK);
    ck_assert_str_eq(u->email, "j\xc3\xb6@x.org");
    ck_assert_str_eq(scalar("SELECT count(*) FROM users"), "1");
}
END_TEST

/* Pictures live in the database: one per account, replaced whole, served
 * only while the account names it, gone with the account. */
START_TEST(test_account_avatar_in_database)
{
    sl_user_t *a = create_ok("ann@example.org"), *b = create_ok("bob@example.org");
    const char *n1 = NULL, *n2 = NULL, *nb = NULL;
    sl_avatar_t pic;
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0bytes";

    ck_assert_int_eq(sl_account_set_avatar(S(), &n1, a->id, png, sizeof(png) - 1, "png",
                                           "image/png", NULL, test_pool), SL_OK);
    ck_assert_ptr_nonnull(n1);
    ck_assert(strncmp(n1, a->id, strlen(a->id)) == 0);
    ck_assert_int_eq(sl_account_avatar(S(), &pic, n1, 1, NULL, test_pool), SL_OK);
    ck_assert_uint_eq(pic.len, sizeof(png) - 1);
    ck_assert(memcmp(pic.data, png, pic.len) == 0);           /* NULs survive */
    ck_assert_str_eq(pic.content_type, "image/png");
    ck_assert_str_eq(pic.sha256, sl_secret_sha256_hex_mem(png, sizeof(png) - 1, test_pool));
    memset(&pic, 0, sizeof(pic));
    ck_assert_int_eq(sl_account_avatar(S(), &pic, n1, 0, NULL, test_pool), SL_OK);
    ck_assert_ptr_null(pic.data);
    ck_assert_ptr_nonnull(pic.sha256);
    /* a new picture gets a new name; the old name serves nothing */
    ck_assert_int_eq(sl_account_set_avatar(S(), &n2, a->id, "\xff\xd8jpeg", 6, "jpg",
                                           "image/jpeg", NULL, test_pool), SL_OK);
    ck_assert_str_ne(n1, n2);
    ck_assert_int_eq(sl_account_avatar(S(), &pic, n1, 1, NULL, test_pool), SL_ENOTFOUND);
    ck_assert_int_eq(sl_account_avatar(S(), &pic, n2, 1, NULL, test_pool), SL_OK);
    ck_assert_str_eq(pic.content_type, "image/jpeg");
    ck_assert_str_eq(scalar("SELECT count(*) FROM avatars"), "1");
    ck_assert_int_eq(sl_account_set_avatar(S(), &nb, b->id, png, sizeof(png) - 1, "png",
                                           "image/png", NULL, test_pool), SL_OK);
    /* removed: nothing served, nothing stored */
    ck_assert_int_eq(sl_account_set_avatar(S(), &n1, a->id, NULL, 0, NULL, NULL, NULL,
                                           test_pool), SL_OK);
    ck_assert_ptr_null(n1);
    ck_assert_int_eq(sl_account_avatar(S(), &pic, n2, 1, NULL, test_pool), SL_ENOTFOUND);
    ck_assert_str_eq(scalar("SELECT count(*) FROM avatars"), "1");
    /* deleting the account takes its picture along */
    ck_assert_int_eq(sl_account_delete(S(), b->id, a->id, NULL, test_pool), SL_OK);
    ck_assert_int_eq(sl_account_avatar(S(), &pic, nb, 1, NULL, test_pool), SL_ENOTFOUND);
    ck_assert_str_eq(scalar("SELECT count(*) FROM avatars"), "0");
}
END_TEST

START_TEST(test_account_given_token)
{
    sl_user_t *u = NULL;
    sl_err_t err = { 0 };
    const char *token = NULL;

    ck_assert_int_eq(create(&u, "boot@example.org", NULL, "abcde12345", &err), SL_OK);
    ck_assert_int_eq(sl_account_token(S(), &token, u->id, NULL, test_pool), SL_OK);
    ck_assert_str_eq(token, "abcde12345");
    /* only its hash is the index */
    ck_assert_str_eq(scalar("SELECT token_hash FROM api_tokens"),
                     sl_secret_sha256_hex("abcde12345", test_pool));
    ck_assert_int_eq(create(&u, "two@example.org", NULL, "abcde12345", &err),
                     SL_ECONFLICT);
    ck_assert_str_eq(err.field, "token");
    ck_assert_str_eq(scalar("SELECT count(*) FROM users"), "1");
}
END_TEST

START_TEST(test_account_check_token)
{
    static const char *const bad[] = { "abcd", "", "abc de", "abcde\n",
                                       "abcd\xc3\xa9", NULL };
    sl_err_t err = { 0 };
    char tok[258];
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(sl_account_check_token(bad[i], &err) == SL_EINVALID,
                      "'%s' accepted", bad[i]);
        ck_assert_str_eq(err.field, "token");
    }
    ck_assert_int_eq(sl_account_check_token(NULL, &err), SL_EINVALID);
    ck_assert_int_eq(sl_account_check_token("abcde", &err), SL_OK);
    ck_assert_int_eq(sl_account_check_token("a!b#c$d%e~", &err), SL_OK);
    memset(tok, 'k', 257);
    tok[257] = '\0';
    ck_assert_int_eq(sl_account_check_token(tok, &err), SL_EINVALID);
    tok[256] = '\0';
    ck_assert_int_eq(sl_account_check_token(tok, &err), SL_OK);
}
END_TEST

static sl_kind_e by_login(sl_user_t **f, const char *login)
{
    return sl_account_by_login(S(), f, login, NULL, test_pool);
}

START_TEST(test_account_by_login)
{
    sl_user_t *u = create_ok("jo.doe@example.org"), *v = create_ok("jo.doe@other.org");
    sl_user_t *f = NULL;

    ck_assert_int_eq(by_login(&f, "JO.DOE@EXAMPLE.ORG"), SL_OK);
    ck_assert_str_eq(f->id, u->id);
    ck_assert_int_eq(by_login(&f, " jo.doe@example.org "), SL_OK);
    ck_assert_str_eq(f->id, u->id);
    ck_assert_int_eq(by_login(&f, "JO.Doe"), SL_OK);
    ck_assert_str_eq(f->id, u->id);
    ck_assert_int_eq(by_login(&f, "Jo.Doe2"), SL_OK);
    ck_assert_str_eq(f->id, v->id);
    ck_assert_int_eq(sl_account_by_id(S(), &f, v->id, NULL, test_pool), SL_OK);
    ck_assert_str_eq(f->email, "jo.doe@other.org");
    ck_assert_int_eq(by_login(&f, "nobody"), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, "nobody@example.org"), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, ""), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, NULL), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, "jo.doe@@example.org"), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, "jo.doe\xff"), SL_ENOTFOUND);
    ck_assert_int_eq(by_login(&f, "jo.do%"), SL_ENOTFOUND);
    ck_assert_int_eq(sl_account_by_id(S(), &f, "9999", NULL, test_pool), SL_ENOTFOUND);
}
END_TEST

START_TEST(test_account_named_rule)
{
    sl_new_user_t nu;
    sl_err_t err;

    memset(&nu, 0, sizeof(nu));
    ck_assert_int_eq(sl_account_named(&nu, "Boss@Example.org", &err, test_pool), SL_OK);
    ck_assert_str_eq(nu.email, "boss@example.org");
    ck_assert_ptr_null(nu.username);
    ck_assert_int_eq(sl_account_named(&nu, "boss", &err, test_pool), SL_OK);
    ck_assert_str_eq(nu.email, "boss@localhost");
    ck_assert_str_eq(nu.username, "boss");
    ck_assert_int_eq(sl_account_named(&nu, "bad name", &err, test_pool), SL_EINVALID);
    ck_assert_int_eq(sl_account_named(&nu, "a@@b", &err, test_pool), SL_EINVALID);
}
END_TEST

START_TEST(test_account_json_fields)
{
    sl_user_t *u = create_ok("jo.doe@example.org");
    json_t *j = sl_account_json(u, NULL, test_pool), *v;
    const char *joined;

    ck_assert_uint_eq(json_object_size(j), 12);
    v = json_object_get(j, "id");
    ck_assert(json_is_integer(v));
    ck_assert_int_eq(json_integer_value(v), apr_atoi64(u->id));
    ck_assert_str_eq(json_string_value(json_object_get(j, "email")), "jo.doe@example.org");
    ck_assert_str_eq(json_string_value(json_object_get(j, "username")), "jo.doe");
    ck_assert_str_eq(json_string_value(json_object_get(j, "first_name")), "");
    ck_assert_str_eq(json_string_value(json_object_get(j, "last_name")), "");
    ck_assert_str_eq(json_string_value(json_object_get(j, "phone")), "");
    ck_assert_str_eq(json_string_value(json_object_get(j, "initials")), "jo");
    ck_assert(json_is_null(json_object_get(j, "last_activity")));
    ck_assert(json_is_null(json_object_get(j, "avatar")));
    ck_assert(json_is_true(json_object_get(j, "is_active")));
    v = json_object_get(j, "active_organization");
    ck_assert(json_is_integer(v));
    ck_assert_int_eq(json_integer_value(v), 1);
    joined = json_string_value(json_object_get(j, "date_joined"));
    ck_assert_ptr_nonnull(joined);
    ck_assert_uint_eq(strlen(joined), 20);
    ck_assert_int_eq(joined[19], 'Z');
    /* after use, last_activity is an ISO time */
    sl_account_touch(db, u, test_pool);
    ck_assert_int_eq(sl_account_by_id(S(), &u, u->id, NULL, test_pool), SL_OK);
    ck_assert_ptr_nonnull(u->last_activity);
    j = sl_account_json(u, NULL, test_pool);
    ck_assert(json_is_string(json_object_get(j, "last_activity")));
    ck_assert_int_eq(json_string_value(json_object_get(j, "last_activity"))[19], 'Z');
}
END_TEST

START_TEST(test_account_set_password_ends_sessions)
{
    sl_user_t *u = create_ok("jo@example.org"), *other = create_ok("ann@example.org");
    const char *c1 = login(u), *c2 = login(u), *c3 = login(other);
    const char *phc = phc_of("new password");
    sl_err_t err = { 0 };

    /* keeping one session keeps exactly that one */
    ck_assert_int_eq(sl_account_set_password(S(), u->id, "$argon2id$y",
                                             sl_secret_sha256_hex(c1, test_pool), &err,
                                             test_pool), SL_OK);
    ck_assert_int_eq(lookup(c1, &cfg), SL_OK);
    ck_assert_int_eq(lookup(c2, &cfg), SL_ENOTFOUND);   /* ended: no such session now */
    c2 = login(u);
    ck_assert_int_eq(sl_account_by_id(S(), &u, u->id, NULL, test_pool), SL_OK);
    ck_assert_str_eq(u->password, "$argon2id$y");
    ck_assert_int_eq(sl_account_set_password(S(), u->id, phc, NULL, &err, test_pool), SL_OK);
    ck_assert_int_eq(lookup(c1, &cfg), SL_ENOTFOUND);
    ck_assert_int_eq(lookup(c2, &cfg), SL_ENOTFOUND);
    ck_assert_int_eq(lookup(c3, &cfg), SL_OK);
    ck_assert_int_eq(sl_account_by_id(S(), &u, u->id, NULL, test_pool), SL_OK);
    ck_assert_str_eq(u->password, phc);
    ck_assert_int_eq(sl_account_set_password(S(), "9999", phc, NULL, &err, test_pool),
                     SL_ENOTFOUND);
}
END_TEST

Suite *test_account_suite(void)
{
    Suite *s = suite_create("account");
    TCase *tc = tcase_create("sl_account");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_account_patch_read_fields);
    tcase_add_test(tc, test_account_patch_read_refusals);
    suite_add_tcase(s, tc);
    {
        const TTest *stored[] = {
            test_account_create_first_is_owner,
            test_account_username_suffix,
            test_account_duplicate_email,
            test_account_duplicate_email_unicode,
            test_account_avatar_in_database,
            test_account_given_token,
            test_account_check_token,
            test_account_by_login,
            test_account_named_rule,
            test_account_json_fields,
            test_account_set_password_ends_sessions, NULL
        };
        add_tcase(s, "sl_account (store)", store_setup, stored);
    }
    return s;
}
