#ifndef MOD_SIALI_DB_H
#define MOD_SIALI_DB_H

#include "mod_siali_request.h"

/* Registers the statement catalogue with mod_dbd for every server; must run
 * before mod_dbd's post_config. Fails when mod_dbd is not loaded. */
int siali_db_register(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* Migrates every database that a server using siali names in its
 * DBDriver/DBDParams, creates the start-up account, hands the SQLite files
 * to the user the children run as, and notes for every server which
 * database its requests use (and, for SQLite, its writer lock). Runs in
 * the parent before any child. */
int siali_db_prepare_databases(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* The main server's SQLite file (after siali_db_prepare_databases), or NULL. */
const char *siali_db_main_sqlite_path(void);

/* Installs mod_dbd's post_connect hook for per-connection settings. */
void siali_db_hooks(void);

/* Per child: the gates that bound the wait for a pooled connection. */
void siali_db_child_init(apr_pool_t *p, server_rec *s);

/* The request's source of connections for the core's units of work:
 * mod_dbd's pool, entered through the child's gate (SialiDatabaseWait at
 * most, then SL_EBUSY: 503 with Retry-After). Made on first use; never
 * NULL. A connection is out only while a unit runs (sl_conn.h). */
sl_conn_src_t *siali_db_source(request_rec *r, siali_req_t *req);

#endif
