/* The settings the core needs, frozen from the merged httpd config (or the
 * CLI's flags) after start-up. Plain values: the core never sees httpd. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <apr.h>
#include <apr_time.h>

#include "sl_password.h"

typedef struct {
    sl_argon2_params_t hash;
    int password_min;              /* code points */
    apr_int64_t session_max_age;   /* seconds */
    apr_int64_t session_idle;      /* seconds */
    int signup_restricted;
    int throttle_max;              /* failures per window */
    apr_int64_t throttle_window;   /* seconds */
    int signup_max;                /* signups per address per window */
    apr_int64_t signup_window;
    int auth_max;                  /* failed token/cookie authentications */
    apr_int64_t auth_window;       /* per address per window */
    long avatar_max_px;            /* per side */
    apr_size_t avatar_max_bytes;
    apr_interval_time_t db_wait;   /* a unit of work's budget (sl_conn) */
    apr_interval_time_t hash_wait; /* longest wait for a hashing slot */
    const char *dummy_hash;        /* a PHC string at this cost for a
                                    * password nobody knows: unknown accounts
                                    * are checked against it */
    apr_interval_time_t verify_time; /* how long checking it takes here: a
                                    * login checked against a cheaper hash
                                    * waits out the difference */
} sl_config_t;

#define SL_DEFAULT_AVATAR_MAX_PX 512
#define SL_DEFAULT_AVATAR_MAX_BYTES (1024 * 1024)

#define SL_DEFAULT_PASSWORD_MIN 8
#define SL_DEFAULT_SESSION_MAX_AGE (14 * 86400)
#define SL_DEFAULT_SESSION_IDLE (5 * 86400)
#define SL_DEFAULT_THROTTLE_MAX 10
#define SL_DEFAULT_THROTTLE_WINDOW 300
#define SL_DEFAULT_SIGNUP_MAX 50
#define SL_DEFAULT_SIGNUP_WINDOW 3600
#define SL_DEFAULT_AUTH_MAX 50
#define SL_DEFAULT_AUTH_WINDOW 60
#define SL_DEFAULT_DB_WAIT (3 * APR_USEC_PER_SEC)

/* Fills the defaults (docs/directives.md). */
void sl_config_defaults(sl_config_t *cfg);

/* Parses a duration: "90" (seconds), "30s", "15m", "12h", "14d". Returns
 * NULL or an error sentence. */
const char *sl_config_parse_duration(apr_int64_t *out, const char *arg);

/* Parses a size: "1048576", "512K", "1M" (KiB, MiB). NULL or an error. */
const char *sl_config_parse_size(apr_size_t *out, const char *arg);

/* "true", "1", "yes", "on" (any case) -> 1; "false", "0", "no", "off", "" -> 0;
 * anything else -> -1. */
int sl_config_parse_bool(const char *arg);

/* A whole number in [min, max] (digits only): NULL, or why not. */
const char *sl_config_parse_int(long *out, const char *arg, long min, long max,
                                apr_pool_t *p);

/* An origin as a browser sends it: http(s)://host[:port], nothing after
 * (a single "/" allowed): *out normalised, NULL; or why not. */
const char *sl_config_parse_origin(const char **out, const char *arg, apr_pool_t *p);

#endif
