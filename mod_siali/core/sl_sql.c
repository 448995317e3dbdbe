#include <stddef.h>
#include <string.h>

#include "sl_sql.h"

/* An integer parameter. apr_dbd_pgsql declares %s parameters as varchar,
 * and PostgreSQL then refuses bigint = varchar (and LIMIT varchar); %lld
 * declares bigint there. SQLite binds every parameter as text either way
 * and applies the column's affinity. */
#define N "%lld"

/* The audit log's filters (sl_audit_list): event ('' any), a user as actor
 * or subject (0 any), a user as subject only (0 any), [start, end), and a
 * LIKE pattern over the emails, the address and the event ('' any). */
#define AUDIT_FILTER " WHERE (%s = '' OR a.event = %s)" \
    " AND (CAST(" N " AS BIGINT) = 0 OR a.actor_id = " N " OR a.subject_id = " N ")" \
    " AND (CAST(" N " AS BIGINT) = 0 OR a.subject_id = " N ")" \
    " AND a.created_at >= " N " AND a.created_at < " N \
    " AND (%s = '' OR a.actor_email LIKE %s ESCAPE '!' OR a.subject_email LIKE %s ESCAPE '!'" \
    " OR a.address LIKE %s ESCAPE '!' OR a.event LIKE %s ESCAPE '!')"

/* keep in the order of the SL_UC_* enum */
/* org_member is the organization of the user's membership, kept on the row
 * (schema v5) so that neither this list nor a members page joins for it */
#define USER_COLS "u.id, u.email, u.username, u.password, u.first_name, " \
    "u.last_name, u.phone, u.avatar, u.is_active, u.date_joined, " \
    "u.last_activity, u.org_member, u.org_role"

/* The members of one organization, filtered by "active" ('1'/'0'), then
 * optionally by a substring of "email username first last". A page is
 * found by walking the ordering's index on users, which holds the
 * organization, the ordering, the id and is_active (schema v5): the rows
 * before the page are skipped inside the index, without a join and
 * without reading a row; only the page's rows are joined. Search:
 *  - "_s": through the trigram index of user_search (FTS5 / pg_trgm), for
 *    searches that match at most SL_PEOPLE_COUNT_CAP members (counted
 *    first, no further than the cap);
 *  - "_w": beyond that the ordering's index is walked and each member's
 *    document checked, which finds a page of a common word in a few
 *    hundred rows instead of sorting thousands of matches;
 *  - "_e" / "_we": the same with '!' escaping, for searches holding
 *    % _ ! or \ (FTS5 cannot answer an escaped LIKE from its index).
 * Parameters: org, the least is_active (1: active members only, 0: all)
 * [, pattern], limit, offset: is_active is the index's last column, so
 * the filter is part of the index walk. */
/* "0 = the least or is_active = 1" rather than "is_active >= the least":
 * the first half is constant for the statement, so a list of all members
 * (People asks for all) never reads is_active from an index entry, which
 * doubled the cost of skipping to a deep page on SQLite. CAST: the value
 * is bound as text on SQLite. */
#define ACTIVE_FILTER(col) " AND (CAST(" N " AS BIGINT) = 0 OR " col " = 1)"
#define MEMBER_WHERE " FROM users u WHERE u.org_member = " N ACTIVE_FILTER("u.is_active")
/* The trigram index first, then each match's row by its id, for the
 * filters and the ordering: CROSS JOIN is SQLite's way to keep that order
 * (PostgreSQL chooses by its estimate of the match count, which is right
 * for the few matches this serves). The match: "f.doc LIKE" on PostgreSQL
 * (pg_trgm answers it from its index); on SQLite an FTS5 phrase, "f.doc
 * MATCH" (sl_people_match_phrase): with the trigram tokenizer a phrase is
 * a substring, found in the index alone, where LIKE reads every
 * candidate's document to check it (three times the cost of a common
 * word). Searches shorter than a trigram, and on PostgreSQL those holding
 * % _ ! or \, are "_e": an escaped LIKE, which scans. */
#define MATCH_JOIN " AND u.id = f.rowid AND u.org_member = " N ACTIVE_FILTER("u.is_active")
#define SEARCH_FILTER "f.doc LIKE %s" MATCH_JOIN
#define SEARCH_FILTER_E "f.doc LIKE %s ESCAPE '!'" MATCH_JOIN
#define SEARCH_FILTER_M "f.doc MATCH %s" MATCH_JOIN
#define MEMBER_WHERE_S " FROM user_search f CROSS JOIN users u WHERE " SEARCH_FILTER
#define MEMBER_WHERE_E " FROM user_search f CROSS JOIN users u WHERE " SEARCH_FILTER_E
#define MEMBER_WHERE_M " FROM user_search f CROSS JOIN users u WHERE " SEARCH_FILTER_M
#define SEARCH_W " AND (SELECT s.doc FROM user_search s WHERE s.rowid = u.id) LIKE %s"
#define SEARCH_WE " AND (SELECT s.doc FROM user_search s WHERE s.rowid = u.id) " \
    "LIKE %s ESCAPE '!'"
/* SQLite: the document straight from FTS5's content table (user_search's
 * shadow table %_content, column c0: FTS5's documented layout), a rowid
 * lookup, where asking the FTS5 table for a rowid costs three times that */
#define SEARCH_W_LITE " AND (SELECT c.c0 FROM user_search_content c WHERE c.id = u.id) " \
    "LIKE %s"
#define SEARCH_WE_LITE SEARCH_W_LITE " ESCAPE '!'"

/* One page of members and, with the same filter, ordering and window, the
 * projects those members created and contributed to: three statements a
 * page, whatever its size. Every ordering ends with the id, so pages never
 * overlap. */
#define PAGE " LIMIT " N " OFFSET " N
#define PAGE_IDS(where, order) "(SELECT u.id" where " ORDER BY " order PAGE ")"
#define PAGE_OF(where, order, inner) \
      "SELECT m.id, " USER_COLS " FROM " PAGE_IDS(where, inner) " pg " \
      "JOIN users u ON u.id = pg.id JOIN memberships m ON m.user_id = u.id " \
      "AND m.organization_id = u.org_member AND m.deleted_at IS NULL " \
      "ORDER BY " order
#define CREATED(where, inner) \
      "SELECT p.created_by, p.id, p.title FROM projects p WHERE p.created_by IN " \
      PAGE_IDS(where, inner) " ORDER BY p.id"
#define CONTRIB(where, inner) \
      "SELECT DISTINCT a.completed_by, p.id, p.title FROM annotations a " \
      "JOIN projects p ON p.id = a.project_id WHERE a.completed_by IN " \
      PAGE_IDS(where, inner) " ORDER BY p.id"
#define MEMBERS_ONE(name, where, order, inner) \
    { "siali_members_" name, PAGE_OF(where, order, inner), NULL }, \
    { "siali_members_created_" name, CREATED(where, inner), NULL }, \
    { "siali_members_contrib_" name, CONTRIB(where, inner), NULL }
/* the same with another text on SQLite */
#define MEMBERS_TWO(name, where, lite, order, inner) \
    { "siali_members_" name, PAGE_OF(where, order, inner), PAGE_OF(lite, order, inner) }, \
    { "siali_members_created_" name, CREATED(where, inner), CREATED(lite, inner) }, \
    { "siali_members_contrib_" name, CONTRIB(where, inner), CONTRIB(lite, inner) }
/* NULL before every time, as NULLS FIRST sorts it */
#define NULL_FIRST "-9223372036854775807"
/* sorted: the same order as an expression no index holds, for the few
 * matches of "_s" / "_e": sorting them is the plan, never walking the
 * ordering's index for them (PostgreSQL would, for a LIMIT, whenever its
 * estimate of the matches came out high, and read every member) */
/* A search through the trigram index, counted and paged in one reading of
 * it: its matches (no further than the cap + 1) are kept, counted, and only
 * if they are no more than the cap sorted for the page (more: the caller
 * walks, "_w"). The first row always comes: the count, then the page's
 * member and user columns (NULL where the page is empty). Parameters: org,
 * the least is_active, pattern, cap + 1, cap, limit, offset. */
#define FOUND(users, where, order, sorted) \
      FOUND_FROM("WITH s AS MATERIALIZED (SELECT u.id FROM user_search f CROSS JOIN " users \
                 " WHERE " where " LIMIT " N ")", order, sorted)
/* PostgreSQL: the candidates of the trigram index first, as a CTE of their
 * own, so that it is the index that finds them (a LIMIT over the join made
 * the planner walk user_search in key order checking each document: 10 ms
 * for a word one member in eight has, 2.8 ms this way); a materialized CTE
 * is read lazily, so the LIMIT still stops the heap scan at cap + 1. The
 * filters from the document's own copy of its member's organization and
 * is_active (schema v8): no lookup of each match's user, which was two
 * thirds of counting a word one member in twelve has. */
#define FOUND_PG(like, order, sorted) \
      FOUND_FROM("WITH m AS MATERIALIZED (SELECT f.rowid, f.org_member, f.is_active " \
                 "FROM user_search f WHERE " like "), s AS MATERIALIZED (SELECT m.rowid " \
                 "AS id FROM m WHERE m.org_member = " N ACTIVE_FILTER("m.is_active") \
                 " LIMIT " N ")", order, sorted)
#define FOUND_FROM(matches, order, sorted) \
      matches " SELECT c.n, u.* FROM (SELECT count(*) AS n FROM s) c LEFT JOIN (" \
      "SELECT m.id AS mid, " USER_COLS " FROM (SELECT u.id FROM s CROSS JOIN users u " \
      "WHERE u.id = s.id AND (SELECT count(*) FROM s) <= CAST(" N " AS BIGINT) " \
      "ORDER BY " sorted PAGE ") pg JOIN users u ON u.id = pg.id JOIN memberships m " \
      "ON m.user_id = u.id AND m.organization_id = u.org_member AND m.deleted_at IS NULL" \
      ") u ON TRUE ORDER BY " order
/* "_s": LIKE on PostgreSQL, the phrase on SQLite; "_e": escaped LIKE. The
 * matches' filters from an index holding id, org_member and is_active
 * (users_filter_idx; SQLite reads it instead of each match's row, half the
 * cost of counting a common word; PostgreSQL chooses its own INCLUDE
 * index) */
#define USERS_LITE "users u INDEXED BY users_filter_idx"
#define MEMBERS_SEARCH(name, order, sorted) \
    { "siali_members_" name "_s", FOUND_PG("f.doc LIKE %s", order, sorted), \
      FOUND(USERS_LITE, SEARCH_FILTER_M, order, sorted) }, \
    { "siali_members_created_" name "_s", CREATED(MEMBER_WHERE_S, sorted), \
      CREATED(MEMBER_WHERE_M, sorted) }, \
    { "siali_members_contrib_" name "_s", CONTRIB(MEMBER_WHERE_S, sorted), \
      CONTRIB(MEMBER_WHERE_M, sorted) }, \
    { "siali_members_" name "_e", FOUND_PG("f.doc LIKE %s ESCAPE '!'", order, sorted), \
      FOUND(USERS_LITE, SEARCH_FILTER_E, order, sorted) }, \
    { "siali_members_created_" name "_e", CREATED(MEMBER_WHERE_E, sorted), NULL }, \
    { "siali_members_contrib_" name "_e", CONTRIB(MEMBER_WHERE_E, sorted), NULL }
/* "_a": a page from a mark (sl_pagemark.h), the ordering's key and id of
 * the member at a known position before it: the index walk starts at the
 * mark, and skips only the rows between it and the page. Parameters: org,
 * the least is_active, the mark's key twice, its id, limit, offset from
 * the mark. The key as the index holds it: lower() by the database itself.
 * "key >= mark AND (key > mark OR id >= its id)" rather than a row value:
 * SQLite does not start an index walk at a row value over an expression
 * (lower(username)), and both start one at the first term. */
#define AFTER_MARK(key, past, mark, id_from) \
    key " " past "= " mark " AND (" key " " past " " mark " OR " id_from " " N ")"
#define FROM_MARK(cond) MEMBER_WHERE " AND " cond
#define MEMBERS_MARKED(name, cond, order) MEMBERS_ONE(name "_a", FROM_MARK(cond), order, order)
/* "_f": the list with filters the indexes do not hold, for the few who use
 * them: a role (as People shows it: DI when deactivated, NO before the
 * first sign-in), and for a caller whose role may not see everyone
 * (sl_role.h, view_people) only themselves and the members of the projects
 * they created or annotated in (PEERS). Every filter is optional, given as
 * 0 / '' when not asked for. Parameters: org, the least is_active, scoped
 * (0/1), the caller five times, role twice, pattern twice (escaped with
 * '!'), then limit and offset for the pages; none of the three for the
 * count. */
#define MINE(c) "SELECT p2.id FROM projects p2 WHERE p2.created_by = " c \
    " UNION SELECT a2.project_id FROM annotations a2 WHERE a2.completed_by = " c
#define PEERS "SELECT p1.created_by FROM projects p1 WHERE p1.id IN (" MINE(N) ") " \
    "UNION SELECT a1.completed_by FROM annotations a1 WHERE a1.project_id IN (" MINE(N) ")"
#define ROLE_SHOWN "CASE WHEN u.is_active = 0 THEN 'DI' WHEN u.last_activity IS NULL " \
    "THEN 'NO' ELSE u.org_role END"
#define FILTERS(doc) \
    " AND (CAST(" N " AS BIGINT) = 0 OR u.id = " N " OR u.id IN (" PEERS "))" \
    " AND (%s = '' OR " ROLE_SHOWN " = %s)" \
    " AND (%s = '' OR " doc " LIKE %s ESCAPE '!')"
#define DOC_PG "(SELECT s.doc FROM user_search s WHERE s.rowid = u.id)"
#define DOC_LITE "(SELECT c.c0 FROM user_search_content c WHERE c.id = u.id)"
#define MEMBER_WHERE_F MEMBER_WHERE FILTERS(DOC_PG)
#define MEMBER_WHERE_F_LITE MEMBER_WHERE FILTERS(DOC_LITE)
#define MEMBERS(name, order, sorted) \
    MEMBERS_ONE(name, MEMBER_WHERE, order, order), \
    MEMBERS_SEARCH(name, order, sorted), \
    MEMBERS_TWO(name "_w", MEMBER_WHERE SEARCH_W, MEMBER_WHERE SEARCH_W_LITE, order, order), \
    MEMBERS_TWO(name "_we", MEMBER_WHERE SEARCH_WE, MEMBER_WHERE SEARCH_WE_LITE, order, order)

const sl_sql_stmt_t sl_sql_statements[] = {
    /* NULLS FIRST / LAST as each database sorts by default (SQLite) or is
     * told to in its index (PostgreSQL): both walk the index, no sort */
    MEMBERS("username", "lower(u.username), u.id", "lower(u.username) || '', u.id + 0"),
    MEMBERS("email", "u.email, u.id", "u.email || '', u.id + 0"),
    MEMBERS("last_activity", "u.last_activity ASC NULLS FIRST, u.id",
            "COALESCE(u.last_activity, " NULL_FIRST "), u.id + 0"),
    MEMBERS("last_activity_desc", "u.last_activity DESC NULLS LAST, u.id DESC",
            "COALESCE(u.last_activity, " NULL_FIRST ") DESC, u.id + 0 DESC"),
    MEMBERS("date_joined", "u.date_joined, u.id", "u.date_joined + 0, u.id + 0"),
    MEMBERS("date_joined_desc", "u.date_joined DESC, u.id DESC",
            "u.date_joined + 0 DESC, u.id + 0 DESC"),
    MEMBERS_TWO("username_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE, "lower(u.username), u.id",
                "lower(u.username), u.id"),
    MEMBERS_TWO("email_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE, "u.email, u.id", "u.email, u.id"),
    MEMBERS_TWO("last_activity_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE,
                "u.last_activity ASC NULLS FIRST, u.id", "u.last_activity ASC NULLS FIRST, u.id"),
    MEMBERS_TWO("last_activity_desc_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE,
                "u.last_activity DESC NULLS LAST, u.id DESC",
                "u.last_activity DESC NULLS LAST, u.id DESC"),
    MEMBERS_TWO("date_joined_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE, "u.date_joined, u.id",
                "u.date_joined, u.id"),
    MEMBERS_TWO("date_joined_desc_f", MEMBER_WHERE_F, MEMBER_WHERE_F_LITE,
                "u.date_joined DESC, u.id DESC", "u.date_joined DESC, u.id DESC"),
    { "siali_members_count_f", "SELECT count(*)" MEMBER_WHERE_F,
      "SELECT count(*)" MEMBER_WHERE_F_LITE },
    /* whether a member is one of the caller's PEERS (parameters: the
     * member, the caller four times) */
    { "siali_member_is_peer", "SELECT 1 WHERE " N " IN (" PEERS ")" },
    MEMBERS_MARKED("username", AFTER_MARK("lower(u.username)", ">", "lower(%s)", "u.id >="),
                   "lower(u.username), u.id"),
    MEMBERS_MARKED("email", AFTER_MARK("u.email", ">", "%s", "u.id >="), "u.email, u.id"),
    MEMBERS_MARKED("date_joined", AFTER_MARK("u.date_joined", ">", N, "u.id >="),
                   "u.date_joined, u.id"),
    MEMBERS_MARKED("date_joined_desc", AFTER_MARK("u.date_joined", "<", N, "u.id <="),
                   "u.date_joined DESC, u.id DESC"),
    /* without a search the count is kept, not counted; with it the version
     * of the lists' membership and orderings (schema v8) */
    { "siali_org_counts",
      "SELECT members_count, active_count, people_version FROM organization WHERE id = " N },
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
    /* pictures users point at that are not rows yet (files of old versions) */
    { "siali_user_avatars_missing", "SELECT u.avatar FROM users u WHERE u.avatar IS NOT NULL "
      "AND NOT EXISTS (SELECT 1 FROM avatars a WHERE a.name = u.avatar)" },
    { "siali_user_set_email", "UPDATE users SET email = %s WHERE id = " N },
    { "siali_user_email_taken_by_other",
      "SELECT 1 FROM users WHERE email = %s AND id <> " N },

    /* avatars: the current picture of an account is served only while the
     * account names it */
    { "siali_avatar_insert",
      "INSERT INTO avatars (name, user_id, content_type, sha256, data, created_at) "
      "VALUES (%s, " N ", %s, %s, %s, " N ")" },
    { "siali_avatar_delete_others",
      "DELETE FROM avatars WHERE user_id = " N " AND name <> %s" },
    { "siali_avatar_delete_user", "DELETE FROM avatars WHERE user_id = " N },
    { "siali_avatar_get",
      "SELECT a.content_type, a.sha256, a.data FROM avatars a JOIN users u "
      "ON u.avatar = a.name WHERE a.name = %s" },
    { "siali_avatar_meta",
      "SELECT a.content_type, a.sha256 FROM avatars a JOIN users u "
      "ON u.avatar = a.name WHERE a.name = %s" },
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
      "SELECT id, title, invite_token, owner_id, created_at, default_role FROM organization "
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

    /* memberships: the organization also on the user's row (USER_COLS) */
    { "siali_user_set_org", "UPDATE users SET org_member = " N " WHERE id = " N },
    /* roles (sl_role.h): the role of the user's membership, and its source */
    { "siali_user_set_role",
      "UPDATE users SET org_role = %s, role_source = %s WHERE id = " N },
    /* single sign-on (sl_sso.h): the role the groups give, unless it was
     * set by hand or is the owner's; nothing written when it is the same */
    { "siali_user_role_from_sso",
      "UPDATE users SET org_role = %s, role_source = %s WHERE id = " N
      " AND role_source <> 'manual' AND org_role <> 'OW' AND is_active = 1"
      " AND (org_role <> %s OR role_source <> %s)" },
    /* the audit log (sl_audit.h): 0 is "nobody" for the actor and the
     * subject; their emails copied, so an event outlives its user */
    { "siali_audit_insert",
      "INSERT INTO audit_log (created_at, event, actor_id, actor_email, subject_id, "
      "subject_email, address, user_agent, detail) VALUES (" N ", %s, "
      "NULLIF(CAST(" N " AS BIGINT), 0), (SELECT email FROM users WHERE id = " N "), "
      "NULLIF(CAST(" N " AS BIGINT), 0), (SELECT email FROM users WHERE id = " N "), "
      "%s, %s, %s)" },
    { "siali_audit_purge",
      "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < " N
      " ORDER BY created_at LIMIT " N ")" },
    { "siali_audit_total", "SELECT count(*) FROM audit_log" },
    { "siali_audit_mine_count", "SELECT count(*) FROM audit_log WHERE subject_id = " N },
    { "siali_audit_mine",
      "SELECT a.id, a.created_at, a.event, a.actor_id, a.actor_email, a.subject_id, "
      "a.subject_email, a.address, a.user_agent, a.detail FROM audit_log a "
      "WHERE a.subject_id = " N " ORDER BY a.created_at DESC, a.id DESC LIMIT " N
      " OFFSET " N },
    { "siali_audit_count", "SELECT count(*) FROM audit_log a" AUDIT_FILTER },
    { "siali_audit_page",
      "SELECT a.id, a.created_at, a.event, a.actor_id, a.actor_email, a.subject_id, "
      "a.subject_email, a.address, a.user_agent, a.detail FROM audit_log a" AUDIT_FILTER
      " ORDER BY a.created_at DESC, a.id DESC LIMIT " N " OFFSET " N },
    { "siali_org_transfer", "UPDATE organization SET owner_id = " N " WHERE id = " N },
    { "siali_org_set_default_role",
      "UPDATE organization SET default_role = %s WHERE id = " N },
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
    /* with whether the user's organization still takes legacy tokens */
    { "siali_token_user",
      "SELECT t.token, " USER_COLS ", o.legacy_tokens_enabled FROM api_tokens t "
      "JOIN users u ON u.id = t.user_id LEFT JOIN organization o ON o.id = u.org_member "
      "WHERE t.token_hash = %s" },
    { "siali_token_replace",
      "UPDATE api_tokens SET token = %s, token_hash = %s, created_at = " N " "
      "WHERE user_id = " N },

    /* personal access tokens: a row per token by its jti, never the token;
     * the key that signs them is read with the row, so that a new key (siali
     * jwt rotate-secret) is in force on every node at once */
    { "siali_jwt_key", "SELECT value FROM siali_keys WHERE name = 'jwt'" },
    { "siali_jwt_key_set",
      "UPDATE siali_keys SET value = %s, created_at = " N " WHERE name = 'jwt'" },
    { "siali_pat_insert",
      "INSERT INTO api_pats (jti, user_id, created_at, expires_at) "
      "VALUES (%s, " N ", " N ", " N ")" },
    { "siali_pat_live",
      "SELECT jti, created_at, expires_at FROM api_pats WHERE user_id = " N
      " AND revoked_at IS NULL AND expires_at > " N " ORDER BY id DESC" },
    { "siali_pat_user",
      "SELECT k.value, t.user_id, t.expires_at, t.revoked_at, o.api_tokens_enabled, "
      USER_COLS " FROM api_pats t JOIN users u ON u.id = t.user_id "
      "LEFT JOIN organization o ON o.id = u.org_member CROSS JOIN siali_keys k "
      "WHERE t.jti = %s AND k.name = 'jwt'" },
    { "siali_pat_revoke",
      "UPDATE api_pats SET revoked_at = " N " WHERE jti = %s AND revoked_at IS NULL" },
    { "siali_pat_revoke_user",
      "UPDATE api_pats SET revoked_at = " N " WHERE user_id = " N " AND revoked_at IS NULL" },
    { "siali_pat_revoke_all",
      "UPDATE api_pats SET revoked_at = " N " WHERE revoked_at IS NULL" },
    { "siali_pat_lock_user", "UPDATE users SET id = id WHERE id = " N },
    { "siali_org_tokens",
      "SELECT api_tokens_enabled, legacy_tokens_enabled, api_token_ttl_days, "
      "session_max_age, session_idle FROM organization WHERE id = " N },
    { "siali_org_set_tokens",
      "UPDATE organization SET api_tokens_enabled = " N ", legacy_tokens_enabled = " N
      ", api_token_ttl_days = " N " WHERE id = " N },
    { "siali_org_set_policy",
      "UPDATE organization SET session_max_age = " N ", session_idle = " N
      " WHERE id = " N },
    { "siali_org_policy_longest",
      "SELECT max(session_max_age), max(session_idle) FROM organization" },

    /* sessions: only the SHA-256 of the cookie value is stored */
    { "siali_session_insert",
      "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, expires_at) "
      "VALUES (%s, " N ", " N ", " N ", " N ")" },
    /* with the session policy of the user's organization (NULL: the
     * directives), read with the session so that a change applies at once */
    { "siali_session_user",
      "SELECT s.created_at, s.last_seen, s.expires_at, " USER_COLS
      ", o.session_max_age, o.session_idle FROM sessions s JOIN users u "
      "ON u.id = s.user_id LEFT JOIN organization o ON o.id = u.org_member "
      "WHERE s.id_hash = %s" },
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

    /* two-factor login (sl_twofactor.c) */
    { "siali_2fa_get",
      "SELECT secret, confirmed, last_step FROM user_totp WHERE user_id = " N },
    /* a new secret replaces one that waits for its first code, never a
     * confirmed one */
    { "siali_2fa_put",
      "INSERT INTO user_totp (user_id, secret, confirmed, last_step, created_at) "
      "VALUES (" N ", %s, 0, 0, " N ") ON CONFLICT (user_id) DO UPDATE SET "
      "secret = excluded.secret, last_step = 0, created_at = excluded.created_at "
      "WHERE user_totp.confirmed = 0" },
    { "siali_2fa_confirm",
      "UPDATE user_totp SET confirmed = 1, last_step = " N
      " WHERE user_id = " N " AND secret = %s AND confirmed = 0" },
    /* a step is accepted once: of two requests with one code, one wins */
    { "siali_2fa_step",
      "UPDATE user_totp SET last_step = " N " WHERE user_id = " N
      " AND confirmed = 1 AND secret = %s AND last_step < " N },
    { "siali_2fa_delete", "DELETE FROM user_totp WHERE user_id = " N },
    { "siali_2fa_delete_if",
      "DELETE FROM user_totp WHERE user_id = " N " AND secret = %s AND confirmed = 1" },
    { "siali_recovery_insert",
      "INSERT INTO totp_recovery (user_id, code_hash, used_at) VALUES (" N ", %s, NULL)" },
    { "siali_recovery_use",
      "UPDATE totp_recovery SET used_at = " N " WHERE user_id = " N
      " AND code_hash = %s AND used_at IS NULL" },
    { "siali_recovery_left",
      "SELECT count(*) FROM totp_recovery WHERE user_id = " N " AND used_at IS NULL" },
    { "siali_recovery_delete", "DELETE FROM totp_recovery WHERE user_id = " N },
    { "siali_pending_insert",
      "INSERT INTO login_pending (id_hash, user_id, password, enrol, persist, created_at, "
      "expires_at, subject) VALUES (%s, " N ", %s, " N ", " N ", " N ", " N ", %s)" },
    { "siali_pending_get",
      "SELECT user_id, password, enrol, persist, expires_at, subject FROM login_pending "
      "WHERE id_hash = %s" },
    { "siali_pending_delete", "DELETE FROM login_pending WHERE id_hash = %s" },
    { "siali_pending_delete_user", "DELETE FROM login_pending WHERE user_id = " N },
    { "siali_pending_purge", "DELETE FROM login_pending WHERE expires_at < " N },

    /* reset links (sl_resetlink.c): one per member, the newest */
    { "siali_reset_put",
      "INSERT INTO reset_links (user_id, token_hash, created_at, expires_at, created_by) "
      "VALUES (" N ", %s, " N ", " N ", " N ") ON CONFLICT (user_id) DO UPDATE SET "
      "token_hash = excluded.token_hash, created_at = excluded.created_at, "
      "expires_at = excluded.expires_at, created_by = excluded.created_by" },
    { "siali_reset_get",
      "SELECT user_id, expires_at, COALESCE(created_by, 0) FROM reset_links "
      "WHERE token_hash = %s" },
    { "siali_reset_take", "DELETE FROM reset_links WHERE token_hash = %s" },
    { "siali_reset_delete_user", "DELETE FROM reset_links WHERE user_id = " N },

    { NULL, NULL }
};

const char *sl_sql_text(const sl_sql_stmt_t *st, const char *driver)
{
    return st->sqlite && driver && !strcmp(driver, "sqlite3") ? st->sqlite : st->sql;
}
