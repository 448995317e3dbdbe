#include <string.h>
#include <time.h>

#include <apr_atomic.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_audit.h"
#include "sl_log.h"
#include "sl_people.h"
#include "sl_validate.h"

#define SL_EVENT_NAME(id, name) name,
static const char *const names[SL_EVENT_COUNT] = { SL_EVENTS(SL_EVENT_NAME) };
#undef SL_EVENT_NAME

/* a purge batch: small enough that the write it rides on stays quick */
#define PURGE_BATCH 500
#define PURGE_EVERY 600     /* seconds between one child's purges */
#define AGENT_MAX 300       /* bytes of User-Agent kept */

static apr_int64_t retention;
static volatile apr_uint32_t next_purge;   /* epoch seconds (fits to 2106) */

const char *sl_event_name(sl_event_e ev)
{
    return ev >= 0 && ev < SL_EVENT_COUNT ? names[ev] : NULL;
}

int sl_event_parse(const char *name, sl_event_e *out)
{
    int i;

    for (i = 0; name && i < SL_EVENT_COUNT; i++) {
        if (!strcmp(names[i], name)) {
            *out = (sl_event_e)i;
            return 1;
        }
    }
    return 0;
}

void sl_audit_set_retention(apr_int64_t seconds)
{
    retention = seconds;
}

/* the User-Agent as a bounded string, never a UTF-8 sequence cut in half
 * (a byte that is not printable ASCII is kept only whole) */
static const char *agent(const char *ua, apr_pool_t *p)
{
    apr_size_t n;
    char *out, *c;

    if (!ua) {
        return "";
    }
    n = strlen(ua);
    if (n > AGENT_MAX) {
        n = AGENT_MAX;
        while (n > 0 && ((unsigned char)ua[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    out = apr_pstrmemdup(p, ua, n);
    /* not UTF-8 (a client may send any bytes): those bytes become '?', so
     * that the event can always be shown as JSON */
    if (sl_utf8_count(out, n) < 0) {
        for (c = out; *c; c++) {
            if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20) {
                *c = '?';
            }
        }
    }
    return out;
}

sl_kind_e sl_audit_purge(sl_db_t *db, apr_int64_t before, int batch, int *n,
                         sl_err_t *err, apr_pool_t *p)
{
    const char *args[2] = { sl_i64(before, p), sl_i64(batch, p) };

    return sl_db_exec(db, p, "siali_audit_purge", n, 2, args, err);
}

sl_kind_e sl_audit_add(sl_db_t *db, sl_event_e ev, const char *actor_id,
                       const char *subject_id, const char *detail, sl_err_t *err,
                       apr_pool_t *p)
{
    sl_conn_src_t *src = db->src;
    const char *args[9];
    apr_int64_t now = sl_now();
    apr_uint32_t due;
    sl_kind_e k;

    if (!actor_id) {
        actor_id = src && src->actor_id ? src->actor_id : "0";
    }
    if (!subject_id) {
        subject_id = "0";
    }
    args[0] = sl_i64(now, p);
    args[1] = names[ev];
    args[2] = actor_id;
    args[3] = actor_id;
    args[4] = subject_id;
    args[5] = subject_id;
    args[6] = src && src->client_address ? src->client_address : "";
    args[7] = agent(src ? src->user_agent : NULL, p);
    args[8] = detail ? detail : "{}";
    if ((k = sl_db_exec(db, p, "siali_audit_insert", NULL, 9, args, err)) != SL_OK) {
        return k;
    }
    if (src && src->pool) {
        if (!src->events) {
            src->events = apr_array_make(src->pool, 2, sizeof(const char *));
        }
        APR_ARRAY_PUSH(src->events, const char *) = apr_psprintf(
            src->pool, "SL80001: audit: event=%s actor=%s subject=%s address=%s%s%s",
            names[ev], actor_id, subject_id, *args[6] ? args[6] : "-",
            detail ? " detail=" : "", detail ? detail : "");
    }
    /* the retention, by whichever child writes an event when its turn
     * comes: a bounded batch, never a scan that holds the writer */
    due = apr_atomic_read32(&next_purge);
    if (retention > 0 && (apr_uint32_t)now >= due
        && apr_atomic_cas32(&next_purge, (apr_uint32_t)now + PURGE_EVERY, due) == due) {
        int n = 0;
        if ((k = sl_audit_purge(db, now - retention, PURGE_BATCH, &n, err, p)) != SL_OK) {
            return k;
        }
        if (n == PURGE_BATCH) {
            apr_atomic_set32(&next_purge, (apr_uint32_t)now);   /* more to go */
        }
    }
    return SL_OK;
}

typedef struct {
    sl_event_e ev;
    const char *actor_id, *subject_id, *detail;
} record_t;

static sl_kind_e record_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    record_t *b = baton;

    return sl_audit_add(db, b->ev, b->actor_id, b->subject_id, b->detail, err, p);
}

sl_kind_e sl_audit_record(sl_conn_src_t *src, sl_event_e ev, const char *actor_id,
                          const char *subject_id, const char *detail, sl_err_t *err,
                          apr_pool_t *p)
{
    record_t b = { ev, actor_id, subject_id, detail };

    /* no caller's identity rests on an event: the caches stay */
    return sl_conn_run(src, SL_CONN_WRITE_KEEP, record_unit, &b, err, p);
}

void sl_audit_flush(sl_conn_src_t *src, int committed)
{
    int i;

    if (!src->events) {
        return;
    }
    for (i = 0; committed && i < src->events->nelts; i++) {
        SL_LOG(SL_LOG_NOTICE, "%s", APR_ARRAY_IDX(src->events, i, const char *));
    }
    src->events->nelts = 0;
}

int sl_audit_parse_date(const char *s, int is_end, apr_int64_t *out)
{
    struct tm tm;
    const char *end;
    int day_only;

    struct tm back;
    time_t t;

    /* the shape exactly (strptime alone skips spaces, takes "2026-1-2") */
    if (!s || strlen(s) < 10 || !apr_isdigit(s[0]) || s[4] != '-' || s[7] != '-'
        || !apr_isdigit(s[5]) || !apr_isdigit(s[6]) || !apr_isdigit(s[8])
        || !apr_isdigit(s[9])) {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || end != s + 10 || tm.tm_year < 70 || tm.tm_year > 1100) {
        return 0;
    }
    day_only = !*end;
    if (!day_only) {
        const char *t = strptime(end, "T%H:%M", &tm);
        if (!t) {
            return 0;
        }
        if (*t == ':' && !(t = strptime(t, ":%S", &tm))) {
            return 0;
        }
        if (*t == 'Z') {
            t++;
        }
        if (*t) {
            return 0;
        }
    }
    /* a date that does not exist (2026-02-30, 10:00:61) comes back as
     * another one */
    back = tm;
    t = timegm(&back);
    gmtime_r(&t, &back);
    if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon || back.tm_sec != tm.tm_sec
        || back.tm_min != tm.tm_min || back.tm_hour != tm.tm_hour) {
        return 0;
    }
    *out = (apr_int64_t)t + (is_end ? (day_only ? 86400 : 1) : 0);
    return 1;
}

/* ---- the list ---- */

typedef struct {
    const sl_audit_query_t *q;
    json_t **out;
} list_t;

static const char *iso8601(const char *epoch, apr_pool_t *p)
{
    time_t t = (time_t)apr_atoi64(epoch ? epoch : "0");
    struct tm tm;
    char buf[32];

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return apr_pstrdup(p, buf);
}

static json_t *id_or_null(const char *v)
{
    return v && *v ? json_integer((json_int_t)apr_atoi64(v)) : json_null();
}

/* (apr_dbd_pgsql gives "" for NULL) */
static json_t *text_or_null(const char *v)
{
    return v && *v ? json_string(v) : json_null();
}

/* mine: the member reading their own events; who else acted on them (an
 * administrator), from where and with what, is not theirs to read */
static json_t *item(const char **row, const char *mine, apr_pool_t *p)
{
    json_error_t je;
    json_t *detail = json_loads(row[9] && *row[9] ? row[9] : "{}", 0, &je);

    if (mine && (!row[3] || strcmp(row[3], mine))) {
        row[3] = row[4] = row[7] = row[8] = NULL;
    }

    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o}",
                     "id", (json_int_t)apr_atoi64(row[0]),
                     "datetime", iso8601(row[1], p),
                     "event", row[2] ? row[2] : "",
                     "user_id", id_or_null(row[3]),
                     "user_email", text_or_null(row[4]),
                     "subject_id", id_or_null(row[5]),
                     "subject_email", text_or_null(row[6]),
                     "ip", row[7] ? row[7] : "",
                     "user_agent", row[8] ? row[8] : "",
                     "detail", detail ? detail : json_object());
}

static sl_kind_e list_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    list_t *b = baton;
    const sl_audit_query_t *q = b->q;
    const char *args[16];
    sl_rows_t total, filtered, rows;
    json_t *data;
    sl_kind_e k;
    int i;

    /* the parameters of AUDIT_FILTER (sl_sql.c), then limit and offset */
    args[0] = args[1] = q->event ? q->event : "";
    args[2] = args[3] = args[4] = q->user_id ? q->user_id : "0";
    args[5] = args[6] = q->subject_only ? q->subject_only : "0";
    args[7] = sl_i64(q->start, p);
    args[8] = sl_i64(q->end > 0 ? q->end : APR_INT64_C(9000000000000000000), p);
    args[9] = q->search && *q->search ? sl_people_like_pattern(q->search, p) : "";
    args[10] = args[11] = args[12] = args[13] = args[9];
    args[14] = sl_i64(q->page_size, p);
    args[15] = sl_i64((q->page - 1) * q->page_size, p);
    if (q->subject_only) {
        /* one member's own: through the subject's index, and the whole
         * log's size is not theirs either */
        const char *margs[3] = { q->subject_only, args[14], args[15] };
        if ((k = sl_db_select(db, p, "siali_audit_mine_count", &filtered, 1, margs, err))
            != SL_OK
            || (k = sl_db_select(db, p, "siali_audit_mine", &rows, 3, margs, err)) != SL_OK) {
            return k;
        }
        total = filtered;
    }
    else if ((k = sl_db_select(db, p, "siali_audit_total", &total, 0, NULL, err)) != SL_OK
             || (k = sl_db_select(db, p, "siali_audit_count", &filtered, 14, args, err))
                != SL_OK
             || (k = sl_db_select(db, p, "siali_audit_page", &rows, 16, args, err)) != SL_OK) {
        return k;
    }
    data = json_array();
    for (i = 0; i < rows.rows->nelts; i++) {
        json_array_append_new(data, item(SL_ROW(&rows, i), q->subject_only, p));
    }
    *b->out = json_pack("{s:o, s:I, s:I}", "data", data,
                        "recordsTotal", (json_int_t)apr_atoi64(SL_ROW(&total, 0)[0]),
                        "recordsFiltered", (json_int_t)apr_atoi64(SL_ROW(&filtered, 0)[0]));
    return SL_OK;
}

sl_kind_e sl_audit_list(sl_conn_src_t *src, const sl_audit_query_t *q, json_t **out,
                        sl_err_t *err, apr_pool_t *p)
{
    list_t b = { q, out };

    return sl_conn_run(src, SL_CONN_READ, list_unit, &b, err, p);
}
