/* SPDX-License-Identifier: MIT */
/*
 * Devices for BPF_PROG_TEST_RUN's ctx->ingress_ifindex: the kernel resolves the ifindex in the
 * test-running thread's network namespace and runs the packet on that device's rx queue
 * rx_queue_index (net/bpf/test_run.c, xdp_convert_md_to_buff), so a program reading
 * ingress_ifindex or rx_queue_index sees what the NIC port gives it. They live in a private
 * namespace so that nothing is left in, or collides with, the host's devices.
 */
#define _GNU_SOURCE
#include "kref_netns.h"

#include "nicsim/util.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#define PEER_IFINDEX_BASE 1000000u

struct nlreq {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
    char buf[512];
};

static struct rtattr *put_attr(struct nlreq *r, uint16_t type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len && data)
        memcpy(RTA_DATA(a), data, len);
    else if (len) /* room for a header the caller fills in (the veth peer's ifinfomsg) */
        memset(RTA_DATA(a), 0, len);
    r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void end_nest(struct nlreq *r, struct rtattr *nest)
{
    nest->rta_len = (unsigned short)((char *)r + r->nh.nlmsg_len - (char *)nest);
}

/* RTM_NEWLINK of a `kind` device named `name` at `ifindex`; 0 or the kernel's -errno. */
static int new_link(int fd, const char *kind, uint32_t ifindex, uint32_t n_rxq)
{
    struct nlreq r = {0};
    char name[IFNAMSIZ], peer[IFNAMSIZ];
    snprintf(name, sizeof(name), "nicsim%u", ifindex);
    snprintf(peer, sizeof(peer), "nicsim%up", ifindex);
    r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    r.nh.nlmsg_type = RTM_NEWLINK;
    r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    r.nh.nlmsg_seq = ifindex;
    r.ifi.ifi_family = AF_UNSPEC;
    r.ifi.ifi_index = (int)ifindex;
    put_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
    put_attr(&r, IFLA_NUM_RX_QUEUES, &n_rxq, sizeof(n_rxq));
    struct rtattr *li = put_attr(&r, IFLA_LINKINFO, NULL, 0);
    put_attr(&r, IFLA_INFO_KIND, kind, strlen(kind));
    if (!strcmp(kind, "veth")) {
        struct rtattr *data = put_attr(&r, IFLA_INFO_DATA, NULL, 0);
        struct rtattr *pi = put_attr(&r, VETH_INFO_PEER, NULL, sizeof(struct ifinfomsg));
        struct ifinfomsg *pifi = RTA_DATA(pi);
        memset(pifi, 0, sizeof(*pifi));
        pifi->ifi_family = AF_UNSPEC;
        pifi->ifi_index = (int)(PEER_IFINDEX_BASE + ifindex);
        put_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
        end_nest(&r, pi);
        end_nest(&r, data);
    }
    end_nest(&r, li);

    if (send(fd, &r, r.nh.nlmsg_len, 0) < 0)
        return -errno;
    char ack[1024];
    for (;;) {
        ssize_t got = recv(fd, ack, sizeof(ack), 0);
        if (got < 0)
            return -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)ack; NLMSG_OK(h, (size_t)got);
             h = NLMSG_NEXT(h, got)) {
            if (h->nlmsg_seq != ifindex)
                continue;
            if (h->nlmsg_type == NLMSG_ERROR)
                return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        }
    }
}

int nicsim_kref_netns_devices(const uint32_t *ifindexes, size_t n, uint32_t n_rxq, char *why,
                              size_t whylen)
{
    /* The namespace is the thread's: another thread (or /proc unreadable) gets its own. */
    static ino_t private_ns;
    struct stat st;
    if (!private_ns || stat("/proc/thread-self/ns/net", &st) || st.st_ino != private_ns) {
        if (unshare(CLONE_NEWNET) < 0) {
            int e = errno;
            nicsim_errf(why, whylen, "cannot create a private network namespace: unshare: %s",
                        strerror(e));
            return -e;
        }
        private_ns = stat("/proc/thread-self/ns/net", &st) ? 0 : st.st_ino;
    }
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        int e = errno;
        nicsim_errf(why, whylen, "rtnetlink socket: %s", strerror(e));
        return -e;
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char name[IF_NAMESIZE];
        if (if_indextoname(ifindexes[i], name))
            continue; /* created by an earlier call */
        rc = new_link(fd, "dummy", ifindexes[i], n_rxq ? n_rxq : 1);
        if (rc == -EOPNOTSUPP || rc == -ENOENT) /* no dummy driver */
            rc = new_link(fd, "veth", ifindexes[i], n_rxq ? n_rxq : 1);
        if (rc)
            nicsim_errf(why, whylen,
                        "cannot create a device with ifindex %u (dummy or veth) in kref's "
                        "network namespace: %s",
                        ifindexes[i], strerror(-rc));
    }
    close(fd);
    return rc;
}
