#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "sl_dbfile.h"

static const char *const side_files[] = { "", "-wal", "-shm", "-journal", ".lock", NULL };

static const char *folder_of(const char *path, apr_pool_t *p)
{
    const char *slash = strrchr(path, '/');

    return slash ? (slash == path ? "/" : apr_pstrmemdup(p, path, slash - path)) : ".";
}

const char *sl_dbfile_create(const char *path, int *created_dir, apr_pool_t *p)
{
    const char *dir = folder_of(path, p);
    struct stat st;
    int fd;

    *created_dir = 0;
    if (stat(dir, &st) != 0) {
        if (apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS) {
            return apr_psprintf(p, "cannot create the folder %s: %s", dir, strerror(errno));
        }
        /* the mode exactly, whatever the umask */
        chmod(dir, SL_DBFILE_DIR_MODE);
        *created_dir = 1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, SL_DBFILE_MODE);
    if (fd >= 0) {
        fchmod(fd, SL_DBFILE_MODE);
        close(fd);
    }
    else if (errno != EEXIST) {
        return apr_psprintf(p, "cannot create %s: %s", path, strerror(errno));
    }
    return NULL;
}

/* 1 when dir holds nothing but files named base... */
static int dedicated(const char *dir, const char *base)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    int only = dh != NULL;

    while (dh && (e = readdir(dh))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
            && strncmp(e->d_name, base, strlen(base))) {
            only = 0;
        }
    }
    if (dh) {
        closedir(dh);
    }
    return only;
}

const char *sl_dbfile_hand_over(const char *path, uid_t uid, gid_t gid, int created_dir,
                                apr_pool_t *p)
{
    const char *dir = folder_of(path, p), *slash = strrchr(path, '/');
    int root = geteuid() == 0 && uid != (uid_t)-1, i;

    for (i = 0; side_files[i]; i++) {
        const char *f = apr_pstrcat(p, path, side_files[i], NULL);
        if (chmod(f, SL_DBFILE_MODE) != 0) {
            if (errno == ENOENT) {
                continue;
            }
            return apr_psprintf(p, "cannot set the mode of %s: %s", f, strerror(errno));
        }
        if (root && chown(f, uid, gid) != 0) {
            return apr_psprintf(p, "cannot hand %s to uid %d: %s", f, (int)uid,
                                strerror(errno));
        }
    }
    if (strcmp(dir, "/") && (created_dir || dedicated(dir, slash ? slash + 1 : path))) {
        if (root && chown(dir, uid, gid) != 0) {
            return apr_psprintf(p, "cannot hand folder %s to uid %d: %s", dir, (int)uid,
                                strerror(errno));
        }
        chmod(dir, SL_DBFILE_DIR_MODE);
    }
    return NULL;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

apr_status_t sl_dbfile_hold(const char *path, apr_pool_t *p)
{
    const char *lock = apr_pstrcat(p, path, ".lock", NULL);
    int fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, SL_DBFILE_MODE);

    if (fd < 0) {
        return errno;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    apr_pool_cleanup_register(p, (void *)(apr_uintptr_t)fd, close_fd,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

int sl_dbfile_in_use(const char *path, apr_pool_t *p)
{
    const char *lock = apr_pstrcat(p, path, ".lock", NULL);
    int fd = open(lock, O_RDONLY | O_CLOEXEC), busy;

    if (fd < 0) {
        return 0;
    }
    busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}
