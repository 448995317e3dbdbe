#include <stdarg.h>
#include <stdio.h>

#include "sl_log.h"

static sl_log_fn *log_fn;
static void *log_baton;

void sl_log_set(sl_log_fn *fn, void *baton)
{
    log_fn = fn;
    log_baton = baton;
}

void sl_log_printf(sl_log_level_e level, const char *file, int line,
                   const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (!log_fn) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_baton, level, file, line, buf);
}
