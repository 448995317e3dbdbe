/* Single sign-on by composition (SialiTrustRemoteUser): another Apache
 * module (mod_auth_openidc, mod_auth_mellon, mod_authnz_ldap, mod_auth_basic)
 * authenticated the request and set r->user, and may have put the email and
 * the groups in the environment. Here that becomes a member and a normal
 * session: the member found by email, created when unknown
 * if provisioning allows it, their role taken from their groups
 * (SialiRoleFromGroup) unless an administrator set it by hand.
 *
 * users.role_source says where a role came from (schema v10):
 *  - "default": nobody chose it (the first role, switching roles on, the
 *    default role of a new member); groups may change it;
 *  - "sso": taken from the groups at the last SSO login; they may again;
 *  - "manual": set through the API (PATCH memberships); groups never
 *    change it. */
#ifndef SL_SSO_H
#define SL_SSO_H

#include <apr_tables.h>

#include "sl_account.h"
#include "sl_config.h"
#include "sl_conn.h"
#include "sl_role.h"

typedef enum {
    SL_SSO_PROVISION_OFF = 0,   /* unknown people are refused */
    SL_SSO_PROVISION_ON,        /* created, unless signup needs the invite
                                 * link (SialiDisableSignupWithoutLink) */
    SL_SSO_PROVISION_ALWAYS     /* created even then: the identity provider
                                 * decides who may come */
} sl_sso_provision_e;

typedef struct {
    sl_role_e role;             /* AD, MA, RE or AN */
    const char *group;
} sl_sso_map_t;

/* The arguments of SialiRoleFromGroup ROLE GROUP: NULL and *out, or why not
 * (OW only by transfer, DI by deactivation, NO by never signing in). */
const char *sl_sso_parse_map(sl_sso_map_t *out, const char *role, const char *group,
                             apr_pool_t *p);

/* SialiAutoProvision's argument: Off, On or Always (any case). */
const char *sl_sso_parse_provision(sl_sso_provision_e *out, const char *arg);

/* Adds the groups of one variable's value to into (const char *), as the
 * upstream modules write lists: ';' between values always (mod_authnz_ldap,
 * mod_auth_mellon's MellonMergeEnvVars), ',' too unless an item is a
 * distinguished name (holds '='; DNs have commas inside); each trimmed,
 * empty ones dropped. */
void sl_sso_groups_add(apr_array_header_t *into, const char *value, apr_pool_t *p);

/* Whether the item a provider sent is the group a map names: the same text
 * (case-insensitive); for a name without '=', also a DN whose first RDN is
 * cn=NAME ("cn=labeling-admins,ou=groups,dc=example,dc=org" is
 * "labeling-admins", in whatever branch: write the DN to pin one entry) or
 * a path whose last part is it (Keycloak's "/teams/labeling-admins"). */
int sl_sso_group_is(const char *group, const char *item);

/* The most privileged role a map gives for any of groups: 1 and *out; 0
 * when no map matches. */
int sl_sso_role_for(const apr_array_header_t *maps, const apr_array_header_t *groups,
                    sl_role_e *out);

typedef struct {
    const char *login;          /* the email the provider vouched for: found by
                                 * email only (a username is the member's own
                                 * choice), anything else refused */
    const apr_array_header_t *groups;  /* const char *; NULL: the provider set no
                                        * group variable, roles left as they are */
    const apr_array_header_t *maps;    /* sl_sso_map_t; NULL or empty: roles
                                        * are not taken from groups */
    sl_sso_provision_e provision;
    const char *old_cookie;     /* this browser's session before: ended */
} sl_sso_in_t;

typedef struct {
    sl_user_t *user;
    const char *cookie;         /* the new session */
    int created;                /* provisioned by this login */
    const char *old_role;       /* the role groups replaced, or NULL */
} sl_sso_out_t;

/* One write unit: finds or provisions the member, applies the groups
 * (SialiRoles On; never to the owner or a role set by hand), ends the old
 * session and starts one. SL_ENOTFOUND: unknown and provisioning is off;
 * SL_EFORBIDDEN: deactivated, or provisioning refused by the signup
 * restriction; SL_EINVALID: login is not a valid email; SL_ECONFLICT: the
 * account could not be created twice over (no free username). Messages are
 * for the person who tried. */
sl_kind_e sl_sso_login(sl_conn_src_t *src, sl_sso_out_t *out, const sl_sso_in_t *in,
                       const sl_config_t *cfg, sl_err_t *err, apr_pool_t *p);

#endif
