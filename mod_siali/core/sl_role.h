/* Roles (SialiRoles On), with Label Studio Enterprise's codes, and what each
 * may do: one table (sl_role.c, docs/roles.md), asked in one place for every
 * route (mod_siali.c) rather than by each handler.
 *
 * A member's role is kept on the user's row (users.org_role, beside
 * org_member), so the caller's role comes with the caller at no cost:
 *  - OW is stored for the owner (organization.owner_id, changed with it);
 *  - DI is not stored: a deactivated member (is_active 0) is DI, and gets
 *    the stored role back when reactivated;
 *  - NO is not stored either: a member who has never signed in (no
 *    last_activity) is shown as NO, and has the stored role once they do.
 * With SialiRoles Off every active member may do everything, as the
 * community edition's user guide says; roles are still kept, so switching
 * them on later gives everyone the role they had (AD, the owner OW). */
#ifndef SL_ROLE_H
#define SL_ROLE_H

#include <apr_pools.h>

#include "sl_err.h"

typedef enum {
    SL_ROLE_OW, SL_ROLE_AD, SL_ROLE_MA, SL_ROLE_RE, SL_ROLE_AN, SL_ROLE_DI, SL_ROLE_NO,
    SL_ROLE_COUNT
} sl_role_e;

/* What a route or an action needs. */
typedef enum {
    SL_PERM_PEOPLE,     /* see People and every member's details */
    SL_PERM_INVITE,     /* see and reset the invite link */
    SL_PERM_ROLES,      /* change roles and the default role */
    SL_PERM_MANAGE,     /* deactivate, reactivate and delete members */
    SL_PERM_PROJECTS,   /* create projects */
    SL_PERM_SETTINGS,   /* the organization's token and session settings */
    SL_PERM_AUDIT,      /* the organization's audit log (sl_audit.h) */
    SL_PERM_OWN,        /* one's own account, token and password */
    SL_PERM_COUNT
} sl_perm_e;

/* "OW", ..., NULL for no role. */
const char *sl_role_code(sl_role_e r);
/* "Owner", "Administrator", ... */
const char *sl_role_name(sl_role_e r);
/* 1 and *out for one of the seven codes (exactly, upper case). */
int sl_role_parse(const char *code, sl_role_e *out);

/* The permission's name in errors and docs ("view_people", ...). */
const char *sl_perm_name(sl_perm_e perm);
/* Its description ("see People and every member's details"). */
const char *sl_perm_text(sl_perm_e perm);

/* The role a member acts with: DI when deactivated, else the stored one
 * (an unknown stored code counts as AN, the least that can sign in). */
sl_role_e sl_role_effective(const char *stored, int is_active);

/* The role People shows: the effective one, NO for an active member who
 * has never signed in. */
sl_role_e sl_role_shown(const char *stored, int is_active, const char *last_activity);

/* 1 when a member with role may do perm. roles_on 0: every role but DI may. */
int sl_role_may(int roles_on, sl_role_e role, sl_perm_e perm);

/* Whether actor (role, and whether it is the target) may give target
 * (its current effective role) the role to: SL_OK, or SL_EFORBIDDEN naming
 * what is missing, SL_EINVALID for a role nobody can give (NO). OW only by
 * the owner, to another member (a transfer); the owner's role is changed
 * only by a transfer. DI needs SL_PERM_MANAGE as well. */
sl_kind_e sl_role_change_check(int roles_on, sl_role_e actor, int actor_is_target,
                               sl_role_e target, sl_role_e to, sl_err_t *err,
                               apr_pool_t *p);

/* The 403 sentence when actor lacks perm: it names the permission. */
const char *sl_role_missing(sl_role_e actor, sl_perm_e perm, apr_pool_t *p);

/* The roles a new member may be given by default: MA, RE, AN (never AD: a
 * manager hands out the invite link). */
int sl_role_default_ok(sl_role_e r);

#endif
