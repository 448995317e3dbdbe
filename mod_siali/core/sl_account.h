/* Accounts: creation (signup, bootstrap, CLI), lookup, the User object of
 * API.md, passwords and API tokens. */
#ifndef SL_ACCOUNT_H
#define SL_ACCOUNT_H

#include <jansson.h>

#include "sl_db.h"

#define SL_TOKEN_BYTES 20       /* 40 hex characters */
#define SL_TOKEN_MIN 5          /* a token given at bootstrap */
#define SL_TOKEN_MAX 256

typedef struct {
    const char *id;
    const char *email;
    const char *username;
    const char *password;       /* PHC string */
    const char *first_name;
    const char *last_name;
    const char *phone;
    const char *avatar;
    int is_active;
    const char *date_joined;    /* epoch seconds as text */
    const char *last_activity;  /* NULL until first login */
    const char *org_id;
} sl_user_t;

typedef struct {
    const char *email;          /* normalised */
    const char *username;       /* NULL: from the email, suffixed when taken */
    const char *password_hash;  /* PHC string, hashed by the caller (no
                                 * database connection held while hashing) */
    const char *token;          /* NULL: generated */
} sl_new_user_t;

/* Reads a user row in SL_UC_* order starting at column `first`. */
sl_user_t *sl_account_from_row(const char **cols, int first, apr_pool_t *p);

sl_kind_e sl_account_by_id(sl_db_t *db, sl_user_t **out, const char *id,
                           sl_err_t *err, apr_pool_t *p);

/* login is an email (has '@', compared lower-cased) or a username
 * (case-insensitive). SL_ENOTFOUND when nobody has it. */
sl_kind_e sl_account_by_login(sl_db_t *db, sl_user_t **out, const char *login,
                              sl_err_t *err, apr_pool_t *p);

/* Creates the account, its membership and its API token in one
 * transaction; the first account becomes the organization's owner.
 * SL_ECONFLICT (field email/username/token) when taken. */
sl_kind_e sl_account_create(sl_db_t *db, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p);

/* The account named at start-up (SialiUsername, LABEL_STUDIO_USERNAME,
 * siali --username): with '@' it is the email (username from its local
 * part), without it the username, and the email is U@localhost. */
sl_kind_e sl_account_named(sl_new_user_t *nu, const char *login, sl_err_t *err,
                           apr_pool_t *p);

/* Validates a token given at bootstrap (>= 5 characters, printable ASCII). */
sl_kind_e sl_account_check_token(const char *token, sl_err_t *err);

/* Stores a new hash and ends every session of the user. */
sl_kind_e sl_account_set_password(sl_db_t *db, const char *user_id,
                                  const char *phc, int end_sessions,
                                  sl_err_t *err, apr_pool_t *p);

/* Only the hash, sessions untouched: the upgrade on login. */
sl_kind_e sl_account_upgrade_hash(sl_db_t *db, const char *user_id,
                                  const char *phc, sl_err_t *err, apr_pool_t *p);

sl_kind_e sl_account_token(sl_db_t *db, const char **token, const char *user_id,
                           sl_err_t *err, apr_pool_t *p);

/* last_activity = now, at most once a minute per user. */
sl_kind_e sl_account_touch(sl_db_t *db, sl_user_t *u, sl_err_t *err, apr_pool_t *p);

/* What PATCH /api/users/{id} may change: NULL / -1 = unchanged. */
typedef struct {
    const char *first_name;
    const char *last_name;
    const char *phone;
    const char *username;
    int is_active;
} sl_user_patch_t;

/* Validates and applies a patch in one transaction. Nobody deactivates the
 * organization's owner or themselves (SL_EFORBIDDEN); deactivation ends
 * the user's sessions at once. */
sl_kind_e sl_account_patch(sl_db_t *db, sl_user_t **out, const char *target_id,
                           const char *actor_id, const sl_user_patch_t *patch,
                           sl_err_t *err, apr_pool_t *p);

/* Removes the account, its sessions, token and membership; its projects
 * and annotations stay. Nobody deletes the owner or themselves. */
sl_kind_e sl_account_delete(sl_db_t *db, const char *target_id, const char *actor_id,
                            sl_err_t *err, apr_pool_t *p);

/* Every account, ordered by id: a JSON array of User objects. */
sl_kind_e sl_account_list(sl_db_t *db, json_t **out, sl_err_t *err, apr_pool_t *p);

/* The User object of API.md (pool-tied); the avatar's URL is avatar_base
 * (the mount prefix + /data/avatars/) and the stored file name. */
json_t *sl_account_json(const sl_user_t *u, const char *avatar_base, apr_pool_t *p);

#endif
