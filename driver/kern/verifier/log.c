/* SPDX-License-Identifier: MIT */
/* The verifier log: verbose() and the drivers' nicsim_verifier_log(), register type names. */
#include <stdarg.h>

#include "verifier_internal.h"

void nicsim_vrf_verbose(struct venv *env, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nicsim_vlog_vwrite(env->log, fmt, ap);
    va_end(ap);
}

void nicsim_verifier_log(struct nicsim_verifier_env *env, const char *fmt, ...)
{
    struct venv *v = env ? env->priv : NULL;
    va_list ap;

    if (!v)
        return;
    va_start(ap, fmt);
    nicsim_vlog_vwrite(v->log, fmt, ap);
    va_end(ap);
}

const char *nicsim_reg_type_str(enum nicsim_reg_type type)
{
    static const char *const names[NICSIM_REG_TYPE__COUNT] = {
        [NICSIM_NOT_INIT] = "?",
        [NICSIM_SCALAR_VALUE] = "scalar",
        [NICSIM_PTR_TO_CTX] = "ctx",
        [NICSIM_CONST_PTR_TO_MAP] = "map_ptr",
        [NICSIM_PTR_TO_MAP_VALUE] = "map_value",
        [NICSIM_PTR_TO_MAP_VALUE_OR_NULL] = "map_value_or_null",
        [NICSIM_PTR_TO_STACK] = "fp",
        [NICSIM_PTR_TO_PACKET_META] = "pkt_meta",
        [NICSIM_PTR_TO_PACKET] = "pkt",
        [NICSIM_PTR_TO_PACKET_END] = "pkt_end",
    };

    return (unsigned)type < NICSIM_REG_TYPE__COUNT ? names[type] : "?";
}
