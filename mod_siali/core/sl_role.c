#include <string.h>

#include <apr_strings.h>

#include "sl_role.h"

#define R(x) (1u << SL_ROLE_##x)

static const struct {
    const char *code;
    const char *name;
} roles[SL_ROLE_COUNT] = {
    { "OW", "Owner" }, { "AD", "Administrator" }, { "MA", "Manager" },
    { "RE", "Reviewer" }, { "AN", "Annotator" }, { "DI", "Deactivated" },
    { "NO", "Not activated" }
};

/* The one table of who may do what (docs/roles.md is checked against it
 * by test/unit/test_role.c). NO is a state shown in People, not a role
 * anyone acts with; DI may do nothing. */
static const struct {
    const char *name;
    const char *text;
    unsigned roles;
} perms[SL_PERM_COUNT] = {
    [SL_PERM_PEOPLE] = { "view_people", "see People and every member's details",
                         R(OW) | R(AD) | R(MA) },
    [SL_PERM_INVITE] = { "manage_invite", "see and reset the invite link",
                         R(OW) | R(AD) | R(MA) },
    [SL_PERM_ROLES] = { "change_roles", "change members' roles and the default role",
                        R(OW) | R(AD) },
    [SL_PERM_MANAGE] = { "manage_members", "deactivate, reactivate and delete members",
                         R(OW) | R(AD) },
    [SL_PERM_PROJECTS] = { "create_projects", "create projects", R(OW) | R(AD) | R(MA) },
    [SL_PERM_SETTINGS] = { "organization_settings",
                           "change the organization's token and session settings",
                           R(OW) | R(AD) },
    [SL_PERM_AUDIT] = { "view_activity_logs", "read the organization's audit log",
                        R(OW) | R(AD) },
    [SL_PERM_OWN] = { "own_account", "use one's own account, token and password",
                      R(OW) | R(AD) | R(MA) | R(RE) | R(AN) },
};

const char *sl_role_code(sl_role_e r)
{
    return r < SL_ROLE_COUNT ? roles[r].code : NULL;
}

const char *sl_role_name(sl_role_e r)
{
    return r < SL_ROLE_COUNT ? roles[r].name : NULL;
}

int sl_role_parse(const char *code, sl_role_e *out)
{
    int i;

    for (i = 0; code && i < SL_ROLE_COUNT; i++) {
        if (!strcmp(code, roles[i].code)) {
            *out = i;
            return 1;
        }
    }
    return 0;
}

const char *sl_perm_name(sl_perm_e perm)
{
    return perm < SL_PERM_COUNT ? perms[perm].name : NULL;
}

const char *sl_role_missing(sl_role_e actor, sl_perm_e perm, apr_pool_t *p)
{
    return apr_psprintf(p, "Permission %s (%s) is needed: the role %s does not have it.",
                        perms[perm].name, perms[perm].text,
                        actor < SL_ROLE_COUNT ? roles[actor].name : "of this account");
}

const char *sl_perm_text(sl_perm_e perm)
{
    return perm < SL_PERM_COUNT ? perms[perm].text : NULL;
}

sl_role_e sl_role_effective(const char *stored, int is_active)
{
    sl_role_e r;

    if (!is_active) {
        return SL_ROLE_DI;
    }
    /* a stored DI or NO (never written by the core) acts as the least role */
    if (!sl_role_parse(stored, &r) || r == SL_ROLE_DI || r == SL_ROLE_NO) {
        return SL_ROLE_AN;
    }
    return r;
}

sl_role_e sl_role_shown(const char *stored, int is_active, const char *last_activity)
{
    sl_role_e r = sl_role_effective(stored, is_active);

    return r != SL_ROLE_DI && (!last_activity || !*last_activity) ? SL_ROLE_NO : r;
}

int sl_role_may(int roles_on, sl_role_e role, sl_perm_e perm)
{
    if (role >= SL_ROLE_COUNT || perm >= SL_PERM_COUNT || role == SL_ROLE_DI) {
        return 0;
    }
    if (!roles_on) {
        return 1;
    }
    return (perms[perm].roles & (1u << role)) != 0;
}

static sl_kind_e missing(sl_role_e actor, sl_perm_e perm, sl_err_t *err,
                         apr_pool_t *p)
{
    return sl_err_set(err, SL_EFORBIDDEN, NULL, sl_role_missing(actor, perm, p));
}

sl_kind_e sl_role_change_check(int roles_on, sl_role_e actor, int actor_is_target,
                               sl_role_e target, sl_role_e to, sl_err_t *err,
                               apr_pool_t *p)
{
    if (!roles_on) {
        return sl_err_set(err, SL_EINVALID, "role", "Roles are off on this server "
                          "(SialiRoles Off): every active member is an administrator.");
    }
    if (to >= SL_ROLE_COUNT || to == SL_ROLE_NO) {
        return sl_err_set(err, SL_EINVALID, "role", "role must be one of OW, AD, MA, RE, "
                          "AN, DI (NO is shown for members who have never signed in).");
    }
    if (!sl_role_may(1, actor, SL_PERM_ROLES)) {
        return missing(actor, SL_PERM_ROLES, err, p);
    }
    if (to == SL_ROLE_DI && !sl_role_may(1, actor, SL_PERM_MANAGE)) {
        return missing(actor, SL_PERM_MANAGE, err, p);
    }
    if (target == SL_ROLE_OW) {
        return sl_err_set(err, SL_EFORBIDDEN, "role", to == SL_ROLE_OW
                          ? "This member is the owner already."
                          : "The owner's role changes only when the owner transfers "
                            "ownership to another member.");
    }
    if (to == SL_ROLE_OW && actor != SL_ROLE_OW) {
        return sl_err_set(err, SL_EFORBIDDEN, "role", "Only the owner can make another "
                          "member the owner (a transfer).");
    }
    if (to == SL_ROLE_DI && actor_is_target) {
        return sl_err_set(err, SL_EFORBIDDEN, "role", "You cannot deactivate yourself.");
    }
    return SL_OK;
}

/* not AD: a manager may hand out the invite link, and an administrator's
 * rights would come with it */
int sl_role_default_ok(sl_role_e r)
{
    return r == SL_ROLE_MA || r == SL_ROLE_RE || r == SL_ROLE_AN;
}
