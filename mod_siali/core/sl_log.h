/* The core logs through a callback that the module (ap_log_error) or the
 * CLI (stderr) installs, so the core never sees httpd headers. */
#ifndef SL_LOG_H
#define SL_LOG_H

typedef enum {
    SL_LOG_ERR = 3, SL_LOG_WARNING = 4, SL_LOG_NOTICE = 5, SL_LOG_INFO = 6,
    SL_LOG_DEBUG = 7
} sl_log_level_e;

typedef void sl_log_fn(void *baton, sl_log_level_e level, const char *file,
                       int line, const char *msg);

void sl_log_set(sl_log_fn *fn, void *baton);

/* printf-style; tag messages with a unique "SLnnnnn: " prefix. */
void sl_log_printf(sl_log_level_e level, const char *file, int line,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define SL_LOG(level, ...) sl_log_printf((level), __FILE__, __LINE__, __VA_ARGS__)

#endif
