/* Account & Settings: the password change. (Pictures: mod_siali_avatar.c) */
#include <string.h>

#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_siali_account.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_auth.h"
#include "sl_json.h"

int siali_api_password(request_rec *r, siali_req_t *req)
{
    static const char *const keys[] = { "current_password", "new_password", NULL };
    const char *key;
    apr_int64_t retry = 0;
    json_t *body, *v, *fresh;
    sl_err_t err;
    int i;

    if (siali_http_read_json(r, &body) != OK) {
        return OK;
    }
    json_object_foreach(body, key, v) {
        for (i = 0; keys[i] && strcmp(keys[i], key); i++)
            ;
        if (!keys[i] || !json_is_string(v)) {
            return siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(
                r->pool, keys[i] ? "%s must be a string." : "Unknown field %s.", key), key, NULL);
        }
    }
    fresh = json_object_get(body, "new_password");
    switch (sl_auth_change_password(siali_db_source(r, req), req->user,
                                    json_string_value(json_object_get(body, "current_password")),
                                    json_string_value(fresh),
                                    fresh ? json_string_length(fresh) : 0,
                                    req->session, r->useragent_ip, &req->conf->core, &retry,
                                    &err, r->pool)) {
    case SL_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70004: user %s changed their password",
                      req->user->id);
        return siali_http_json(r, HTTP_NO_CONTENT, NULL);
    case SL_ETHROTTLED:
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(retry, r->pool));
        return siali_http_core_error(r, &err);
    case SL_EINVALID:
        return siali_http_error(r, HTTP_BAD_REQUEST, err.message, err.field, NULL);
    default:
        return siali_http_core_error(r, &err);
    }
}
