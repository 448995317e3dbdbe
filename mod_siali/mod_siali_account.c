/* Account & Settings: avatars (upload, removal, serving) and the password
 * change. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <unixd.h>

#include "mod_siali_account.h"
#include "mod_siali_config.h"
#include "mod_siali_db.h"
#include "mod_siali_http.h"
#include "sl_image.h"
#include "sl_json.h"
#include "sl_multipart.h"
#include "sl_auth.h"
#include "sl_dbfile.h"
#include "sl_secret.h"

#define MULTIPART_OVERHEAD (64 * 1024)   /* headers and boundaries */
#define AVATAR_HEX 32

const char *siali_account_prepare_avatar_dirs(apr_pool_t *pconf, server_rec *s,
                                              const char *main_sqlite_path)
{
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        const char *e;

        if (!c->avatar_dir) {
            const char *slash = main_sqlite_path ? strrchr(main_sqlite_path, '/') : NULL;
            c->avatar_dir = slash ? apr_pstrcat(pconf, apr_pstrmemdup(pconf, main_sqlite_path,
                                                slash - main_sqlite_path), "/avatars", NULL)
                                  : ap_server_root_relative(pconf, "avatars");
        }
        /* the children write here, nobody else reads here (the module serves
         * the pictures to members): the mode exactly, whatever the umask, and
         * never through a symbolic link the children's user put there */
        if ((e = sl_dbfile_hand_folder(c->avatar_dir, 0700, ap_unixd_config.user_id,
                                       ap_unixd_config.group_id, pconf))) {
            return apr_psprintf(pconf, "SialiAvatarDir %s: %s", c->avatar_dir, e);
        }
    }
    return NULL;
}

static int avatar_name_ok(const char *name);

#define SWEEP_AGE 3600   /* seconds: younger files may be an upload in flight */

/* The names the accounts of one database give their pictures, added to
 * named; 0 when the database could not be read (then nothing is swept). */
static int names_of(apr_pool_t *p, const char *driver, const char *params, apr_hash_t *named)
{
    sl_rows_t res;
    sl_db_t *db;
    int i, ok;

    if (!driver || !params || sl_db_open(&db, driver, params, 1, NULL, p) != SL_OK) {
        return 0;
    }
    ok = sl_db_select(db, p, "siali_user_avatars", &res, 0, NULL, NULL) == SL_OK;
    for (i = 0; ok && i < res.rows->nelts; i++) {
        apr_hash_set(named, SL_ROW(&res, i)[0], APR_HASH_KEY_STRING, "");
    }
    sl_db_close(db);
    return ok;
}

/* The avatar files of one folder that no account of any database using it
 * names (left by a crash between writing a file and saving its name, or by
 * older versions), and temporary files, once they are an hour old. */
static void sweep_one(apr_pool_t *p, server_rec *s, const char *folder)
{
    apr_hash_t *named = apr_hash_make(p), *dbs = apr_hash_make(p);
    apr_time_t old = apr_time_now() - apr_time_from_sec(SWEEP_AGE);
    apr_dir_t *dir;
    apr_finfo_t fi;
    server_rec *sp;
    int removed = 0;

    /* virtual hosts with databases of their own may share the folder */
    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        const char *key;
        if (!c->avatar_dir || strcmp(c->avatar_dir, folder)) {
            continue;
        }
        key = apr_pstrcat(p, c->db_driver ? c->db_driver : "", ":",
                          c->db_params ? c->db_params : "", NULL);
        if (apr_hash_get(dbs, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(dbs, key, APR_HASH_KEY_STRING, "");
        if (!names_of(p, c->db_driver, c->db_params, named)) {
            return;
        }
    }
    if (apr_dir_open(&dir, folder, p) != APR_SUCCESS) {
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE | APR_FINFO_MTIME, dir)
           == APR_SUCCESS) {
        apr_size_t n = strlen(fi.name);
        int tmp = n > 4 && !strcmp(fi.name + n - 4, ".tmp")
                  && avatar_name_ok(apr_pstrmemdup(p, fi.name, n - 4));
        if (fi.filetype != APR_REG || fi.mtime > old
            || (!tmp && (!avatar_name_ok(fi.name)
                         || apr_hash_get(named, fi.name, APR_HASH_KEY_STRING)))) {
            continue;
        }
        if (apr_file_remove(apr_pstrcat(p, folder, "/", fi.name, NULL), p) == APR_SUCCESS) {
            removed++;
        }
    }
    apr_dir_close(dir);
    if (removed) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "SL70005: removed %d avatar file(s) "
                     "that no account names from %s", removed, folder);
    }
}

void siali_account_sweep_avatars(apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *done = apr_hash_make(ptemp);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        siali_srv_conf_t *c = siali_config_get(sp);
        if (c->avatar_dir && !apr_hash_get(done, c->avatar_dir, APR_HASH_KEY_STRING)) {
            apr_hash_set(done, c->avatar_dir, APR_HASH_KEY_STRING, "");
            sweep_one(ptemp, s, c->avatar_dir);
        }
    }
}

/* <user id>-<32 hex>.png|jpg: the only names ever written or served */
static int avatar_name_ok(const char *name)
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
    return c - dash - 1 == AVATAR_HEX && (!strcmp(c, ".png") || !strcmp(c, ".jpg"));
}

void siali_account_remove_avatar(request_rec *r, siali_req_t *req, const char *name)
{
    const char *dir = req->conf->avatar_dir;

    if (avatar_name_ok(name)) {
        apr_status_t rv = apr_file_remove(apr_pstrcat(r->pool, dir, "/", name, NULL), r->pool);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, "SL70001: cannot remove the "
                          "old avatar %s/%s", dir, name);
        }
    }
}

static int store(request_rec *r, siali_req_t *req, const sl_image_t *img, const char **name)
{
    const char *hex, *path, *tmp;
    apr_file_t *f;
    apr_size_t n = img->len;
    apr_status_t rv;

    if (sl_secret_hex(&hex, AVATAR_HEX / 2, r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *name = apr_psprintf(r->pool, "%s-%s.%s", req->user->id, hex, img->ext);
    path = apr_pstrcat(r->pool, req->conf->avatar_dir, "/", *name, NULL);
    tmp = apr_pstrcat(r->pool, path, ".tmp", NULL);
    /* written whole under another name, then renamed: never half a file */
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL
                       | APR_FOPEN_BINARY, APR_FPROT_UREAD | APR_FPROT_UWRITE, r->pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, img->data, img->len, &n);
        if (apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
        if (rv == APR_SUCCESS) {
            rv = apr_file_rename(tmp, path, r->pool);
        }
        if (rv != APR_SUCCESS) {
            apr_file_remove(tmp, r->pool);
        }
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "SL70002: cannot write the avatar %s",
                      path);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

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
    const char *old = NULL, *name = NULL;
    sl_image_t img;
    sl_err_t err;
    int rc;

    if (strcmp(req->ids[0], req->user->id)) {
        return siali_http_error(r, HTTP_FORBIDDEN, "You can only change your own avatar.",
                                NULL, NULL);
    }
    if (r->method_number == M_DELETE) {
        if (sl_account_set_avatar(siali_db_source(r, req), &old, req->user->id, NULL, &err,
                                  r->pool) != SL_OK) {
            return siali_http_core_error(r, &err);   /* the file stays */
        }
        siali_account_remove_avatar(r, req, old);
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
    if ((rc = store(r, req, &img, &name)) != OK) {
        return rc;
    }
    if (sl_account_set_avatar(siali_db_source(r, req), &old, req->user->id, name, &err,
                              r->pool) != SL_OK) {
        /* the database still names the old file: keep it, drop the new one */
        siali_account_remove_avatar(r, req, name);
        return siali_http_core_error(r, &err);
    }
    /* exactly the file this write replaced, read in its transaction */
    siali_account_remove_avatar(r, req, old);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70003: user %s avatar %s (%ldx%ld)",
                  req->user->id, name, img.width, img.height);
    return siali_http_json(r, HTTP_OK, sl_json_pool(json_pack(
        "{s:s, s:s}", "detail", "avatar saved", "avatar",
        apr_pstrcat(r->pool, req->prefix, SL_AVATAR_BASE, name, NULL)), r->pool));
}

int siali_avatar_file(request_rec *r, siali_req_t *req)
{
    const char *name = req->ids[0], *path;
    apr_finfo_t fi;
    apr_file_t *f;
    apr_size_t sent = 0;

    if (!avatar_name_ok(name)) {
        return siali_http_error(r, HTTP_NOT_FOUND, "No such avatar.", NULL, NULL);
    }
    path = apr_pstrcat(r->pool, req->conf->avatar_dir, "/", name, NULL);
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, r->pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return siali_http_error(r, HTTP_NOT_FOUND, "No such avatar.", NULL, NULL);
    }
    /* only pixels are stored; say so to the browser too */
    ap_set_content_type(r, strstr(name, ".png") ? "image/png" : "image/jpeg");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Content-Security-Policy", "sandbox");
    apr_table_setn(r->headers_out, "Cache-Control", "private, max-age=86400");
    ap_set_content_length(r, fi.size);
    if (!r->header_only) {
        ap_send_fd(f, r, 0, fi.size, &sent);
    }
    return OK;
}

int siali_api_password(request_rec *r, siali_req_t *req)
{
    static const char *const keys[] = { "current_password", "new_password", NULL };
    const char *key;
    apr_int64_t retry = 0;
    json_t *body, *v, *fresh;
    sl_err_t err;
    int i;

    if (siali_http_read_json(r, &body) != OK) {
        return OK;
    }
    json_object_foreach(body, key, v) {
        for (i = 0; keys[i] && strcmp(keys[i], key); i++)
            ;
        if (!keys[i] || !json_is_string(v)) {
            return siali_http_error(r, HTTP_BAD_REQUEST, apr_psprintf(
                r->pool, keys[i] ? "%s must be a string." : "Unknown field %s.", key), key, NULL);
        }
    }
    fresh = json_object_get(body, "new_password");
    switch (sl_auth_change_password(siali_db_source(r, req), req->user,
                                    json_string_value(json_object_get(body, "current_password")),
                                    json_string_value(fresh),
                                    fresh ? json_string_length(fresh) : 0,
                                    req->session, r->useragent_ip, &req->conf->core, &retry,
                                    &err, r->pool)) {
    case SL_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "SL70004: user %s changed their password",
                      req->user->id);
        return siali_http_json(r, HTTP_NO_CONTENT, NULL);
    case SL_ETHROTTLED:
        apr_table_setn(r->err_headers_out, "Retry-After", sl_i64(retry, r->pool));
        return siali_http_core_error(r, &err);
    case SL_EINVALID:
        return siali_http_error(r, HTTP_BAD_REQUEST, err.message, err.field, NULL);
    default:
        return siali_http_core_error(r, &err);
    }
}
