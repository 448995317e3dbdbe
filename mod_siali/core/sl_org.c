#include "sl_org.h"
#include "sl_secret.h"

sl_kind_e sl_org_get(sl_db_t *db, sl_org_t **out, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res;
    const char **row;
    sl_org_t *org;
    sl_kind_e k = sl_db_select(db, p, "siali_org_get", &res, 0, NULL, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0) {
        return sl_err_set(err, SL_EDB, NULL, "The organization is missing: "
                          "the schema was not migrated.");
    }
    row = SL_ROW(&res, 0);
    org = apr_pcalloc(p, sizeof(*org));
    org->id = row[0];
    org->title = row[1];
    org->invite_token = row[2];
    org->owner_id = row[3];
    org->created_at = row[4];
    *out = org;
    return SL_OK;
}

int sl_org_invite_ok(const sl_org_t *org, const char *token)
{
    return token && *token && sl_secret_equal(org->invite_token, token);
}

sl_kind_e sl_org_reset_invite(sl_db_t *db, sl_org_t *org, sl_err_t *err,
                              apr_pool_t *p)
{
    const char *token, *args[2];
    sl_kind_e k;

    if (sl_secret_b64url(&token, SL_INVITE_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness available");
    }
    args[0] = token;
    args[1] = org->id;
    k = sl_db_exec(db, p, "siali_org_set_invite", NULL, 2, args, err);
    if (k == SL_OK) {
        org->invite_token = token;
    }
    return k;
}
