/* siali: the command line of mod_siali. It links the same core as the
 * module, so the web and the command line never disagree on a rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "siali_cli.h"
#include "sl_account.h"
#include "sl_copy.h"
#include "sl_dbfile.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_password.h"
#include "sl_schema.h"
#include "sl_validate.h"

static void usage(FILE *f)
{
    fputs("usage: siali [--db DRIVER:PARAMS] COMMAND [options]\n"
          "  start [--username U --password P [--user-token T]] [--port N] [--host H]\n"
          "        [-c 'Directive ...'] [-C 'Directive ...']\n"
          "  create_user --username U --password P [--user-token T]\n"
          "  user --username U\n"
          "  reset_password [--username U] [--password P]\n"
          "  migrate\n"
          "  migrate --from DRIVER:PARAMS --to DRIVER:PARAMS   (copy everything into a\n"
          "        new database, e.g. from SQLite to PostgreSQL)\n"
          "The database is --db, else $SIALI_DB, else sqlite3:<state>/siali.db\n"
          "(<state> is $SIALI_STATE_DIR, else /var/lib/siali as root, else the\n"
          "build tree's state/).\n", f);
}

static void log_stderr(void *baton, sl_log_level_e level, const char *file,
                       int line, const char *msg)
{
    if (level <= SL_LOG_WARNING || getenv("SIALI_DEBUG")) {
        fprintf(stderr, "siali: %s\n", msg);
    }
}

static const char *default_state_dir(void)
{
    const char *s = getenv("SIALI_STATE_DIR");

    if (s && *s) {
        return s;
    }
    /* as root the children run as www-data, which may not reach the build
     * tree (e.g. under /root): keep state where a package would */
    return geteuid() == 0 ? "/var/lib/siali" : SIALI_BUILD_STATE;
}

static int parse_db(siali_cli_t *cli, apr_pool_t *p)
{
    if (!cli->db_spec) {
        cli->db_spec = getenv("SIALI_DB");
    }
    if (!cli->db_spec || !*cli->db_spec) {
        cli->db_spec = apr_pstrcat(p, "sqlite3:", cli->state_dir, "/siali.db", NULL);
    }
    return siali_cli_parse_spec(cli, cli->db_spec, p);
}

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

static char *read_line(const char *prompt, int secret, apr_pool_t *p)
{
    char buf[1024];
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), hidden = 0;
    size_t n;

    fputs(prompt, stdout);
    fflush(stdout);
    if (secret && tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    if (!fgets(buf, sizeof(buf), stdin)) {
        buf[0] = '\0';
    }
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputs("\n", stdout);
    }
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return apr_pstrdup(p, buf);
}

static int find_user(sl_conn_src_t *src, sl_user_t **u, const char *login, apr_pool_t *p)
{
    sl_err_t err;
    sl_kind_e k = sl_account_by_login(src, u, login, &err, p);

    if (k == SL_EDB) {
        fprintf(stderr, "siali: %s\n", err.message);
    }
    return k;
}

static int cmd_user(siali_cli_t *cli, apr_pool_t *p)
{
    sl_conn_src_t src;
    sl_db_t *db;
    sl_user_t *u;
    const char *token;
    json_t *j;
    sl_kind_e k;

    if (!cli->username) {
        fprintf(stderr, "siali: user needs --username\n");
        return 2;
    }
    if (!(db = siali_cli_open_db(cli, p))) {
        return 1;
    }
    sl_conn_single(&src, db, p);
    k = find_user(&src, &u, cli->username, p);
    siali_cli_keep_owner(cli, p);
    if (k == SL_ENOTFOUND) {
        j = sl_json_pool(json_pack("{s:s, s:s}", "status", "error", "message",
                                   apr_psprintf(p, "user %s doesn't exist", cli->username)),
                         p);
        printf("%s\n", sl_json_dump(j, p));
        return 1;
    }
    if (k != SL_OK || sl_account_token(&src, &token, u->id, NULL, p) != SL_OK) {
        return 1;
    }
    j = sl_account_json(u, SL_AVATAR_BASE, p);
    json_object_set_new(j, "token", json_string(token));
    json_object_set_new(j, "status", json_string("ok"));
    printf("=> User info:\n%s\n", sl_json_dump(j, p));
    return 0;
}

static int cmd_reset_password(siali_cli_t *cli, apr_pool_t *p)
{
    const char *login = cli->username, *pw = cli->password, *phc;
    sl_conn_src_t src;
    sl_db_t *db;
    sl_user_t *u;
    sl_err_t err;

    if (!login) {
        login = read_line("Username: ", 0, p);
    }
    if (!login || !*login) {
        fprintf(stderr, "siali: no username given\n");
        return 1;
    }
    if (!(db = siali_cli_open_db(cli, p))) {
        return 1;
    }
    sl_conn_single(&src, db, p);
    if (find_user(&src, &u, login, p) != SL_OK) {
        fprintf(stderr, "siali: user %s doesn't exist\n", login);
        return 1;
    }
    if (!pw) {
        pw = read_line("New password: ", 1, p);
    }
    if (sl_validate_password(pw, strlen(pw), cli->cfg.password_min, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return 1;
    }
    if (sl_password_hash(&phc, pw, strlen(pw), &cli->cfg.hash, p) != APR_SUCCESS) {
        fprintf(stderr, "siali: cannot hash the password\n");
        return 1;
    }
    if (sl_account_set_password(&src, u->id, phc, NULL, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    printf("Password successfully changed\n");
    return 0;
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

static int cmd_create_user(siali_cli_t *cli, apr_pool_t *p)
{
    sl_db_t *db = siali_cli_open_db(cli, p);

    return db ? siali_cli_create_user(cli, db, 0, p) : 1;
}

static void copy_progress(void *baton, const char *table, long rows)
{
    printf("  %-15s %ld\n", table, rows);
}

/* siali migrate --from A --to B: both migrated to the current schema, then
 * everything copied in one transaction on B */
static int cmd_copy(siali_cli_t *cli, apr_pool_t *p)
{
    siali_cli_t from = *cli, to = *cli;
    sl_db_t *a, *b;
    sl_err_t err;

    if (!cli->from || !cli->to) {
        fprintf(stderr, "siali: migrate --from and --to go together\n");
        return 2;
    }
    if (siali_cli_parse_spec(&from, cli->from, p) || siali_cli_parse_spec(&to, cli->to, p)) {
        return 2;
    }
    if (!strcmp(from.driver, to.driver) && !strcmp(from.params, to.params)) {
        fprintf(stderr, "siali: --from and --to are the same database\n");
        return 2;
    }
    if (!strcmp(from.driver, "sqlite3") && access(from.params, F_OK) != 0) {
        fprintf(stderr, "siali: %s does not exist\n", from.params);
        return 1;
    }
    if (!strcmp(from.driver, "sqlite3") && sl_dbfile_in_use(from.params, p)) {
        /* a snapshot would be consistent, but what is written after it
         * would be lost to the new database */
        fprintf(stderr, "siali: a running httpd uses %s: stop it first, so that nothing "
                "written after the copy is lost\n", from.params);
        return 1;
    }
    if (!(a = siali_cli_open_db(&from, p)) || !(b = siali_cli_open_db(&to, p))) {
        return 1;
    }
    printf("Copying %s:%s to %s (rows per table):\n", from.driver, from.params, to.driver);
    if (sl_copy_database(a, b, copy_progress, NULL, &err, p) != SL_OK) {
        fprintf(stderr, "siali: copy failed, nothing was written to the target: %s\n",
                err.message);
        return 1;
    }
    siali_cli_keep_owner(&to, p);
    printf("Done: point DBDriver/DBDParams at the new database\n");
    return 0;
}

static int cmd_migrate(siali_cli_t *cli, apr_pool_t *p)
{
    sl_db_t *db;
    sl_err_t err;

    if (cli->from || cli->to) {
        return cmd_copy(cli, p);
    }
    /* --target N stops at an older version: how the tests make an
     * old-version database for httpd to migrate */
    if (cli->target > 0) {
        if (sl_db_open(&db, cli->driver, cli->params, 0, &err, p) != SL_OK
            || sl_schema_migrate(db, cli->target, NULL, &err, p) != SL_OK) {
            fprintf(stderr, "siali: %s\n", err.message);
            return 1;
        }
        siali_cli_keep_owner(cli, p);
        printf("Schema version %d\n", cli->target);
        return 0;
    }
    if (!(db = siali_cli_open_db(cli, p))) {
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    printf("Schema version %d\n", SL_SCHEMA_VERSION);
    return 0;
}

static const char *need_value(int argc, const char *const *argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "siali: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, const char *const *argv)
{
    siali_cli_t cli;
    apr_pool_t *p;
    const char *cmd = NULL, *e;
    int i;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    sl_log_set(log_stderr, NULL);
    memset(&cli, 0, sizeof(cli));
    cli.run_uid = (uid_t)-1;
    cli.run_gid = (gid_t)-1;
    sl_config_defaults(&cli.cfg);
    cli.httpd_args = apr_array_make(p, 4, sizeof(const char *));
    cli.port = "8080";
    cli.host = "127.0.0.1";

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--db")) {
            cli.db_spec = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--username")) {
            cli.username = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--password")) {
            cli.password = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--user-token")) {
            cli.user_token = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--port")) {
            cli.port = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--host")) {
            cli.host = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--from")) {
            cli.from = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--to")) {
            cli.to = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--target")) {
            cli.target = atoi(need_value(argc, argv, &i));
        }
        else if (!strcmp(a, "--state-dir")) {
            cli.state_dir = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "--password-hash")) {
            if ((e = sl_password_parse_params(&cli.cfg.hash, need_value(argc, argv, &i), p))) {
                fprintf(stderr, "siali: --password-hash: %s\n", e);
                return 2;
            }
        }
        else if (!strcmp(a, "-c") || !strcmp(a, "-C")) {
            APR_ARRAY_PUSH(cli.httpd_args, const char *) = a;
            APR_ARRAY_PUSH(cli.httpd_args, const char *) = need_value(argc, argv, &i);
        }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        else if (!cmd && a[0] != '-') {
            cmd = a;
        }
        else {
            fprintf(stderr, "siali: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!cli.state_dir) {
        cli.state_dir = default_state_dir();
    }
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    if (parse_db(&cli, p)) {
        return 2;
    }
    if (!strcmp(cmd, "user")) {
        return cmd_user(&cli, p);
    }
    if (!strcmp(cmd, "reset_password")) {
        return cmd_reset_password(&cli, p);
    }
    if (!strcmp(cmd, "create_user")) {
        return cmd_create_user(&cli, p);
    }
    if (!strcmp(cmd, "migrate")) {
        return cmd_migrate(&cli, p);
    }
    if (!strcmp(cmd, "start")) {
        return siali_cli_start(&cli, p);
    }
    fprintf(stderr, "siali: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
