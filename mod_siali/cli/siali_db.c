/* The CLI's database helpers, shared by the commands (siali.c) and
 * `siali start` (siali_start.c): which database, opening and migrating it,
 * the owner of SQLite files, the start-up account. Neither of those two
 * files is used from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "siali_cli.h"
#include "sl_account.h"
#include "sl_dbfile.h"
#include "sl_schema.h"

int siali_cli_parse_spec(siali_cli_t *cli, const char *spec, apr_pool_t *p)
{
    const char *colon;

    cli->db_spec = spec;
    colon = strchr(cli->db_spec, ':');
    if (!colon || colon == cli->db_spec || !colon[1]) {
        fprintf(stderr, "siali: --db takes DRIVER:PARAMS, e.g. sqlite3:/var/lib/siali/"
                "siali.db or 'pgsql:host=127.0.0.1 dbname=siali'\n");
        return 1;
    }
    cli->driver = apr_pstrmemdup(p, cli->db_spec, colon - cli->db_spec);
    cli->params = colon + 1;
    if (strcmp(cli->driver, "sqlite3") && strcmp(cli->driver, "pgsql")) {
        fprintf(stderr, "siali: unknown database driver '%s' (sqlite3 or pgsql)\n",
                cli->driver);
        return 1;
    }
    return 0;
}

/* Run when the command is done with the database (its pool goes), after
 * its last commit: every httpd child on the file drops what its caller
 * cache holds (a change counted before its commit could be cached again
 * from the old row). */
static apr_status_t count_change(void *data)
{
    sl_dbfile_counter_bump(data);
    return APR_SUCCESS;
}

sl_db_t *siali_cli_open_db(siali_cli_t *cli, apr_pool_t *p)
{
    sl_db_t *db;
    sl_err_t err;
    int version = 0, sqlite = !strcmp(cli->driver, "sqlite3");

    if (sqlite) {
        int created_dir = 0;
        const char *e = sl_dbfile_create(cli->params, &created_dir, p);
        if (e) {
            fprintf(stderr, "siali: %s\n", e);
            return NULL;
        }
        cli->created_dir = cli->created_dir || created_dir;
    }
    if (sl_db_open(&db, cli->driver, cli->params, 0, &err, p) != SL_OK
        || sl_schema_version(db, &version, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return NULL;
    }
    if (version < SL_SCHEMA_VERSION) {
        if (sqlite && sl_dbfile_in_use(cli->params, p)) {
            fprintf(stderr, "siali: the database %s has schema %d and needs %d, but a "
                    "running httpd uses it: restart httpd (it migrates at start) "
                    "instead of migrating under it\n", cli->params, version,
                    SL_SCHEMA_VERSION);
            return NULL;
        }
        int from = 0;
        if (sl_schema_migrate(db, 0, &from, &err, p) != SL_OK) {
            fprintf(stderr, "siali: cannot migrate %s: %s\n", cli->params, err.message);
            return NULL;
        }
        /* (from is what was found under the migration's lock: another
         * process may have migrated it meanwhile) */
        if (from < SL_SCHEMA_VERSION) {
            fprintf(stderr, "siali: migrated the %s database from schema %d to %d\n",
                    cli->driver, from, SL_SCHEMA_VERSION);
        }
    }
    if (sl_db_prepare_all(db, &err) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return NULL;
    }
    if (sqlite) {
        sl_dbfile_counter_t *counter;
        const char *e = sl_dbfile_counter_open(cli->params, &counter, p);
        if (e) {
            fprintf(stderr, "siali: warning: %s: a running httpd may go on answering "
                    "from its caller cache for up to SialiAuthCache\n", e);
        }
        else {
            apr_pool_cleanup_register(p, counter, count_change,
                                      apr_pool_cleanup_null);
        }
    }
    return db;
}

/* The files SQLite made while the CLI ran: readable by the database's
 * owner only; as root, owned like the database (the httpd children's user,
 * once an httpd has used it) or by `siali start`'s user. */
void siali_cli_keep_owner(siali_cli_t *cli, apr_pool_t *p)
{
    apr_finfo_t fi;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    const char *e;

    if (strcmp(cli->driver, "sqlite3")) {
        return;
    }
    if (cli->run_uid != (uid_t)-1) {
        uid = cli->run_uid;
        gid = cli->run_gid;
    }
    else if (apr_stat(&fi, cli->params, APR_FINFO_OWNER, p) == APR_SUCCESS) {
        uid = fi.user;
        gid = fi.group;
    }
    if ((e = sl_dbfile_hand_over(cli->params, uid, gid, cli->created_dir, p))) {
        fprintf(stderr, "siali: %s\n", e);
    }
}

int siali_cli_create_user(siali_cli_t *cli, sl_db_t *db, int quiet_if_exists,
                          apr_pool_t *p)
{
    sl_conn_src_t src;
    sl_user_t *u;
    sl_err_t err;
    int created = 0;

    if (!cli->username || !cli->password) {
        fprintf(stderr, "siali: --username and --password go together\n");
        return 2;
    }
    sl_conn_single(&src, db, p);
    if (sl_account_bootstrap(&src, &u, &created, cli->username, cli->password,
                             cli->user_token, &cli->cfg, &err, p) != SL_OK) {
        fprintf(stderr, "siali: cannot create %s: %s%s%s\n", cli->username,
                err.field ? err.field : "", err.field ? ": " : "", err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    if (!created) {
        if (!quiet_if_exists) {
            fprintf(stderr, "siali: user %s already exists: left unchanged\n",
                    cli->username);
        }
        return quiet_if_exists ? 0 : 1;
    }
    printf("User %s created (id %s)\n", u->email, u->id);
    return 0;
}

