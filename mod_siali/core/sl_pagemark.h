/* Marks of deep pages. Label Studio's members list pages by page number,
 * so page 500 of 30 is OFFSET 14970: the database walks 14,970 entries of
 * the ordering's index to skip them (1.5 ms on PostgreSQL at 100,000
 * members, a third of the request). A mark is the ordering's key and id of
 * the member found at a position; the next request for that page, or one
 * after it, starts its walk at the nearest mark before it and skips only
 * the rows in between (sl_sql.c "_a").
 *
 * A list is one organization, ordering and active filter. Its marks hold
 * for one people_version (schema v8; a random value since v9, so that a
 * restored database never meets its old numbers), which every write that
 * adds, removes, deactivates, renames or moves a member changes in its own
 * transaction, on every node: a mark is used only with the version read
 * in the same request, and a list read at another version loses its marks.
 * Only a full page is marked: a page short of rows lost some to the join
 * with memberships, and its first row is not at its position. A page read while such a write commits may come
 * from the mark of the version before, as any OFFSET page of a list that
 * changes under it; the next request reads the new version and drops it.
 *
 * Per process, shared by its threads under a mutex; bounded: SL_PAGEMARK_LISTS
 * lists of SL_PAGEMARK_MARKS marks each, the least recently used list
 * given up first. Keys longer than SL_PAGEMARK_KEY are not marked. */
#ifndef SL_PAGEMARK_H
#define SL_PAGEMARK_H

#include <apr_pools.h>

#define SL_PAGEMARK_LISTS 16
#define SL_PAGEMARK_MARKS 32
#define SL_PAGEMARK_KEY 256
/* positions before this are not marked: a walk of fewer entries costs
 * less than the bookkeeping */
#define SL_PAGEMARK_MIN 1000

typedef struct sl_pagemarks_t sl_pagemarks_t;

/* NULL if no mutex can be made (then callers page without marks). */
sl_pagemarks_t *sl_pagemarks_create(apr_pool_t *p);

/* The nearest mark at or before pos in list at version: 1 and *at, *key
 * (copied into p), *id; 0 when there is none (and the list's marks are
 * dropped when they are of another version). */
int sl_pagemarks_find(sl_pagemarks_t *m, const char *list, apr_int64_t version,
                      apr_int64_t pos, apr_int64_t *at, const char **key, apr_int64_t *id,
                      apr_pool_t *p);

/* Remembers that the member at pos of list at version has key and id. Another
 * version than the list's drops its marks first. */
void sl_pagemarks_put(sl_pagemarks_t *m, const char *list, apr_int64_t version,
                      apr_int64_t pos, const char *key, apr_int64_t id);

#endif
