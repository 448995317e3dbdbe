#ifndef MOD_SIALI_CONFIG_H
#define MOD_SIALI_CONFIG_H

#include "mod_siali.h"

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
