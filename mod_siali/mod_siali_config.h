/* The configuration of the glue: both scopes of directives, and the
 * core's frozen view of them (sl_config_t). */
#ifndef MOD_SIALI_CONFIG_H
#define MOD_SIALI_CONFIG_H

#include "mod_siali.h"
#include "sl_config.h"
#include "sl_lock.h"

typedef struct {
    apr_array_header_t *trusted_origins;   /* of const char * */
    const char *avatar_dir;            /* NULL: next to the SQLite file */
    sl_config_t core;                  /* the directives of sl_settings; frozen
                                        * (sl_config_finish) in post_config */
    /* the database this server's requests use, found in post_config */
    const char *db_driver;
    const char *db_params;
    int db_max;                        /* DBDMax: connections per child */
    sl_lock_t *write_lock;             /* SQLite: one writer at a time */
    struct siali_gate_t *gate;         /* per child: bounded wait for mod_dbd */
    struct sl_authcache_t *authcache;  /* per child, PostgreSQL: who callers are */
    struct sl_pagemarks_t *marks;      /* per child: marks of deep members pages */
    apr_array_header_t *sso_locations; /* of const char *: the <Location>s with
                                        * SialiTrustRemoteUser On, for the
                                        * login page's links */
} siali_srv_conf_t;

typedef struct {
    int forward_identity;              /* AuthType Siali: -1 unset */
    int forward_credentials;           /* AuthType Siali: -1 unset (off) */
    const char *login_url;             /* AuthType Siali: where browsers log in */
    /* single sign-on (sl_sso.h), in the <Location> another module protects */
    int sso_trust;                     /* SialiTrustRemoteUser: -1 unset (off) */
    const char *sso_location;          /* its <Location>, no trailing '/' */
    const char *sso_mount;             /* the mount it is below ("" at /) */
    const char *sso_email_var;         /* SialiSSOEmailVar, NULL: r->user */
    const char *sso_groups_var;        /* SialiSSOGroupsVar, NULL: none */
    int sso_provision;                 /* sl_sso_provision_e, -1 unset (Off) */
    apr_array_header_t *sso_maps;      /* SialiRoleFromGroup: sl_sso_map_t, NULL unset */
} siali_dir_conf_t;


extern const command_rec siali_cmds[];

void *siali_config_create_srv(apr_pool_t *p, server_rec *s);
void *siali_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *siali_config_create_dir(apr_pool_t *p, char *dir);
void *siali_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

siali_srv_conf_t *siali_config_get(server_rec *s);

/* Completes conf->core where no directive gave a setting from the
 * LABEL_STUDIO_* environment. Returns NULL or an error naming the source. */
const char *siali_config_freeze(siali_srv_conf_t *conf, apr_pool_t *p);

#endif
