/* The settings the core needs, frozen from the merged httpd config (or the
 * CLI's flags) after start-up. Plain values: the core never sees httpd. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <apr.h>
#include <apr_time.h>

#include "sl_password.h"

typedef struct {
    apr_uint64_t set;              /* bit i: sl_settings[i] given in this scope */
    sl_argon2_params_t hash;
    int password_min;              /* code points */
    apr_int64_t session_max_age;   /* seconds */
    apr_int64_t session_idle;      /* seconds */
    int signup_restricted;
    int roles;                     /* SialiRoles: 0 every active member is an
                                    * administrator (sl_role.h) */
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
    apr_interval_time_t auth_cache; /* caller cache's entry life, 0 off */
    apr_interval_time_t audit_retention; /* how long the audit log keeps, 0 forever */
    int require_2fa;               /* SialiRequireTwoFactor (sl_twofactor.h) */
    apr_int64_t reset_link_life;   /* seconds (sl_resetlink.h) */
    const char *mail_relay;        /* host:port, NULL: no mail (sl_mail.h) */
    const char *mail_from;
    const char *mail_user;         /* NULL: no AUTH */
    const char *mail_password_file;
    const char *mail_password;     /* read from the file by sl_config_finish */
    const char *mail_ca_file;
    const char *start_username;    /* the account created at start, or NULL */
    const char *start_password;
    const char *start_token;       /* its API token, NULL: generated */
    const char *dummy_hash;        /* a PHC string at this cost for a
                                    * password nobody knows: unknown accounts
                                    * are checked against it */
    apr_interval_time_t verify_time; /* how long checking it takes here: a
                                    * login checked against a cheaper hash
                                    * waits out the difference */
} sl_config_t;

/* The server-scope directives, one row each: what it is called, how its
 * value is read, where it goes in sl_config_t (a second field for the
 * window of a throttle), its range, its default as a directive would
 * write it, and the help httpd shows. The glue makes its command table
 * from these rows (mod_siali_config.c); the core takes its defaults from
 * them (parsed as the directive would be), and parses, checks, merges and
 * freezes by them; docs/directives.md is checked against them
 * (test_siali_900_guards). A setting is a row here and a field of
 * sl_config_t, nowhere else. Kinds:
 *  FLAG     On/Off
 *  INT      a whole number in [min, max]
 *  SECONDS  a duration (sl_config_parse_duration), stored in seconds
 *  USEC     a duration of at most max seconds, stored as an interval
 *  CACHE    Off, or a duration of at most max seconds, as an interval
 *  SIZE     a size (sl_config_parse_size)
 *  TEXT     a string; TOKEN: an API token (sl_account_check_token)
 *  THROTTLE two arguments, a count in [min, max] and a window
 *  HASH     argon2id m=KIB t=N p=N (sl_password_parse_params) */
#define SL_SETTINGS(X) \
    X(AVATAR_PX, "SialiAvatarMaxPixels", INT, avatar_max_px, avatar_max_px, 1, 4096, "512", \
      "largest avatar width and height in pixels (default 512)") \
    X(AVATAR_BYTES, "SialiAvatarMaxBytes", SIZE, avatar_max_bytes, avatar_max_bytes, 0, 0, \
      "1M", \
      "largest avatar upload, e.g. 1M (default)") \
    X(SIGNUP_RESTRICTED, "SialiDisableSignupWithoutLink", FLAG, signup_restricted, \
      signup_restricted, 0, 1, "Off", "On: only the current invite link admits new accounts") \
    X(ROLES, "SialiRoles", FLAG, roles, roles, 0, 1, "Off", \
      "On: each member has a role (OW AD MA RE AN) that limits what they may do; Off: " \
      "every active member is an administrator") \
    X(START_USERNAME, "SialiUsername", TEXT, start_username, start_username, 0, 0, NULL, \
      "account created at start when missing (email, or username without '@')") \
    X(START_PASSWORD, "SialiPassword", TEXT, start_password, start_password, 0, 0, NULL, \
      "password of the account created at start") \
    X(START_TOKEN, "SialiUserToken", TOKEN, start_token, start_token, 0, 0, NULL, \
      "API token (at least 5 characters) of the account created at start") \
    X(SESSION_MAX_AGE, "SialiSessionMaxAge", SECONDS, session_max_age, session_max_age, \
      0, 0, "14d", "session lifetime, e.g. 14d") \
    X(SESSION_IDLE, "SialiSessionIdleTimeout", SECONDS, session_idle, session_idle, 0, 0, "5d", \
      "session ends after this long without use, e.g. 5d") \
    X(AUTH_CACHE, "SialiAuthCache", CACHE, auth_cache, auth_cache, 0, 3600, "30s", \
      "how long a child may keep who a token or session is between the changes " \
      "it hears of (Off, or e.g. 30s)") \
    X(AUDIT_RETENTION, "SialiAuditRetention", CACHE, audit_retention, audit_retention, \
      0, 315360000, "90d", "how long the audit log keeps security events: a duration such " \
      "as 90d, or Off (kept forever)") \
    X(REQUIRE_2FA, "SialiRequireTwoFactor", FLAG, require_2fa, require_2fa, 0, 1, "Off", \
      "On: every member without two-factor login sets it up at their next login") \
    X(RESET_LINK_LIFE, "SialiResetLinkLifetime", SECONDS, reset_link_life, reset_link_life, \
      0, 0, "24h", "how long a password-reset link stays valid, e.g. 24h") \
    X(MAIL_RELAY, "SialiMailRelay", TEXT, mail_relay, mail_relay, 0, 0, NULL, \
      "host:port of an SMTP relay: members may ask for a password-reset link by email") \
    X(MAIL_FROM, "SialiMailFrom", TEXT, mail_from, mail_from, 0, 0, NULL, \
      "sender address of the reset mails (needed with SialiMailRelay)") \
    X(MAIL_USER, "SialiMailUser", TEXT, mail_user, mail_user, 0, 0, NULL, \
      "user for AUTH PLAIN at the relay, only ever after STARTTLS") \
    X(MAIL_PASSWORD_FILE, "SialiMailPasswordFile", TEXT, mail_password_file, \
      mail_password_file, 0, 0, NULL, "file holding the relay password (read at start)") \
    X(MAIL_CA_FILE, "SialiMailCAFile", TEXT, mail_ca_file, mail_ca_file, 0, 0, NULL, \
      "CA certificates the relay's STARTTLS certificate is checked with (default: the " \
      "system's)") \
    X(DB_WAIT, "SialiDatabaseWait", USEC, db_wait, db_wait, 0, 600, "3s", \
      "longest wait of a request for the database (a pooled connection, the SQLite " \
      "writer, retries of busy work) before 503, e.g. 3s") \
    X(HASH_WAIT, "SialiPasswordHashWait", USEC, hash_wait, hash_wait, 0, 600, "10s", \
      "longest wait for one of the hashing slots (as many as cores, shared by all " \
      "children) before 503, e.g. 10s") \
    X(PASSWORD_MIN, "SialiPasswordMinLength", INT, password_min, password_min, 1, \
      SL_PASSWORD_MAX, "8", "minimum password length in characters (1-128)") \
    X(HASH, "SialiPasswordHash", HASH, hash, hash, 0, 0, "argon2id m=19456 t=2 p=1", \
      "cost of new password hashes: argon2id m=KIB t=N p=N") \
    X(LOGIN_THROTTLE, "SialiLoginThrottle", THROTTLE, throttle_max, throttle_window, 1, \
      1000000, "10 300", "failed logins allowed per typed login and per address in a window: " \
      "N SECONDS") \
    X(SIGNUP_THROTTLE, "SialiSignupThrottle", THROTTLE, signup_max, signup_window, 1, \
      1000000, "50 3600", "signups allowed per address in a window: N SECONDS (default 50 3600)") \
    X(AUTH_THROTTLE, "SialiAuthThrottle", THROTTLE, auth_max, auth_window, 1, 1000000, "50 60", \
      "failed token or session-cookie authentications allowed per address in a " \
      "window: N SECONDS (default 50 60)")

typedef enum {
    SL_SET_FLAG, SL_SET_INT, SL_SET_SECONDS, SL_SET_USEC, SL_SET_CACHE, SL_SET_SIZE,
    SL_SET_TEXT, SL_SET_TOKEN, SL_SET_THROTTLE, SL_SET_HASH
} sl_setting_kind_e;

typedef struct {
    const char *name;              /* the directive */
    sl_setting_kind_e kind;
    apr_size_t off, size;          /* the field in sl_config_t */
    apr_size_t off2, size2;        /* THROTTLE: the window; else the same */
    long min, max;
    const char *def;               /* the default, as written in a directive */
    const char *help;
} sl_setting_t;

#define SL_SETTING_ENUM(id, name, kind, f, f2, min, max, def, help) SL_SETTING_##id,
enum { SL_SETTINGS(SL_SETTING_ENUM) SL_SETTINGS_COUNT };
#undef SL_SETTING_ENUM

extern const sl_setting_t sl_settings[SL_SETTINGS_COUNT];

/* Parses a directive's arguments (arg2: THROTTLE's window, else NULL) into
 * cfg and marks it given. NULL, or an error that names the directive. */
const char *sl_setting_apply(sl_config_t *cfg, const sl_setting_t *s, const char *arg,
                             const char *arg2, apr_pool_t *p);

/* out = base with every setting that add gave taken from add: httpd's
 * "a virtual host inherits what it does not say". out may be base. */
void sl_config_merge(sl_config_t *out, const sl_config_t *base, const sl_config_t *add);

/* The last step before the children start: settings no directive gave are
 * taken from the LABEL_STUDIO_* environment (the signup restriction, the
 * start-up account) and the start-up account is checked whole. NULL, or
 * an error naming its source. Run it on every start: it reads the
 * environment afresh and never marks what it took as given. */
const char *sl_config_finish(sl_config_t *cfg, apr_pool_t *p);

/* Fills the defaults: each row's `def` (SL_SETTINGS), none marked given. */
void sl_config_defaults(sl_config_t *cfg, apr_pool_t *p);

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
