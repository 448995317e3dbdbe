/* Mail through an SMTP relay, with libcurl: plain SMTP without
 * authentication, or AUTH PLAIN only after STARTTLS (the relay's
 * certificate checked against the system's CAs or a CA file). Used for the
 * password-reset links members ask for on the login page. */
#ifndef SL_MAIL_H
#define SL_MAIL_H

#include <apr_pools.h>

typedef struct {
    const char *relay;          /* host:port */
    const char *from;           /* an email */
    const char *user;           /* NULL: no AUTH (and no STARTTLS needed) */
    const char *password;
    const char *ca_file;        /* NULL: the system's CAs */
    long timeout_ms;            /* the whole exchange */
} sl_mail_cfg_t;

/* Once per process, before any thread sends (curl_global_init). */
void sl_mail_init(void);

/* "host:port": NULL, or why not (a port 1-65535, a host without spaces or
 * '/', '@', '?', '#'). */
const char *sl_mail_check_relay(const char *relay, apr_pool_t *p);

/* The message as sent: headers (Date, From, To, Subject, Message-ID, UTF-8
 * text) and body, CRLF line ends. to and from must be validated emails;
 * subject and body are ours (never a header of the caller's). */
const char *sl_mail_message(const char *from, const char *to, const char *subject,
                            const char *body, apr_pool_t *p);

/* Sends text to one recipient: NULL, or the relay's or libcurl's reason
 * (never the password). Blocks up to cfg->timeout_ms. */
const char *sl_mail_send(const sl_mail_cfg_t *cfg, const char *to, const char *text,
                         apr_pool_t *p);

#endif
