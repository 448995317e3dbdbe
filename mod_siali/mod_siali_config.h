/* The configuration of the glue: both scopes of directives, and the
 * core's frozen view of them (sl_config_t). */
#ifndef MOD_SIALI_CONFIG_H
#define MOD_SIALI_CONFIG_H

#include "mod_siali.h"
#include "sl_config.h"
#include "sl_lock.h"

typedef struct {
    int signup_restricted;             /* -1 unset */
    const char *username;              /* bootstrap account, NULL unset */
    const char *password;
    const char *user_token;
    apr_int64_t session_max_age;       /* -1 unset */
    apr_int64_t session_idle;
    int password_min;                  /* -1 unset */
    int hash_set;
    sl_argon2_params_t hash;
    int throttle_max;                  /* -1 unset */
    apr_int64_t throttle_window;
    int signup_max;                    /* -1 unset */
    apr_int64_t signup_window;
    int auth_max;                      /* -1 unset */
    apr_int64_t auth_window;
    apr_array_header_t *trusted_origins;   /* of const char * */
    long avatar_max_px;                /* -1 unset */
    apr_size_t avatar_max_bytes;       /* 0 unset */
    const char *avatar_dir;            /* NULL: next to the SQLite file */
    apr_interval_time_t db_wait;       /* -1 unset */
    apr_interval_time_t hash_wait;     /* -1 unset */
    apr_interval_time_t auth_cache;    /* SialiAuthCache: -1 unset, 0 off */
    sl_config_t core;                  /* frozen after post_config */
    /* the database this server's requests use, found in post_config */
    const char *db_driver;
    const char *db_params;
    int db_max;                        /* DBDMax: connections per child */
    sl_lock_t *write_lock;             /* SQLite: one writer at a time */
    struct siali_gate_t *gate;         /* per child: bounded wait for mod_dbd */
    struct sl_authcache_t *authcache;  /* per child, PostgreSQL: who callers are */
} siali_srv_conf_t;

typedef struct {
    int forward_identity;              /* AuthType Siali: -1 unset */
    int forward_credentials;           /* AuthType Siali: -1 unset (off) */
    const char *login_url;             /* AuthType Siali: where browsers log in */
} siali_dir_conf_t;


extern const command_rec siali_cmds[];

void *siali_config_create_srv(apr_pool_t *p, server_rec *s);
void *siali_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *siali_config_create_dir(apr_pool_t *p, char *dir);
void *siali_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

siali_srv_conf_t *siali_config_get(server_rec *s);

/* Fills conf->core from the directives and, where they are unset, from the
 * LABEL_STUDIO_* environment. Returns NULL or an error naming the source. */
const char *siali_config_freeze(siali_srv_conf_t *conf, apr_pool_t *p);

#endif
