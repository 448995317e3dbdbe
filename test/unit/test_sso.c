/* sl_sso: how the group lists of the upstream modules are read, which
 * group a map names, which role wins, and the directives' arguments. The
 * login itself runs against real modules (test_siali_615_sso.py). */
#include <string.h>

#include <apr_tables.h>

#include "sl_sso.h"
#include "test_core.h"

static apr_array_header_t *groups(const char *value)
{
    apr_array_header_t *a = apr_array_make(test_pool, 4, sizeof(const char *));

    sl_sso_groups_add(a, value, test_pool);
    return a;
}

#define ITEM(a, i) APR_ARRAY_IDX(a, i, const char *)

START_TEST(test_sso_group_lists)
{
    apr_array_header_t *a;

    /* mod_auth_openidc: an array claim joined with ',' */
    a = groups("labeling-admins,reviewers, staff ");
    ck_assert_int_eq(a->nelts, 3);
    ck_assert_str_eq(ITEM(a, 0), "labeling-admins");
    ck_assert_str_eq(ITEM(a, 2), "staff");
    /* mod_authnz_ldap: values joined with "; ", DNs keep their commas */
    a = groups("cn=staff,ou=groups,dc=siali,dc=test; cn=admins,ou=groups,dc=siali,dc=test");
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_str_eq(ITEM(a, 1), "cn=admins,ou=groups,dc=siali,dc=test");
    /* a separator escaped inside a DN is part of it */
    a = groups("cn=x\\;cn=labeling-admins,ou=groups,dc=corp; cn=y,dc=corp");
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_str_eq(ITEM(a, 0), "cn=x\\;cn=labeling-admins,ou=groups,dc=corp");
    ck_assert(!sl_sso_group_is("labeling-admins", ITEM(a, 0)));
    /* empty items and absent values add nothing */
    a = groups(" ;, ;");
    ck_assert_int_eq(a->nelts, 0);
    sl_sso_groups_add(a, NULL, test_pool);
    ck_assert_int_eq(a->nelts, 0);
    /* several variables into one list (mod_auth_mellon's NAME_0, NAME_1) */
    sl_sso_groups_add(a, "one", test_pool);
    sl_sso_groups_add(a, "two", test_pool);
    ck_assert_int_eq(a->nelts, 2);
}
END_TEST

START_TEST(test_sso_group_names)
{
    ck_assert(sl_sso_group_is("labeling-admins", "labeling-admins"));
    ck_assert(sl_sso_group_is("labeling-admins", "Labeling-Admins"));
    ck_assert(!sl_sso_group_is("labeling-admins", "labeling-admins-old"));
    ck_assert(!sl_sso_group_is("admins", "labeling-admins"));
    /* a DN's first value when it is a common name: a group entry's */
    ck_assert(sl_sso_group_is("admins", "cn=admins,ou=groups,dc=siali,dc=test"));
    ck_assert(sl_sso_group_is("admins", "CN=Admins,OU=Groups,DC=corp"));
    ck_assert(!sl_sso_group_is("admins", "ou=admins,dc=x"));
    ck_assert(!sl_sso_group_is("admins", "uid=admins,ou=people,dc=x"));
    /* only the first: a group named like a parent does not match */
    ck_assert(!sl_sso_group_is("groups", "cn=admins,ou=groups,dc=siali,dc=test"));
    ck_assert(!sl_sso_group_is("siali", "cn=admins,ou=groups,dc=siali,dc=test"));
    /* an escaped comma is part of the value */
    ck_assert(sl_sso_group_is("a\\,b", "cn=a\\,b,dc=x"));
    ck_assert(!sl_sso_group_is("a", "cn=a\\,b,dc=x"));
    /* a group written as a DN is that entry only, not another branch's */
    ck_assert(sl_sso_group_is("cn=admins,dc=x", "cn=admins,dc=x"));
    ck_assert(sl_sso_group_is("cn=admins,dc=x", "CN=Admins,DC=X"));
    ck_assert(!sl_sso_group_is("cn=admins,ou=groups,dc=x", "cn=admins,ou=other,dc=x"));
    /* Keycloak's full paths: the last part, or the whole path */
    ck_assert(sl_sso_group_is("labelers", "/teams/labelers"));
    ck_assert(sl_sso_group_is("/teams/labelers", "/teams/labelers"));
    ck_assert(!sl_sso_group_is("teams", "/teams/labelers"));
    ck_assert(!sl_sso_group_is("other/labelers", "/teams/labelers"));
    ck_assert(!sl_sso_group_is("x", ""));
}
END_TEST

START_TEST(test_sso_most_privileged_role_wins)
{
    apr_array_header_t *maps = apr_array_make(test_pool, 4, sizeof(sl_sso_map_t));
    sl_sso_map_t m;
    sl_role_e r = SL_ROLE_COUNT;

    ck_assert_ptr_null(sl_sso_parse_map(&m, "AN", "everyone", test_pool));
    APR_ARRAY_PUSH(maps, sl_sso_map_t) = m;
    ck_assert_ptr_null(sl_sso_parse_map(&m, "RE", "reviewers", test_pool));
    APR_ARRAY_PUSH(maps, sl_sso_map_t) = m;
    ck_assert_ptr_null(sl_sso_parse_map(&m, "AD", "cn=admins,dc=x", test_pool));
    APR_ARRAY_PUSH(maps, sl_sso_map_t) = m;

    ck_assert(sl_sso_role_for(maps, groups("everyone,reviewers"), &r));
    ck_assert_int_eq(r, SL_ROLE_RE);
    ck_assert(sl_sso_role_for(maps, groups("cn=admins,dc=x; cn=everyone,dc=x"), &r));
    ck_assert_int_eq(r, SL_ROLE_AD);
    ck_assert(sl_sso_role_for(maps, groups("Everyone"), &r));
    ck_assert_int_eq(r, SL_ROLE_AN);
    ck_assert(!sl_sso_role_for(maps, groups("strangers"), &r));
    ck_assert(!sl_sso_role_for(maps, groups(""), &r));
    ck_assert(!sl_sso_role_for(maps, NULL, &r));
    ck_assert(!sl_sso_role_for(NULL, groups("everyone"), &r));
}
END_TEST

START_TEST(test_sso_directive_arguments)
{
    sl_sso_provision_e v;
    sl_sso_map_t m;

    ck_assert_ptr_null(sl_sso_parse_map(&m, "MA", "  managers", test_pool));
    ck_assert_int_eq(m.role, SL_ROLE_MA);
    ck_assert_str_eq(m.group, "managers");
    /* the owner changes by a transfer, DI is deactivation, NO is derived */
    ck_assert_ptr_nonnull(sl_sso_parse_map(&m, "OW", "x", test_pool));
    ck_assert_ptr_nonnull(sl_sso_parse_map(&m, "DI", "x", test_pool));
    ck_assert_ptr_nonnull(sl_sso_parse_map(&m, "NO", "x", test_pool));
    ck_assert_ptr_nonnull(sl_sso_parse_map(&m, "ad", "x", test_pool));
    ck_assert_ptr_nonnull(sl_sso_parse_map(&m, "AD", "  ", test_pool));
    ck_assert_ptr_null(sl_sso_parse_provision(&v, "off"));
    ck_assert_int_eq(v, SL_SSO_PROVISION_OFF);
    ck_assert_ptr_null(sl_sso_parse_provision(&v, "On"));
    ck_assert_int_eq(v, SL_SSO_PROVISION_ON);
    ck_assert_ptr_null(sl_sso_parse_provision(&v, "ALWAYS"));
    ck_assert_int_eq(v, SL_SSO_PROVISION_ALWAYS);
    ck_assert_ptr_nonnull(sl_sso_parse_provision(&v, "yes"));
}
END_TEST

Suite *test_sso_suite(void)
{
    Suite *s = suite_create("sso");
    TCase *tc = tcase_create("sl_sso");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_sso_group_lists);
    tcase_add_test(tc, test_sso_group_names);
    tcase_add_test(tc, test_sso_most_privileged_role_wins);
    tcase_add_test(tc, test_sso_directive_arguments);
    suite_add_tcase(s, tc);
    return s;
}
