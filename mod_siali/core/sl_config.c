#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "sl_config.h"

void sl_config_defaults(sl_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hash.m_kib = SL_ARGON2_DEFAULT_M;
    cfg->hash.t = SL_ARGON2_DEFAULT_T;
    cfg->hash.p = SL_ARGON2_DEFAULT_P;
    cfg->password_min = SL_DEFAULT_PASSWORD_MIN;
    cfg->session_max_age = SL_DEFAULT_SESSION_MAX_AGE;
    cfg->session_idle = SL_DEFAULT_SESSION_IDLE;
    cfg->throttle_max = SL_DEFAULT_THROTTLE_MAX;
    cfg->throttle_window = SL_DEFAULT_THROTTLE_WINDOW;
    cfg->signup_max = SL_DEFAULT_SIGNUP_MAX;
    cfg->signup_window = SL_DEFAULT_SIGNUP_WINDOW;
    cfg->auth_max = SL_DEFAULT_AUTH_MAX;
    cfg->auth_window = SL_DEFAULT_AUTH_WINDOW;
    cfg->avatar_max_px = SL_DEFAULT_AVATAR_MAX_PX;
    cfg->avatar_max_bytes = SL_DEFAULT_AVATAR_MAX_BYTES;
    cfg->db_wait = SL_DEFAULT_DB_WAIT;
    cfg->hash_wait = SL_PASSWORD_WAIT_DEFAULT;
}

const char *sl_config_parse_size(apr_size_t *out, const char *arg)
{
    char *end;
    long long v;
    apr_size_t unit = 1;

    if (!arg || *arg < '0' || *arg > '9') {
        return "expected a size like 1048576, 512K or 1M";
    }
    v = strtoll(arg, &end, 10);
    if (*end) {
        if (end[1] || (*end != 'K' && *end != 'k' && *end != 'M' && *end != 'm')) {
            return "expected a size like 1048576, 512K or 1M";
        }
        unit = (*end == 'K' || *end == 'k') ? 1024 : 1024 * 1024;
    }
    if (v <= 0 || (unsigned long long)v > (64ULL * 1024 * 1024) / unit) {
        return "the size must be between 1 byte and 64M";
    }
    *out = (apr_size_t)v * unit;
    return NULL;
}

const char *sl_config_parse_duration(apr_int64_t *out, const char *arg)
{
    char *end;
    long long v;
    apr_int64_t unit = 1;

    if (!arg || !*arg || *arg == '-' || *arg == '+') {
        return "expected a duration like 90, 30s, 15m, 12h or 14d";
    }
    v = strtoll(arg, &end, 10);
    if (end == arg) {
        return "expected a duration like 90, 30s, 15m, 12h or 14d";
    }
    if (*end) {
        if (end[1]) {
            return "expected a duration like 90, 30s, 15m, 12h or 14d";
        }
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default:
            return "unknown unit: use s, m, h or d";
        }
    }
    if (v <= 0 || v > 3650LL * 86400 / unit) {
        return "the duration must be between 1 second and 10 years";
    }
    *out = (apr_int64_t)v * unit;
    return NULL;
}

int sl_config_parse_bool(const char *arg)
{
    static const char *const yes[] = { "true", "1", "yes", "on", NULL };
    static const char *const no[] = { "false", "0", "no", "off", "", NULL };
    int i;

    if (!arg) {
        return 0;
    }
    for (i = 0; yes[i]; i++) {
        if (!strcasecmp(arg, yes[i])) {
            return 1;
        }
    }
    for (i = 0; no[i]; i++) {
        if (!strcasecmp(arg, no[i])) {
            return 0;
        }
    }
    return -1;
}

const char *sl_config_parse_int(long *out, const char *arg, long min, long max,
                                apr_pool_t *p)
{
    char *end;
    long v;

    if (!arg || *arg < '0' || *arg > '9' || strlen(arg) > 12) {
        return apr_psprintf(p, "expected a whole number from %ld to %ld", min, max);
    }
    v = strtol(arg, &end, 10);
    if (*end || v < min || v > max) {
        return apr_psprintf(p, "expected a whole number from %ld to %ld", min, max);
    }
    *out = v;
    return NULL;
}

const char *sl_config_parse_origin(const char **out, const char *arg, apr_pool_t *p)
{
    apr_uri_t uri;

    if (!arg || apr_uri_parse(p, arg, &uri) != APR_SUCCESS || !uri.scheme
        || !uri.hostname || !*uri.hostname || uri.user || uri.query || uri.fragment
        || (uri.path && *uri.path && strcmp(uri.path, "/"))
        || (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https"))) {
        return apr_psprintf(p, "expected an origin like https://labels.example.org, "
                            "got '%s'", arg ? arg : "");
    }
    /* as a browser writes it: lower case, and an IPv6 address in brackets
     * (apr_uri drops them) */
    {
        char *c;
        for (c = uri.scheme; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
        for (c = uri.hostname; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
    }
    *out = apr_psprintf(p, "%s://%s%s%s%s%s", uri.scheme,
                        strchr(uri.hostname, ':') ? "[" : "", uri.hostname,
                        strchr(uri.hostname, ':') ? "]" : "",
                        uri.port_str ? ":" : "", uri.port_str ? uri.port_str : "");
    return NULL;
}
