#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "sl_dbfile.h"

static const char *const side_files[] = { "", "-wal", "-shm", "-journal", ".lock", NULL };

static const char *folder_of(const char *path, apr_pool_t *p)
{
    const char *slash = strrchr(path, '/');

    return slash ? (slash == path ? "/" : apr_pstrmemdup(p, path, slash - path)) : ".";
}

/* Every missing folder of dir, each made with exactly `mode` (the umask
 * cannot widen one, and no intermediate folder is left open to others). */
const char *sl_dbfile_make_folders(const char *dir, mode_t mode, int *created,
                                   apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, dir), *c;
    struct stat st;

    for (c = copy + 1; ; c++) {
        if (*c == '/' || *c == '\0') {
            char keep = *c;
            *c = '\0';
            if (lstat(copy, &st) != 0) {
                if (mkdir(copy, mode) != 0 && errno != EEXIST) {
                    return apr_psprintf(p, "cannot create the folder %s: %s", copy,
                                        strerror(errno));
                }
                chmod(copy, mode);
                *created = 1;
            }
            *c = keep;
            if (!keep) {
                break;
            }
        }
    }
    return NULL;
}

/* A folder holding the database that others could write to lets them put
 * files of their choosing under the names we open as root. */
static const char *folder_safe(const char *dir, apr_pool_t *p)
{
    struct stat st;

    if (lstat(dir, &st) != 0) {
        return apr_psprintf(p, "cannot read %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return apr_psprintf(p, "%s is not a folder (a symbolic link is not accepted)", dir);
    }
    if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
        return apr_psprintf(p, "the folder %s can be written by every user: give it to the "
                            "user the children run as, mode 0750", dir);
    }
    return NULL;
}

/* Opens a database file without following a symbolic link, and refuses
 * anything but a regular file. -1 with errno ENOENT when it is not there. */
static int open_file(const char *path, int flags, apr_pool_t *p, const char **why)
{
    struct stat st;
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, SL_DBFILE_MODE);

    *why = NULL;
    if (fd < 0) {
        if (errno != ENOENT) {
            *why = apr_psprintf(p, "cannot open %s: %s%s", path, strerror(errno),
                                errno == ELOOP ? " (a symbolic link is not accepted)" : "");
        }
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = apr_psprintf(p, "%s is not a regular file", path);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

const char *sl_dbfile_create(const char *path, int *created_dir, apr_pool_t *p)
{
    const char *dir = folder_of(path, p), *e;
    int fd, i;

    *created_dir = 0;
    if ((e = sl_dbfile_make_folders(dir, SL_DBFILE_DIR_MODE, created_dir, p))) {
        return e;
    }
    if (geteuid() == 0 && (e = folder_safe(dir, p))) {
        return e;
    }
    fd = open_file(path, O_RDWR | O_CREAT, p, &e);
    if (fd < 0) {
        return e ? e : apr_psprintf(p, "cannot create %s: %s", path, strerror(errno));
    }
    fchmod(fd, SL_DBFILE_MODE);
    close(fd);
    /* side files an older version left readable: tightened before SQLite
     * opens the database, so there is no moment they can be opened */
    for (i = 1; side_files[i]; i++) {
        const char *f = apr_pstrcat(p, path, side_files[i], NULL);
        if ((fd = open_file(f, O_RDONLY, p, &e)) >= 0) {
            fchmod(fd, SL_DBFILE_MODE);
            close(fd);
        }
        else if (e) {
            return e;
        }
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

/* Mode and owner through the open descriptor (never through a name that may
 * have become a link), only for what is ours: made by root or already the
 * target's. */
static const char *hand_fd(int fd, const char *name, mode_t mode, uid_t uid, gid_t gid,
                           int root, apr_pool_t *p)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        return apr_psprintf(p, "cannot read %s: %s", name, strerror(errno));
    }
    if (root && st.st_uid != 0 && st.st_uid != uid) {
        return apr_psprintf(p, "%s belongs to uid %d, neither root nor the children's user "
                            "(%d): refused", name, (int)st.st_uid, (int)uid);
    }
    if (fchmod(fd, mode) != 0) {
        return apr_psprintf(p, "cannot set the mode of %s: %s", name, strerror(errno));
    }
    if (root && fchown(fd, uid, gid) != 0) {
        return apr_psprintf(p, "cannot hand %s to uid %d: %s", name, (int)uid,
                            strerror(errno));
    }
    return NULL;
}

const char *sl_dbfile_hand_over(const char *path, uid_t uid, gid_t gid, int created_dir,
                                apr_pool_t *p)
{
    const char *dir = folder_of(path, p), *slash = strrchr(path, '/'), *e;
    int root = geteuid() == 0 && uid != (uid_t)-1, i, fd;

    if (geteuid() == 0 && (e = folder_safe(dir, p))) {
        return e;
    }
    for (i = 0; side_files[i]; i++) {
        const char *f = apr_pstrcat(p, path, side_files[i], NULL);
        if ((fd = open_file(f, O_RDONLY, p, &e)) < 0) {
            if (e) {
                return e;
            }
            continue;   /* not there */
        }
        e = hand_fd(fd, f, SL_DBFILE_MODE, uid, gid, root, p);
        close(fd);
        if (e) {
            return e;
        }
    }
    if (strcmp(dir, "/") && (created_dir || dedicated(dir, slash ? slash + 1 : path))) {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            return apr_psprintf(p, "cannot open the folder %s: %s", dir, strerror(errno));
        }
        e = hand_fd(fd, dir, SL_DBFILE_DIR_MODE, uid, gid, root, p);
        close(fd);
        if (e) {
            return e;
        }
    }
    return NULL;
}

const char *sl_dbfile_hand_folder(const char *dir, mode_t mode, uid_t uid, gid_t gid,
                                  apr_pool_t *p)
{
    int created = 0, fd;
    const char *e;

    if ((e = sl_dbfile_make_folders(dir, mode, &created, p))) {
        return e;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return apr_psprintf(p, "cannot open the folder %s: %s%s", dir, strerror(errno),
                            errno == ELOOP || errno == ENOTDIR
                            ? " (a symbolic link is not accepted)" : "");
    }
    e = hand_fd(fd, dir, mode, uid, gid, geteuid() == 0 && uid != (uid_t)-1, p);
    close(fd);
    return e;
}

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

apr_status_t sl_dbfile_hold(const char *path, apr_pool_t *p)
{
    const char *lock = apr_pstrcat(p, path, ".lock", NULL), *why;
    int fd = open_file(lock, O_RDONLY | O_CREAT, p, &why);

    if (fd < 0) {
        return errno ? errno : APR_EGENERAL;
    }
    fchmod(fd, SL_DBFILE_MODE);
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
    const char *lock = apr_pstrcat(p, path, ".lock", NULL), *why;
    int fd = open_file(lock, O_RDONLY, p, &why), busy;

    if (fd < 0) {
        return 0;
    }
    busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/* The stamp is eight bytes at the start of <db>.lock, read and written
 * with pread/pwrite on a descriptor (never mapped: a file shortened under
 * a mapping kills its readers with SIGBUS). A writer stores a new random
 * stamp, so no read-modify-write and no lock are needed: a reader sees the
 * old stamp or the new one, and any difference is a change. */
struct sl_dbfile_counter_t {
    const char *lock;
    volatile int fd;              /* replaced in place with dup2 */
    dev_t dev;
    ino_t ino;
    uid_t uid;                    /* the database's owner, when known */
    gid_t gid;
    volatile apr_uint32_t checking;
    volatile apr_uint32_t unknown;
    apr_time_t checked;
};

#define STAMP_LEN 8
#define CHECK_EVERY apr_time_from_sec(1)

static apr_status_t close_counter(void *data)
{
    sl_dbfile_counter_t *c = data;

    close(c->fd);
    return APR_SUCCESS;
}

static void write_stamp(int fd)
{
    unsigned char b[STAMP_LEN];

    if (apr_generate_random_bytes(b, sizeof(b)) == APR_SUCCESS) {
        (void)!pwrite(fd, b, sizeof(b), 0);
    }
}

/* the lock file opened (made when missing: as root, given the database's
 * owner, so that a command run as root never leaves the children a file
 * they cannot open), with a stamp in it */
static int open_counter(sl_dbfile_counter_t *c, struct stat *st, apr_pool_t *p,
                        const char **why)
{
    int fd = open_file(c->lock, O_RDWR | O_CREAT, p, why);

    if (fd < 0) {
        if (!*why) {
            *why = apr_psprintf(p, "cannot open %s: %s", c->lock, strerror(errno));
        }
        return -1;
    }
    if (fstat(fd, st) != 0) {
        *why = apr_psprintf(p, "cannot read %s: %s", c->lock, strerror(errno));
        close(fd);
        return -1;
    }
    if (geteuid() == 0 && c->uid != (uid_t)-1 && st->st_uid != c->uid) {
        (void)!fchown(fd, c->uid, c->gid);
    }
    if (st->st_size < STAMP_LEN) {
        write_stamp(fd);
    }
    return fd;
}

const char *sl_dbfile_counter_open(const char *path, sl_dbfile_counter_t **out,
                                   apr_pool_t *p)
{
    sl_dbfile_counter_t *c = apr_pcalloc(p, sizeof(*c));
    struct stat st;
    const char *why = NULL;

    *out = NULL;
    c->lock = apr_pstrcat(p, path, ".lock", NULL);
    c->uid = (uid_t)-1;
    c->gid = (gid_t)-1;
    if (stat(path, &st) == 0) {
        c->uid = st.st_uid;
        c->gid = st.st_gid;
    }
    if ((c->fd = open_counter(c, &st, p, &why)) < 0) {
        return why;
    }
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    c->checked = apr_time_now();
    apr_pool_cleanup_register(p, c, close_counter, apr_pool_cleanup_null);
    *out = c;
    return NULL;
}

/* Once a second, by one thread: the name may now be another file (a state
 * folder restored with rsync or mv, a removed lock made again by the next
 * command); the descriptor then follows the name, atomically for threads
 * reading meanwhile (dup2). */
static void follow_name(sl_dbfile_counter_t *c)
{
    apr_time_t now = apr_time_now();
    struct stat st;
    const char *why;
    apr_pool_t *p;
    int fd;

    if (now - c->checked < CHECK_EVERY || apr_atomic_cas32(&c->checking, 1, 0) != 0) {
        return;
    }
    if (stat(c->lock, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
        if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
            if ((fd = open_counter(c, &st, p, &why)) >= 0) {
                dup2(fd, c->fd);
                close(fd);
                c->dev = st.st_dev;
                c->ino = st.st_ino;
            }
            apr_pool_destroy(p);
        }
    }
    c->checked = now;
    apr_atomic_set32(&c->checking, 0);
}

apr_uint64_t sl_dbfile_counter_read(void *baton)
{
    sl_dbfile_counter_t *c = baton;
    unsigned char b[STAMP_LEN];
    apr_uint64_t v = 0;
    int i;

    follow_name(c);
    if (pread(c->fd, b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* shortened or unreadable: a value no entry holds, each time */
        return ((apr_uint64_t)1 << 63) | apr_atomic_inc32(&c->unknown);
    }
    for (i = 0; i < STAMP_LEN; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

void sl_dbfile_counter_bump(void *baton)
{
    sl_dbfile_counter_t *c = baton;

    write_stamp(c->fd);
}
