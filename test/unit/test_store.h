/* The database fixture of the core's store tests (test_store.c): a
 * temporary SQLite file per test, migrated (store_setup) or empty
 * (store_setup_empty), its connection and a source of it, and helpers to
 * make accounts and sessions. Included last, after the core's headers. */
#ifndef TEST_STORE_H
#define TEST_STORE_H

#include <unistd.h>

#include "test_core.h"
#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"
#include "sl_db.h"
#include "sl_password.h"

#define db store_db
#define cfg store_cfg
#define S store_src
#define scalar store_scalar
#define sql store_sql
#define phc_of store_phc_of
#define create store_create
#define create_ok store_create_ok
#define login store_login
#define lookup store_lookup
#define remove_db_files store_remove_db_files
#define runner_pid store_runner_pid
#define cheap store_cheap
#define add_tcase store_add_tcase

extern const sl_argon2_params_t cheap;
extern sl_db_t *db;
extern sl_config_t cfg;
extern pid_t runner_pid;

sl_conn_src_t *S(void);
void remove_db_files(const char *path);
void store_setup_empty(void);
void store_setup(void);
void store_teardown(void);
/* the first column of the first row of a query, or NULL */
const char *scalar(const char *sql);
void sql(const char *stmt);
const char *phc_of(const char *pw);
sl_kind_e create(sl_user_t **u, const char *email, const char *username,
                 const char *token, sl_err_t *err);
sl_user_t *create_ok(const char *email);
const char *login(sl_user_t *u);
sl_kind_e lookup(const char *cookie, const sl_config_t *c);
/* one TCase per core file, the tests in a NULL-terminated list */
void add_tcase(Suite *s, const char *name, void (*setup)(void), const TTest *const *tests);

#endif
