/* The caller cache of each PostgreSQL database a child uses, and the
 * thread that flushes it at every change the database announces. */
#ifndef MOD_SIALI_NOTIFY_H
#define MOD_SIALI_NOTIFY_H

#include "httpd.h"

/* In post_config (the parent): the counter all children share. */
void siali_notify_post_config(server_rec *s);

/* In child_init, after siali_db_child_init. */
void siali_notify_child_init(apr_pool_t *p, server_rec *s);

#endif
