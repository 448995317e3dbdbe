#ifndef MOD_SIALI_ACCOUNT_H
#define MOD_SIALI_ACCOUNT_H

#include "mod_siali.h"

int siali_api_avatar(request_rec *r, siali_req_t *req);
int siali_avatar_file(request_rec *r, siali_req_t *req);
int siali_api_password(request_rec *r, siali_req_t *req);

/* Removes an avatar file the database no longer names (a checked name;
 * NULL does nothing). */
void siali_account_remove_avatar(request_rec *r, siali_req_t *req, const char *name);

/* Where avatars live: SialiAvatarDir, else avatars/ next to the main
 * server's SQLite file, else ServerRoot/avatars. Created and handed to the
 * children's user at start. */
const char *siali_account_prepare_avatar_dirs(apr_pool_t *pconf, server_rec *s,
                                              const char *main_sqlite_path);

/* At start: avatar files no account names, an hour old or more, removed. */
void siali_account_sweep_avatars(apr_pool_t *ptemp, server_rec *s);

#endif
