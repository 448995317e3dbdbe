#ifndef SIALI_CLI_H
#define SIALI_CLI_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <sys/types.h>

#include "sl_config.h"
#include "sl_db.h"

typedef struct {
    const char *db_spec;       /* DRIVER:PARAMS */
    const char *driver;
    const char *params;
    const char *from;          /* migrate --from / --to: DRIVER:PARAMS */
    const char *to;
    const char *state_dir;
    const char *username;
    const char *password;
    const char *user_token;
    const char *port;
    const char *host;
    apr_array_header_t *httpd_args;   /* -c / -C pass-through */
    int target;                /* migrate --target */
    const char *sub;           /* token create|revoke-all, jwt rotate-secret */
    int ttl_days;              /* token create --ttl-days */
    const char *base_url;      /* reset_link --base-url */
    int created_dir;           /* the database's folder was made by us */
    uid_t run_uid;             /* siali start as root: the children's user */
    gid_t run_gid;             /* (else -1: keep the database's owner) */
    sl_config_t cfg;
} siali_cli_t;

/* Opens the database, migrating it first when it is behind, unless a
 * running httpd uses it. Prints the reason and returns NULL on failure. */
sl_db_t *siali_cli_open_db(siali_cli_t *cli, apr_pool_t *p);
/* DRIVER:PARAMS into cli->driver and cli->params; 1 (said) when bad. */
int siali_cli_parse_spec(siali_cli_t *cli, const char *spec, apr_pool_t *p);

/* The SQLite files after the CLI touched them: mode 0600, owner kept. */
void siali_cli_keep_owner(siali_cli_t *cli, apr_pool_t *p);

/* The start-up account (create_user and start). 0 on success. */
int siali_cli_create_user(siali_cli_t *cli, sl_db_t *db, int quiet_if_exists,
                          apr_pool_t *p);

int siali_cli_start(siali_cli_t *cli, apr_pool_t *p);

#endif
