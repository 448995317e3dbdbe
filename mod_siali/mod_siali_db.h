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

/* Installs mod_dbd's post_connect hook for per-connection settings. */
void siali_db_hooks(void);

/* The request's connection (mod_dbd's, released with the request). NULL
 * when the database is unreachable: answer 503 with Retry-After. */
sl_db_t *siali_db_acquire(request_rec *r);

/* A connection for a short phase of a request that also hashes a password:
 * no connection is held while hashing. */
sl_db_t *siali_db_open(request_rec *r);
void siali_db_close(request_rec *r, sl_db_t *db);

#endif
