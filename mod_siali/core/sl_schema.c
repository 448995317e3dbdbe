#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <sqlite3.h>

#include "sl_schema.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_secret.h"
#include "sl_account.h"
#include "sl_validate.h"

/* @ID@ is the one type that differs between the two databases */
static const char *const v1[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (0)",
    "CREATE TABLE organization (id @ID@, title TEXT NOT NULL, "
    "invite_token TEXT NOT NULL, owner_id BIGINT, created_at BIGINT NOT NULL)",
    "CREATE TABLE users (id @ID@, email TEXT NOT NULL, username TEXT NOT NULL, "
    "password TEXT NOT NULL, first_name TEXT NOT NULL DEFAULT '', "
    "last_name TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', "
    "avatar TEXT, is_active INTEGER NOT NULL DEFAULT 1, "
    "date_joined BIGINT NOT NULL, last_activity BIGINT)",
    "CREATE UNIQUE INDEX users_email_uq ON users (email)",
    "CREATE UNIQUE INDEX users_username_uq ON users (lower(username))",
    "CREATE TABLE memberships (id @ID@, "
    "user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE, "
    "organization_id BIGINT NOT NULL REFERENCES organization (id), "
    "created_at BIGINT NOT NULL, deleted_at BIGINT, "
    "UNIQUE (user_id, organization_id))",
    "CREATE TABLE api_tokens ("
    "user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE, "
    "token TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, "
    "created_at BIGINT NOT NULL)",
    "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, "
    "user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE, "
    "created_at BIGINT NOT NULL, last_seen BIGINT NOT NULL, "
    "expires_at BIGINT NOT NULL)",
    NULL
};

static const char *const v2[] = {
    "CREATE INDEX sessions_user_idx ON sessions (user_id)",
    "CREATE INDEX sessions_expiry_idx ON sessions (expires_at)",
    /* failed logins per account and per client address, shared by all
     * children and nodes */
    "CREATE TABLE login_failures (kind TEXT NOT NULL, subject TEXT NOT NULL, "
    "window_start BIGINT NOT NULL, failures INTEGER NOT NULL, "
    "PRIMARY KEY (kind, subject))",
    NULL
};

/* People: projects, tasks and annotations (only what "created" and
 * "contributed to" need), and an index for every ordering of the members
 * list. No foreign keys that would block deleting a user: a deleted user's
 * projects and annotations stay, shown as a deleted user. */
static const char *const v3[] = {
    "CREATE TABLE projects (id @ID@, title TEXT NOT NULL, "
    "description TEXT NOT NULL DEFAULT '', created_by BIGINT, "
    "created_at BIGINT NOT NULL)",
    "CREATE INDEX projects_created_by_idx ON projects (created_by, id)",
    "CREATE TABLE tasks (id @ID@, project_id BIGINT NOT NULL, data TEXT NOT NULL, "
    "created_at BIGINT NOT NULL)",
    "CREATE INDEX tasks_project_idx ON tasks (project_id)",
    "CREATE TABLE annotations (id @ID@, task_id BIGINT NOT NULL, "
    "project_id BIGINT NOT NULL, completed_by BIGINT, result TEXT NOT NULL, "
    "created_at BIGINT NOT NULL)",
    "CREATE INDEX annotations_user_project_idx ON annotations (completed_by, project_id)",
    "CREATE INDEX annotations_task_idx ON annotations (task_id)",
    "CREATE INDEX users_activity_idx ON users (COALESCE(last_activity, 0), id)",
    "CREATE INDEX users_joined_idx ON users (date_joined, id)",
    /* members counted without scanning them: kept by the core in the same
     * transactions that add, remove, activate or deactivate members */
    "ALTER TABLE organization ADD COLUMN members_count BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE organization ADD COLUMN active_count BIGINT NOT NULL DEFAULT 0",
    "UPDATE organization SET members_count = (SELECT count(*) FROM memberships m "
    "WHERE m.organization_id = organization.id AND m.deleted_at IS NULL), "
    "active_count = (SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.organization_id = organization.id AND m.deleted_at IS NULL AND u.is_active = 1)",
    /* substring search over "email username first last" through a trigram
     * index: FTS5 on SQLite, pg_trgm on PostgreSQL; the statements that use
     * it are the same text on both (rowid is the user id) */
    "@SQLITE@CREATE VIRTUAL TABLE user_search USING fts5(doc, tokenize = 'trigram')",
    "@PGSQL@CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "@PGSQL@CREATE TABLE user_search (rowid BIGINT PRIMARY KEY, doc TEXT NOT NULL)",
    "@PGSQL@CREATE INDEX user_search_trgm_idx ON user_search USING gin (doc gin_trgm_ops)",
    "INSERT INTO user_search (rowid, doc) SELECT id, lower(email || ' ' || username || ' ' "
    "|| first_name || ' ' || last_name) FROM users",
    NULL
};

/* Avatars in the database: every node serves the same pictures, and a
 * picture removed or replaced on one is gone from all at once (they were
 * files of one node's disk). The bytes as base64 text: one column type and
 * one code path on SQLite and PostgreSQL (apr_dbd returns a bytea escaped,
 * a BLOB raw). Then emails and search documents are folded again in C
 * (sl_validate_email, sl_account_search_doc): v3 folded ASCII only, with
 * each database's own lower(). */
static const char *const v4[] = {
    "CREATE TABLE avatars (name TEXT PRIMARY KEY, user_id BIGINT NOT NULL, "
    "content_type TEXT NOT NULL, sha256 TEXT NOT NULL, data TEXT NOT NULL, "
    "created_at BIGINT NOT NULL)",
    "CREATE INDEX avatars_user_idx ON avatars (user_id)",
    NULL
};

/* v5. People at scale, then (PostgreSQL only) every change that can alter
 * who a token or a session cookie is, or what whoami says of them,
 * announced on the channel siali_auth at commit: the nodes' caches of
 * callers (sl_authcache.h) are flushed by it. In the database, so that
 * changes from psql or the CLI are announced too. Not announced:
 * last_activity and last_seen (written once a minute, carried by the
 * cache itself) and new rows (never cached before they exist). A column
 * added to users must be added to the WHEN list. SQLite has no cache (a
 * query there costs microseconds). */
static const char *const v5[] = {
    /* People at scale: a page is found by walking one index that holds all
     * the members list filters and sorts on (the organization, kept on the
     * user's row; the ordering; the id; is_active), so the rows before a
     * deep page are skipped inside the index. PostgreSQL: NULLS FIRST as
     * the ordering says, and the username itself for index-only scans of
     * lower(username). */
    "ALTER TABLE users ADD COLUMN org_member BIGINT",
    "UPDATE users SET org_member = (SELECT m.organization_id FROM memberships m "
    "WHERE m.user_id = users.id AND m.deleted_at IS NULL ORDER BY m.id LIMIT 1)",
    "DROP INDEX users_activity_idx",
    "DROP INDEX users_joined_idx",
    "CREATE INDEX users_org_joined_idx ON users (org_member, date_joined, id, is_active)",
    "CREATE INDEX users_org_email_idx ON users (org_member, email, id, is_active)",
    "@SQLITE@CREATE INDEX users_org_activity_idx ON users "
    "(org_member, last_activity, id, is_active)",
    "@PGSQL@CREATE INDEX users_org_activity_idx ON users "
    "(org_member, last_activity NULLS FIRST, id, is_active)",
    "@SQLITE@CREATE INDEX users_org_username_idx ON users "
    "(org_member, lower(username), id, is_active)",
    "@PGSQL@CREATE INDEX users_org_username_idx ON users "
    "(org_member, lower(username), id, is_active) INCLUDE (username)",
    /* PostgreSQL: a search's matches filtered without reading their rows
     * (SQLite finds the two columns in the row it reaches by rowid) */
    "@PGSQL@CREATE INDEX users_filter_idx ON users (id) INCLUDE (org_member, is_active)",
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_auth_changed() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('siali_auth', ''); RETURN NULL; END $$",
    "@PGSQL@CREATE TRIGGER siali_users_changed AFTER UPDATE ON users FOR EACH ROW "
    "WHEN ((OLD.id, OLD.email, OLD.username, OLD.password, OLD.first_name, OLD.last_name, "
    "OLD.phone, OLD.avatar, OLD.is_active, OLD.date_joined, OLD.org_member) "
    "IS DISTINCT FROM (NEW.id, NEW.email, NEW.username, NEW.password, NEW.first_name, "
    "NEW.last_name, NEW.phone, NEW.avatar, NEW.is_active, NEW.date_joined, "
    "NEW.org_member)) "
    "EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_users_gone AFTER DELETE OR TRUNCATE ON users "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE "
    "ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_sessions_gone AFTER DELETE OR TRUNCATE ON sessions "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_sessions_changed AFTER UPDATE OF id_hash, user_id, "
    "created_at, expires_at ON sessions FOR EACH STATEMENT "
    "EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_memberships_changed AFTER INSERT OR UPDATE OR DELETE "
    "OR TRUNCATE ON memberships FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    NULL
};

/* v6. SQLite: a search's matches filtered from an index of the three
 * columns the filter needs (PostgreSQL has had one since v5, INCLUDE) */
static const char *const v6[] = {
    "@SQLITE@CREATE INDEX users_filter_idx ON users (id, org_member, is_active)",
    NULL
};

/* v7. Personal access tokens (signed JWTs; a row per token by its jti, so
 * that one can be listed and revoked without storing it), the key that
 * signs them (one per installation, shared by every node; made by
 * create_jwt_key), and per organization the token settings and the
 * session policy (NULL: the directives). PostgreSQL announces a revoked
 * token or a changed setting to the nodes' caches of callers. */
static const char *const v7[] = {
    "CREATE TABLE api_pats (id @ID@, jti TEXT NOT NULL UNIQUE, user_id BIGINT NOT NULL, "
    "created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT)",
    "CREATE INDEX api_pats_user_idx ON api_pats (user_id, id)",
    "CREATE TABLE siali_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL, "
    "created_at BIGINT NOT NULL)",
    "ALTER TABLE organization ADD COLUMN api_tokens_enabled INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE organization ADD COLUMN legacy_tokens_enabled INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE organization ADD COLUMN api_token_ttl_days INTEGER NOT NULL DEFAULT 73000",
    "ALTER TABLE organization ADD COLUMN session_max_age BIGINT",
    "ALTER TABLE organization ADD COLUMN session_idle BIGINT",
    "@PGSQL@CREATE TRIGGER siali_pats_changed AFTER UPDATE OR DELETE OR TRUNCATE "
    "ON api_pats FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_org_policy_changed AFTER UPDATE OF api_tokens_enabled, "
    "legacy_tokens_enabled, session_max_age, session_idle ON organization "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    "@PGSQL@CREATE TRIGGER siali_keys_changed AFTER UPDATE OR DELETE ON siali_keys "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_auth_changed()",
    NULL
};

/* v8. People at 100,000 accounts.
 *  - organization.people_version moves, in the writing transaction, with
 *    every change to who is in a members list or where in its orderings by
 *    name, email or date joined (not last_activity: written once a minute):
 *    a node's marks of deep pages (sl_pagemark.h) hold while it has not
 *    moved. Triggers, so that the CLI, psql and every node move it.
 *  - PostgreSQL: each search document carries its member's organization
 *    and is_active, kept by triggers, so that counting the matches of a
 *    common word filters them in the rows the trigram index leads to,
 *    instead of looking up each one's user. */
static const char *const v8[] = {
    "ALTER TABLE organization ADD COLUMN people_version BIGINT NOT NULL DEFAULT 0",
    "@SQLITE@CREATE TRIGGER siali_people_added AFTER INSERT ON users "
    "BEGIN UPDATE organization SET people_version = people_version + 1; END",
    "@SQLITE@CREATE TRIGGER siali_people_gone AFTER DELETE ON users "
    "BEGIN UPDATE organization SET people_version = people_version + 1; END",
    "@SQLITE@CREATE TRIGGER siali_people_moved AFTER UPDATE OF username, email, is_active, "
    "org_member, date_joined ON users WHEN OLD.username IS NOT NEW.username "
    "OR OLD.email IS NOT NEW.email OR OLD.is_active IS NOT NEW.is_active "
    "OR OLD.org_member IS NOT NEW.org_member OR OLD.date_joined IS NOT NEW.date_joined "
    "BEGIN UPDATE organization SET people_version = people_version + 1; END",
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_people_changed() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN UPDATE organization SET people_version = "
    "people_version + 1; RETURN NULL; END $$",
    "@PGSQL@CREATE TRIGGER siali_people_added AFTER INSERT OR DELETE OR TRUNCATE ON users "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_people_changed()",
    "@PGSQL@CREATE TRIGGER siali_people_moved AFTER UPDATE ON users FOR EACH ROW "
    "WHEN ((OLD.username, OLD.email, OLD.is_active, OLD.org_member, OLD.date_joined) "
    "IS DISTINCT FROM (NEW.username, NEW.email, NEW.is_active, NEW.org_member, "
    "NEW.date_joined)) EXECUTE FUNCTION siali_people_changed()",
    "@PGSQL@ALTER TABLE user_search ADD COLUMN org_member BIGINT",
    "@PGSQL@ALTER TABLE user_search ADD COLUMN is_active INTEGER",
    "@PGSQL@UPDATE user_search SET org_member = u.org_member, is_active = u.is_active "
    "FROM users u WHERE u.id = user_search.rowid",
    /* a document written before or after its user's row: both ways */
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_search_filter_in() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN SELECT u.org_member, u.is_active "
    "INTO NEW.org_member, NEW.is_active FROM users u WHERE u.id = NEW.rowid; "
    "RETURN NEW; END $$",
    "@PGSQL@CREATE TRIGGER siali_search_filter_in BEFORE INSERT OR UPDATE OF rowid "
    "ON user_search FOR EACH ROW EXECUTE FUNCTION siali_search_filter_in()",
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_search_filter_out() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN UPDATE user_search SET org_member = NEW.org_member, "
    "is_active = NEW.is_active WHERE rowid = NEW.id; RETURN NULL; END $$",
    "@PGSQL@CREATE TRIGGER siali_search_filter_added AFTER INSERT ON users FOR EACH ROW "
    "EXECUTE FUNCTION siali_search_filter_out()",
    "@PGSQL@CREATE TRIGGER siali_search_filter_moved AFTER UPDATE ON users FOR EACH ROW "
    "WHEN ((OLD.org_member, OLD.is_active) IS DISTINCT FROM (NEW.org_member, NEW.is_active)) "
    "EXECUTE FUNCTION siali_search_filter_out()",
    NULL
};

/* v9. Roles (sl_role.h): a member's role on the user's row beside its
 * organization, so that who a caller is and what they may do come in one
 * row; everyone AD, the owner OW (nobody loses anything when roles are
 * switched on); where the role came from (manual, or sso: SialiRoleFromGroup
 * may change only those); the role new members get. PostgreSQL: a changed
 * role is announced to the nodes' caches of callers like the other user
 * columns (the trigger's list of columns, made again). */
static const char *const v9[] = {
    "ALTER TABLE users ADD COLUMN org_role TEXT NOT NULL DEFAULT 'AD'",
    "ALTER TABLE users ADD COLUMN role_source TEXT NOT NULL DEFAULT 'manual'",
    "UPDATE users SET org_role = 'OW' WHERE id IN (SELECT owner_id FROM organization)",
    "ALTER TABLE organization ADD COLUMN default_role TEXT NOT NULL DEFAULT 'AN'",
    /* who worked in a project, for the members a reviewer or annotator sees */
    "CREATE INDEX annotations_project_user_idx ON annotations (project_id, completed_by)",
    /* people_version (v8) made a random value rather than a count: a
     * database restored from a backup and written to again could reach a
     * number it had before with other members, and a node's marks of that
     * number would apply again. And a changed id moves it too. */
    "@SQLITE@DROP TRIGGER siali_people_added",
    "@SQLITE@DROP TRIGGER siali_people_gone",
    "@SQLITE@DROP TRIGGER siali_people_moved",
    "@SQLITE@CREATE TRIGGER siali_people_added AFTER INSERT ON users "
    "BEGIN UPDATE organization SET people_version = random(); END",
    "@SQLITE@CREATE TRIGGER siali_people_gone AFTER DELETE ON users "
    "BEGIN UPDATE organization SET people_version = random(); END",
    "@SQLITE@CREATE TRIGGER siali_people_moved AFTER UPDATE OF id, username, email, "
    "is_active, org_member, date_joined ON users WHEN OLD.id IS NOT NEW.id "
    "OR OLD.username IS NOT NEW.username "
    "OR OLD.email IS NOT NEW.email OR OLD.is_active IS NOT NEW.is_active "
    "OR OLD.org_member IS NOT NEW.org_member OR OLD.date_joined IS NOT NEW.date_joined "
    "BEGIN UPDATE organization SET people_version = random(); END",
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_people_changed() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN UPDATE organization SET people_version = "
    "floor(random() * 9e18)::bigint; RETURN NULL; END $$",
    "@PGSQL@DROP TRIGGER siali_people_moved ON users",
    "@PGSQL@CREATE TRIGGER siali_people_moved AFTER UPDATE ON users FOR EACH ROW "
    "WHEN ((OLD.id, OLD.username, OLD.email, OLD.is_active, OLD.org_member, OLD.date_joined) "
    "IS DISTINCT FROM (NEW.id, NEW.username, NEW.email, NEW.is_active, NEW.org_member, "
    "NEW.date_joined)) EXECUTE FUNCTION siali_people_changed()",
    /* PostgreSQL: a user deleted outside the core (psql) takes its search
     * document along, which the count of a search reads alone since v8 */
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_search_gone() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN DELETE FROM user_search WHERE rowid = OLD.id; "
    "RETURN NULL; END $$",
    "@PGSQL@CREATE TRIGGER siali_search_gone AFTER DELETE ON users FOR EACH ROW "
    "EXECUTE FUNCTION siali_search_gone()",
    "@PGSQL@CREATE OR REPLACE FUNCTION siali_search_truncated() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN DELETE FROM user_search; RETURN NULL; END $$",
    "@PGSQL@CREATE TRIGGER siali_search_truncated AFTER TRUNCATE ON users "
    "FOR EACH STATEMENT EXECUTE FUNCTION siali_search_truncated()",
    "@PGSQL@DROP TRIGGER siali_users_changed ON users",
    "@PGSQL@CREATE TRIGGER siali_users_changed AFTER UPDATE ON users FOR EACH ROW "
    "WHEN ((OLD.id, OLD.email, OLD.username, OLD.password, OLD.first_name, OLD.last_name, "
    "OLD.phone, OLD.avatar, OLD.is_active, OLD.date_joined, OLD.org_member, OLD.org_role) "
    "IS DISTINCT FROM (NEW.id, NEW.email, NEW.username, NEW.password, NEW.first_name, "
    "NEW.last_name, NEW.phone, NEW.avatar, NEW.is_active, NEW.date_joined, "
    "NEW.org_member, NEW.org_role)) "
    "EXECUTE FUNCTION siali_auth_changed()",
    NULL
};

/* v10. Where a role came from (sl_sso.h) gains "default": nobody chose
 * it, so the groups of a single sign-on may change it. Before v10 every row
 * said "manual", also where nobody had chosen the role. What nobody chose is
 * AD (switching roles on, and every member while they were off), the
 * owner's OW, or the organization's default role (new members): those rows
 * become "default". Any other role was set by hand and stays "manual"; an
 * AD or default role set by hand under v9 cannot be told apart, and becomes
 * "default" (docs/roles.md). */
static const char *const v10[] = {
    "UPDATE users SET role_source = 'default' WHERE role_source = 'manual' AND "
    "(org_role IN ('AD', 'OW') OR org_role = (SELECT o.default_role FROM organization o "
    "WHERE o.id = users.org_member))",
    NULL
};

/* v11. The audit log (sl_audit.h): no foreign keys, so that deleting a
 * user keeps what happened to them (their email is copied in). Indexes for
 * the newest first and the retention's purge (created_at), a member's own
 * events (subject_id), and an actor's on PostgreSQL (SQLite does not use
 * it under the list's optional filters). */
static const char *const v11[] = {
    "CREATE TABLE audit_log (id @ID@, created_at BIGINT NOT NULL, event TEXT NOT NULL, "
    "actor_id BIGINT, actor_email TEXT, subject_id BIGINT, subject_email TEXT, "
    "address TEXT NOT NULL DEFAULT '', user_agent TEXT NOT NULL DEFAULT '', "
    "detail TEXT NOT NULL DEFAULT '{}')",
    "CREATE INDEX audit_log_time_idx ON audit_log (created_at, id)",
    "CREATE INDEX audit_log_subject_idx ON audit_log (subject_id, created_at)",
    "CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at)",
    NULL
};

/* v12. Two-factor login (sl_twofactor.h): a member's TOTP secret (kept as
 * base32: it must be read back to check a code, like every TOTP server;
 * confirmed 0 while enrolment waits for its first code) and the last step
 * a code was accepted for (a replay is refused); the recovery codes as
 * SHA-256; the half-logged-in state between password and code, by the
 * SHA-256 of its cookie. Reset links (sl_resetlink.h): one per member, by
 * the SHA-256 of its token, so that a newer link retires the older. */
static const char *const v12[] = {
    "CREATE TABLE user_totp (user_id BIGINT PRIMARY KEY REFERENCES users (id) "
    "ON DELETE CASCADE, secret TEXT NOT NULL, confirmed INTEGER NOT NULL, "
    "last_step BIGINT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE totp_recovery (user_id BIGINT NOT NULL REFERENCES users (id) "
    "ON DELETE CASCADE, code_hash TEXT NOT NULL, used_at BIGINT, "
    "PRIMARY KEY (user_id, code_hash))",
    "CREATE TABLE login_pending (id_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL "
    "REFERENCES users (id) ON DELETE CASCADE, password TEXT NOT NULL, "
    "enrol INTEGER NOT NULL, persist INTEGER NOT NULL, created_at BIGINT NOT NULL, "
    "expires_at BIGINT NOT NULL, subject TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX login_pending_expiry_idx ON login_pending (expires_at)",
    "CREATE INDEX login_pending_user_idx ON login_pending (user_id)",
    "CREATE TABLE reset_links (user_id BIGINT PRIMARY KEY REFERENCES users (id) "
    "ON DELETE CASCADE, token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, "
    "expires_at BIGINT NOT NULL, created_by BIGINT)",
    NULL
};

static const char *const *const migrations[] = { NULL, v1, v2, v3, v4, v5, v6, v7, v8, v9,
                                                 v10, v11, v12 };

/* v4: every email and search document folded by the core's rule. Two
 * accounts whose emails differ only in case stay apart (the second keeps
 * its spelling, said in the log) rather than making the migration fail. */
static sl_kind_e refold(sl_db_t *db, sl_err_t *err, apr_pool_t *p)
{
    sl_rows_t res, taken;
    sl_kind_e k;
    int i, changed = 0;

    /* statements of this version's tables only: the catalogue's are those
     * of the newest schema, which a migration from before v4 has not yet */
    if ((k = sl_db_prepare_extra(db, "refold_list", "SELECT id, email, username, password, "
                                 "first_name, last_name, phone, avatar, is_active, "
                                 "date_joined, last_activity, NULL, NULL FROM users ORDER BY id",
                                 err)) != SL_OK
        || (k = sl_db_prepare_extra(db, "refold_taken", "SELECT 1 FROM users WHERE email = "
                                    "%s AND id <> %lld", err)) != SL_OK
        || (k = sl_db_prepare_extra(db, "refold_set", "UPDATE users SET email = %s "
                                    "WHERE id = %lld", err)) != SL_OK
        || (k = sl_db_prepare_extra(db, "refold_doc", "UPDATE user_search SET doc = %s "
                                    "WHERE rowid = %lld", err)) != SL_OK
        || (k = sl_db_select(db, p, "refold_list", &res, 0, NULL, err)) != SL_OK) {
        return k;
    }
    for (i = 0; i < res.rows->nelts; i++) {
        sl_user_t *u = sl_account_from_row(SL_ROW(&res, i), 0, p);
        const char *email = u->email, *args[2];

        if (sl_validate_email(&email, u->email, strlen(u->email), NULL, p) == SL_OK
            && strcmp(email, u->email)) {
            args[0] = email;
            args[1] = u->id;
            if ((k = sl_db_select(db, p, "refold_taken", &taken, 2, args,
                                  err)) != SL_OK) {
                return k;
            }
            if (taken.rows->nelts) {
                SL_LOG(SL_LOG_WARNING, "SL00202: the email of account %s differs from "
                       "another account's only in case: it keeps its spelling; merge or "
                       "rename one of them", u->id);
                email = u->email;
            }
            else if ((k = sl_db_exec(db, p, "refold_set", NULL, 2, args, err))
                     != SL_OK) {
                return k;
            }
            else {
                changed++;
            }
        }
        args[0] = sl_account_search_doc(email, u->username, u->first_name, u->last_name, p);
        args[1] = u->id;
        if ((k = sl_db_exec(db, p, "refold_doc", NULL, 2, args, err)) != SL_OK) {
            return k;
        }
    }
    if (changed) {
        SL_LOG(SL_LOG_NOTICE, "SL00203: %d email(s) folded to their lower case", changed);
    }
    return SL_OK;
}

/* The statement for this driver: "@SQLITE@..." and "@PGSQL@..." run on
 * that one only (NULL elsewhere); @ID@ becomes its identity column. */
static const char *ddl(sl_db_t *db, const char *sql, apr_pool_t *p)
{
    const char *id = db->is_pgsql ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                                  : "INTEGER PRIMARY KEY AUTOINCREMENT";
    const char *at;

    if (!strncmp(sql, "@SQLITE@", 8)) {
        if (db->is_pgsql) {
            return NULL;
        }
        sql += 8;
    }
    else if (!strncmp(sql, "@PGSQL@", 7)) {
        if (!db->is_pgsql) {
            return NULL;
        }
        sql += 7;
    }
    at = strstr(sql, "@ID@");
    if (!at) {
        return sql;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, sql, at - sql), id, at + 4, NULL);
}

sl_kind_e sl_schema_version(sl_db_t *db, int *version, sl_err_t *err,
                            apr_pool_t *p)
{
    sl_rows_t res;
    const char *probe = db->is_pgsql
        ? "SELECT count(*) FROM information_schema.tables "
          "WHERE table_schema = current_schema() AND table_name = 'schema_version'"
        : "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
          "AND name = 'schema_version'";
    sl_kind_e k = sl_db_select_raw(db, p, probe, &res, err);

    if (k != SL_OK) {
        return k;
    }
    if (res.rows->nelts == 0 || !SL_ROW(&res, 0)[0] || atoi(SL_ROW(&res, 0)[0]) == 0) {
        *version = 0;
        return SL_OK;
    }
    k = sl_db_select_raw(db, p, "SELECT version FROM schema_version", &res, err);
    if (k != SL_OK) {
        return k;
    }
    *version = res.rows->nelts ? atoi(SL_ROW(&res, 0)[0]) : 0;
    return SL_OK;
}

static sl_kind_e set_wal(sl_db_t *db, sl_err_t *err)
{
    sqlite3 *conn = apr_dbd_native_handle(db->driver, db->handle);
    char *msg = NULL;
    int rc;

    /* journal_mode returns a row, which makes apr_dbd_query fail (and mod_dbd
     * skip the rest of DBDInitSQL): go to SQLite directly, and check it */
    rc = sqlite3_exec(conn, "PRAGMA journal_mode = WAL", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        SL_LOG(SL_LOG_ERR, "SL00201: cannot turn on WAL: %s", msg ? msg : "");
        sqlite3_free(msg);
        return sl_err_set(err, SL_EDB, NULL, "cannot turn on WAL mode");
    }
    return SL_OK;
}

/* The one organization of this edition is born with the schema, so no
 * request ever races to create it. The invite token is random base64url:
 * safe to place in the statement text. */
static sl_kind_e create_organization(sl_db_t *db, sl_err_t *err, apr_pool_t *p)
{
    const char *token;

    if (sl_secret_b64url(&token, SL_INVITE_BYTES, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness for the invite token");
    }
    return sl_db_exec_raw(db, p, apr_psprintf(p, "INSERT INTO organization (title, "
                          "invite_token, created_at) VALUES ('Siali Label', '%s', "
                          "%" APR_INT64_T_FMT ")", token, sl_now()), err);
}

/* v7: the key that signs personal access tokens, 32 random bytes */
static sl_kind_e create_jwt_key(sl_db_t *db, sl_err_t *err, apr_pool_t *p)
{
    const char *key;

    if (sl_secret_hex(&key, 32, p) != APR_SUCCESS) {
        return sl_err_set(err, SL_EINTERNAL, NULL, "no randomness for the token key");
    }
    return sl_db_exec_raw(db, p, apr_psprintf(p, "INSERT INTO siali_keys (name, value, "
                          "created_at) VALUES ('jwt', '%s', %" APR_INT64_T_FMT ")", key,
                          sl_now()), err);
}

/* SQLite: FTS5's index merged into one segment. Each transaction that adds
 * a document leaves a segment, merged only level by level, and a search
 * phrase reads every segment of each of its trigrams: 1,452 index pages in
 * about a dozen segments made a rare word of common trigrams take twice as
 * long as one merged segment (0.3 s to merge 100,000 documents; nothing to
 * do, 3 ms, when it is merged already). At every start and `siali
 * migrate`, under the migration's lock. */
static sl_kind_e merge_search_index(sl_db_t *db, apr_pool_t *p, sl_err_t *err)
{
    sl_rows_t res;
    sl_kind_e k;

    if (db->is_pgsql) {
        return SL_OK;
    }
    if ((k = sl_db_select_raw(db, p, "SELECT 1 FROM sqlite_master WHERE name = "
                              "'user_search'", &res, err)) != SL_OK || !res.rows->nelts) {
        return k;
    }
    return sl_db_exec_raw(db, p, "INSERT INTO user_search (user_search) VALUES ('optimize')",
                          err);
}

sl_kind_e sl_schema_migrate(sl_db_t *db, int target, int *from, sl_err_t *err,
                            apr_pool_t *p)
{
    int version = 0, v, i;
    sl_rows_t lockrow;
    sl_kind_e k;

    if (target <= 0 || target > SL_SCHEMA_VERSION) {
        target = SL_SCHEMA_VERSION;
    }
    if (!db->is_pgsql && (k = set_wal(db, err)) != SL_OK) {
        return k;
    }
    /* BEGIN IMMEDIATE on SQLite; on PostgreSQL an advisory lock held to the
     * end of the transaction: a second node waits, then sees the new version */
    if ((k = sl_db_tx_begin(db, err)) != SL_OK) {
        return k;
    }
    if (db->is_pgsql
        && (k = sl_db_select_raw(db, p, "SELECT pg_advisory_xact_lock(7367616961)", &lockrow,
                                 err)) != SL_OK) {
        goto leave;
    }
    if ((k = sl_schema_version(db, &version, err, p)) != SL_OK) {
        goto leave;
    }
    if (from) {
        *from = version;
    }
    if (version > SL_SCHEMA_VERSION) {
        k = sl_err_set(err, SL_EDB, NULL,
                       apr_psprintf(p, "the database has schema version %d, newer "
                                    "than this mod_siali (%d)", version,
                                    SL_SCHEMA_VERSION));
        goto leave;
    }
    for (v = version + 1; v <= target; v++) {
        for (i = 0; migrations[v][i]; i++) {
            const char *sql = ddl(db, migrations[v][i], p);
            if (sql && (k = sl_db_exec_raw(db, p, sql, err)) != SL_OK) {
                goto leave;
            }
        }
        if (v == 1 && (k = create_organization(db, err, p)) != SL_OK) {
            goto leave;
        }
        if (v == 4 && (k = refold(db, err, p)) != SL_OK) {
            goto leave;
        }
        if (v == 7 && (k = create_jwt_key(db, err, p)) != SL_OK) {
            goto leave;
        }
        k = sl_db_exec_raw(db, p, apr_psprintf(p, "UPDATE schema_version SET version = %d",
                                               v), err);
        if (k != SL_OK) {
            goto leave;
        }
    }
    k = merge_search_index(db, p, err);
leave:
    if (k == SL_OK) {
        return sl_db_tx_end(db, 1, err);
    }
    sl_db_tx_end(db, 0, NULL);
    return k;
}
