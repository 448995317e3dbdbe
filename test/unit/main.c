/* Runs every suite of the core's unit tests. */
#include <stdlib.h>

#include <apr_general.h>

#include "test_core.h"

apr_pool_t *test_pool;

void test_pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&test_pool, NULL), APR_SUCCESS);
}

void test_pool_teardown(void)
{
    if (test_pool) {
        apr_pool_destroy(test_pool);
        test_pool = NULL;
    }
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (apr_initialize() != APR_SUCCESS) {
        return EXIT_FAILURE;
    }
    test_store_init();
    sr = srunner_create(test_validate_suite());
    srunner_add_suite(sr, test_password_suite());
    srunner_add_suite(sr, test_secret_suite());
    srunner_add_suite(sr, test_config_suite());
    srunner_add_suite(sr, test_store_suite());
    srunner_add_suite(sr, test_multipart_suite());
    srunner_add_suite(sr, test_conn_suite());
    srunner_add_suite(sr, test_throttle_suite());
    srunner_add_suite(sr, test_authcache_suite());
    srunner_add_suite(sr, test_form_suite());
    srunner_add_suite(sr, test_auth_suite());
    srunner_add_suite(sr, test_account_suite());
    srunner_add_suite(sr, test_org_suite());
    srunner_add_suite(sr, test_session_suite());
    srunner_add_suite(sr, test_people_suite());
    srunner_add_suite(sr, test_copy_suite());
    srunner_add_suite(sr, test_jwt_suite());
    srunner_add_suite(sr, test_pat_suite());
    srunner_add_suite(sr, test_pagemark_suite());
    srunner_add_suite(sr, test_role_suite());
    srunner_add_suite(sr, test_sso_suite());
    srunner_add_suite(sr, test_audit_suite());
    srunner_add_suite(sr, test_totp_suite());
    srunner_add_suite(sr, test_mail_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    test_store_cleanup();
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
