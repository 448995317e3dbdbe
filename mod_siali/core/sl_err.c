#include "sl_err.h"

sl_kind_e sl_err_set(sl_err_t *err, sl_kind_e kind, const char *field,
                     const char *message)
{
    if (err) {
        err->kind = kind;
        err->field = field;
        err->message = message;
        err->hint = NULL;
    }
    return kind;
}

const char *sl_err_kind_name(sl_kind_e kind)
{
    switch (kind) {
    case SL_OK:        return "ok";
    case SL_EINVALID:  return "invalid";
    case SL_ECONFLICT: return "conflict";
    case SL_ENOTFOUND: return "not found";
    case SL_EFORBIDDEN: return "forbidden";
    case SL_EDENIED:   return "denied";
    case SL_ETOOLARGE: return "too large";
    case SL_ETHROTTLED: return "throttled";
    case SL_EBUSY:     return "busy";
    case SL_ESTALE:    return "stale";
    case SL_ELOST:     return "lost";
    case SL_EDB:       return "database";
    default:           return "internal";
    }
}
