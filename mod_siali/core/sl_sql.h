/* Every SQL statement the product runs, by label: fixed text with apr_dbd
 * %s markers, the same on SQLite and PostgreSQL except where `sqlite` says
 * otherwise (a search's FTS5 phrase). The module registers them with
 * mod_dbd (ap_dbd_prepare) for each server's driver; the CLI and tests
 * prepare them directly. */
#ifndef SL_SQL_H
#define SL_SQL_H

typedef struct {
    const char *label;
    const char *sql;
    const char *sqlite;    /* the text on SQLite where it differs, or NULL */
} sl_sql_stmt_t;

extern const sl_sql_stmt_t sl_sql_statements[];

/* The text of a statement on a driver ("sqlite3" or "pgsql"). */
const char *sl_sql_text(const sl_sql_stmt_t *st, const char *driver);

/* The columns of a user row, in this order, in every user SELECT. */
enum {
    SL_UC_ID, SL_UC_EMAIL, SL_UC_USERNAME, SL_UC_PASSWORD, SL_UC_FIRST,
    SL_UC_LAST, SL_UC_PHONE, SL_UC_AVATAR, SL_UC_ACTIVE, SL_UC_JOINED,
    SL_UC_ACTIVITY, SL_UC_ORG, SL_UC_ROLE, SL_UC_COUNT
};

#endif
