/* Shared declarations of the glue: the module record, its configuration and
 * the per-request view of the caller. */
#ifndef MOD_SIALI_H
#define MOD_SIALI_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "sl_config.h"
#include "sl_conn.h"
#include "sl_account.h"

extern module AP_MODULE_DECLARE_DATA siali_module;
APLOG_USE_MODULE(siali);

#define SIALI_HANDLER "siali"
#define SIALI_COOKIE "siali_session"
#define SIALI_JSON_MAX (64 * 1024)     /* API.md: JSON bodies 64 KiB */
#define SIALI_FORM_MAX (16 * 1024)
#define SIALI_RETRY_AFTER "5"

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

/* Who is calling, found once per request. */
typedef enum { SIALI_AUTH_NONE = 0, SIALI_AUTH_SESSION, SIALI_AUTH_TOKEN } siali_auth_e;

typedef struct {
    siali_srv_conf_t *conf;
    const char *prefix;        /* the <Location> of SetHandler siali, no
                                * trailing '/', "" at / */
    const char *path;          /* the path below the prefix, "/" at least */
    sl_conn_src_t *src;        /* units of work run on mod_dbd's pool
                                * through it (siali_db_source) */
    siali_auth_e auth;
    sl_user_t *user;
    const char *session;       /* the cookie value, when authenticated by it */
    const char *ids[2];        /* the numeric path segments matched by '*' */
    apr_int64_t retry_after;   /* SIALI_FOUND_THROTTLED: seconds */
} siali_req_t;

#endif
