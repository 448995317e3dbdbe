#ifndef MOD_SIALI_AUTHN_H
#define MOD_SIALI_AUTHN_H

#include "mod_siali_request.h"

/* `AuthType Siali` for any other Location of the same server. */
void siali_authn_hooks(void);

#endif
