/* The SQLite database on disk: its files are readable by the user the
 * children run as and by root only (it holds API tokens and password
 * hashes), whoever creates it (the httpd parent, siali start, create_user,
 * migrate), whatever the umask; and "is an httpd using it?" (the parent
 * holds a shared flock on <db>.lock for as long as it runs; the CLI asks
 * for an exclusive one before it migrates), and the change stamp every
 * process that writes it keeps in that file (the caller caches'). */
#ifndef SL_DBFILE_H
#define SL_DBFILE_H

#include <sys/types.h>

#include <apr_pools.h>

#define SL_DBFILE_MODE 0600     /* the database, -wal, -shm, -journal, .lock */
#define SL_DBFILE_DIR_MODE 0750 /* a folder that is the database's alone */

/* Before SQLite opens path: its folders made (each SL_DBFILE_DIR_MODE) when
 * missing (*created_dir = 1), the file created empty with SL_DBFILE_MODE
 * when missing and existing files (from older versions) tightened to it,
 * so SQLite never creates one with its own 0644 (it gives -wal and -shm the
 * mode of the database file). Never through a symbolic link; as root, a
 * folder every user may write to is refused. NULL or an error sentence. */
const char *sl_dbfile_create(const char *path, int *created_dir, apr_pool_t *p);

/* The database's files get SL_DBFILE_MODE and, when we run as root and uid
 * is not (uid_t)-1, the owner uid:gid; so does its folder (mode
 * SL_DBFILE_DIR_MODE) when we created it or it holds nothing but the
 * database's files. A shared folder is never touched. Everything through
 * descriptors opened without following symbolic links; a file of a third
 * user is refused (as root). NULL or an error. */
const char *sl_dbfile_hand_over(const char *path, uid_t uid, gid_t gid, int created_dir,
                                apr_pool_t *p);

/* A folder (made with exactly mode when missing, its parents too) given
 * mode and, as root, uid:gid, through a descriptor opened without
 * following a symbolic link: a link or a folder of a third user is
 * refused. NULL or an error sentence. */
const char *sl_dbfile_hand_folder(const char *dir, mode_t mode, uid_t uid, gid_t gid,
                                  apr_pool_t *p);

/* Takes and keeps (until p is destroyed) a shared lock on <path>.lock. */
apr_status_t sl_dbfile_hold(const char *path, apr_pool_t *p);

/* 1 when some process holds it (a running httpd). */
int sl_dbfile_in_use(const char *path, apr_pool_t *p);

/* The change stamp of the database at path: eight bytes at the start of
 * <path>.lock, which every writer replaces with a new random value. Every
 * httpd child and every siali command on the file read and write the same
 * bytes: a caller cache shares it (sl_authcache_share_with, with the two
 * functions below), so a write by any of them flushes all caches
 * (sl_authcache.h). The descriptor follows the name if another file takes
 * it (checked once a second); a shortened file reads as a new value each
 * time (nothing served from the cache). As root, a lock file made here gets
 * the database's owner. NULL or an error sentence. */
typedef struct sl_dbfile_counter_t sl_dbfile_counter_t;
const char *sl_dbfile_counter_open(const char *path, sl_dbfile_counter_t **c,
                                   apr_pool_t *p);
apr_uint64_t sl_dbfile_counter_read(void *c);
void sl_dbfile_counter_bump(void *c);

/* Every missing folder of dir, each made with exactly mode (the umask
 * cannot widen one); *created set when one was made. NULL, or why not. */
const char *sl_dbfile_make_folders(const char *dir, mode_t mode, int *created,
                                   apr_pool_t *p);

#endif
