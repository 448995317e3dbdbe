#include <string.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_org.h"
#include "sl_secret.h"

sl_kind_e sl_org_get(sl_db_t *db, sl_org_t **out, sl_err_t *err, apr_pool_t *p)
{
    const char **row;
    sl_org_t *org;
    sl_kind_e k = sl_db_select_one(db, p, "siali_org_get", &row, 0, NULL, "", err);

    if (k == SL_ENOTFOUND) {
        return sl_err_set(err, SL_EDB, NULL, "The organization is missing: "
                          "the schema was not migrated.");
    }
    if (k != SL_OK) {
        return k;
    }
    org = apr_pcalloc(p, sizeof(*org));
    org->id = row[0];
    org->title = row[1];
    org->invite_token = row[2];
    org->owner_id = row[3];
    org->created_at = row[4];
    org->default_role = row[5] && *row[5] ? row[5] : "AN";
    *out = org;
    return SL_OK;
}

static sl_kind_e load_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    return sl_org_get(db, baton, err, p);
}

sl_kind_e sl_org_load(sl_conn_src_t *src, sl_org_t **out, sl_err_t *err, apr_pool_t *p)
{
    return sl_conn_run(src, SL_CONN_READ, load_unit, out, err, p);
}

sl_kind_e sl_org_lock(sl_db_t *db, sl_err_t *err, apr_pool_t *p)
{
    return sl_db_exec(db, p, "siali_org_lock", NULL, 0, NULL, err);
}

int sl_org_invite_ok(const sl_org_t *org, const char *token)
{
    return token && *token && sl_secret_equal(org->invite_token, token);
}

static sl_kind_e reset_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    sl_org_t **out = baton;
    const char *token, *args[2];
    sl_kind_e k;

    if ((k = sl_org_lock(db, err, p)) != SL_OK
        || (k = sl_org_get(db, out, err, p)) != SL_OK) {
        return k;
    }
    if (sl_secret_b64url(&token, SL_INVITE_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }
    args[0] = token;
    args[1] = (*out)->id;
    if ((k = sl_db_exec(db, p, "siali_org_set_invite", NULL, 2, args, err)) != SL_OK) {
        return k;
    }
    (*out)->invite_token = token;
    return sl_audit_add(db, SL_EVENT_INVITE_RESET, NULL, NULL, NULL, err, p);
}

sl_kind_e sl_org_reset_invite(sl_conn_src_t *src, sl_org_t **out, sl_err_t *err,
                              apr_pool_t *p)
{
    return sl_conn_run(src, SL_CONN_WRITE, reset_unit, out, err, p);
}

typedef struct {
    const char *org_id;
    const char *role;
} default_role_t;

static sl_kind_e default_role_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    default_role_t *b = baton;
    const char *args[2] = { b->role, b->org_id };
    sl_org_t *org;
    sl_kind_e k;
    int n = 0;

    if ((k = sl_org_lock(db, err, p)) != SL_OK || (k = sl_org_get(db, &org, err, p)) != SL_OK
        || (k = sl_db_exec(db, p, "siali_org_set_default_role", &n, 2, args, err)) != SL_OK) {
        return k;
    }
    if (n == 1 && org->default_role && !strcmp(org->default_role, b->role)) {
        return SL_OK;   /* the same: nothing to record */
    }
    if (n != 1) {
        return sl_err_set(err, SL_ENOTFOUND, NULL, "No such organization.");
    }
    return sl_audit_add(db, SL_EVENT_DEFAULT_ROLE_CHANGED, NULL, NULL, apr_psprintf(
        p, "{\"default_role\":\"%s\"}", b->role), err, p);
}

sl_kind_e sl_org_set_default_role(sl_conn_src_t *src, const char *org_id, const char *role,
                                  sl_err_t *err, apr_pool_t *p)
{
    default_role_t b = { org_id, role };

    return sl_conn_run(src, SL_CONN_WRITE, default_role_unit, &b, err, p);
}
