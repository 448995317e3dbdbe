#include <string.h>

#include <apr_strings.h>

#include "sl_json.h"
#include "sl_audit.h"
#include "sl_orgpolicy.h"
#include "sl_pat.h"

#define MINUTES_MAX (3650LL * 24 * 60)   /* ten years, as the directives */

static int is_set(const char *v)
{
    return v && *v;
}

sl_kind_e sl_org_tokens_get(sl_db_t *db, const char *org_id, sl_org_tokens_t *o,
                            sl_err_t *err, apr_pool_t *p)
{
    const char **row;
    sl_kind_e k;

    o->api_enabled = o->legacy_enabled = 1;
    o->ttl_days = SL_PAT_TTL_DAYS_MAX;
    o->max_age = o->idle = 0;
    if (!org_id) {
        return SL_OK;
    }
    k = sl_db_select_one(db, p, "siali_org_tokens", &row, 1, &org_id,
                         "No such organization.", err);
    if (k != SL_OK) {
        return k;
    }
    o->api_enabled = strcmp(row[0], "0") != 0;
    o->legacy_enabled = strcmp(row[1], "0") != 0;
    o->ttl_days = apr_atoi64(row[2]);
    o->max_age = is_set(row[3]) ? apr_atoi64(row[3]) : 0;
    o->idle = is_set(row[4]) ? apr_atoi64(row[4]) : 0;
    return SL_OK;
}

/* ---- settings and session policy ---- */

typedef struct settings_s settings_t;

static json_t *settings_json(const sl_org_tokens_t *o)
{
    return json_pack("{s:b, s:b, s:I}", "api_tokens_enabled", o->api_enabled,
                     "legacy_api_tokens_enabled", o->legacy_enabled,
                     "api_token_ttl_days", (json_int_t)o->ttl_days);
}

/* every field of body known and of its type: SL_EINVALID naming it */
static sl_kind_e read_settings(json_t *body, sl_org_tokens_t *o, sl_err_t *err, apr_pool_t *p)
{
    const char *name;
    json_t *v;

    if (!json_is_object(body)) {
        return sl_err_set(err, SL_EINVALID, NULL, "Expected a JSON object.");
    }
    json_object_foreach(body, name, v) {
        if (!strcmp(name, "api_tokens_enabled") || !strcmp(name, "legacy_api_tokens_enabled")) {
            if (!json_is_boolean(v)) {
                return sl_err_set(err, SL_EINVALID, name,
                                  apr_psprintf(p, "%s must be true or false.", name));
            }
            *(name[0] == 'a' ? &o->api_enabled : &o->legacy_enabled) = json_is_true(v);
        }
        else if (!strcmp(name, "api_token_ttl_days")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1
                || json_integer_value(v) > SL_PAT_TTL_DAYS_MAX) {
                return sl_err_set(err, SL_EINVALID, name,
                                  apr_psprintf(p, "api_token_ttl_days must be a whole "
                                               "number from 1 to %d.", SL_PAT_TTL_DAYS_MAX));
            }
            o->ttl_days = json_integer_value(v);
        }
        else {
            return sl_err_set(err, SL_EINVALID, name,
                              apr_psprintf(p, "Unknown field '%s'.", name));
        }
    }
    return SL_OK;
}

static sl_kind_e read_policy(json_t *body, sl_org_tokens_t *o, const sl_config_t *cfg,
                             sl_err_t *err, apr_pool_t *p)
{
    const char *name;
    json_t *v;

    if (!json_is_object(body)) {
        return sl_err_set(err, SL_EINVALID, NULL, "Expected a JSON object.");
    }
    json_object_foreach(body, name, v) {
        int age = !strcmp(name, "max_session_age");

        if (!age && strcmp(name, "max_time_between_activity")) {
            return sl_err_set(err, SL_EINVALID, name,
                              apr_psprintf(p, "Unknown field '%s'.", name));
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > MINUTES_MAX) {
            return sl_err_set(err, SL_EINVALID, name,
                              apr_psprintf(p, "%s must be a whole number of minutes from 1 "
                                           "to %" APR_INT64_T_FMT ".", name,
                                           (apr_int64_t)MINUTES_MAX));
        }
        *(age ? &o->max_age : &o->idle) = json_integer_value(v) * 60;
    }
    /* the other limit is fixed too, as it is in force now */
    o->max_age = o->max_age ? o->max_age : cfg->session_max_age;
    o->idle = o->idle ? o->idle : cfg->session_idle;
    return SL_OK;
}

/* the token settings' columns, in siali_org_set_tokens' order */
static sl_kind_e write_settings(sl_db_t *db, const sl_org_tokens_t *o, const char *org_id,
                                sl_err_t *err, apr_pool_t *p)
{
    const char *args[4] = { o->api_enabled ? "1" : "0", o->legacy_enabled ? "1" : "0",
                            sl_i64(o->ttl_days, p), org_id };

    return sl_db_exec(db, p, "siali_org_set_tokens", NULL, 4, args, err);
}

static sl_kind_e write_policy(sl_db_t *db, const sl_org_tokens_t *o, const char *org_id,
                              sl_err_t *err, apr_pool_t *p)
{
    const char *args[3] = { sl_i64(o->max_age, p), sl_i64(o->idle, p), org_id };

    return sl_db_exec(db, p, "siali_org_set_policy", NULL, 3, args, err);
}

/* in minutes, what is in force: the policy, else the directives */
static json_t *policy_json(const sl_org_tokens_t *o, const sl_config_t *cfg)
{
    return json_pack("{s:I, s:I}", "max_session_age",
                     (json_int_t)((o->max_age ? o->max_age : cfg->session_max_age) / 60),
                     "max_time_between_activity",
                     (json_int_t)((o->idle ? o->idle : cfg->session_idle) / 60));
}

/* The two endpoints differ in what they read, write and show */
struct settings_s {
    const char *org_id;
    json_t *body;
    const sl_config_t *cfg;
    json_t *out;
    int policy;
};

static sl_kind_e settings_unit(sl_db_t *db, void *baton, sl_err_t *err, apr_pool_t *p)
{
    settings_t *b = baton;
    sl_org_tokens_t o;
    json_t *before;
    sl_kind_e k;

    if ((k = sl_org_tokens_get(db, b->org_id, &o, err, p)) != SL_OK) {
        return k;
    }
    if (b->body) {
        /* what it was, so that a save that changes nothing records nothing */
        b->out = sl_json_pool(b->policy ? policy_json(&o, b->cfg) : settings_json(&o), p);
        k = b->policy ? read_policy(b->body, &o, b->cfg, err, p)
                      : read_settings(b->body, &o, err, p);
        if (k == SL_OK) {
            k = b->policy ? write_policy(db, &o, b->org_id, err, p)
                          : write_settings(db, &o, b->org_id, err, p);
        }
        if (k != SL_OK) {
            return k;
        }
    }
    before = b->out;
    b->out = sl_json_pool(b->policy ? policy_json(&o, b->cfg) : settings_json(&o), p);
    if (b->body && !json_equal(before, b->out)) {
        /* the settings as they are now: no secret among them */
        return sl_audit_add(db, b->policy ? SL_EVENT_SESSION_POLICY_CHANGED
                                          : SL_EVENT_TOKEN_SETTINGS_CHANGED,
                            NULL, NULL, sl_json_dump(b->out, p), err, p);
    }
    return SL_OK;
}

static sl_kind_e run_settings(sl_conn_src_t *src, settings_t *b, json_t **out, sl_err_t *err,
                              apr_pool_t *p)
{
    sl_kind_e k = sl_conn_run(src, b->body ? SL_CONN_WRITE : SL_CONN_READ, settings_unit, b,
                              err, p);

    if (k == SL_OK) {
        *out = b->out;
    }
    return k;
}

sl_kind_e sl_orgpolicy_tokens(sl_conn_src_t *src, const char *org_id, json_t *body,
                              json_t **out, sl_err_t *err, apr_pool_t *p)
{
    settings_t b = { org_id, body, NULL, NULL, 0 };

    return run_settings(src, &b, out, err, p);
}

sl_kind_e sl_orgpolicy_sessions(sl_conn_src_t *src, const char *org_id, json_t *body,
                                const sl_config_t *cfg, json_t **out, sl_err_t *err,
                                apr_pool_t *p)
{
    settings_t b = { org_id, body, cfg, NULL, 1 };

    return run_settings(src, &b, out, err, p);
}
