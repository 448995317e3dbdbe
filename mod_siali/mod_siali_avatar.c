/* Account pictures: uploaded (multipart, re-encoded by libgd), kept in the
 * database so every node serves the same ones, and served only to members
 * while their account names them. Files an older version kept in
 * SialiAvatarDir are moved into the database at start. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_siali_avatar.h"
#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_image.h"
#include "sl_json.h"
#include "sl_multipart.h"

#define MULTIPART_OVERHEAD (64 * 1024)   /* headers and boundaries */
#define AVATAR_HEX 32

/* <user id>-<32 hex>.png|jpg: the only names ever written or served */
static int avatar_name_ok(const char *name, apr_size_t *uid_len)
{
    const char *c = name, *dash;

    if (!name) {
        return 0;
    }
    while (*c >= '0' && *c <= '9') {
        c++;
    }
    if (c == name || *c != '-') {
        return 0;
    }
    dash = c++;
    while ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')) {
        c++;
    }
    if (uid_len) {
        *uid_len = dash - name;
    }
    return c - dash - 1 == AVATAR_HEX && (!strcmp(c, ".png") || !strcmp(c, ".jpg"));
}

/* ---- at start: pictures an older version kept as files ---- */

/* The bytes of folder/name when it is a regular file (not a link, not a
 * FIFO) of a sane size: the parent runs as root and the folder belongs to
 * the children's user, who must not make root read anything else. */
static char *read_old_file(int dfd, const char *name, apr_size_t *len, apr_pool_t *p)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    char *bytes = NULL;
    apr_size_t got = 0;

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
        && st.st_size < 16 * 1024 * 1024) {
        bytes = apr_palloc(p, (apr_size_t)st.st_size);
        while (got < (apr_size_t)st.st_size) {
            ssize_t n = read(fd, bytes + got, (apr_size_t)st.st_size - got);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                break;
            }
            got += (apr_size_t)n;
        }
        if (got != (apr_size_t)st.st_size) {
            bytes = NULL;
        }
    }
    close(fd);
    *len = got;
    return bytes;
}

static void import_folder(apr_pool_t *p, server_rec *s, siali_srv_conf_t *c,
                          const char *folder)
{
    apr_array_header_t *done = apr_array_make(p, 8, sizeof(const char *)), *missing;
    sl_db_t *db;
    sl_err_t err;
    int i, dfd, moved = 0;

    /* the folder itself not through a link either; every file below by
     * this descriptor, so a folder swapped meanwhile changes nothing */
    dfd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        return;
    }
    if (!c->db_driver || !c->db_params
        || sl_db_open(&db, c->db_driver, c->db_params, 1, NULL, p) != SL_OK) {
        close(dfd);
        return;
    }
    if (sl_db_tx_begin(db, NULL) != SL_OK
        || sl_account_avatars_missing(db, &missing, NULL, p) != SL_OK) {
        sl_db_tx_end(db, 0, NULL);
        sl_db_close(db);
        close(dfd);
        return;
    }
    for (i = 0; i < missing->nelts; i++) {
        const char *name = APR_ARRAY_IDX(missing, i, const char *);
        apr_size_t uid_len = 0, n = 0;
        char *bytes;

        if (!avatar_name_ok(name, &uid_len)) {
            continue;
        }
        if ((bytes = read_old_file(dfd, name, &n, p))
            && sl_account_import_avatar(db, apr_pstrmemdup(p, name, uid_len), name,
                                        bytes, n, strstr(name, ".png") ? "image/png"
                                                                       : "image/jpeg",
                                        &err, p) == SL_OK) {
            APR_ARRAY_PUSH(done, const char *) = name;
        }
    }
    if (sl_db_tx_end(db, 1, NULL) == SL_OK) {
        /* in the database now: the files go */
        for (i = 0; i < done->nelts; i++) {
            if (unlinkat(dfd, APR_ARRAY_IDX(done, i, const char *), 0) == 0) {
                moved++;
            }
        }
    }
    sl_db_close(db);
    close(dfd);
    if (moved) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "SL70005: moved %d avatar file(s) from "
                     "%s into the database", moved, folder);
    }
}

void siali_avatar_import_files(apr_pool_t *ptemp, server_rec *s, const char *main_sqlite_path)
{
    apr_hash_t *done = apr_hash_make(ptemp);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        const char *folder = c->avatar_dir, *key;
        apr_finfo_t fi;

        if (!folder) {
            /* where older versions kept them by default */
            const char *slash = main_sqlite_path ? strrchr(main_sqlite_path, '/') : NULL;
            folder = slash ? apr_pstrcat(ptemp, apr_pstrmemdup(ptemp, main_sqlite_path,
                                         slash - main_sqlite_path), "/avatars", NULL)
                           : ap_server_root_relative(ptemp, "avatars");
        }
        if (!folder || apr_stat(&fi, folder, APR_FINFO_TYPE | APR_FINFO_LINK, ptemp)
            != APR_SUCCESS || fi.filetype != APR_DIR) {
            continue;   /* none (or a link: not followed) */
        }
        key = apr_pstrcat(ptemp, folder, "|", c->db_driver ? c->db_driver : "", ":",
                          c->db_params ? c->db_params : "", NULL);
        if (apr_hash_get(done, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(done, key, APR_HASH_KEY_STRING, "");
        import_folder(ptemp, s, c, folder);
    }
}

/* ---- upload, removal, serving ---- */

/* Reads the multipart body while feeding the parser: 413 past the limit
 * without reading the rest. */
static int read_upload(request_rec *r, siali_req_t *req, const sl_multipart_part_t **part)
{
    apr_size_t max = req->conf->core.avatar_max_bytes;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_array_header_t *parts;
    sl_multipart_t *mp;
    char chunk[16384];
    sl_err_t err;
    long n;
    int rc;

    if (sl_multipart_create(&mp, ct, max + MULTIPART_OVERHEAD, 8, 8192, &err, r->pool) != SL_OK) {
        siali_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, err.message, "avatar", NULL);
        return DONE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > (apr_off_t)(max + MULTIPART_OVERHEAD)) {
        goto too_large;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, chunk, sizeof(chunk))) > 0) {
            sl_kind_e k = sl_multipart_feed(mp, chunk, n, &err);
            if (k == SL_ETOOLARGE) {
                goto too_large;
            }
            if (k != SL_OK) {
                siali_http_error(r, HTTP_BAD_REQUEST, err.message, "avatar", NULL);
                return DONE;
            }
        }
        if (n < 0) {
            siali_http_error(r, HTTP_BAD_REQUEST, "The upload could not be read.", NULL, NULL);
            return DONE;
        }
    }
    if (sl_multipart_finish(mp, &parts, &err) != SL_OK) {
        siali_http_error(r, HTTP_BAD_REQUEST, err.message, "avatar", NULL);
        return DONE;
    }
    if (!(*part = sl_multipart_get(parts, "avatar"))) {
        siali_http_error(r, HTTP_BAD_REQUEST, "Send the image in the form field \"avatar\".",
                         "avatar", NULL);
        return DONE;
    }
    if ((*part)->len > max) {
        goto too_large;
    }
    return OK;
too_large:
    siali_http_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, apr_psprintf(
        r->pool, "Please use an image of at most %" APR_SIZE_T_FMT " KiB.", max / 1024),
        "avatar", NULL);
    return DONE;
}

int siali_api_avatar(request_rec *r, siali_req_t *req)
{
    const sl_multipart_part_t *part;
    const char *name = NULL;
    sl_image_t img;
    sl_err_t err;
    int rc;

    if (strcmp(req->ids[0], req->user->id)) {
        return siali_http_error(r, HTTP_FORBIDDEN, "You can only change your own avatar.",
                                NULL, NULL);
    }
    if (r->method_number == M_DELETE) {
        if (sl_account_set_avatar(siali_db_source(r, req), &name, req->user->id, NULL, 0,
                                  NULL, NULL, &err, r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);
        }
        return siali_http_json(r, HTTP_NO_CONTENT, NULL);
    }
    /* read and decoded with no database connection out */
    if ((rc = read_upload(r, req, &part)) != OK) {
        return rc == DONE ? OK : rc;
    }
    if (sl_image_reencode(&img, part->data, part->len, req->conf->core.avatar_max_px, &err,
                          r->pool) != SL_OK) {
        if (err.kind == SL_EINTERNAL) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return siali_http_error(r, HTTP_BAD_REQUEST, err.message, "avatar", NULL);
    }
    if (sl_account_set_avatar(siali_db_source(r, req), &name, req->user->id, img.data, img.len,
                              img.ext, img.mime, &err, r->pool) != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70003: user %s avatar %s (%ldx%ld)",
                  req->user->id, name, img.width, img.height);
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack(
        "{s:s, s:s}", "detail", "avatar saved", "avatar",
        apr_pstrcat(r->pool, req->prefix, SL_AVATAR_BASE, name, NULL)), r->pool));
}

int siali_avatar_file(request_rec *r, siali_req_t *req)
{
    const char *name = req->ids[0], *inm = apr_table_get(r->headers_in, "If-None-Match");
    sl_avatar_t pic;
    sl_err_t err;
    sl_kind_e k;
    const char *etag;

    if (!avatar_name_ok(name, NULL)) {
        return siali_http_error(r, HTTP_NOT_FOUND, "No such avatar.", NULL, NULL);
    }
    /* a name serves one picture for ever: with its ETag, only whether it is
     * still the account's is asked (not its bytes) */
    k = sl_account_avatar(siali_db_source(r, req), &pic, name, !inm, &err, r->pool);
    if (k != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    etag = apr_pstrcat(r->pool, "\"", pic.sha256, "\"", NULL);
    apr_table_setn(r->headers_out, "ETag", etag);
    /* cached by the member's browser only; its URL changes with the picture */
    apr_table_setn(r->headers_out, "Cache-Control", "private, max-age=31536000, immutable");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Content-Security-Policy", "sandbox");
    if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
        return HTTP_NOT_MODIFIED;
    }
    if (inm && sl_account_avatar(siali_db_source(r, req), &pic, name, 1, &err, r->pool)
        != SL_OK) {
        return siali_http_core_error(r, &err);
    }
    /* only pixels are stored; say so to the browser too */
    ap_set_content_type(r, pic.content_type);
    ap_set_content_length(r, pic.len);
    if (!r->header_only) {
        ap_rwrite(pic.data, (int)pic.len, r);
    }
    return OK;
}
