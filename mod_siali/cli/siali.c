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
#include "sl_pat.h"
#include "sl_resetlink.h"
#include "sl_schema.h"
#include "sl_twofactor.h"
#include "sl_validate.h"

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

static char *read_line(const char *prompt, int secret, apr_pool_t *p)
{
    char buf[1024];
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), hidden = 0;
    size_t n;

    /* echo off before the prompt shows: a password typed as soon as it
     * appears is neither echoed nor thrown away by the TCSAFLUSH */
    if (secret && tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    fputs(prompt, stdout);
    fflush(stdout);
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

/* The database opened and --username's account found, for a command that
 * needs both: 0, or 1 once the reason is said. */
static int open_account(siali_cli_t *cli, sl_conn_src_t *src, sl_user_t **u, apr_pool_t *p)
{
    sl_db_t *db = siali_cli_open_db(cli, p);

    if (!db) {
        return 1;
    }
    sl_conn_single(src, db, p);
    if (find_user(src, u, cli->username, p) != SL_OK) {
        fprintf(stderr, "siali: user %s doesn't exist\n", cli->username);
        return 1;
    }
    return 0;
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

/* siali token create|revoke-all --username U: a personal access token for a
 * script that sets up a client (printed alone on its line), or every one
 * of the account's revoked */
static int cmd_token(siali_cli_t *cli, apr_pool_t *p)
{
    int create = cli->sub && !strcmp(cli->sub, "create");
    sl_conn_src_t src;
    sl_err_t err;
    sl_user_t *u;
    json_t *j;
    int n = 0;

    if (!cli->sub || (!create && strcmp(cli->sub, "revoke-all")) || !cli->username) {
        fprintf(stderr, "usage: siali token create --username U [--ttl-days N]\n"
                        "       siali token revoke-all --username U\n");
        return 2;
    }
    if (open_account(cli, &src, &u, p)) {
        return 1;
    }
    if (create ? sl_pat_create(&src, u, cli->ttl_days, &j, &err, p)
               : sl_pat_revoke_user(&src, u->id, &n, &err, p)) {
        fprintf(stderr, "siali: %s\n", err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    if (create) {
        printf("%s\n", json_string_value(json_object_get(j, "token")));
    }
    else {
        printf("Revoked %d personal access tokens of %s\n", n, u->email);
    }
    return 0;
}

/* siali jwt rotate-secret: a new key signs personal access tokens; every
 * one signed before is refused from now on, on every node */
static int cmd_jwt(siali_cli_t *cli, apr_pool_t *p)
{
    sl_conn_src_t src;
    sl_err_t err;
    sl_db_t *db;

    if (!cli->sub || strcmp(cli->sub, "rotate-secret")) {
        fprintf(stderr, "usage: siali jwt rotate-secret\n");
        return 2;
    }
    if (!(db = siali_cli_open_db(cli, p))) {
        return 1;
    }
    sl_conn_single(&src, db, p);
    if (sl_pat_rotate_key(&src, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    printf("JWT secret rotated: every personal access token made before is invalid\n");
    return 0;
}

/* siali twofactor disable --username U: the way back for a member who lost
 * the phone and the recovery codes (their next login asks for no code, or,
 * with SialiRequireTwoFactor, sets up a new one) */
static int cmd_twofactor(siali_cli_t *cli, apr_pool_t *p)
{
    sl_conn_src_t src;
    sl_err_t err;
    sl_user_t *u;

    if (!cli->sub || strcmp(cli->sub, "disable") || !cli->username) {
        fprintf(stderr, "usage: siali twofactor disable --username U\n");
        return 2;
    }
    if (open_account(cli, &src, &u, p)) {
        return 1;
    }
    if (sl_2fa_remove(&src, u->id, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s: %s\n", u->email, err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    printf("Two-factor login disabled for %s\n", u->email);
    return 0;
}

/* siali reset_link --username U [--base-url URL]: a one-time link to set a
 * new password, for an administrator to hand over (no mail needed) */
static int cmd_reset_link(siali_cli_t *cli, apr_pool_t *p)
{
    const char *token, *base = cli->base_url ? cli->base_url : "";
    apr_int64_t expires;
    apr_size_t n = strlen(base);
    sl_conn_src_t src;
    sl_err_t err;
    sl_user_t *u;

    if (!cli->username) {
        fprintf(stderr, "usage: siali reset_link --username U [--base-url URL]\n");
        return 2;
    }
    if (open_account(cli, &src, &u, p)) {
        return 1;
    }
    if (sl_reset_create(&src, u->id, NULL, &cli->cfg, &token, &expires, &err, p) != SL_OK) {
        fprintf(stderr, "siali: %s\n", err.message);
        return 1;
    }
    siali_cli_keep_owner(cli, p);
    while (n && base[n - 1] == '/') {
        n--;
    }
    printf("Reset link for %s, valid once until %s:\n%.*s/user/reset-password/?token=%s\n",
           u->email, sl_iso_time(sl_i64(expires, p), p), (int)n, base, token);
    if (!cli->base_url) {
        printf("(after the server's address and mount point: see --base-url)\n");
    }
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

/* The options: which field they set, and a bit for the commands that take
 * them. --db, --state-dir and --password-hash go with every command. */
enum {
    O_USERNAME = 1 << 0, O_PASSWORD = 1 << 1, O_TOKEN = 1 << 2, O_PORT = 1 << 3,
    O_HOST = 1 << 4, O_HTTPD = 1 << 5, O_TARGET = 1 << 6, O_FROM = 1 << 7, O_TO = 1 << 8,
    O_TTL = 1 << 9, O_BASE_URL = 1 << 10
};

typedef int cmd_fn(siali_cli_t *cli, apr_pool_t *p);

typedef struct {
    const char *name;
    cmd_fn *run;
    int options;
    const char *usage;
    const char *help;
} command_t;

static const command_t commands[] = {
    { "start", siali_cli_start, O_USERNAME | O_PASSWORD | O_TOKEN | O_PORT | O_HOST | O_HTTPD,
      "start [--username U --password P [--user-token T]] [--port N] [--host H]\n"
      "        [-c 'Directive ...'] [-C 'Directive ...']",
      "runs httpd with mod_siali on this database (foreground)" },
    { "create_user", cmd_create_user, O_USERNAME | O_PASSWORD | O_TOKEN,
      "create_user --username U --password P [--user-token T]",
      "creates an account with an API token" },
    { "user", cmd_user, O_USERNAME, "user --username U",
      "prints the account as JSON, with its token" },
    { "reset_password", cmd_reset_password, O_USERNAME | O_PASSWORD,
      "reset_password [--username U] [--password P]",
      "sets a new password (asks for what is missing), ends the sessions" },
    { "migrate", cmd_migrate, O_TARGET | O_FROM | O_TO,
      "migrate [--target N]\n  migrate --from DRIVER:PARAMS --to DRIVER:PARAMS",
      "migrates the schema; or copies everything into a new database" },
    { "token", cmd_token, O_USERNAME | O_TTL,
      "token create --username U [--ttl-days N]\n  token revoke-all --username U",
      "prints a new personal access token of the account; or revokes all of them" },
    { "jwt", cmd_jwt, 0, "jwt rotate-secret",
      "a new key signs personal access tokens: every one made before is refused" },
    { "reset_link", cmd_reset_link, O_USERNAME | O_BASE_URL,
      "reset_link --username U [--base-url URL]",
      "prints a one-time link that sets a new password (SialiResetLinkLifetime: 24h here)" },
    { "twofactor", cmd_twofactor, O_USERNAME, "twofactor disable --username U",
      "turns the account's two-factor login off (a lost phone and recovery codes)" },
    { NULL, NULL, 0, NULL, NULL }
};

static void usage(FILE *f)
{
    const command_t *c;

    fputs("usage: siali [--db DRIVER:PARAMS] [--state-dir DIR] [--password-hash COST] "
          "COMMAND [options]\n", f);
    for (c = commands; c->name; c++) {
        fprintf(f, "  %s\n", c->usage);
    }
    fputs("The database is --db, else $SIALI_DB, else sqlite3:<state>/siali.db\n"
          "(<state> is --state-dir, else $SIALI_STATE_DIR, else /var/lib/siali as root,\n"
          "else the build tree's state/). siali COMMAND --help: one command.\n", f);
}

static void command_usage(const command_t *c, FILE *f)
{
    fprintf(f, "usage: siali [--db DRIVER:PARAMS] %s\n%s\n", c->usage, c->help);
}

static const command_t *find_command(const char *name)
{
    const command_t *c;

    for (c = commands; name && c->name; c++) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

int main(int argc, const char *const *argv)
{
    siali_cli_t cli;
    apr_pool_t *p;
    const command_t *cmd = NULL;
    const char *e, *unknown_cmd = NULL;
    int i, given = 0, help = 0;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    sl_log_set(log_stderr, NULL);
    memset(&cli, 0, sizeof(cli));
    cli.run_uid = (uid_t)-1;
    cli.run_gid = (gid_t)-1;
    sl_config_defaults(&cli.cfg, p);
    cli.httpd_args = apr_array_make(p, 4, sizeof(const char *));
    cli.port = "8080";
    cli.host = "127.0.0.1";

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--db")) {
            cli.db_spec = need_value(argc, argv, &i);
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
        else if (!strcmp(a, "--username")) {
            cli.username = need_value(argc, argv, &i);
            given |= O_USERNAME;
        }
        else if (!strcmp(a, "--password")) {
            cli.password = need_value(argc, argv, &i);
            given |= O_PASSWORD;
        }
        else if (!strcmp(a, "--user-token")) {
            cli.user_token = need_value(argc, argv, &i);
            given |= O_TOKEN;
        }
        else if (!strcmp(a, "--port")) {
            cli.port = need_value(argc, argv, &i);
            given |= O_PORT;
        }
        else if (!strcmp(a, "--host")) {
            cli.host = need_value(argc, argv, &i);
            given |= O_HOST;
        }
        else if (!strcmp(a, "--target")) {
            cli.target = atoi(need_value(argc, argv, &i));
            given |= O_TARGET;
        }
        else if (!strcmp(a, "--from")) {
            cli.from = need_value(argc, argv, &i);
            given |= O_FROM;
        }
        else if (!strcmp(a, "--to")) {
            cli.to = need_value(argc, argv, &i);
            given |= O_TO;
        }
        else if (!strcmp(a, "--base-url")) {
            cli.base_url = need_value(argc, argv, &i);
            given |= O_BASE_URL;
        }
        else if (!strcmp(a, "--ttl-days")) {
            cli.ttl_days = atoi(need_value(argc, argv, &i));
            if (cli.ttl_days < 1 || cli.ttl_days > SL_PAT_TTL_DAYS_MAX) {
                fprintf(stderr, "siali: --ttl-days: from 1 to %d\n", SL_PAT_TTL_DAYS_MAX);
                return 2;
            }
            given |= O_TTL;
        }
        else if (!strcmp(a, "-c") || !strcmp(a, "-C")) {
            APR_ARRAY_PUSH(cli.httpd_args, const char *) = a;
            APR_ARRAY_PUSH(cli.httpd_args, const char *) = need_value(argc, argv, &i);
            given |= O_HTTPD;
        }
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help = 1;
        }
        else if (!cmd && !unknown_cmd && a[0] != '-') {
            if (!(cmd = find_command(a))) {
                unknown_cmd = a;
            }
        }
        else if (cmd && !cli.sub && a[0] != '-'
                 && (cmd->run == cmd_token || cmd->run == cmd_jwt || cmd->run == cmd_twofactor)) {
            cli.sub = a;    /* their subcommand */
        }
        else {
            fprintf(stderr, "siali: unknown argument '%s'\n", a);
            if (cmd) {
                command_usage(cmd, stderr);
            }
            else {
                usage(stderr);
            }
            return 2;
        }
    }
    if (unknown_cmd) {
        fprintf(stderr, "siali: unknown command '%s'\n", unknown_cmd);
        usage(stderr);
        return 2;
    }
    if (help) {
        if (cmd) {
            command_usage(cmd, stdout);
        }
        else {
            usage(stdout);
        }
        return 0;
    }
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    if (given & ~cmd->options) {
        fprintf(stderr, "siali: %s does not take that option\n", cmd->name);
        command_usage(cmd, stderr);
        return 2;
    }
    if (!cli.state_dir) {
        cli.state_dir = default_state_dir();
    }
    if (parse_db(&cli, p)) {
        return 2;
    }
    return cmd->run(&cli, p);
}
