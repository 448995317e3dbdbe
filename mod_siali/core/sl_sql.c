#include <stddef.h>

#include "sl_sql.h"

/* keep in the order of the SL_UC_* enum */
#define USER_COLS "u.id, u.email, u.username, u.password, u.first_name, " \
    "u.last_name, u.phone, u.avatar, u.is_active, u.date_joined, " \
    "u.last_activity, (SELECT m.organization_id FROM memberships m " \
    "WHERE m.user_id = u.id AND m.deleted_at IS NULL ORDER BY m.id LIMIT 1)"

const sl_sql_stmt_t sl_sql_statements[] = {
    /* organization and its invite token */
    { "siali_org_get",
      "SELECT id, title, invite_token, owner_id, created_at FROM organization "
      "ORDER BY id LIMIT 1" },
    { "siali_org_create",
      "INSERT INTO organization (title, invite_token, created_at) "
      "VALUES (%s, %s, %s) RETURNING id" },
    { "siali_org_set_owner",
      "UPDATE organization SET owner_id = %s WHERE id = %s AND owner_id IS NULL" },
    { "siali_org_set_invite",
      "UPDATE organization SET invite_token = %s WHERE id = %s" },

    /* users */
    { "siali_user_insert",
      "INSERT INTO users (email, username, password, first_name, last_name, "
      "phone, is_active, date_joined) VALUES (%s, %s, %s, '', '', '', 1, %s) "
      "RETURNING id" },
    { "siali_user_by_id", "SELECT " USER_COLS " FROM users u WHERE u.id = %s" },
    { "siali_user_by_email", "SELECT " USER_COLS " FROM users u WHERE u.email = %s" },
    { "siali_user_by_username",
      "SELECT " USER_COLS " FROM users u WHERE lower(u.username) = lower(%s)" },
    { "siali_user_email_taken", "SELECT 1 FROM users WHERE email = %s" },
    { "siali_user_username_taken",
      "SELECT 1 FROM users WHERE lower(username) = lower(%s)" },
    { "siali_user_set_password", "UPDATE users SET password = %s WHERE id = %s" },
    { "siali_user_touch",
      "UPDATE users SET last_activity = %s WHERE id = %s AND "
      "(last_activity IS NULL OR last_activity < %s)" },
    { "siali_user_count", "SELECT count(*) FROM users" },

    /* memberships */
    { "siali_membership_insert",
      "INSERT INTO memberships (user_id, organization_id, created_at) "
      "VALUES (%s, %s, %s)" },

    /* API tokens: looked up by the SHA-256 of the key (indexed), then the
     * key itself is compared in constant time */
    { "siali_token_insert",
      "INSERT INTO api_tokens (user_id, token, token_hash, created_at) "
      "VALUES (%s, %s, %s, %s)" },
    { "siali_token_by_user", "SELECT token FROM api_tokens WHERE user_id = %s" },
    { "siali_token_user",
      "SELECT t.token, " USER_COLS " FROM api_tokens t JOIN users u "
      "ON u.id = t.user_id WHERE t.token_hash = %s" },
    { "siali_token_replace",
      "UPDATE api_tokens SET token = %s, token_hash = %s, created_at = %s "
      "WHERE user_id = %s" },

    /* sessions: only the SHA-256 of the cookie value is stored */
    { "siali_session_insert",
      "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, expires_at) "
      "VALUES (%s, %s, %s, %s, %s)" },
    { "siali_session_user",
      "SELECT s.created_at, s.last_seen, s.expires_at, " USER_COLS
      " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = %s" },
    { "siali_session_touch",
      "UPDATE sessions SET last_seen = %s WHERE id_hash = %s AND last_seen < %s" },
    { "siali_session_delete", "DELETE FROM sessions WHERE id_hash = %s" },
    { "siali_session_delete_user", "DELETE FROM sessions WHERE user_id = %s" },
    { "siali_session_delete_others",
      "DELETE FROM sessions WHERE user_id = %s AND id_hash <> %s" },
    { "siali_session_purge",
      "DELETE FROM sessions WHERE expires_at < %s OR last_seen < %s" },

    /* login throttling: window counters per account and per address */
    { "siali_throttle_get",
      "SELECT window_start, failures FROM login_failures "
      "WHERE kind = %s AND subject = %s" },
    { "siali_throttle_fail",
      "INSERT INTO login_failures (kind, subject, window_start, failures) "
      "VALUES (%s, %s, %s, 1) ON CONFLICT (kind, subject) DO UPDATE SET "
      "failures = CASE WHEN login_failures.window_start <= %s THEN 1 "
      "ELSE login_failures.failures + 1 END, "
      "window_start = CASE WHEN login_failures.window_start <= %s "
      "THEN excluded.window_start ELSE login_failures.window_start END" },
    { "siali_throttle_clear",
      "DELETE FROM login_failures WHERE kind = %s AND subject = %s" },

    { NULL, NULL }
};
