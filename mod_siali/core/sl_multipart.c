#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_multipart.h"

typedef enum { ST_PREAMBLE, ST_HEADERS, ST_BODY, ST_DONE } state_e;

struct sl_multipart_t {
    apr_pool_t *pool;
    const char *delim;         /* "\r\n--" boundary */
    apr_size_t delim_len;
    char *buf;                 /* everything fed so far */
    apr_size_t len, cap, max_body;
    apr_size_t pos;            /* parsed up to here */
    apr_size_t scan;           /* searched up to here in this state: each
                                * byte is looked at a bounded number of
                                * times however the body is split */
    apr_size_t examined;       /* bytes searched, for the unit test */
    state_e state;
    int max_parts;
    apr_size_t max_header;
    sl_multipart_part_t cur;
    apr_array_header_t *parts;
};

static const char *find_ci(const char *hay, const char *needle)
{
    apr_size_t n = strlen(needle);

    for (; *hay; hay++) {
        if (!strncasecmp(hay, needle, n)) {
            return hay;
        }
    }
    return NULL;
}

/* boundary=... (quoted or not), 1-70 characters, no CR/LF */
static const char *boundary_of(const char *ct, apr_pool_t *p)
{
    const char *b = find_ci(ct, "boundary="), *v;
    apr_size_t n;

    if (!b) {
        return NULL;
    }
    b += 9;
    if (*b == '"') {
        const char *end = strchr(++b, '"');
        if (!end) {
            return NULL;
        }
        n = end - b;
    }
    else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 70) {
        return NULL;
    }
    v = apr_pstrmemdup(p, b, n);
    return strpbrk(v, "\r\n") ? NULL : v;
}

sl_kind_e sl_multipart_create(sl_multipart_t **out, const char *content_type,
                              apr_size_t max_body, int max_parts,
                              apr_size_t max_header, sl_err_t *err, apr_pool_t *p)
{
    sl_multipart_t *mp;
    const char *b;

    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19)) {
        return sl_err_set(err, SL_EINVALID, NULL, "Send the file as multipart/form-data.");
    }
    if (!(b = boundary_of(content_type, p))) {
        return sl_err_set(err, SL_EINVALID, NULL,
                          "The multipart/form-data header has no usable boundary.");
    }
    mp = apr_pcalloc(p, sizeof(*mp));
    mp->pool = p;
    mp->delim = apr_pstrcat(p, "\r\n--", b, NULL);
    mp->delim_len = strlen(mp->delim);
    mp->max_body = max_body;
    mp->max_parts = max_parts;
    mp->max_header = max_header;
    mp->cap = 8192 < max_body ? 8192 : max_body;
    mp->buf = apr_palloc(p, mp->cap + 1);
    mp->parts = apr_array_make(p, 4, sizeof(sl_multipart_part_t));
    mp->state = ST_PREAMBLE;
    *out = mp;
    return SL_OK;
}

static const char *find_mem(sl_multipart_t *mp, const char *hay, apr_size_t hlen,
                            const char *needle, apr_size_t nlen)
{
    const char *f = nlen <= hlen ? memmem(hay, hlen, needle, nlen) : NULL;

    mp->examined += f ? (apr_size_t)(f - hay) + nlen : hlen;
    return f;
}

/* A new state: searching starts where it does. */
static void enter(sl_multipart_t *mp, state_e state, apr_size_t pos)
{
    mp->state = state;
    mp->pos = pos;
    mp->scan = pos;
}

/* a parameter of Content-Disposition: name="..." (quoted, with \" escapes)
 * or name=token */
static const char *param(apr_pool_t *p, const char *hdr, const char *key)
{
    apr_size_t klen = strlen(key);
    const char *s = hdr;

    while ((s = find_ci(s, key))) {
        int at_start = s == hdr || s[-1] == ';' || s[-1] == ' ' || s[-1] == '\t';
        if (at_start && s[klen] == '=') {
            const char *v = s + klen + 1;
            if (*v == '"') {
                char *out = apr_palloc(p, strlen(v)), *d = out;
                for (v++; *v && *v != '"'; v++) {
                    if (*v == '\\' && v[1]) {
                        v++;
                    }
                    *d++ = *v;
                }
                if (*v != '"') {
                    return NULL;
                }
                *d = '\0';
                return out;
            }
            return apr_pstrmemdup(p, v, strcspn(v, "; \t"));
        }
        s += klen;
    }
    return NULL;
}

static sl_kind_e parse_headers(sl_multipart_t *mp, const char *h, apr_size_t len,
                               sl_err_t *err)
{
    char *copy = apr_pstrmemdup(mp->pool, h, len), *line, *last;
    int disposition = 0;

    memset(&mp->cur, 0, sizeof(mp->cur));
    for (line = apr_strtok(copy, "\r\n", &last); line; line = apr_strtok(NULL, "\r\n", &last)) {
        char *colon = strchr(line, ':'), *v;
        if (!colon) {
            return sl_err_set(err, SL_EINVALID, NULL, "A multipart header line has no ':'.");
        }
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (!strcasecmp(line, "Content-Disposition")) {
            if (strncasecmp(v, "form-data", 9)) {
                return sl_err_set(err, SL_EINVALID, NULL,
                                  "A part's Content-Disposition is not form-data.");
            }
            mp->cur.name = param(mp->pool, v, "name");
            mp->cur.filename = param(mp->pool, v, "filename");
            disposition = 1;
        }
        else if (!strcasecmp(line, "Content-Type")) {
            mp->cur.content_type = apr_pstrdup(mp->pool, v);
        }
    }
    if (!disposition || !mp->cur.name) {
        return sl_err_set(err, SL_EINVALID, NULL, "A part has no form-data name.");
    }
    return SL_OK;
}

#define MAX_PADDING 64   /* blanks allowed between a delimiter and its CRLF */

/* After a delimiter ending at `end`: "--" closes, CRLF (after at most
 * MAX_PADDING blanks) opens a part: 1. Anything else means the bytes were
 * data that merely looked like a delimiter: -1. 0 = need more data. */
static int after_delim(sl_multipart_t *mp, apr_size_t end)
{
    apr_size_t i = end;

    if (mp->len - i < 2) {
        return 0;
    }
    if (mp->buf[i] == '-' && mp->buf[i + 1] == '-') {
        enter(mp, ST_DONE, i + 2);
        return 1;
    }
    while (i < mp->len && i - end <= MAX_PADDING
           && (mp->buf[i] == ' ' || mp->buf[i] == '\t')) {
        i++;
    }
    mp->examined += i - end;
    if (i - end > MAX_PADDING) {
        return -1;
    }
    if (mp->len - i < 2) {
        return 0;
    }
    if (mp->buf[i] != '\r' || mp->buf[i + 1] != '\n') {
        return -1;
    }
    enter(mp, ST_HEADERS, i + 2);
    return 1;
}

/* The next real delimiter at or after `from`: its end offset, or 0 when
 * none yet (need more data). The search resumes where the last one of this
 * state stopped (mp->scan), never from the start of the part: a body fed
 * in small pieces costs linear time, not quadratic. */
static apr_size_t next_delim(sl_multipart_t *mp, apr_size_t from, apr_size_t *start, int *more)
{
    const char *f;

    *more = 0;
    if (mp->scan > from) {
        from = mp->scan;
    }
    for (;;) {
        f = find_mem(mp, mp->buf + from, mp->len - from, mp->delim, mp->delim_len);
        if (!f) {
            /* a delimiter may still begin in the last delim_len - 1 bytes */
            mp->scan = mp->len - from >= mp->delim_len ? mp->len - mp->delim_len + 1 : from;
            return 0;
        }
        *start = f - mp->buf;
        switch (after_delim(mp, *start + mp->delim_len)) {
        case 1:
            return *start + mp->delim_len;
        case 0:
            *more = 1;
            mp->scan = *start;   /* decided once the next bytes arrive */
            return 0;
        default:
            from = *start + 1;   /* only looked like one: keep it as data */
        }
    }
}

static sl_kind_e run(sl_multipart_t *mp, sl_err_t *err)
{
    for (;;) {
        const char *b = mp->buf + mp->pos, *f;
        apr_size_t left = mp->len - mp->pos, start = 0, body_pos;
        int more;

        switch (mp->state) {
        case ST_PREAMBLE:
            /* the first delimiter may open the body without its CRLF */
            if (mp->pos == 0 && left >= mp->delim_len - 2
                && !memcmp(b, mp->delim + 2, mp->delim_len - 2)) {
                int a = after_delim(mp, mp->delim_len - 2);
                if (a == 0) {
                    return SL_OK;
                }
                if (a == 1) {
                    break;
                }
            }
            if (!next_delim(mp, mp->pos, &start, &more)) {
                if (!more && left > mp->max_header) {
                    return sl_err_set(err, SL_EINVALID, NULL,
                                      "No multipart boundary where one was expected.");
                }
                return SL_OK;
            }
            break;
        case ST_HEADERS:
            /* the header block ends with an empty line; it may be empty (the
             * delimiter's own CRLF is its first half) */
            {
                apr_size_t from = mp->scan > mp->pos ? mp->scan : mp->pos;
                f = find_mem(mp, mp->buf + from - 2, mp->len - from + 2, "\r\n\r\n", 4);
                if (!f) {
                    if (left > mp->max_header) {
                        return sl_err_set(err, SL_EINVALID, NULL,
                                          "A part's headers are too large.");
                    }
                    /* the next search starts 3 bytes before the end, where
                     * "\r\n\r\n" may already have begun */
                    mp->scan = mp->len > from ? mp->len - 1 : from;
                    return SL_OK;
                }
            }
            if ((apr_size_t)(f - b + 2) > mp->max_header) {
                return sl_err_set(err, SL_EINVALID, NULL, "A part's headers are too large.");
            }
            if (mp->parts->nelts >= mp->max_parts) {
                return sl_err_set(err, SL_EINVALID, NULL, "Too many parts in the form.");
            }
            if (f < b) {
                return sl_err_set(err, SL_EINVALID, NULL, "A part has no form-data name.");
            }
            {
                sl_kind_e k = parse_headers(mp, b, f - b, err);
                if (k != SL_OK) {
                    return k;
                }
            }
            enter(mp, ST_BODY, (f - mp->buf) + 4);
            break;
        case ST_BODY:
            body_pos = mp->pos;
            if (!next_delim(mp, body_pos, &start, &more)) {
                return SL_OK;   /* still ST_BODY at body_pos; scan kept */
            }
            /* data as an offset: the buffer may still move */
            mp->cur.data = (const char *)(apr_uintptr_t)body_pos;
            mp->cur.len = start - body_pos;
            APR_ARRAY_PUSH(mp->parts, sl_multipart_part_t) = mp->cur;
            break;
        default:
            return SL_OK;
        }
    }
}

sl_kind_e sl_multipart_feed(sl_multipart_t *mp, const char *buf, apr_size_t len,
                            sl_err_t *err)
{
    if (mp->len + len > mp->max_body) {
        return sl_err_set(err, SL_ETOOLARGE, NULL, "The upload is too large.");
    }
    if (mp->len + len > mp->cap) {
        apr_size_t cap = mp->cap * 2 > mp->len + len ? mp->cap * 2 : mp->len + len;
        char *bigger;
        if (cap > mp->max_body) {
            cap = mp->max_body;
        }
        bigger = apr_palloc(mp->pool, cap + 1);
        memcpy(bigger, mp->buf, mp->len);
        mp->buf = bigger;
        mp->cap = cap;
    }
    memcpy(mp->buf + mp->len, buf, len);
    mp->len += len;
    mp->buf[mp->len] = '\0';
    return run(mp, err);
}

sl_kind_e sl_multipart_finish(sl_multipart_t *mp, apr_array_header_t **parts,
                              sl_err_t *err)
{
    int i;

    if (mp->state != ST_DONE) {
        return sl_err_set(err, SL_EINVALID, NULL,
                          "The multipart body ends before its closing boundary.");
    }
    for (i = 0; i < mp->parts->nelts; i++) {
        sl_multipart_part_t *pt = &APR_ARRAY_IDX(mp->parts, i, sl_multipart_part_t);
        pt->data = mp->buf + (apr_uintptr_t)pt->data;
    }
    *parts = mp->parts;
    return SL_OK;
}

apr_size_t sl_multipart_examined(const sl_multipart_t *mp)
{
    return mp->examined;
}

const sl_multipart_part_t *sl_multipart_get(apr_array_header_t *parts, const char *name)
{
    int i;

    for (i = 0; i < parts->nelts; i++) {
        sl_multipart_part_t *pt = &APR_ARRAY_IDX(parts, i, sl_multipart_part_t);
        if (pt->name && !strcmp(pt->name, name)) {
            return pt;
        }
    }
    return NULL;
}
