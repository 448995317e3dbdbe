/* Copying a whole installation from one database to another (SQLite to
 * PostgreSQL when a team scales out, or back): every table of the current
 * schema, ids kept, so passwords (their hashes), API tokens, sessions,
 * invite link, avatars and project history go on working unchanged.
 *
 * Both connections must be at SL_SCHEMA_VERSION (sl_schema_migrate). The
 * source is read in one read transaction (a consistent snapshot); the
 * target is written in one transaction: all or nothing. A target that
 * already has accounts or projects is refused, never merged into. */
#ifndef SL_COPY_H
#define SL_COPY_H

#include "sl_db.h"

/* One table the copy knows: its name, its columns in order with ':n' after
 * the integer ones (PostgreSQL types the parameters by it), and the unique
 * column it is read in batches by (NULL: read at once). */
typedef struct {
    const char *table;
    const char *columns;
    const char *key;
} sl_copy_table_t;

/* Every table of SL_SCHEMA_VERSION, parents before children; NULL-ended.
 * schema_version is not copied (the target has its own, equal). */
extern const sl_copy_table_t sl_copy_tables[];

/* Called after each table with how many rows it copied. */
typedef void sl_copy_progress_fn(void *baton, const char *table, long rows);

sl_kind_e sl_copy_database(sl_db_t *from, sl_db_t *to, sl_copy_progress_fn *progress,
                           void *baton, sl_err_t *err, apr_pool_t *p);

#endif
