#include <stddef.h>

#include "sl_sql.h"

/* An integer parameter. apr_dbd_pgsql declares %s parameters as varchar,
 * and PostgreSQL then refuses bigint = varchar (and LIMIT varchar); %lld
 * declares bigint there. SQLite binds every parameter as text either way
 * and applies the column's affinity. */
#define N "%lld"

/* keep in the order of the SL_UC_* enum */
#define USER_COLS "u.id, u.email, u.username, u.password, u.first_name, " \
    "u.last_name, u.phone, u.avatar, u.is_active, u.date_joined, " \
    "u.last_activity, (SELECT m.organization_id FROM memberships m " \
    "WHERE m.user_id = u.id AND m.deleted_at IS NULL ORDER BY m.id LIMIT 1)"

/* The members of one organization, filtered by "active" ('1'/'0'), then
 * optionally by a substring of "email username first last" through the
 * trigram index of user_search (FTS5 / pg_trgm). A LIKE without ESCAPE is
 * what FTS5 can answer from its index, so searches without % _ ! \ use
 * the "_s" statements; the rest take the "_e" ones ('!' escapes), which
 * are right but scan. Parameters: org, active[, pattern]. */
#define MEMBER_BASE " FROM memberships m JOIN users u ON u.id = m.user_id " \
    "WHERE m.organization_id = " N " AND m.deleted_at IS NULL " \
    "AND (%s = '0' OR u.is_active = 1)"
#define SEARCH_S " AND u.id IN (SELECT rowid FROM user_search WHERE doc LIKE %s)"
#define SEARCH_E " AND u.id IN (SELECT rowid FROM user_search WHERE doc LIKE %s ESCAPE '!')"

/* One page of members and, with the same filter, ordering and window, the
 * projects those members created and contributed to: three statements a
 * page, whatever its size. Every ordering has its index (schema v1, v3)
 * and ends with the id, so pages never overlap. */
#define PAGE " LIMIT " N " OFFSET " N
#define MEMBERS_ONE(name, from, order) \
    { "siali_members_" name, \
      "SELECT m.id, " USER_COLS from " ORDER BY " order PAGE }, \
    { "siali_members_created_" name, \
      "SELECT p.created_by, p.id, p.title FROM projects p WHERE p.created_by IN " \
      "(SELECT u.id" from " ORDER BY " order PAGE ") ORDER BY p.id" }, \
    { "siali_members_contrib_" name, \
      "SELECT DISTINCT a.completed_by, p.id, p.title FROM annotations a " \
      "JOIN projects p ON p.id = a.project_id WHERE a.completed_by IN " \
      "(SELECT u.id" from " ORDER BY " order PAGE ") ORDER BY p.id" }
#define MEMBERS(name, order) \
    MEMBERS_ONE(name, MEMBER_BASE, order), \
    MEMBERS_ONE(name "_s", MEMBER_BASE SEARCH_S, order), \
    MEMBERS_ONE(name "_e", MEMBER_BASE SEARCH_E, order)

const sl_sql_stmt_t sl_sql_statements[] = {
    MEMBERS("username", "lower(u.username), u.id"),
    MEMBERS("email", "u.email, u.id"),
    MEMBERS("last_activity", "COALESCE(u.last_activity, 0), u.id"),
    MEMBERS("last_activity_desc", "COALESCE(u.last_activity, 0) DESC, u.id DESC"),
    MEMBERS("date_joined", "u.date_joined, u.id"),
    MEMBERS("date_joined_desc", "u.date_joined DESC, u.id DESC"),
    { "siali_members_count_s", "SELECT count(*)" MEMBER_BASE SEARCH_S },
    { "siali_members_count_e", "SELECT count(*)" MEMBER_BASE SEARCH_E },
    /* without a search the count is kept, not counted */
    { "siali_org_counts",
      "SELECT members_count, active_count FROM organization WHERE id = " N },
    { "siali_org_count_add",
      "UPDATE organization SET members_count = members_count + " N ", "
      "active_count = active_count + " N " WHERE id = " N },
    { "siali_org_recount",
      "UPDATE organization SET members_count = (SELECT count(*) FROM memberships m "
      "WHERE m.organization_id = organization.id AND m.deleted_at IS NULL), "
      "active_count = (SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id "
      "WHERE m.organization_id = organization.id AND m.deleted_at IS NULL "
      "AND u.is_active = 1)" },
    { "siali_user_search_insert", "INSERT INTO user_search (rowid, doc) VALUES (" N ", %s)" },
    { "siali_user_search_update", "UPDATE user_search SET doc = %s WHERE rowid = " N },
    { "siali_user_search_delete", "DELETE FROM user_search WHERE rowid = " N },
    { "siali_member_get",
      "SELECT m.id, " USER_COLS " FROM memberships m JOIN users u ON u.id = m.user_id "
      "WHERE m.organization_id = " N " AND m.user_id = " N " AND m.deleted_at IS NULL" },
    { "siali_user_created_projects",
      "SELECT id, title FROM projects WHERE created_by = " N " ORDER BY id" },
    { "siali_user_contributed_projects",
      "SELECT DISTINCT p.id, p.title FROM annotations a JOIN projects p "
      "ON p.id = a.project_id WHERE a.completed_by = " N " ORDER BY p.id" },
    { "siali_user_annotation_count",
      "SELECT count(*) FROM annotations WHERE completed_by = " N },
    { "siali_org_list", "SELECT id, title, created_at FROM organization ORDER BY id" },

    /* user management */
    { "siali_user_list", "SELECT " USER_COLS " FROM users u ORDER BY u.id" },
    { "siali_user_set_names",
      "UPDATE users SET first_name = %s, last_name = %s, phone = %s, username = %s "
      "WHERE id = " N },
    { "siali_user_set_active", "UPDATE users SET is_active = " N " WHERE id = " N },
    { "siali_user_set_avatar", "UPDATE users SET avatar = %s WHERE id = " N },
    { "siali_user_avatars", "SELECT avatar FROM users WHERE avatar IS NOT NULL" },
    { "siali_user_username_taken_by_other",
      "SELECT 1 FROM users WHERE lower(username) = lower(%s) AND id <> " N },
    /* no foreign keys on SQLite (see sl_db_conn_init): dependents by hand */
    { "siali_user_delete_tokens", "DELETE FROM api_tokens WHERE user_id = " N },
    { "siali_user_delete_memberships", "DELETE FROM memberships WHERE user_id = " N },
    { "siali_user_delete", "DELETE FROM users WHERE id = " N },

    /* projects, tasks, annotations */
    { "siali_project_insert",
      "INSERT INTO projects (title, description, created_by, created_at) "
      "VALUES (%s, %s, " N ", " N ") RETURNING id" },
    { "siali_project_get",
      "SELECT p.id, p.title, p.description, p.created_by, p.created_at FROM projects p "
      "WHERE p.id = " N },
    { "siali_project_page",
      "SELECT p.id, p.title, p.description, p.created_by, p.created_at FROM projects p "
      "ORDER BY p.id" PAGE },
    { "siali_project_count", "SELECT count(*) FROM projects" },
    { "siali_task_insert",
      "INSERT INTO tasks (project_id, data, created_at) VALUES (" N ", %s, " N ") "
      "RETURNING id" },
    { "siali_task_get", "SELECT id, project_id FROM tasks WHERE id = " N },
    { "siali_annotation_insert",
      "INSERT INTO annotations (task_id, project_id, completed_by, result, created_at) "
      "VALUES (" N ", " N ", " N ", %s, " N ") RETURNING id" },

    /* organization and its invite token */
    { "siali_org_get",
      "SELECT id, title, invite_token, owner_id, created_at FROM organization "
      "ORDER BY id LIMIT 1" },
    { "siali_org_create",
      "INSERT INTO organization (title, invite_token, created_at) "
      "VALUES (%s, %s, " N ") RETURNING id" },
    { "siali_org_set_owner",
      "UPDATE organization SET owner_id = " N " WHERE id = " N " AND owner_id IS NULL" },
    /* the first statement of every write that changes the members, their
     * counters or the invite: on PostgreSQL they then queue on one row
     * lock in one order (no deadlocks), and read the row after it */
    { "siali_org_lock", "UPDATE organization SET members_count = members_count" },
    { "siali_org_set_invite",
      "UPDATE organization SET invite_token = %s WHERE id = " N },

    /* users */
    { "siali_user_insert",
      "INSERT INTO users (email, username, password, first_name, last_name, "
      "phone, is_active, date_joined) VALUES (%s, %s, %s, '', '', '', 1, " N ") "
      "ON CONFLICT DO NOTHING RETURNING id" },
    { "siali_user_by_id", "SELECT " USER_COLS " FROM users u WHERE u.id = " N },
    { "siali_user_by_email", "SELECT " USER_COLS " FROM users u WHERE u.email = %s" },
    { "siali_user_by_username",
      "SELECT " USER_COLS " FROM users u WHERE lower(u.username) = lower(%s)" },
    { "siali_user_email_taken", "SELECT 1 FROM users WHERE email = %s" },
    { "siali_user_username_taken",
      "SELECT 1 FROM users WHERE lower(username) = lower(%s)" },
    { "siali_user_set_password", "UPDATE users SET password = %s WHERE id = " N },
    /* the hash that was verified is still the one stored, and the account
     * active: the row is locked (PostgreSQL) to the end of the transaction,
     * so a password change, a deactivation or a deletion waits for it or
     * went first; optionally a new hash at once (0 rows: it changed) */
    { "siali_user_password_if",
      "UPDATE users SET password = %s WHERE id = " N " AND password = %s AND is_active = 1" },
    /* a row lock taken before reading what a write replaces */
    { "siali_user_lock", "UPDATE users SET avatar = avatar WHERE id = " N },
    { "siali_user_touch",
      "UPDATE users SET last_activity = " N " WHERE id = " N " AND "
      "(last_activity IS NULL OR last_activity < " N ")" },
    { "siali_user_count", "SELECT count(*) FROM users" },

    /* memberships */
    { "siali_membership_insert",
      "INSERT INTO memberships (user_id, organization_id, created_at) "
      "VALUES (" N ", " N ", " N ")" },

    /* API tokens: looked up by the SHA-256 of the key (indexed), then the
     * key itself is compared in constant time */
    { "siali_token_insert",
      "INSERT INTO api_tokens (user_id, token, token_hash, created_at) "
      "VALUES (" N ", %s, %s, " N ") ON CONFLICT DO NOTHING" },
    { "siali_token_taken", "SELECT 1 FROM api_tokens WHERE token_hash = %s" },
    { "siali_token_by_user", "SELECT token FROM api_tokens WHERE user_id = " N },
    { "siali_token_user",
      "SELECT t.token, " USER_COLS " FROM api_tokens t JOIN users u "
      "ON u.id = t.user_id WHERE t.token_hash = %s" },
    { "siali_token_replace",
      "UPDATE api_tokens SET token = %s, token_hash = %s, created_at = " N " "
      "WHERE user_id = " N },

    /* sessions: only the SHA-256 of the cookie value is stored */
    { "siali_session_insert",
      "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, expires_at) "
      "VALUES (%s, " N ", " N ", " N ", " N ")" },
    { "siali_session_user",
      "SELECT s.created_at, s.last_seen, s.expires_at, " USER_COLS
      " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = %s" },
    { "siali_session_touch",
      "UPDATE sessions SET last_seen = " N " WHERE id_hash = %s AND last_seen < " N },
    { "siali_session_delete", "DELETE FROM sessions WHERE id_hash = %s" },
    { "siali_session_delete_user", "DELETE FROM sessions WHERE user_id = " N },
    { "siali_session_delete_others",
      "DELETE FROM sessions WHERE user_id = " N " AND id_hash <> %s" },
    { "siali_session_purge",
      "DELETE FROM sessions WHERE expires_at < " N " OR last_seen < " N },

    /* login throttling: window counters per account and per address */
    { "siali_throttle_get",
      "SELECT window_start, failures FROM login_failures "
      "WHERE kind = %s AND subject = %s" },
    { "siali_throttle_fail",
      "INSERT INTO login_failures (kind, subject, window_start, failures) "
      "VALUES (%s, %s, " N ", 1) ON CONFLICT (kind, subject) DO UPDATE SET "
      "failures = CASE WHEN login_failures.window_start <= " N " THEN 1 "
      "ELSE login_failures.failures + 1 END, "
      "window_start = CASE WHEN login_failures.window_start <= " N " "
      "THEN excluded.window_start ELSE login_failures.window_start END" },
    { "siali_throttle_undo",
      "UPDATE login_failures SET failures = failures - 1 "
      "WHERE kind = %s AND subject = %s AND failures > 0" },
    { "siali_throttle_purge", "DELETE FROM login_failures WHERE window_start < " N },
    { "siali_throttle_clear",
      "DELETE FROM login_failures WHERE kind = %s AND subject = %s" },

    { NULL, NULL }
};
