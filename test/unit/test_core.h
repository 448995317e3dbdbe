/* Unit tests of the Apache-free core (Check). One suite per test file,
 * one TCase per core source file. */
#ifndef TEST_CORE_H
#define TEST_CORE_H

#include <check.h>
#include <apr_pools.h>

Suite *test_validate_suite(void);
Suite *test_password_suite(void);
Suite *test_secret_suite(void);
Suite *test_config_suite(void);
Suite *test_store_suite(void);
Suite *test_multipart_suite(void);
Suite *test_conn_suite(void);
Suite *test_throttle_suite(void);
Suite *test_authcache_suite(void);
Suite *test_form_suite(void);
Suite *test_auth_suite(void);
Suite *test_account_suite(void);
Suite *test_org_suite(void);
Suite *test_session_suite(void);
Suite *test_people_suite(void);
Suite *test_copy_suite(void);
Suite *test_jwt_suite(void);
Suite *test_pat_suite(void);
Suite *test_pagemark_suite(void);
Suite *test_role_suite(void);
Suite *test_sso_suite(void);
Suite *test_audit_suite(void);
Suite *test_totp_suite(void);
Suite *test_mail_suite(void);

/* The per-test pool of the fixture in each file. */
extern apr_pool_t *test_pool;

/* Sets up / tears down test_pool: every TCase uses these as its checked
 * fixture. */
void test_pool_setup(void);
void test_pool_teardown(void);

/* test_store's temporary databases: init before the run (names them after
 * the runner), cleanup after it (removes what failed tests left). */
void test_store_init(void);
void test_store_cleanup(void);

#endif
