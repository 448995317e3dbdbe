/* Error kinds of the core. The core says what went wrong (kind, field,
 * human sentence); the glue alone decides which HTTP status that is. */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <apr_pools.h>

typedef enum {
    SL_OK = 0,
    SL_EINVALID,      /* bad input: 400 */
    SL_ECONFLICT,     /* unique value taken: 400/409 */
    SL_ENOTFOUND,     /* no such object: 404 */
    SL_EFORBIDDEN,    /* not allowed: 403 */
    SL_EDENIED,       /* no valid credentials: 401 */
    SL_ETOOLARGE,     /* body too large: 413 */
    SL_ETHROTTLED,    /* too many attempts: 429 + Retry-After */
    SL_EBUSY,         /* the database is busy or overloaded (locked, deadlock,
                       * serialization failure, no pooled connection in time):
                       * a unit of work runs again within its budget, then
                       * 503 + Retry-After */
    SL_ESTALE,        /* the connection's prepared statements are gone (a
                       * schema change elsewhere, a reconnect): prepared
                       * again and the unit retried; never leaves sl_conn */
    SL_ELOST,         /* the connection broke (a server restart, a killed
                       * backend): the unit runs again on another one, unless
                       * it broke during COMMIT; never leaves sl_conn */
    SL_EDB,           /* database unreachable or failing: 503 + Retry-After */
    SL_EINTERNAL      /* a bug */
} sl_kind_e;

typedef struct {
    sl_kind_e kind;
    const char *field;    /* form/JSON field the message belongs to, or NULL */
    const char *message;  /* one human sentence */
    const char *hint;     /* what the field's list says when it is not the
                           * sentence ("This field is read-only."), or NULL */
} sl_err_t;

/* Fills err (when not NULL) and returns kind, so callers can write
 * `return sl_err_set(err, SL_EINVALID, "email", "...")`. */
sl_kind_e sl_err_set(sl_err_t *err, sl_kind_e kind, const char *field,
                     const char *message);

const char *sl_err_kind_name(sl_kind_e kind);

#endif
