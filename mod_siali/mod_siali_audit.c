/* The audit log's two readers; the events are written by the core, in the
 * transactions of what they record. */
#include <apr_strings.h>
#include <httpd.h>
#include <http_protocol.h>

#include "mod_siali_audit.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_audit.h"

#define MY_RECENT 20

static int list(request_rec *r, siali_req_t *req, sl_audit_query_t *q)
{
    json_t *out;
    sl_err_t err;

    siali_http_no_store(r);
    if (sl_audit_list(siali_db_source(r, req), q, &out, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    return siali_http_json(r, HTTP_OK, out);
}

int siali_api_activity_logs(request_rec *r, siali_req_t *req)
{
    apr_table_t *q = siali_http_query(r);
    sl_audit_query_t aq;
    const char *v;
    sl_event_e ev;
    apr_int64_t uid;
    int rc;

    memset(&aq, 0, sizeof(aq));
    if (!q) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "The query string is not valid.", NULL,
                                NULL);
    }
    if ((rc = siali_http_query_int(r, q, "page", 1, 1, 1000000, &aq.page)) != OK
        || (rc = siali_http_query_int(r, q, "page_size", 100, 1, 1000, &aq.page_size)) != OK
        || (rc = siali_http_query_int(r, q, "user_id", 0, 0, APR_INT64_C(999999999999999999),
                                      &uid)) != OK) {
        return rc;
    }
    aq.user_id = uid ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, uid) : NULL;
    aq.search = apr_table_get(q, "search");
    if ((v = apr_table_get(q, "event")) && *v) {
        if (!sl_event_parse(v, &ev)) {
            return siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(
                r->pool, "Unknown event '%s'.", v), "event", NULL);
        }
        aq.event = sl_event_name(ev);
    }
    if ((v = apr_table_get(q, "start_date")) && *v && !sl_audit_parse_date(v, 0, &aq.start)) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "start_date: expected YYYY-MM-DD or "
                                "YYYY-MM-DDTHH:MM:SSZ.", "start_date", NULL);
    }
    if ((v = apr_table_get(q, "end_date")) && *v && !sl_audit_parse_date(v, 1, &aq.end)) {
        return siali_http_error(r, HTTP_BAD_REQUEST, "end_date: expected YYYY-MM-DD or "
                                "YYYY-MM-DDTHH:MM:SSZ.", "end_date", NULL);
    }
    return list(r, req, &aq);
}

int siali_api_my_activity(request_rec *r, siali_req_t *req)
{
    sl_audit_query_t aq;

    memset(&aq, 0, sizeof(aq));
    aq.page = 1;
    aq.page_size = MY_RECENT;
    aq.subject_only = req->user->id;
    return list(r, req, &aq);
}
