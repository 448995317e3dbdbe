/* The module's private header: the module record and its log tag, and
 * nothing else (as mod_md's). The configuration is in mod_siali_config.h,
 * the per-request state in mod_siali_request.h, the protocol constants with
 * the HTTP helpers in mod_siali_http.h. */
#ifndef MOD_SIALI_H
#define MOD_SIALI_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA siali_module;
APLOG_USE_MODULE(siali);

#endif
