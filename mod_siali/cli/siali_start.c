/* siali start: the start-up account, then httpd in the foreground with a
 * generated configuration (Debian's apache2 binary, our module). */
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "siali_cli.h"
#include "sl_dbfile.h"
#include "sl_secret.h"

#define RUN_USER "www-data"
#define SIALI_RUN_BASE "/run/siali"

/* A folder of the generated files, 0755 whatever the umask (read by the
 * children, written by nobody but its owner): the core's folder maker. */
static apr_status_t make_dir(const char *dir, apr_pool_t *p)
{
    int created = 0;

    return sl_dbfile_make_folders(dir, 0755, &created, p) ? APR_EGENERAL : APR_SUCCESS;
}

static int exists(const char *path, apr_pool_t *p)
{
    apr_finfo_t fi;
    return apr_stat(&fi, path, APR_FINFO_TYPE, p) == APR_SUCCESS;
}

/* Copies the static pages into the state folder, so the children (www-data
 * when started as root) can read them wherever the build tree lives. */
static apr_status_t copy_tree(const char *from, const char *to, apr_pool_t *p)
{
    apr_dir_t *dir;
    apr_finfo_t fi;
    apr_status_t rv;

    if ((rv = make_dir(to, p)) != APR_SUCCESS || (rv = apr_dir_open(&dir, from, p)) != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
        const char *src, *dst;
        if (fi.name[0] == '.') {
            continue;
        }
        src = apr_pstrcat(p, from, "/", fi.name, NULL);
        dst = apr_pstrcat(p, to, "/", fi.name, NULL);
        rv = fi.filetype == APR_DIR ? copy_tree(src, dst, p)
             : apr_file_copy(src, dst, APR_FPROT_UREAD | APR_FPROT_UWRITE
                             | APR_FPROT_GREAD | APR_FPROT_WREAD, p);
        if (rv == APR_SUCCESS && fi.filetype != APR_DIR) {
            chmod(dst, 0644);   /* exactly, whatever the umask */
        }
        if (rv != APR_SUCCESS) {
            break;
        }
    }
    apr_dir_close(dir);
    return rv;
}

static const char *absolute(const char *path, apr_pool_t *p)
{
    char cwd[4096];

    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
        return path;
    }
    return apr_pstrcat(p, cwd, "/", path, NULL);
}

/* a value inside double quotes in httpd.conf */
static const char *quoted(const char *s, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 3), *d = out;

    *d++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *d++ = '\\';
        }
        *d++ = *s;
    }
    *d++ = '"';
    *d = '\0';
    return out;
}

/* The folder of one instance's generated files (httpd.conf, pid file,
 * htdocs copy): one per database and address, so two instances never
 * share or overwrite them. As root never inside the state folder: that one
 * holds the database and belongs to the children's user, who could then
 * swap the configuration root starts httpd with; /run/siali is root's. */
static const char *instance_dir(siali_cli_t *cli, const char *state, apr_pool_t *p)
{
    const char *id = sl_secret_sha256_hex(apr_pstrcat(p, cli->driver, ":", cli->params,
                                                      NULL), p);
    const char *base = geteuid() == 0 ? SIALI_RUN_BASE : apr_pstrcat(p, state, "/instances",
                                                                        NULL);

    return apr_psprintf(p, "%s/%s_%s-%.10s", base, cli->host, cli->port, id);
}

/* 1 when the pid file names a live httpd */
static int running(const char *pidfile, long *pid, apr_pool_t *p)
{
    char buf[64], comm[64];
    FILE *f = fopen(pidfile, "r");
    const char *proc;

    *pid = 0;
    if (!f) {
        return 0;
    }
    if (!fgets(buf, sizeof(buf), f)) {
        buf[0] = '\0';
    }
    fclose(f);
    *pid = atol(buf);
    if (*pid <= 0 || kill((pid_t)*pid, 0) != 0) {
        return 0;
    }
    /* a pid reused by something else after a crash is no httpd */
    proc = apr_psprintf(p, "/proc/%ld/comm", *pid);
    if (!(f = fopen(proc, "r"))) {
        return 1;
    }
    if (!fgets(comm, sizeof(comm), f)) {
        comm[0] = '\0';
    }
    fclose(f);
    return strstr(comm, "apache") || strstr(comm, "httpd");
}

/* NULL when host:port can be listened on now, else why not */
static const char *port_taken(const char *host, const char *port, apr_pool_t *p)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    int fd, one = 1, rc, v6 = strchr(host, ':') != NULL;

    memset(&a4, 0, sizeof(a4));
    memset(&a6, 0, sizeof(a6));
    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (v6) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((unsigned short)atoi(port));
        rc = inet_pton(AF_INET6, host, &a6.sin6_addr) == 1
             ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) : 0;
    }
    else {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((unsigned short)atoi(port));
        rc = inet_pton(AF_INET, host, &a4.sin_addr) == 1
             ? bind(fd, (struct sockaddr *)&a4, sizeof(a4)) : 0;
    }
    close(fd);
    return rc != 0 && errno == EADDRINUSE
           ? apr_psprintf(p, "%s:%s is already in use by another program", host, port)
           : NULL;
}

int siali_cli_start(siali_cli_t *cli, apr_pool_t *p)
{
    const char *state = absolute(cli->state_dir, p), *conf, *module, *htdocs_src;
    const char *htdocs, *mods = SIALI_MODULES_DIR, *params = cli->params, *text;
    const char **argv;
    apr_file_t *f;
    int i, root = geteuid() == 0;
    struct passwd *pw = root ? getpwnam(RUN_USER) : NULL;
    const char *inst, *pidfile, *why;
    sl_db_t *db;
    apr_pool_t *dbp;
    long pid;

    if (make_dir(state, p) != APR_SUCCESS) {
        fprintf(stderr, "siali: cannot create the state folder %s\n", state);
        return 1;
    }
    if (root && pw) {
        /* the database files it makes go to the children's user */
        cli->run_uid = pw->pw_uid;
        cli->run_gid = pw->pw_gid;
    }
    if (!strcmp(cli->driver, "sqlite3")) {
        params = absolute(cli->params, p);
        cli->params = params;
    }
    inst = instance_dir(cli, state, p);
    pidfile = apr_pstrcat(p, inst, "/run/httpd.pid", NULL);
    /* a start that would not serve says so and fails, before touching
     * anything: httpd itself exits 0 on "already running" */
    if (running(pidfile, &pid, p)) {
        fprintf(stderr, "siali: this instance already runs (httpd pid %ld, %s): stop it "
                "first\n", pid, pidfile);
        return 1;
    }
    if ((why = port_taken(cli->host, cli->port, p))) {
        fprintf(stderr, "siali: cannot serve: %s (choose another with --port)\n", why);
        return 1;
    }
    if (make_dir(inst, p) != APR_SUCCESS) {
        fprintf(stderr, "siali: cannot create the instance folder %s\n", inst);
        return 1;
    }
    /* the account first, with the same rules as LABEL_STUDIO_USERNAME */
    apr_pool_create(&dbp, p);
    if (!(db = siali_cli_open_db(cli, dbp))) {
        return 1;
    }
    if (cli->username || cli->password) {
        if (siali_cli_create_user(cli, db, 1, dbp) != 0) {
            return 1;
        }
    }
    apr_pool_destroy(dbp);
    /* the database (and its folder when it is the state folder or its own)
     * readable by the children's user only */
    siali_cli_keep_owner(cli, p);
    if (root && pw && !strcmp(cli->driver, "sqlite3")) {
        char *dir = apr_pstrdup(p, params), *slash = strrchr(dir, '/');
        const char *e;
        if (slash) {
            *slash = '\0';
            if (!strcmp(dir, state)
                && (e = sl_dbfile_hand_folder(dir, SL_DBFILE_DIR_MODE, pw->pw_uid,
                                              pw->pw_gid, p))) {
                fprintf(stderr, "siali: %s\n", e);
                return 1;
            }
        }
    }

    module = getenv("SIALI_MODULE");
    if (!module || !*module) {
        module = exists(SIALI_BUILD_MODULE, p) ? SIALI_BUILD_MODULE
                                               : SIALI_MODULES_DIR "/mod_siali.so";
    }
    htdocs_src = exists(SIALI_BUILD_HTDOCS, p) ? SIALI_BUILD_HTDOCS : SIALI_DATADIR "/htdocs";
    htdocs = apr_pstrcat(p, inst, "/htdocs", NULL);
    if (copy_tree(htdocs_src, htdocs, p) != APR_SUCCESS) {
        fprintf(stderr, "siali: cannot copy %s to %s\n", htdocs_src, htdocs);
        return 1;
    }
    make_dir(apr_pstrcat(p, inst, "/run", NULL), p);

    text = apr_pstrcat(p,
        "# generated by `siali start`: edit the flags, not this file\n"
        "ServerRoot ", quoted(inst, p), "\n"
        "DefaultRuntimeDir ", quoted(apr_pstrcat(p, inst, "/run", NULL), p), "\n"
        "PidFile ", quoted(pidfile, p), "\n"
        "Mutex file:", inst, "/run default\n"
        "Listen ", cli->host, ":", cli->port, "\n"
        "ServerName ", cli->host, ":", cli->port, "\n"
        /* through a pipe: /dev/stderr cannot be opened when it is a socket
         * (systemd's journal, a node parent) */
        "ErrorLog \"|/bin/cat\"\n"
        "LogLevel warn siali:info\n"
        "LogFormat \"%h %t \\\"%r\\\" %>s %b %D\" siali\n"
        "CustomLog \"|/bin/cat\" siali\n"
        "LoadModule mpm_event_module ", mods, "/mod_mpm_event.so\n"
        /* room for slow clients: each stalled upload holds a thread until
         * RequestReadTimeout ends it */
        "StartServers 2\nServerLimit 8\nThreadsPerChild 64\nMaxRequestWorkers 512\n"
        "MinSpareThreads 64\nMaxSpareThreads 256\n"
        /* apachectl graceful-stop (SIGWINCH) lets requests finish, within
         * this; a plain stop can crash a child in httpd's event MPM */
        "GracefulShutdownTimeout 10\n"
        "LoadModule reqtimeout_module ", mods, "/mod_reqtimeout.so\n"
        "RequestReadTimeout handshake=5 header=20-40,MinRate=500 body=20,MinRate=500\n"
        "TraceEnable off\n"
        "LoadModule authz_core_module ", mods, "/mod_authz_core.so\n"
        "LoadModule mime_module ", mods, "/mod_mime.so\n"
        "LoadModule alias_module ", mods, "/mod_alias.so\n"
        "LoadModule dbd_module ", mods, "/mod_dbd.so\n"
        "LoadModule siali_module ", quoted(module, p), "\n",
        root && pw ? "User " RUN_USER "\nGroup " RUN_USER "\n" : "",
        "TypesConfig /etc/mime.types\n"
        "DBDriver ", cli->driver, "\n"
        "DBDParams ", quoted(params, p), "\n"
        "DocumentRoot ", quoted(htdocs, p), "\n"
        "<Directory />\n  Require all denied\n</Directory>\n"
        "<Directory ", quoted(htdocs, p), ">\n  Require all granted\n</Directory>\n"
        "Alias /static/ ", quoted(apr_pstrcat(p, htdocs, "/static/", NULL), p), "\n"
        "<Location />\n  SetHandler siali\n</Location>\n"
        "<Location /static/>\n  SetHandler none\n</Location>\n", NULL);
    conf = apr_pstrcat(p, inst, "/httpd.conf", NULL);
    if (apr_file_open(&f, conf, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                      APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS
        || apr_file_puts(text, f) != APR_SUCCESS || apr_file_close(f) != APR_SUCCESS
        || chmod(conf, 0644) != 0) {
        fprintf(stderr, "siali: cannot write %s\n", conf);
        return 1;
    }
    argv = apr_palloc(p, sizeof(char *) * (cli->httpd_args->nelts + 6));
    i = 0;
    argv[i++] = SIALI_HTTPD_BIN;
    argv[i++] = "-f";
    argv[i++] = conf;
    argv[i++] = "-DFOREGROUND";
    memcpy(argv + i, cli->httpd_args->elts, sizeof(char *) * cli->httpd_args->nelts);
    argv[i + cli->httpd_args->nelts] = NULL;
    fprintf(stderr, "siali: serving http://%s:%s/ (config %s, database %s:%s)\n",
            cli->host, cli->port, conf, cli->driver, params);
    fflush(stderr);
    execv(SIALI_HTTPD_BIN, (char *const *)argv);
    fprintf(stderr, "siali: cannot run %s: %s\n", SIALI_HTTPD_BIN, strerror(errno));
    return 1;
}
