#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_uri.h>

#include "sl_account.h"
#include "sl_config.h"
#include "sl_mail.h"
#include "sl_validate.h"

#define FIELD(f) offsetof(sl_config_t, f), sizeof(((sl_config_t *)0)->f)
#define SL_SETTING_ROW(id, name, kind, f, f2, min, max, def, help) \
    { name, SL_SET_##kind, FIELD(f), FIELD(f2), min, max, def, help },
const sl_setting_t sl_settings[SL_SETTINGS_COUNT] = { SL_SETTINGS(SL_SETTING_ROW) };

static const char *parse_value(sl_config_t *cfg, const sl_setting_t *s, const char *arg,
                               const char *arg2, apr_pool_t *p);

void sl_config_defaults(sl_config_t *cfg, apr_pool_t *p)
{
    int i;

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < SL_SETTINGS_COUNT; i++) {
        const sl_setting_t *s = &sl_settings[i];
        const char *arg = s->def, *arg2 = NULL;

        if (!arg) {
            continue;
        }
        if (s->kind == SL_SET_THROTTLE) {
            const char *sp = strchr(arg, ' ');
            arg = apr_pstrmemdup(p, arg, sp - arg);
            arg2 = sp + 1;
        }
        /* every default parses: test_config_defaults */
        if (parse_value(cfg, s, arg, arg2, p)) {
            abort();
        }
    }
}

/* a duration of at most max seconds, as an interval */
static const char *parse_usec(apr_interval_time_t *out, const char *arg, long max,
                              apr_pool_t *p)
{
    apr_int64_t v;
    const char *e = sl_config_parse_duration(&v, arg);

    if (e) {
        return e;
    }
    if (v > max) {
        return apr_psprintf(p, "at most %ld seconds", max);
    }
    *out = apr_time_from_sec(v);
    return NULL;
}

static const char *parse_value(sl_config_t *cfg, const sl_setting_t *s, const char *arg,
                               const char *arg2, apr_pool_t *p)
{
    char *f = (char *)cfg + s->off;
    const char *e;
    long n;
    sl_err_t err;

    switch (s->kind) {
    case SL_SET_FLAG:
        if ((n = sl_config_parse_bool(arg)) < 0 || !arg || !*arg) {
            return "expected On or Off";
        }
        *(int *)f = (int)n;
        return NULL;
    case SL_SET_INT:
        if ((e = sl_config_parse_int(&n, arg, s->min, s->max, p))) {
            return e;
        }
        if (s->size == sizeof(int)) {
            *(int *)f = (int)n;
        }
        else {
            *(long *)f = n;
        }
        return NULL;
    case SL_SET_SECONDS:
        return sl_config_parse_duration((apr_int64_t *)f, arg);
    case SL_SET_CACHE:
        if (arg && !strcasecmp(arg, "off")) {
            *(apr_interval_time_t *)f = 0;
            return NULL;
        }
        /* fall through */
    case SL_SET_USEC:
        return parse_usec((apr_interval_time_t *)f, arg, s->max, p);
    case SL_SET_SIZE:
        return sl_config_parse_size((apr_size_t *)f, arg);
    case SL_SET_TOKEN:
        if (sl_account_check_token(arg, &err) != SL_OK) {
            return err.message;
        }
        /* fall through */
    case SL_SET_TEXT:
        *(const char **)f = arg;
        return NULL;
    case SL_SET_THROTTLE:
        if ((e = sl_config_parse_int(&n, arg, s->min, s->max, p))) {
            return apr_pstrcat(p, "N: ", e, NULL);
        }
        if ((e = sl_config_parse_duration((apr_int64_t *)((char *)cfg + s->off2), arg2))) {
            return apr_pstrcat(p, "SECONDS: ", e, NULL);
        }
        *(int *)f = (int)n;
        return NULL;
    case SL_SET_HASH:
        return sl_password_parse_params((sl_argon2_params_t *)f, arg, p);
    }
    return "unknown kind of setting";
}

const char *sl_setting_apply(sl_config_t *cfg, const sl_setting_t *s, const char *arg,
                             const char *arg2, apr_pool_t *p)
{
    /* parsed into a copy: a refused value leaves the setting as it was */
    sl_config_t next = *cfg;
    const char *e = parse_value(&next, s, arg, arg2, p);

    if (e) {
        return apr_psprintf(p, "%s: %s", s->name, e);
    }
    *cfg = next;
    cfg->set |= (apr_uint64_t)1 << (s - sl_settings);
    return NULL;
}

void sl_config_merge(sl_config_t *out, const sl_config_t *base, const sl_config_t *add)
{
    sl_config_t m = *base;
    int i;

    for (i = 0; i < SL_SETTINGS_COUNT; i++) {
        const sl_setting_t *s = &sl_settings[i];

        if (add->set & ((apr_uint64_t)1 << i)) {
            memcpy((char *)&m + s->off, (const char *)add + s->off, s->size);
            memcpy((char *)&m + s->off2, (const char *)add + s->off2, s->size2);
        }
    }
    m.set = base->set | add->set;
    *out = m;
}

static int given(const sl_config_t *cfg, int id)
{
    return (cfg->set & ((apr_uint64_t)1 << id)) != 0;
}

/* The mail relay's settings whole, and its password read (at start, as
 * root: the file may be readable by root only). */
static const char *mail_finish(sl_config_t *cfg, apr_pool_t *p)
{
    const char *e, *norm;
    char *buf, *end;
    apr_file_t *f;
    apr_size_t n = 1024;

    if (!cfg->mail_relay) {
        return cfg->mail_user ? "SialiMailUser needs SialiMailRelay" : NULL;
    }
    if ((e = sl_mail_check_relay(cfg->mail_relay, p))) {
        return apr_pstrcat(p, "SialiMailRelay: ", e, NULL);
    }
    if (!cfg->mail_from || sl_validate_email(&norm, cfg->mail_from, strlen(cfg->mail_from),
                                             NULL, p) != SL_OK) {
        return "SialiMailRelay needs SialiMailFrom with the sender's email";
    }
    if (!cfg->mail_user != !cfg->mail_password_file) {
        return "SialiMailUser and SialiMailPasswordFile go together";
    }
    if (!cfg->mail_password_file) {
        return NULL;
    }
    buf = apr_pcalloc(p, n + 1);
    if (apr_file_open(&f, cfg->mail_password_file, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return apr_pstrcat(p, "SialiMailPasswordFile: cannot read ", cfg->mail_password_file,
                           NULL);
    }
    apr_file_read(f, buf, &n);
    apr_file_close(f);
    buf[n] = '\0';
    /* the first line, without its end */
    if ((end = strpbrk(buf, "\r\n"))) {
        *end = '\0';
    }
    if (!*buf) {
        return "SialiMailPasswordFile: the file is empty";
    }
    cfg->mail_password = buf;
    return NULL;
}

const char *sl_config_finish(sl_config_t *cfg, apr_pool_t *p)
{
    const char *env;

    if (!given(cfg, SL_SETTING_SIGNUP_RESTRICTED)
        && (env = getenv("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"))) {
        int v = sl_config_parse_bool(env);
        if (v < 0) {
            return apr_psprintf(p, "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: expected "
                                "true or false, got '%s'", env);
        }
        cfg->signup_restricted = v;
    }
    /* the start-up account: directives first, then httpd's environment,
     * never a mixture of both */
    if (!given(cfg, SL_SETTING_START_USERNAME) && !given(cfg, SL_SETTING_START_PASSWORD)
        && !given(cfg, SL_SETTING_START_TOKEN)) {
        cfg->start_username = getenv("LABEL_STUDIO_USERNAME");
        cfg->start_password = getenv("LABEL_STUDIO_PASSWORD");
        cfg->start_token = getenv("LABEL_STUDIO_USER_TOKEN");
        if (cfg->start_token && !*cfg->start_token) {
            cfg->start_token = NULL;
        }
        if (cfg->start_token) {
            sl_err_t err;
            if (sl_account_check_token(cfg->start_token, &err) != SL_OK) {
                return apr_psprintf(p, "LABEL_STUDIO_USER_TOKEN: %s", err.message);
            }
        }
    }
    if ((cfg->start_username && *cfg->start_username)
        != (cfg->start_password && *cfg->start_password)) {
        return "SialiUsername and SialiPassword (or LABEL_STUDIO_USERNAME and "
               "LABEL_STUDIO_PASSWORD) must be set together";
    }
    if (cfg->start_token && !(cfg->start_username && *cfg->start_username)) {
        return "SialiUserToken (LABEL_STUDIO_USER_TOKEN) needs SialiUsername and "
               "SialiPassword";
    }
    return mail_finish(cfg, p);
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
