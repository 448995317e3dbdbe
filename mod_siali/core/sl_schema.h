/* Schema creation and migration. Runs once at httpd start in the parent,
 * before any child opens a connection (apr_dbd's SQLite driver keeps
 * statements from the legacy sqlite3_prepare, which fail for good after
 * another connection changes the schema), and from the CLI only when no
 * httpd uses the database. */
#ifndef SL_SCHEMA_H
#define SL_SCHEMA_H

#include "sl_db.h"

#define SL_SCHEMA_VERSION 12

/* Reads the version (0 for an empty database). */
sl_kind_e sl_schema_version(sl_db_t *db, int *version, sl_err_t *err,
                            apr_pool_t *p);

/* Migrates up to target (SL_SCHEMA_VERSION normally) in one transaction,
 * under a database-level lock so several nodes starting at once migrate
 * once. On SQLite it also turns on WAL (kept in the file). */
sl_kind_e sl_schema_migrate(sl_db_t *db, int target, int *from, sl_err_t *err,
                            apr_pool_t *p);

#endif
