/* SPDX-License-Identifier: MIT */
/*
 * Control-message wire helpers shared by the firmware and the host client
 * (include/nicsim/wire/cmsg.h): type names and the status <-> errno mapping of
 * docs/control-messages.md.
 */
#include <errno.h>

#include "nicsim/wire/cmsg.h"

static const char *const cmsg_type_names[] = {
    [NICSIM_CMSG_FW_INFO] = "FW_INFO",
    [NICSIM_CMSG_MAP_ALLOC] = "MAP_ALLOC",
    [NICSIM_CMSG_MAP_FREE] = "MAP_FREE",
    [NICSIM_CMSG_MAP_LOOKUP] = "MAP_LOOKUP",
    [NICSIM_CMSG_MAP_UPDATE] = "MAP_UPDATE",
    [NICSIM_CMSG_MAP_DELETE] = "MAP_DELETE",
    [NICSIM_CMSG_MAP_GETFIRST] = "MAP_GETFIRST",
    [NICSIM_CMSG_MAP_GETNEXT] = "MAP_GETNEXT",
    [NICSIM_CMSG_PROG_LOAD] = "PROG_LOAD",
    [NICSIM_CMSG_PROG_UNLOAD] = "PROG_UNLOAD",
    [NICSIM_CMSG_XDP_ATTACH] = "XDP_ATTACH",
    [NICSIM_CMSG_XDP_DETACH] = "XDP_DETACH",
    [NICSIM_CMSG_STATS] = "STATS",
    [NICSIM_CMSG_EVENTS] = "EVENTS",
};

const char *nicsim_cmsg_type_name(unsigned type)
{
    type &= ~NICSIM_CMSG_REPLY;
    if (type == 0 || type > NICSIM_CMSG__MAX_TYPE)
        return NULL;
    return cmsg_type_names[type];
}

/* Index: wire status; value: positive errno. */
static const int cmsg_status_errno[] = {
    [NICSIM_CMSG_OK] = 0,
    [NICSIM_CMSG_EINVAL] = EINVAL,
    [NICSIM_CMSG_ENOENT] = ENOENT,
    [NICSIM_CMSG_EEXIST] = EEXIST,
    [NICSIM_CMSG_ENOMEM] = ENOMEM,
    [NICSIM_CMSG_E2BIG] = E2BIG,
    [NICSIM_CMSG_EBUSY] = EBUSY,
    [NICSIM_CMSG_EOPNOTSUPP] = EOPNOTSUPP,
    [NICSIM_CMSG_EBADMSG] = EBADMSG,
    [NICSIM_CMSG_ENODEV] = ENODEV,
    [NICSIM_CMSG_EFAULT] = EFAULT,
    [NICSIM_CMSG_ENOSPC] = ENOSPC,
    [NICSIM_CMSG_EPERM] = EPERM,
    [NICSIM_CMSG_ERANGE] = ERANGE,
    [NICSIM_CMSG_EIO] = EIO,
};

int nicsim_cmsg_status_to_errno(uint32_t status)
{
    if (status > NICSIM_CMSG__MAX_STATUS)
        return -EIO;
    return -cmsg_status_errno[status];
}

uint32_t nicsim_cmsg_errno_to_status(int err)
{
    if (err == 0)
        return NICSIM_CMSG_OK;
    if (err == -ENOTSUP) /* same value as EOPNOTSUPP on Linux, kept for other hosts */
        return NICSIM_CMSG_EOPNOTSUPP;
    for (uint32_t s = 1; s <= NICSIM_CMSG__MAX_STATUS; s++)
        if (-cmsg_status_errno[s] == err)
            return s;
    return NICSIM_CMSG_EIO;
}
