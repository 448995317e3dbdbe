#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sl_copy.h"
#include "sl_log.h"
#include "sl_schema.h"

/* Parents first: a PostgreSQL target checks memberships.user_id and
 * api_tokens.user_id against users as each row goes in. The unit tests
 * compare this list with the tables and columns the migrations create, so
 * a migration that adds one without adding it here fails `make check`. */
const sl_copy_table_t sl_copy_tables[] = {
    { "organization", "id:n title invite_token owner_id:n created_at:n members_count:n "
      "active_count:n api_tokens_enabled:n legacy_tokens_enabled:n api_token_ttl_days:n "
      "session_max_age:n session_idle:n people_version:n default_role", "id" },
    { "users", "id:n email username password first_name last_name phone avatar "
      "is_active:n date_joined:n last_activity:n org_member:n org_role role_source", "id" },
    { "memberships", "id:n user_id:n organization_id:n created_at:n deleted_at:n", "id" },
    { "api_tokens", "user_id:n token token_hash created_at:n", "user_id" },
    { "sessions", "id_hash user_id:n created_at:n last_seen:n expires_at:n", "id_hash" },
    { "login_failures", "kind subject window_start:n failures:n", NULL },
    { "projects", "id:n title description created_by:n created_at:n", "id" },
    { "tasks", "id:n project_id:n data created_at:n", "id" },
    { "annotations", "id:n task_id:n project_id:n completed_by:n result created_at:n", "id" },
    { "user_search", "rowid:n doc", "rowid" },
    { "avatars", "name user_id:n content_type sha256 data created_at:n", "name" },
    { "api_pats", "id:n jti user_id:n created_at:n expires_at:n revoked_at:n", "id" },
    { "siali_keys", "name value created_at:n", "name" },
    { "audit_log", "id:n created_at:n event actor_id:n actor_email subject_id:n "
      "subject_email address user_agent detail", "id" },
    { "user_totp", "user_id:n secret confirmed:n last_step:n created_at:n", "user_id" },
    { "totp_recovery", "user_id:n code_hash used_at:n", NULL },
    { "login_pending", "id_hash user_id:n password enrol:n persist:n created_at:n "
      "expires_at:n subject", "id_hash" },
    { "reset_links", "user_id:n token_hash created_at:n expires_at:n created_by:n",
      "user_id" },
    { NULL, NULL, NULL }
};

#define BATCH 500

typedef struct {
    apr_array_header_t *names;     /* of const char * */
    apr_array_header_t *numeric;   /* of int */
} columns_t;

static columns_t parse_columns(const char *spec, apr_pool_t *p)
{
    columns_t c;
    char *last, *tok, *copy = apr_pstrdup(p, spec);

    c.names = apr_array_make(p, 8, sizeof(const char *));
    c.numeric = apr_array_make(p, 8, sizeof(int));
    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        char *colon = strchr(tok, ':');
        if (colon) {
            *colon = '\0';
        }
        APR_ARRAY_PUSH(c.names, const char *) = tok;
        APR_ARRAY_PUSH(c.numeric, int) = colon != NULL;
    }
    return c;
}

static int is_numeric(const columns_t *c, const char *name)
{
    int i;

    for (i = 0; i < c->names->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(c->names, i, const char *), name)) {
            return APR_ARRAY_IDX(c->numeric, i, int);
        }
    }
    return 0;
}

/* "a, b, c" and "%lld, %s, %s": an integer parameter must say so, or
 * apr_dbd_pgsql declares it varchar and PostgreSQL refuses it for bigint */
static const char *joined(const columns_t *c, int placeholders, apr_pool_t *p)
{
    const char *out = "";
    int i;

    for (i = 0; i < c->names->nelts; i++) {
        const char *item = placeholders
                               ? (APR_ARRAY_IDX(c->numeric, i, int) ? "%lld" : "%s")
                               : APR_ARRAY_IDX(c->names, i, const char *);
        out = apr_pstrcat(p, out, i ? ", " : "", item, NULL);
    }
    return out;
}

static sl_kind_e prepare(sl_db_t *from, sl_db_t *to, const sl_copy_table_t *t,
                         const columns_t *c, apr_pool_t *p, sl_err_t *err)
{
    const char *cols = joined(c, 0, p), *sql;
    sl_kind_e k;

    sql = apr_psprintf(p, "INSERT INTO %s (%s) VALUES (%s)", t->table, cols,
                       joined(c, 1, p));
    if ((k = sl_db_prepare_extra(to, apr_pstrcat(p, "copy_in_", t->table, NULL), sql, err))
        != SL_OK) {
        return k;
    }
    if (!t->key) {
        sql = apr_psprintf(p, "SELECT %s FROM %s", cols, t->table);
        return sl_db_prepare_extra(from, apr_pstrcat(p, "copy_all_", t->table, NULL), sql,
                                   err);
    }
    sql = apr_psprintf(p, "SELECT %s FROM %s ORDER BY %s LIMIT %d", cols, t->table, t->key,
                       BATCH);
    if ((k = sl_db_prepare_extra(from, apr_pstrcat(p, "copy_first_", t->table, NULL), sql,
                                 err)) != SL_OK) {
        return k;
    }
    sql = apr_psprintf(p, "SELECT %s FROM %s WHERE %s > %s ORDER BY %s LIMIT %d", cols,
                       t->table, t->key, is_numeric(c, t->key) ? "%lld" : "%s", t->key,
                       BATCH);
    return sl_db_prepare_extra(from, apr_pstrcat(p, "copy_next_", t->table, NULL), sql, err);
}

static sl_kind_e copy_table(sl_db_t *from, sl_db_t *to, const sl_copy_table_t *t,
                            long *copied, sl_err_t *err, apr_pool_t *p)
{
    columns_t c = parse_columns(t->columns, p);
    const char *after = NULL, *in = apr_pstrcat(p, "copy_in_", t->table, NULL);
    int keycol = 0, i;
    sl_kind_e k;

    *copied = 0;
    if ((k = prepare(from, to, t, &c, p, err)) != SL_OK) {
        return k;
    }
    for (i = 0; t->key && i < c.names->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(c.names, i, const char *), t->key)) {
            keycol = i;
        }
    }
    for (;;) {
        apr_pool_t *batch;
        sl_rows_t res;

        apr_pool_create(&batch, p);
        if (!t->key) {
            k = sl_db_select(from, batch, apr_pstrcat(batch, "copy_all_", t->table, NULL),
                             &res, 0, NULL, err);
        }
        else if (!after) {
            k = sl_db_select(from, batch, apr_pstrcat(batch, "copy_first_", t->table, NULL),
                             &res, 0, NULL, err);
        }
        else {
            k = sl_db_select(from, batch, apr_pstrcat(batch, "copy_next_", t->table, NULL),
                             &res, 1, &after, err);
        }
        for (i = 0; k == SL_OK && i < res.rows->nelts; i++) {
            k = sl_db_exec(to, batch, in, NULL, c.names->nelts, SL_ROW(&res, i), err);
            if (k != SL_OK && err) {
                /* which row the target refused, and its own words */
                const char *key = SL_ROW(&res, i)[keycol];
                err->message = apr_psprintf(p, "%s row %s%s%s was refused: %s", t->table,
                                            t->key ? t->key : "", t->key ? " = " : "#",
                                            t->key ? (key ? key : "NULL")
                                                   : apr_itoa(p, (int)*copied + i + 1),
                                            to->failed_msg ? to->failed_msg : err->message);
            }
        }
        if (k != SL_OK) {
            apr_pool_destroy(batch);
            return k;
        }
        *copied += res.rows->nelts;
        if (!t->key || res.rows->nelts < BATCH) {
            apr_pool_destroy(batch);
            return SL_OK;
        }
        after = apr_pstrdup(p, SL_ROW(&res, res.rows->nelts - 1)[keycol]);
        apr_pool_destroy(batch);
    }
}

/* The target holds what its own migration made (the organization that is
 * born with the schema) and nothing else: any other row is someone's data,
 * never deleted or merged into. */
static sl_kind_e check_empty(sl_db_t *to, sl_err_t *err, apr_pool_t *p)
{
    sl_kind_e k0;
    int i;

    for (i = 0; sl_copy_tables[i].table; i++) {
        const char *t = sl_copy_tables[i].table;
        sl_rows_t res;
        sl_kind_e k;

        /* made by the target's migrations: replaced by the source's (its
         * token key, so that personal access tokens stay valid) */
        if (!strcmp(t, "organization") || !strcmp(t, "siali_keys")) {
            continue;
        }
        k = sl_db_select_raw(to, p, apr_psprintf(p, "SELECT count(*) FROM %s", t), &res, err);
        if (k != SL_OK) {
            return k;
        }
        if (res.rows->nelts && SL_ROW(&res, 0)[0] && atol(SL_ROW(&res, 0)[0]) > 0) {
            return sl_err_set(err, SL_EINVALID, NULL,
                              apr_psprintf(p, "the target database is not empty (its %s "
                                           "table has rows): copy into a new database", t));
        }
    }
    k0 = sl_db_exec_raw(to, p, "DELETE FROM siali_keys", err);
    return k0 != SL_OK ? k0 : sl_db_exec_raw(to, p, "DELETE FROM organization", err);
}

/* PostgreSQL hands out ids from a sequence that knows nothing of the ids
 * copied in: the next one is set past the largest (SQLite's AUTOINCREMENT
 * follows explicit ids by itself). */
static sl_kind_e bump_sequences(sl_db_t *to, sl_err_t *err, apr_pool_t *p)
{
    int i;

    for (i = 0; to->is_pgsql && sl_copy_tables[i].table; i++) {
        const char *t = sl_copy_tables[i].table;
        sl_rows_t res;
        sl_kind_e k;

        if (strcmp(sl_copy_tables[i].key ? sl_copy_tables[i].key : "", "id")) {
            continue;
        }
        k = sl_db_select_raw(to, p, apr_psprintf(p, "SELECT setval(pg_get_serial_sequence("
                                                 "'%s', 'id'), COALESCE((SELECT max(id) "
                                                 "FROM %s), 0) + 1, false)", t, t),
                             &res, err);
        if (k != SL_OK) {
            return k;
        }
    }
    return SL_OK;
}

sl_kind_e sl_copy_database(sl_db_t *from, sl_db_t *to, sl_copy_progress_fn *progress,
                           void *baton, sl_err_t *err, apr_pool_t *p)
{
    int vf = 0, vt = 0, i;
    sl_kind_e k;

    if ((k = sl_schema_version(from, &vf, err, p)) != SL_OK
        || (k = sl_schema_version(to, &vt, err, p)) != SL_OK) {
        return k;
    }
    if (vf != SL_SCHEMA_VERSION || vt != SL_SCHEMA_VERSION) {
        return sl_err_set(err, SL_EINVALID, NULL,
                          apr_psprintf(p, "both databases must have schema %d (the source "
                                       "has %d, the target %d): migrate them first",
                                       SL_SCHEMA_VERSION, vf, vt));
    }
    /* one snapshot of the source, whatever writes it meanwhile */
    if ((k = sl_db_exec_raw(from, p, from->is_pgsql
                            ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                            : "BEGIN", err)) != SL_OK) {
        return k;
    }
    if ((k = sl_db_tx_begin(to, err)) == SL_OK) {
        k = check_empty(to, err, p);
        for (i = 0; k == SL_OK && sl_copy_tables[i].table; i++) {
            long rows = 0;
            k = copy_table(from, to, &sl_copy_tables[i], &rows, err, p);
            if (k == SL_OK && progress) {
                progress(baton, sl_copy_tables[i].table, rows);
            }
        }
        if (k == SL_OK) {
            k = bump_sequences(to, err, p);
        }
        if (k == SL_OK) {
            k = sl_db_tx_end(to, 1, err);
        }
        else {
            sl_err_t ignored;
            sl_db_tx_end(to, 0, &ignored);
        }
    }
    {
        sl_err_t ignored;
        sl_db_exec_raw(from, p, "ROLLBACK", &ignored);
    }
    return k;
}
