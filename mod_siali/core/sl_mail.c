#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "sl_mail.h"
#include "sl_secret.h"

void sl_mail_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *sl_mail_check_relay(const char *relay, apr_pool_t *p)
{
    const char *colon = relay ? strrchr(relay, ':') : NULL, *c;
    char *end;
    long port;

    if (!colon || colon == relay) {
        return "expected host:port, e.g. smtp.example.org:587";
    }
    for (c = relay; c < colon; c++) {
        if (apr_isspace(*c) || strchr("/@?#", *c) || !apr_isprint(*c)) {
            return "the host may not hold spaces or / @ ? #";
        }
    }
    port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535 || !apr_isdigit(colon[1])) {
        return apr_psprintf(p, "'%s' is no port (1-65535)", colon + 1);
    }
    return NULL;
}

const char *sl_mail_message(const char *from, const char *to, const char *subject,
                            const char *body, apr_pool_t *p)
{
    char date[APR_RFC822_DATE_LEN];
    const char *id = NULL, *host = strchr(from, '@');
    const char *b, *nl;
    char *text;

    apr_rfc822_date(date, apr_time_now());
    sl_secret_hex(&id, 16, p);
    text = apr_pstrcat(p, "Date: ", date, "\r\nFrom: Siali Label <", from, ">\r\nTo: <", to,
                       ">\r\nSubject: ", subject, "\r\nMessage-ID: <", id ? id : "0",
                       host ? host : "@localhost", ">\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n\r\n", NULL);
    /* the body's lines with CRLF, whatever it was written with */
    for (b = body; *b; b = nl + 1) {
        nl = strchr(b, '\n');
        if (!nl) {
            text = apr_pstrcat(p, text, b, "\r\n", NULL);
            break;
        }
        text = apr_pstrcat(p, text, apr_pstrmemdup(p, b, nl - b - (nl > b && nl[-1] == '\r')),
                           "\r\n", NULL);
    }
    return text;
}

typedef struct {
    const char *text;
    apr_size_t left;
} reader_t;

static size_t read_cb(char *buf, size_t size, size_t n, void *data)
{
    reader_t *r = data;
    size_t room = size * n, take = r->left < room ? r->left : room;

    memcpy(buf, r->text, take);
    r->text += take;
    r->left -= take;
    return take;
}

const char *sl_mail_send(const sl_mail_cfg_t *cfg, const char *to, const char *text,
                         apr_pool_t *p)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL;
    reader_t r = { text, strlen(text) };
    const char *why = NULL;
    CURL *c = curl_easy_init();
    CURLcode rc;

    if (!c) {
        return "libcurl could not start";
    }
    rcpt = curl_slist_append(rcpt, apr_pstrcat(p, "<", to, ">", NULL));
    curl_easy_setopt(c, CURLOPT_URL, apr_pstrcat(p, "smtp://", cfg->relay, NULL));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, apr_pstrcat(p, "<", cfg->from, ">", NULL));
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    /* threads: no SIGALRM for the resolver's timeout */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->timeout_ms < 5000 ? cfg->timeout_ms
                                                                           : 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    /* a password never crosses the network in clear: STARTTLS or nothing;
     * without one, STARTTLS whenever the relay offers it (the link in the
     * mail is as good as the account), checked like any other */
    curl_easy_setopt(c, CURLOPT_USE_SSL, cfg->user ? (long)CURLUSESSL_ALL
                                                   : (long)CURLUSESSL_TRY);
    if (cfg->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    }
    if (cfg->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
    }
    if ((rc = curl_easy_perform(c)) != CURLE_OK) {
        why = apr_psprintf(p, "%s%s%s", curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return why;
}
