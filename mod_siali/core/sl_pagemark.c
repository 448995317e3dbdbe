#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "sl_pagemark.h"

#define LIST_NAME 64

typedef struct {
    apr_int64_t pos;
    apr_int64_t id;
    char key[SL_PAGEMARK_KEY];
} mark_t;

typedef struct {
    char name[LIST_NAME];       /* "" = free */
    apr_int64_t version;
    apr_uint64_t used;          /* for giving up the least recently used */
    int n;
    mark_t marks[SL_PAGEMARK_MARKS];    /* by pos */
} list_t;

struct sl_pagemarks_t {
    apr_thread_mutex_t *mutex;
    apr_uint64_t clock;
    list_t lists[SL_PAGEMARK_LISTS];
};

sl_pagemarks_t *sl_pagemarks_create(apr_pool_t *p)
{
    sl_pagemarks_t *m = apr_pcalloc(p, sizeof(*m));

    if (apr_thread_mutex_create(&m->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
    return m;
}

/* under the mutex: the list by name, or NULL */
static list_t *list_of(sl_pagemarks_t *m, const char *name)
{
    int i;

    for (i = 0; i < SL_PAGEMARK_LISTS; i++) {
        if (!strcmp(m->lists[i].name, name)) {
            m->lists[i].used = ++m->clock;
            return &m->lists[i];
        }
    }
    return NULL;
}

int sl_pagemarks_find(sl_pagemarks_t *m, const char *list, apr_int64_t version,
                      apr_int64_t pos, apr_int64_t *at, const char **key, apr_int64_t *id,
                      apr_pool_t *p)
{
    list_t *l;
    int i, found = 0;

    if (!m || !*list || strlen(list) >= LIST_NAME || pos < SL_PAGEMARK_MIN) {
        return 0;
    }
    apr_thread_mutex_lock(m->mutex);
    if ((l = list_of(m, list)) && l->version != version) {
        l->n = 0;               /* never again: that version's members are gone */
    }
    if (l && l->version == version) {
        for (i = l->n - 1; i >= 0 && l->marks[i].pos > pos; i--)
            ;
        if (i >= 0) {
            *at = l->marks[i].pos;
            *id = l->marks[i].id;
            *key = apr_pstrdup(p, l->marks[i].key);
            found = 1;
        }
    }
    apr_thread_mutex_unlock(m->mutex);
    return found;
}

/* under the mutex: a list for name, the least recently used given up */
static list_t *list_new(sl_pagemarks_t *m, const char *name)
{
    list_t *l = &m->lists[0];
    int i;

    for (i = 1; i < SL_PAGEMARK_LISTS; i++) {
        if (m->lists[i].used < l->used) {
            l = &m->lists[i];
        }
    }
    memset(l, 0, sizeof(*l));
    apr_cpystrn(l->name, name, sizeof(l->name));
    l->used = ++m->clock;
    return l;
}

/* under the mutex: room for a mark at pos in a full list, by giving up the
 * mark nearest to it (the marks stay spread over the list) */
static void make_room(list_t *l, apr_int64_t pos)
{
    int i, near = 0;

    for (i = 1; i < l->n; i++) {
        apr_int64_t d = l->marks[i].pos - pos, dn = l->marks[near].pos - pos;
        if ((d < 0 ? -d : d) < (dn < 0 ? -dn : dn)) {
            near = i;
        }
    }
    memmove(&l->marks[near], &l->marks[near + 1], (l->n - near - 1) * sizeof(mark_t));
    l->n--;
}

void sl_pagemarks_put(sl_pagemarks_t *m, const char *list, apr_int64_t version,
                      apr_int64_t pos, const char *key, apr_int64_t id)
{
    list_t *l;
    int i;

    if (!m || !*list || strlen(list) >= LIST_NAME || pos < SL_PAGEMARK_MIN
        || strlen(key) >= SL_PAGEMARK_KEY) {
        return;
    }
    apr_thread_mutex_lock(m->mutex);
    if (!(l = list_of(m, list))) {
        l = list_new(m, list);
        l->version = version;
    }
    /* another version (a random value, schema v9): the marks it had are of
     * other members; the newest reading wins */
    if (version != l->version) {
        l->n = 0;
        l->version = version;
    }
    {
        for (i = 0; i < l->n && l->marks[i].pos < pos; i++)
            ;
        if (i < l->n && l->marks[i].pos == pos) {
            l->marks[i].id = id;
            apr_cpystrn(l->marks[i].key, key, SL_PAGEMARK_KEY);
        }
        else {
            if (l->n == SL_PAGEMARK_MARKS) {
                make_room(l, pos);
                for (i = 0; i < l->n && l->marks[i].pos < pos; i++)
                    ;
            }
            memmove(&l->marks[i + 1], &l->marks[i], (l->n - i) * sizeof(mark_t));
            l->marks[i].pos = pos;
            l->marks[i].id = id;
            apr_cpystrn(l->marks[i].key, key, SL_PAGEMARK_KEY);
            l->n++;
        }
    }
    apr_thread_mutex_unlock(m->mutex);
}
