/* SPDX-License-Identifier: MIT */
/* kref's network devices with the NIC ports' ifindexes, in a private network namespace (netns.c). */
#ifndef NICSIM_KREF_NETNS_H
#define NICSIM_KREF_NETNS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Moves the calling thread into a network namespace of its own (once: later calls from the same
 * thread reuse it) and makes sure a device exists there with each of the n ifindexes, with at least
 * n_rxq receive queues: a dummy device, or a veth (its peer at ifindex 1000000 + ifindex) where
 * the kernel has no dummy driver. Devices this process created before are reused. 0, or -errno
 * with why (no CAP_SYS_ADMIN for the namespace, no CAP_NET_ADMIN, neither driver).
 */
int nicsim_kref_netns_devices(const uint32_t *ifindexes, size_t n, uint32_t n_rxq, char *why,
                              size_t whylen);

#endif
