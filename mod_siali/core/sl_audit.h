/* The audit log: security events in the database, written in the same
 * transaction as what they record (an acknowledged change always has its
 * event, a rolled-back one never does), and one error-log line each at
 * notice (SL80001) once that transaction committed.
 *
 * Who did it and from where come from the unit's source (sl_conn.h): the
 * glue sets the caller, the client's address and user agent once per
 * request; the CLI leaves them empty (shown as the command line). Emails
 * are copied into the row, so an event outlives its user. */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <jansson.h>

#include "sl_conn.h"

/* Names as the API shows them; stable: filters and fail2ban use them. */
#define SL_EVENTS(X) \
    X(SIGNUP, "signup") \
    X(LOGIN, "login") \
    X(LOGIN_FAILED, "login_failed") \
    X(LOGOUT, "logout") \
    X(PASSWORD_CHANGED, "password_changed") \
    X(PASSWORD_RESET, "password_reset") \
    X(TOKEN_RESET, "token_reset") \
    X(PAT_CREATED, "pat_created") \
    X(PAT_REVOKED, "pat_revoked") \
    X(MEMBER_DEACTIVATED, "member_deactivated") \
    X(MEMBER_REACTIVATED, "member_reactivated") \
    X(MEMBER_DELETED, "member_deleted") \
    X(ROLE_CHANGED, "role_changed") \
    X(INVITE_RESET, "invite_reset") \
    X(DEFAULT_ROLE_CHANGED, "default_role_changed") \
    X(SESSION_POLICY_CHANGED, "session_policy_changed") \
    X(TOKEN_SETTINGS_CHANGED, "token_settings_changed") \
    X(TWOFACTOR_ENABLED, "2fa_enabled") \
    X(TWOFACTOR_DISABLED, "2fa_disabled") \
    X(TWOFACTOR_FAILED, "2fa_failed") \
    X(RESET_LINK_CREATED, "reset_link_created") \
    X(RESET_LINK_USED, "reset_link_used")

#define SL_EVENT_ENUM(id, name) SL_EVENT_##id,
typedef enum { SL_EVENTS(SL_EVENT_ENUM) SL_EVENT_COUNT } sl_event_e;
#undef SL_EVENT_ENUM

const char *sl_event_name(sl_event_e ev);
/* 1 and *out for a name of SL_EVENTS. */
int sl_event_parse(const char *name, sl_event_e *out);

/* Inside a write unit: the event about subject_id (NULL: none, e.g. a
 * failed login of nobody), done by actor_id (NULL: the caller the source
 * names, or nobody), with detail (a JSON object's text, NULL: {}). Also
 * purges a batch of events older than the retention now and then. */
sl_kind_e sl_audit_add(sl_db_t *db, sl_event_e ev, const char *actor_id,
                       const char *subject_id, const char *detail, sl_err_t *err,
                       apr_pool_t *p);

/* The same as a unit of its own (an event with no other write to join). */
sl_kind_e sl_audit_record(sl_conn_src_t *src, sl_event_e ev, const char *actor_id,
                          const char *subject_id, const char *detail, sl_err_t *err,
                          apr_pool_t *p);

/* How long events are kept (SialiAuditRetention, seconds); set once per
 * child by the glue (the main server's: one retention per process). 0
 * (Off): forever. */
void sl_audit_set_retention(apr_int64_t seconds);

/* Deletes events older than before, at most batch of them (the oldest):
 * *n how many. Inside a write unit. */
sl_kind_e sl_audit_purge(sl_db_t *db, apr_int64_t before, int batch, int *n,
                         sl_err_t *err, apr_pool_t *p);

typedef struct {
    apr_int64_t page, page_size;   /* from 1; 1 to 1000 */
    const char *search;            /* a substring of an email, the address or
                                    * the event, NULL: any */
    const char *user_id;           /* actor or subject, NULL: anyone */
    const char *subject_only;      /* only events about this user (Account) */
    const char *event;             /* a name, NULL: any */
    apr_int64_t start, end;        /* epoch seconds, [start, end); 0: open */
} sl_audit_query_t;

/* A start_date / end_date of the API: "YYYY-MM-DD" (UTC; an end date
 * includes its whole day) or "YYYY-MM-DDTHH:MM[:SS][Z]". 1 and *out (epoch
 * seconds, the end exclusive), 0 for anything else. */
int sl_audit_parse_date(const char *s, int is_end, apr_int64_t *out);

/* {"data": [...], "recordsTotal": n, "recordsFiltered": n}, newest first. */
sl_kind_e sl_audit_list(sl_conn_src_t *src, const sl_audit_query_t *q, json_t **out,
                        sl_err_t *err, apr_pool_t *p);

/* The lines of events committed by the last unit, logged and forgotten
 * (sl_conn_run calls it; a unit that rolled back drops them). */
void sl_audit_flush(sl_conn_src_t *src, int committed);

#endif
