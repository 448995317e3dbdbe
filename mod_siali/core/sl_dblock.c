#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <apr_strings.h>

#include "sl_dblock.h"

static apr_status_t close_fd(void *data)
{
    close((int)(apr_uintptr_t)data);
    return APR_SUCCESS;
}

apr_status_t sl_dblock_hold(const char *db_path, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, db_path, ".lock", NULL);
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

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

int sl_dblock_in_use(const char *db_path, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, db_path, ".lock", NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC), busy;

    if (fd < 0) {
        return 0;
    }
    busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}
