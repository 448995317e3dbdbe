/* sl_copy: a whole installation into another database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "sl_account.h"
#include "sl_auth.h"
#include "sl_copy.h"
#include "sl_json.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_people.h"
#include "sl_project.h"
#include "sl_schema.h"
#include "sl_secret.h"
#include "sl_session.h"
#include "sl_validate.h"
#include "test_store.h"

/* every table the migrations make is copied, with exactly its columns and
 * integer columns marked as such */
START_TEST(test_copy_tables_match_schema)
{
    sl_rows_t tables, cols;
    sl_err_t err = { 0 };
    int i, j;

    ck_assert_int_eq(sl_db_select_raw(db, test_pool, "SELECT name FROM sqlite_master "
                                      "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                      "AND name NOT LIKE 'user_search_%' "
                                      "AND name <> 'schema_version'", &tables, &err), SL_OK);
    ck_assert_int_gt(tables.rows->nelts, 5);
    for (i = 0; i < tables.rows->nelts; i++) {
        const char *name = SL_ROW(&tables, i)[0];
        const sl_copy_table_t *t = sl_copy_tables;
        const char *want = "";

        while (t->table && strcmp(t->table, name)) {
            t++;
        }
        ck_assert_msg(t->table != NULL, "table %s is not copied", name);
        ck_assert_int_eq(sl_db_select_raw(db, test_pool, apr_psprintf(test_pool,
                                          "SELECT name, type FROM pragma_table_info('%s') "
                                          "ORDER BY cid", name), &cols, &err), SL_OK);
        /* the FTS5 table's rowid is its key, not a declared column */
        if (!strcmp(name, "user_search")) {
            want = "rowid:n";
        }
        for (j = 0; j < cols.rows->nelts; j++) {
            const char *type = SL_ROW(&cols, j)[1];
            want = apr_pstrcat(test_pool, want, *want ? " " : "", SL_ROW(&cols, j)[0],
                               type && strstr(type, "INT") ? ":n" : "", NULL);
        }
        ck_assert_str_eq(t->columns, want);
    }
    for (i = 0; sl_copy_tables[i].table; i++) {
        int found = 0;
        for (j = 0; j < tables.rows->nelts; j++) {
            found = found || !strcmp(SL_ROW(&tables, j)[0], sl_copy_tables[i].table);
        }
        ck_assert_msg(found, "%s is not a table of the schema", sl_copy_tables[i].table);
    }
}
END_TEST

static sl_db_t *open_other(char *path, size_t n)
{
    sl_db_t *other = NULL;
    sl_err_t err = { 0 };
    int fd;

    snprintf(path, n, "/tmp/siali-unit-%ld-XXXXXX", (long)runner_pid);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sl_db_open(&other, "sqlite3", path, 0, &err, test_pool), SL_OK);
    ck_assert_int_eq(sl_schema_migrate(other, 0, NULL, &err, test_pool), SL_OK);
    ck_assert_int_eq(sl_db_prepare_all(other, &err), SL_OK);
    return other;
}

static const char *scalar_on(sl_db_t *d, const char *q)
{
    sl_rows_t res;
    sl_err_t err = { 0 };

    ck_assert_int_eq(sl_db_select_raw(d, test_pool, q, &res, &err), SL_OK);
    return res.rows->nelts ? SL_ROW(&res, 0)[0] : NULL;
}

/* more rows than one batch, ids with gaps; afterwards the token, the
 * session and the password of the source work on the copy, the next
 * account gets a new id, and a second copy into it is refused */
START_TEST(test_copy_keeps_ids_tokens_sessions)
{
    char path[80];
    sl_db_t *to;
    sl_conn_src_t tsrc;
    sl_user_t *u = NULL, *last = NULL, *found = NULL;
    const char *token = NULL, *cookie, *q;
    sl_err_t err = { 0 };
    int i;

    for (i = 0; i < 620; i++) {
        last = create_ok(apr_psprintf(test_pool, "copy%03d@example.org", i));
        if (i == 3) {
            u = last;
        }
    }
    sql("DELETE FROM users WHERE id = 2");
    ck_assert_int_eq(sl_account_token(S(), &token, u->id, NULL, test_pool), SL_OK);
    cookie = login(u);
    to = open_other(path, sizeof(path));
    ck_assert_int_eq(sl_copy_database(db, to, NULL, NULL, &err, test_pool), SL_OK);
    for (i = 0; sl_copy_tables[i].table; i++) {
        q = apr_psprintf(test_pool, "SELECT count(*) FROM %s", sl_copy_tables[i].table);
        ck_assert_str_eq(scalar_on(to, q), scalar(q));
    }
    ck_assert_str_eq(scalar_on(to, "SELECT invite_token FROM organization"),
                     scalar("SELECT invite_token FROM organization"));
    ck_assert_str_eq(scalar_on(to, "SELECT count(*) FROM users WHERE id = 2"), "0");
    sl_conn_single(&tsrc, to, test_pool);
    ck_assert_int_eq(sl_auth_token(&tsrc, &found, token, &err, test_pool), SL_OK);
    ck_assert_str_eq(found->id, u->id);
    ck_assert_int_eq(sl_session_lookup(&tsrc, &found, cookie, &cfg, &err, test_pool), SL_OK);
    ck_assert_str_eq(found->id, u->id);
    ck_assert_int_eq(sl_password_verify(found->password, "password1", 9), 1);
    /* a new account after the copy: past the largest id copied */
    ck_assert_int_eq(sl_db_exec_raw(to, test_pool, "INSERT INTO users (email, username, "
                                    "password, date_joined) VALUES ('new@x.org', 'new', "
                                    "'x', 1)", &err), SL_OK);
    ck_assert_int_gt(atoi(scalar_on(to, "SELECT max(id) FROM users")), atoi(last->id));
    /* never merged into a database that has accounts */
    q = scalar_on(to, "SELECT count(*) FROM users");
    ck_assert_int_eq(sl_copy_database(db, to, NULL, NULL, &err, test_pool), SL_EINVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "not empty"));
    ck_assert_str_eq(scalar_on(to, "SELECT count(*) FROM users"), q);
    remove_db_files(path);
}
END_TEST

Suite *test_copy_suite(void)
{
    Suite *s = suite_create("copy");
    const TTest *tests[] = {
        test_copy_tables_match_schema,
        test_copy_keeps_ids_tokens_sessions, NULL
    };

    add_tcase(s, "sl_copy", store_setup, tests);
    return s;
}
