#ifndef MOD_SIALI_AVATAR_H
#define MOD_SIALI_AVATAR_H

#include "mod_siali_request.h"

int siali_api_avatar(request_rec *r, siali_req_t *req);
int siali_avatar_file(request_rec *r, siali_req_t *req);

/* At start, in the parent: pictures an older version kept in SialiAvatarDir
 * (or avatars/ next to the main SQLite file) moved into the database. */
void siali_avatar_import_files(apr_pool_t *ptemp, server_rec *s,
                               const char *main_sqlite_path);

#endif
