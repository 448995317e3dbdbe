/* "Is an httpd using this SQLite file?" The httpd parent holds a shared
 * flock on <db>.lock for as long as it runs; the CLI asks for an exclusive
 * one before it migrates (a migration under running children would break
 * every statement they prepared: see DESIGN.md, known traps). */
#ifndef SL_DBLOCK_H
#define SL_DBLOCK_H

/* rwxr-x--- for the folders we create around a database */
#define SIALI_DIR_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE \
                         | APR_FPROT_GREAD | APR_FPROT_GEXECUTE)

#include <apr_pools.h>
#include <apr_file_info.h>

/* Takes and keeps (until p is destroyed) a shared lock. */
apr_status_t sl_dblock_hold(const char *db_path, apr_pool_t *p);

/* 1 when some process holds the lock (a running httpd). */
int sl_dblock_in_use(const char *db_path, apr_pool_t *p);

#endif
