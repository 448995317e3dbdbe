#ifndef MOD_SIALI_DB_H
#define MOD_SIALI_DB_H

#include "mod_siali.h"

/* Registers the statement catalogue with mod_dbd for every server; must run
 * before mod_dbd's post_config. Fails when mod_dbd is not loaded. */
int siali_db_register(apr_pool_t *pconf, server_rec *s);

/* Migrates every database that a server using siali names in its
 * DBDriver/DBDParams, creates the start-up account, hands the SQLite files
 * to the user the children run as. Runs in the parent before any child. */
int siali_db_prepare_databases(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* The main server's SQLite file (after siali_db_prepare_databases), or NULL. */
const char *siali_db_main_sqlite_path(void);

/* Installs mod_dbd's post_connect hook for per-connection settings. */
void siali_db_hooks(void);

/* A pooled connection (mod_dbd's ap_dbd_open) for as short as possible:
 * siali_db_close gives it back as soon as the database work is done (the
 * route handler does it before the response leaves; phases around a
 * password hash do it before hashing), or the request's end does. Holding
 * it to the end of the request (ap_dbd_acquire) made threads queue for the
 * pool's few connections under load. NULL when the database is
 * unreachable: answer 503 with Retry-After. */
sl_db_t *siali_db_open(request_rec *r);
void siali_db_close(request_rec *r, sl_db_t *db);

/* The request's connection, opened on first use, with the avatar URL base
 * of this mount. NULL: answer 503. */
sl_db_t *siali_req_db(request_rec *r, siali_req_t *req);

#endif
