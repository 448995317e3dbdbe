/* Accounts: creation (signup, bootstrap, CLI), lookup, the User object of
 * the API, passwords, API tokens, avatars, user management.
 *
 * Functions that take an sl_conn_src_t run their own unit of work;
 * functions that take an sl_db_t run inside the caller's (sl_conn.h). */
#ifndef SL_ACCOUNT_H
#define SL_ACCOUNT_H

#include <jansson.h>

#include "sl_config.h"
#include "sl_conn.h"

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
    const char *role;           /* stored code (sl_role.h), "AD" by default */
} sl_user_t;

typedef struct {
    const char *email;          /* normalised */
    const char *username;       /* NULL: from the email, suffixed when taken */
    const char *password_hash;  /* PHC string, hashed by the caller between
                                 * units of work */
    const char *token;          /* NULL: generated */
    int roles_on;               /* SialiRoles: the organization's default role
                                 * for a new member; off: AD (sl_role.h) */
    const char *role;           /* NULL: as roles_on says; else this code */
    const char *role_source;    /* NULL: "default" (sl_sso.h) */
} sl_new_user_t;

/* What the members search looks in: "email username first last", case
 * folded (sl_text_fold), so that a search folded the same way finds "Zoë"
 * as "zoë" or "ZOË" on both databases. */
const char *sl_account_search_doc(const char *email, const char *username, const char *first,
                                  const char *last, apr_pool_t *p);

/* Reads a user row in SL_UC_* order starting at column `first`. */
sl_user_t *sl_account_from_row(const char **cols, int first, apr_pool_t *p);

/* Inside a unit: one user by id / by login (an email, compared lower-cased,
 * or a username, case-insensitive). SL_ENOTFOUND when nobody has it. */
sl_kind_e sl_account_get(sl_db_t *db, sl_user_t **out, const char *id,
                         sl_err_t *err, apr_pool_t *p);
sl_kind_e sl_account_find(sl_db_t *db, sl_user_t **out, const char *login,
                          sl_err_t *err, apr_pool_t *p);

/* The same as units of their own. */
sl_kind_e sl_account_by_id(sl_conn_src_t *src, sl_user_t **out, const char *id,
                           sl_err_t *err, apr_pool_t *p);
sl_kind_e sl_account_by_login(sl_conn_src_t *src, sl_user_t **out, const char *login,
                              sl_err_t *err, apr_pool_t *p);

/* Inside a write unit: the account, its membership, its search entry and
 * its API token; the first account becomes the organization's owner.
 * SL_ECONFLICT (field email/username/token) when taken. */
sl_kind_e sl_account_insert(sl_db_t *db, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p);

/* sl_account_insert as a unit of its own. */
sl_kind_e sl_account_create(sl_conn_src_t *src, sl_user_t **out, const sl_new_user_t *nu,
                            sl_err_t *err, apr_pool_t *p);

/* The account named at start-up (SialiUsername, LABEL_STUDIO_USERNAME,
 * siali --username): with '@' it is the email (username from its local
 * part), without it the username, and the email is U@localhost. */
sl_kind_e sl_account_named(sl_new_user_t *nu, const char *login, sl_err_t *err,
                           apr_pool_t *p);

/* Validates a token given at bootstrap (>= 5 characters, printable ASCII). */
sl_kind_e sl_account_check_token(const char *token, sl_err_t *err);

/* The start-up account: created when nobody has that login, never changed
 * when it exists (*created says which). Nodes starting at the same moment
 * create it once: the one that loses the race finds it. */
sl_kind_e sl_account_bootstrap(sl_conn_src_t *src, sl_user_t **out, int *created,
                               const char *login, const char *password,
                               const char *token, const sl_config_t *cfg,
                               sl_err_t *err, apr_pool_t *p);

/* Stores a new hash and ends the user's sessions, all of them or all but
 * the one whose cookie hash is keep_session (the one changing it). */
sl_kind_e sl_account_set_password(sl_conn_src_t *src, const char *user_id,
                                  const char *phc, const char *keep_session,
                                  sl_err_t *err, apr_pool_t *p);

sl_kind_e sl_account_token(sl_conn_src_t *src, const char **token, const char *user_id,
                           sl_err_t *err, apr_pool_t *p);

/* A new random API token; the old one admits nobody from now on. */
sl_kind_e sl_account_reset_token(sl_conn_src_t *src, const char **token,
                                 const char *user_id, sl_err_t *err, apr_pool_t *p);

/* A picture as stored: its bytes, type and SHA-256 (hex; the ETag). */
typedef struct {
    const char *name;           /* <user id>-<32 hex>.<png|jpg>: its URL's last part */
    const char *content_type;
    const char *sha256;
    const char *data;
    apr_size_t len;
} sl_avatar_t;

/* Sets (pic) or removes (NULL) the user's picture in the database, in one
 * transaction under the user's row lock: the new one stored, named by the
 * account, every other of the account's pictures gone. *name is the new
 * picture's name (NULL when removed). */
sl_kind_e sl_account_set_avatar(sl_conn_src_t *src, const char **name, const char *user_id,
                                const char *data, apr_size_t len, const char *ext,
                                const char *content_type, sl_err_t *err, apr_pool_t *p);

/* The picture named name while its account names it (SL_ENOTFOUND else);
 * with want_data 0 only its type and hash (answering If-None-Match). */
sl_kind_e sl_account_avatar(sl_conn_src_t *src, sl_avatar_t *out, const char *name,
                            int want_data, sl_err_t *err, apr_pool_t *p);

/* Inside a write unit: a picture of an older version's avatar folder
 * stored under the name the account already has (its URL stays). */
sl_kind_e sl_account_import_avatar(sl_db_t *db, const char *user_id, const char *name,
                                   const char *data, apr_size_t len,
                                   const char *content_type, sl_err_t *err, apr_pool_t *p);

/* Inside a unit: last_activity = now, at most once a minute per user, and
 * only when the write costs no wait (sl_conn_may_write). */
/* Inside a unit: the avatar names users point at that have no row yet
 * (files an older version kept on disk), as const char *. */
sl_kind_e sl_account_avatars_missing(sl_db_t *db, apr_array_header_t **names,
                                     sl_err_t *err, apr_pool_t *p);
void sl_account_touch(sl_db_t *db, sl_user_t *u, apr_pool_t *p);
/* 1 when sl_account_touch would write (a cached caller then goes to the
 * database once). */
int sl_account_touch_due(const sl_user_t *u);

/* What PATCH /api/users/{id} may change: NULL / -1 = unchanged. */
typedef struct {
    const char *first_name;
    const char *last_name;
    const char *phone;
    const char *username;
    int is_active;
    const char *role;           /* a role code (sl_role.h): PATCH memberships */
    int roles_on;               /* SialiRoles, for role */
} sl_user_patch_t;

/* A PATCH body (a JSON object) -> patch: SL_EINVALID naming the field for a
 * read-only or unknown field, a wrong type, or a value the rules refuse. */
sl_kind_e sl_account_patch_read(sl_user_patch_t *patch, json_t *body, sl_err_t *err,
                                apr_pool_t *p);

/* Validates and applies a patch in one transaction. Nobody deactivates the
 * organization's owner or themselves (SL_EFORBIDDEN); deactivation ends
 * the user's sessions at once. A role is checked by sl_role_change_check
 * against the actor's role: DI deactivates, another role given to a
 * deactivated member reactivates them, OW transfers the ownership (the
 * former owner becomes AD). */
sl_kind_e sl_account_patch(sl_conn_src_t *src, sl_user_t **out, const char *target_id,
                           const char *actor_id, const sl_user_patch_t *patch,
                           sl_err_t *err, apr_pool_t *p);

/* Removes the account, its sessions, token, membership and picture; its
 * projects and annotations stay. Nobody deletes the owner or themselves. */
sl_kind_e sl_account_delete(sl_conn_src_t *src, const char *target_id, const char *actor_id,
                            sl_err_t *err, apr_pool_t *p);

/* Every account, ordered by id: a JSON array of User objects. */
sl_kind_e sl_account_list(sl_conn_src_t *src, json_t **out, sl_err_t *err, apr_pool_t *p);

/* The User object of the API (pool-tied); the avatar's URL is avatar_base
 * (the mount prefix + /data/avatars/) and the stored file name. */
json_t *sl_account_json(const sl_user_t *u, const char *avatar_base, apr_pool_t *p);

#endif
