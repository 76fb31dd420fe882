#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Builds the example traces, their initial maps and their expected results.

For every example <name> this writes
    traces/<name>.pcap        the packets (Ethernet, fixed timestamps: the output is reproducible)
    <name>.maps/<map>.json    initial map contents, in `bpftool -j map dump` form
    <name>.expect.json        per packet: the verdict and the reason for it, and where the
                              program rewrites the packet the exact bytes it must produce; and a
                              few final map values (counters)

The expectations are written down by reasoning about each packet against the program's
documented behaviour (the header comment of <name>.bpf.c), packet by packet, next to the packet
itself; counters are the number of packets given each reason. Nothing here runs the program.

Run with Debian's python3 (it has scapy):  /usr/bin/python3 examples/traces/make_traces.py
"""

import json
import os
import random
import socket
import struct
import sys

from scapy.all import (ARP, ICMP, IP, UDP, TCP, Dot1AD, Dot1Q, Ether, GRE, ICMPv6EchoRequest,
                       IPOption_EOL, IPOption_NOP, IPv6, IPv6ExtHdrHopByHop, PadN, Raw)

IP_OPTS = [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]  # 4 bytes: ihl 6
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)
T0 = 1700000000

XDP = {"XDP_ABORTED": 0, "XDP_DROP": 1, "XDP_PASS": 2, "XDP_TX": 3, "XDP_REDIRECT": 4}

# Addresses used throughout.
MAC_CLIENT = "02:00:00:00:00:01"
MAC_NIC = "02:00:00:00:00:02"
MAC_PEER = "02:00:00:00:00:03"


# ---- bytes ----

def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def be16(v):
    return struct.pack(">H", v)


def ip4(a):
    return socket.inet_aton(a)


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def hexbytes(b):
    return ["0x%02x" % x for x in b]


# ---- output ----

def json_lines(items):
    """A JSON array with one element a line."""
    if not items:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(x) for x in items) + "\n]\n"


def write_pcap(path, packets):
    """Classic pcap, Ethernet, microsecond timestamps 1 ms apart: the bytes exactly as built."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, data in enumerate(packets):
            f.write(struct.pack("<IIII", T0, i * 1000, len(data), len(data)))
            f.write(data)


class Example:
    def __init__(self, name, program):
        self.name = name
        self.program = program
        self.packets = []   # (bytes, expectation dict)
        self.maps = {}      # map name -> list of (key bytes, value bytes)
        self.final = []     # final map checks

    def add(self, pkt, verdict, why, **checks):
        data = bytes(pkt)
        exp = {"verdict": verdict, "why": why}
        for k, v in checks.items():
            if isinstance(v, (bytes, bytearray)):
                v = bytes(v).hex()
            exp[k] = v
        self.packets.append((data, exp))
        return data

    def entry(self, map_name, key, value):
        self.maps.setdefault(map_name, []).append((key, value))

    def expect_u64(self, map_name, key, value, why, offset=0):
        """The u64 at `offset` of the entry's value, summed over CPUs for per-CPU maps."""
        self.final.append({"map": map_name, "key": hexbytes(key), "offset": offset,
                           "u64": value, "why": why})

    def expect_absent(self, map_name, key, why):
        self.final.append({"map": map_name, "key": hexbytes(key), "present": False, "why": why})

    def expect_present(self, map_name, key, why):
        self.final.append({"map": map_name, "key": hexbytes(key), "present": True, "why": why})

    def write(self):
        for i, (data, exp) in enumerate(self.packets):
            exp["index"] = i
            exp["len"] = len(data)
        write_pcap(os.path.join(HERE, self.name + ".pcap"), [d for d, _ in self.packets])
        mapdir = os.path.join(EXAMPLES, self.name + ".maps")
        if self.maps:
            os.makedirs(mapdir, exist_ok=True)
            for old in os.listdir(mapdir):
                if old.endswith(".json"):
                    os.remove(os.path.join(mapdir, old))
            for m, entries in self.maps.items():
                doc = [{"key": hexbytes(k), "value": hexbytes(v)} for k, v in entries]
                with open(os.path.join(mapdir, m + ".json"), "w") as f:
                    f.write(json_lines(doc))
        expect = {
            "object": self.name + ".bpf.o",
            "program": self.program,
            "trace": "traces/" + self.name + ".pcap",
            "maps": (self.name + ".maps") if self.maps else None,
            "packets": [exp for _, exp in self.packets],
            "final": self.final,
        }
        with open(os.path.join(EXAMPLES, self.name + ".expect.json"), "w") as f:
            f.write("{\n")
            items = list(expect.items())
            for n, (k, v) in enumerate(items):
                sep = ",\n" if n + 1 < len(items) else "\n"
                body = json_lines(v).rstrip("\n") if isinstance(v, list) else json.dumps(v)
                f.write(" %s: %s%s" % (json.dumps(k), body, sep))
            f.write("}\n")
        counts = {}
        for _, exp in self.packets:
            counts[exp["verdict"]] = counts.get(exp["verdict"], 0) + 1
        print("%-9s %3d packets  %s" % (self.name, len(self.packets), counts))


class Tally:
    """Counts packets by the counter their reason bumps."""

    def __init__(self):
        self.n = {}

    def __call__(self, stat):
        self.n[stat] = self.n.get(stat, 0) + 1
        return stat

    def get(self, stat):
        return self.n.get(stat, 0)


def eth(dst=MAC_NIC, src=MAC_CLIENT):
    return Ether(dst=dst, src=src)


def truncated(pkt, n):
    return bytes(pkt)[:n]


# ---- firewall ----

FW_STATS = ["NOT_IPV4", "MALFORMED", "FRAGMENT", "ICMP", "ICMP_DENIED", "OTHER_PROTO",
            "BAD_FLAGS", "NOT_SYN", "NO_RULE", "DENIED", "NEW_FLOW", "ESTABLISHED", "REPLY",
            "CLOSED"]
FW_PASS = {"NOT_IPV4", "ICMP", "NEW_FLOW", "ESTABLISHED", "REPLY", "CLOSED"}


def flow_key(src, dst, sport, dport, proto):
    return ip4(src) + ip4(dst) + be16(sport) + be16(dport) + u8(proto) + b"\0" * 3


def firewall():
    ex = Example("firewall", "xdp_firewall")
    # rules: key {daddr, dport (network order), proto, pad} -> {id, action 1 allow / 2 deny}
    rules = [("10.0.0.10", 80, 6, 1, 1), ("10.0.0.10", 443, 6, 2, 1), ("0.0.0.0", 53, 17, 3, 1),
             ("10.0.0.10", 23, 6, 4, 2), ("0.0.0.0", 22, 6, 5, 1)]
    for daddr, port, proto, rid, action in rules:
        ex.entry("rules", ip4(daddr) + be16(port) + u8(proto) + b"\0", u32(rid) + u32(action))

    t = Tally()
    flow_pkts = {}

    def pkt(p, stat, why, flow=None, **kw):
        t(stat)
        if flow is not None:
            flow_pkts[flow] = flow_pkts.get(flow, 0) + 1
        ex.add(p, "XDP_PASS" if stat in FW_PASS else "XDP_DROP", stat + ": " + why, **kw)

    C, S = "192.168.1.100", "10.0.0.10"
    out = eth()
    back = eth(dst=MAC_CLIENT, src=MAC_NIC)
    f1 = flow_key(C, S, 40000, 80, 6)
    pkt(out / ARP(psrc=C, pdst=S), "NOT_IPV4", "ARP")
    pkt(out / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=1, dport=2), "NOT_IPV4", "IPv6")
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="S", seq=1000),
        "NEW_FLOW", "SYN to 10.0.0.10:80, allowed by rule 1", flow=f1)
    pkt(back / IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001),
        "REPLY", "SYN-ACK of flow 1", flow=f1)
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001),
        "ESTABLISHED", "ACK of flow 1", flow=f1)
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) /
        Raw(b"GET / HTTP/1.0\r\n\r\n"), "ESTABLISHED", "request of flow 1", flow=f1)
    pkt(back / IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="PA", seq=5001, ack=1019) /
        Raw(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 200), "REPLY", "response of flow 1", flow=f1)
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5221),
        "ESTABLISHED", "client FIN of flow 1 (closing, kept)", flow=f1)
    pkt(back / IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="FA", seq=5221, ack=1020),
        "REPLY", "server FIN of flow 1", flow=f1)
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="A", seq=1020, ack=5222),
        "ESTABLISHED", "last ACK of flow 1", flow=f1)

    C2 = "192.168.1.101"
    f2 = flow_key(C2, S, 40001, 443, 6)
    pkt(out / IP(src=C2, dst=S) / TCP(sport=40001, dport=443, flags="S"), "NEW_FLOW",
        "SYN to :443, rule 2", flow=f2)
    pkt(back / IP(src=S, dst=C2) / TCP(sport=443, dport=40001, flags="RA"), "CLOSED",
        "server RST forgets flow 2")
    pkt(out / IP(src=C2, dst=S) / TCP(sport=40001, dport=443, flags="A"), "NOT_SYN",
        "ACK of the forgotten flow 2")
    pkt(out / IP(src="192.168.1.103", dst=S) / TCP(sport=40003, dport=8080, flags="S"),
        "NO_RULE", "SYN to :8080, no rule")
    pkt(out / IP(src=C, dst=S) / TCP(sport=40004, dport=23, flags="S"), "DENIED",
        "SYN to :23, deny rule 4")
    f3 = flow_key(C, "10.0.0.99", 40005, 22, 6)
    pkt(out / IP(src=C, dst="10.0.0.99") / TCP(sport=40005, dport=22, flags="S"), "NEW_FLOW",
        "SYN to 10.0.0.99:22, wildcard rule 5", flow=f3)
    pkt(out / IP(src=C, dst="10.0.0.99") / TCP(sport=40005, dport=22, flags="R"), "CLOSED",
        "client RST forgets flow 3")
    pkt(out / IP(src="192.168.1.200", dst=S) / TCP(sport=40006, dport=80, flags="A"), "NOT_SYN",
        "ACK with no flow")
    for flags, what in (("SF", "SYN+FIN"), ("", "no flags"), ("FPU", "xmas FIN+PSH+URG"),
                        ("SR", "SYN+RST")):
        pkt(out / IP(src=C, dst=S) / TCP(sport=40007, dport=80, flags=flags), "BAD_FLAGS", what)
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="FPU"), "BAD_FLAGS",
        "xmas on the established flow 1: flags are checked first")

    D = "8.8.8.8"
    f4 = flow_key(C, D, 5353, 53, 17)
    dns = Raw(b"\x12\x34\x01\x00\x00\x01" + b"\0" * 6 + b"\x07example\x03com\x00\x00\x01\x00\x01")
    pkt(out / IP(src=C, dst=D) / UDP(sport=5353, dport=53) / dns, "NEW_FLOW",
        "UDP to 8.8.8.8:53, wildcard rule 3", flow=f4)
    pkt(back / IP(src=D, dst=C) / UDP(sport=53, dport=5353) / dns, "REPLY", "DNS reply",
        flow=f4)
    pkt(out / IP(src=C, dst=D) / UDP(sport=5353, dport=53) / dns, "ESTABLISHED",
        "second query, same flow", flow=f4)
    pkt(out / IP(src=C, dst=S) / UDP(sport=5000, dport=161), "NO_RULE", "UDP to :161")
    pkt(out / IP(src=C, dst=S) / ICMP(type=8) / Raw(b"ping"), "ICMP", "echo request")
    pkt(out / IP(src=C, dst=S) / GRE() / Raw(b"\0" * 8), "OTHER_PROTO", "GRE")
    pkt(out / IP(src=C, dst=S, flags="MF", frag=0) / UDP(sport=5353, dport=53) / Raw(b"a" * 16),
        "FRAGMENT", "first fragment (MF)")
    pkt(out / IP(src=C, dst=S, frag=3, proto=17) / Raw(b"b" * 16), "FRAGMENT", "later fragment")
    pkt(truncated(out / IP(src=C, dst=S) / TCP(), 14 + 10), "MALFORMED", "IP header cut at 10")
    pkt(out / IP(src=C, dst=S, ihl=4) / TCP(sport=1, dport=80, flags="S"), "MALFORMED", "ihl 4")
    pkt(out / IP(src=C, dst=S, version=6) / TCP(sport=1, dport=80, flags="S"), "MALFORMED",
        "version 6 in an IPv4 EtherType")
    pkt(out / IP(src=C, dst=S, len=10) / TCP(sport=1, dport=80, flags="S"), "MALFORMED",
        "total length 10 < header 20")
    pkt(truncated(out / IP(src=C, dst=S) / TCP(sport=1, dport=80, flags="S"), 14 + 20 + 10),
        "MALFORMED", "TCP header cut at 10 bytes")
    pkt(out / IP(src=C, dst=S) / TCP(sport=1, dport=80, flags="S", dataofs=4), "MALFORMED",
        "TCP data offset 4")
    pkt(truncated(out / IP(src=C, dst=S) / UDP(sport=1, dport=53), 14 + 20 + 4), "MALFORMED",
        "UDP header cut at 4 bytes")
    pkt(truncated(out / IP(src=C, dst=S, ihl=15) / TCP(sport=1, dport=80, flags="S"), 14 + 40),
        "MALFORMED", "ihl 15 (60 bytes) but 40 bytes of IP")
    f5 = flow_key("192.168.1.102", S, 40008, 80, 6)
    pkt(out / IP(src="192.168.1.102", dst=S, options=IP_OPTS) /
        TCP(sport=40008, dport=80, flags="S"), "NEW_FLOW", "SYN with IP options (ihl 6)",
        flow=f5)
    pkt(out / Dot1Q(vlan=10) / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="S"),
        "NOT_IPV4", "VLAN tagged: EtherType 0x8100")
    pkt(out / IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="S", seq=1000), "ESTABLISHED",
        "retransmitted SYN of flow 1", flow=f1)
    pkt(back / IP(src=S, dst="192.168.1.104") / TCP(sport=80, dport=40009, flags="SA"),
        "NOT_SYN", "SYN-ACK with no flow")

    for i, name in enumerate(FW_STATS):
        ex.expect_u64("stats", u32(i), t.get(name), "packets counted " + name)
    ex.expect_u64("flows", f1, flow_pkts[f1], "flow 1 stays (FIN does not forget)", offset=8)
    ex.expect_u64("flows", f4, flow_pkts[f4], "the DNS flow", offset=8)
    ex.expect_u64("flows", f5, flow_pkts[f5], "the flow opened with IP options", offset=8)
    ex.expect_absent("flows", f2, "forgotten at the server's RST")
    ex.expect_absent("flows", f3, "forgotten at the client's RST")
    ex.write()


# ---- l4lb ----

def lb_hash(src, dst, sport, dport, proto):
    """conn_hash() of l4lb.bpf.c: fields as a little-endian CPU loads them."""
    h = int.from_bytes(ip4(src), "little") ^ int.from_bytes(ip4(dst), "little")
    sp = int.from_bytes(be16(sport), "little")
    dp = int.from_bytes(be16(dport), "little")
    h ^= (sp << 16) | dp
    h ^= proto
    h = (h * 0x9E3779B1) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def l4lb():
    ex = Example("l4lb", "xdp_l4lb")
    backends = {0: ("10.1.0.1", "02:00:00:00:01:01"), 1: ("10.1.0.2", "02:00:00:00:01:02"),
                2: ("10.1.0.3", "02:00:00:00:01:03"), 3: ("10.1.0.11", "02:00:00:00:01:11"),
                4: ("10.1.0.12", "02:00:00:00:01:12")}
    for i, (addr, m) in backends.items():
        ex.entry("backends", u32(i), ip4(addr) + mac(m) + b"\0\0")
    # backends[5] stays empty (address 0)
    vips = {("10.0.0.100", 80, 6): (0, 3), ("10.0.0.100", 53, 17): (3, 2),
            ("10.0.0.101", 80, 6): (0, 0), ("10.0.0.102", 443, 6): (5, 1)}
    for (addr, port, proto), (first, count) in vips.items():
        ex.entry("vips", ip4(addr) + be16(port) + u8(proto) + b"\0", u32(first) + u32(count))

    stats = {}

    def vip_count(key, p):
        pk, by = stats.get(key, (0, 0))
        stats[key] = (pk + 1, by + p[IP].len)

    def to_vip(p, why):
        """A packet to a VIP with backends: rewritten and sent back out."""
        p = Ether(bytes(p))
        ip = p[IP]
        l4 = p[TCP] if TCP in p else p[UDP]
        key = (ip.dst, l4.dport, ip.proto)
        vip_count(key, p)
        first, count = vips[key]
        idx = first + lb_hash(ip.src, ip.dst, l4.sport, l4.dport, ip.proto) % count
        baddr, bmac = backends[idx]
        q = Ether(bytes(p))
        q[Ether].src, q[Ether].dst = p[Ether].dst, bmac
        q[IP].dst = baddr
        del q[IP].chksum
        if TCP in q:
            del q[TCP].chksum
        elif q[UDP].chksum != 0:
            del q[UDP].chksum
        ex.add(p, "XDP_TX", "%s -> backend %d (%s)" % (why, idx, baddr), out=bytes(q))

    VIP = "10.0.0.100"
    rnd = random.Random(4)
    # Eight connections, three packets each, interleaved: every packet of a connection must
    # reach the same backend.
    conns = [("192.168.%d.%d" % (1 + c // 4, 10 + c), 30000 + rnd.randrange(30000))
             for c in range(8)]
    for phase, flags in enumerate(("S", "A", "PA")):
        for c, (src, sport) in enumerate(conns):
            pay = Raw(b"payload %d" % c) if flags == "PA" else Raw(b"")
            to_vip(eth() / IP(src=src, dst=VIP, id=phase * 100 + c) /
                   TCP(sport=sport, dport=80, flags=flags, seq=1000 + phase) / pay,
                   "connection %d %s" % (c, flags))
    for c in range(4):
        to_vip(eth() / IP(src="192.168.3.%d" % (20 + c), dst=VIP) /
               UDP(sport=10000 + c, dport=53) / Raw(b"query %d" % c), "DNS query %d" % c)
    # UDP without checksum: stays 0
    p = eth() / IP(src="192.168.3.30", dst=VIP) / UDP(sport=10030, dport=53, chksum=0) / Raw(b"q")
    to_vip(p, "DNS query, UDP checksum 0")
    to_vip(eth() / IP(src="192.168.4.1", dst=VIP, options=IP_OPTS) /
           TCP(sport=40000, dport=80, flags="S"), "SYN with IP options (ihl 6)")
    to_vip(eth() / IP(src="192.168.4.2", dst=VIP, tos=0x10, ttl=3) /
           TCP(sport=40001, dport=80, flags="S") / Raw(b"z" * 1000), "1000-byte SYN")

    def other(p, verdict, why, vip_key=None):
        if vip_key:
            vip_count(vip_key, Ether(bytes(p)))
        ex.add(p, verdict, why)

    other(eth() / IP(src="192.168.5.1", dst=VIP) / TCP(sport=1, dport=8080, flags="S"),
          "XDP_PASS", "port 8080 is not a VIP")
    other(eth() / IP(src="192.168.5.1", dst="10.0.0.200") / TCP(sport=1, dport=80), "XDP_PASS",
          "address not a VIP")
    other(eth() / IP(src="192.168.5.1", dst=VIP) / UDP(sport=1, dport=80), "XDP_PASS",
          "UDP :80 is not a VIP (TCP is)")
    other(eth() / IP(src="192.168.5.1", dst="10.0.0.101") / TCP(sport=1, dport=80, flags="S"),
          "XDP_DROP", "VIP with no backends", vip_key=("10.0.0.101", 80, 6))
    other(eth() / IP(src="192.168.5.1", dst="10.0.0.102") / TCP(sport=1, dport=443, flags="S"),
          "XDP_DROP", "VIP whose backend slot is empty", vip_key=("10.0.0.102", 443, 6))
    other(eth() / IP(src="192.168.5.1", dst=VIP) / ICMP(), "XDP_PASS", "ICMP to the VIP")
    other(eth() / IP(src="192.168.5.1", dst=VIP) / GRE(), "XDP_PASS", "GRE to the VIP")
    other(eth() / ARP(pdst=VIP), "XDP_PASS", "ARP")
    other(eth() / IPv6(dst="fd00::100") / TCP(dport=80), "XDP_PASS", "IPv6")
    other(eth() / IP(src="192.168.5.1", dst=VIP, flags="MF") / TCP(sport=1, dport=80) /
          Raw(b"f" * 24), "XDP_PASS", "first fragment: fragments go to the host")
    other(eth() / IP(src="192.168.5.1", dst=VIP, frag=5, proto=6) / Raw(b"g" * 24), "XDP_PASS",
          "later fragment")
    other(truncated(eth() / IP(src="192.168.5.1", dst=VIP) / TCP(dport=80), 14 + 12), "XDP_DROP",
          "IP header cut at 12")
    other(eth() / IP(src="192.168.5.1", dst=VIP, ihl=4) / TCP(dport=80), "XDP_DROP", "ihl 4")
    other(eth() / IP(src="192.168.5.1", dst=VIP, version=5) / TCP(dport=80), "XDP_DROP",
          "version 5")
    other(truncated(eth() / IP(src="192.168.5.1", dst=VIP) / TCP(dport=80), 14 + 20 + 12),
          "XDP_DROP", "TCP header cut at 12")
    other(truncated(eth() / IP(src="192.168.5.1", dst=VIP) / UDP(dport=53), 14 + 20 + 6),
          "XDP_DROP", "UDP header cut at 6")

    for (addr, port, proto), (pk, by) in sorted(stats.items()):
        key = ip4(addr) + be16(port) + u8(proto) + b"\0"
        ex.expect_u64("vip_stats", key, pk, "packets to %s:%d/%d" % (addr, port, proto))
        ex.expect_u64("vip_stats", key, by, "IP bytes to %s:%d/%d" % (addr, port, proto),
                      offset=8)
    ex.expect_absent("vip_stats", ip4("10.0.0.200") + be16(80) + u8(6) + b"\0",
                     "not a VIP: never counted")
    ex.write()


# ---- ipip ----

IPIP_COUNTERS = ["ENCAP", "DECAP", "PASS", "MALFORMED", "BAD_INNER", "TOO_BIG", "TRIMMED",
                 "ADJUST_FAIL"]


def ipip():
    ex = Example("ipip", "xdp_ipip")
    LOCAL, REMOTE = "192.0.2.1", "198.51.100.7"
    TUN_DMAC, TUN_SMAC = "02:00:00:00:02:01", "02:00:00:00:02:02"
    for inner_dst in ("10.20.0.5", "10.20.0.6"):
        ex.entry("tunnels", ip4(inner_dst),
                 ip4(LOCAL) + ip4(REMOTE) + mac(TUN_DMAC) + mac(TUN_SMAC))
    ex.entry("endpoints", ip4(LOCAL), u32(1))
    t = Tally()

    def encap(p, why):
        raw = bytes(p)
        inner = IP(raw[14:])
        tot = inner.len
        inner_bytes = raw[14:14 + tot]
        if len(raw) > 14 + tot:
            t("TRIMMED")
        outer = IP(version=4, ihl=5, tos=inner.tos, len=tot + 20, id=0,
                   flags="DF" if inner.flags.DF else 0, frag=0, ttl=64, proto=4, src=LOCAL,
                   dst=REMOTE)
        q = Ether(dst=TUN_DMAC, src=TUN_SMAC, type=0x0800) / outer / Raw(inner_bytes)
        t("ENCAP")
        ex.add(raw, "XDP_TX", "ENCAP: " + why, out=bytes(q))

    def decap(raw, why):
        outer = IP(raw[14:])
        ihl = outer.ihl * 4
        tot = outer.len
        if len(raw) > 14 + tot:
            t("TRIMMED")
        q = raw[:14] + raw[14 + ihl:14 + tot]
        t("DECAP")
        ex.add(raw, "XDP_PASS", "DECAP: " + why, out=q)

    def other(p, verdict, stat, why):
        t(stat)
        ex.add(p, verdict, stat + ": " + why)

    out = eth()
    encap(out / IP(src="10.30.0.1", dst="10.20.0.5") / TCP(sport=1234, dport=80, flags="S") /
          Raw(b"hello"), "TCP to 10.20.0.5")
    encap(out / IP(src="10.30.0.1", dst="10.20.0.6", flags="DF", tos=0x28) /
          UDP(sport=5000, dport=6000) / Raw(b"u" * 100), "UDP with DF and TOS 0x28 copied")
    encap(out / IP(src="10.30.0.1", dst="10.20.0.5", ttl=1) / ICMP() / Raw(b"ping"),
          "ICMP (inner TTL 1 is not ours to check)")
    # Ethernet padding: a 28-byte IP datagram in a 60-byte frame.
    encap(Ether(bytes(out / IP(src="10.30.0.1", dst="10.20.0.5") / ICMP()) + b"\0" * 18),
          "padded frame, padding trimmed first")
    encap(out / IP(src="10.30.0.1", dst="10.20.0.5") / UDP(sport=1, dport=2) /
          Raw(b"m" * (1480 - 28)), "1480-byte datagram: exactly the MTU once wrapped")
    other(out / IP(src="10.30.0.1", dst="10.20.0.5") / UDP(sport=1, dport=2) /
          Raw(b"m" * (1481 - 28)), "XDP_DROP", "TOO_BIG", "1481 bytes: 1501 once wrapped")
    encap(out / IP(src="10.30.0.1", dst="10.20.0.5", options=IP_OPTS) /
          TCP(sport=1, dport=2), "inner IP options carried as they are")
    other(out / IP(src="10.30.0.1", dst="10.99.0.1") / TCP(), "XDP_PASS", "PASS",
          "no tunnel for 10.99.0.1")
    other(out / ARP(), "XDP_PASS", "PASS", "ARP")
    other(out / IPv6(dst="fd00::5") / UDP(), "XDP_PASS", "PASS", "IPv6")

    peer = eth(dst=MAC_NIC, src=MAC_PEER)
    inner = IP(src="10.40.0.9", dst="10.30.0.1") / TCP(sport=443, dport=1234, flags="SA")
    decap(bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / inner), "TCP inside")
    inner_u = IP(src="10.40.0.9", dst="10.30.0.1") / UDP(sport=53, dport=5353) / Raw(b"r" * 300)
    decap(bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / inner_u), "UDP inside")
    small = bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / IP(src="10.40.0.9",
                                                                  dst="10.30.0.1", proto=253))
    decap(small + b"\0" * (60 - len(small)), "padded frame (40-byte datagram in 60)")
    decap(bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4, options=IP_OPTS) / inner),
          "outer IP options (ihl 6): 24 bytes come off")
    cut = bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / inner)
    cut = cut[:14 + 20 + 10]
    cut = cut[:16] + be16(30) + cut[18:]  # outer total length 30: 10 bytes of inner
    other(cut, "XDP_DROP", "BAD_INNER", "10 bytes of inner packet")
    other(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / IPv6(dst="fd00::1") / UDP(), "XDP_DROP",
          "BAD_INNER", "inner version 6")
    bad = bytearray(bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / inner))
    bad[14 + 20 + 2:14 + 20 + 4] = be16(41)  # inner says 41, the outer carries 40
    other(bytes(bad), "XDP_DROP", "BAD_INNER", "inner total length disagrees with the outer")
    other(peer / IP(src=REMOTE, dst="203.0.113.9", proto=4) / inner, "XDP_PASS", "PASS",
          "IPIP to an address that is not ours")
    long_outer = bytearray(bytes(peer / IP(src=REMOTE, dst=LOCAL, proto=4) / inner))
    long_outer[16:18] = be16(20 + 40 + 8)
    long_outer[14 + 20 + 2:14 + 20 + 4] = be16(48)
    other(bytes(long_outer), "XDP_DROP", "MALFORMED",
          "IPIP whose total length runs past the frame")
    other(truncated(out / IP(dst="10.20.0.5") / TCP(), 14 + 16), "XDP_DROP", "MALFORMED",
          "IP header cut at 16")
    other(out / IP(dst="10.20.0.5", ihl=4) / TCP(), "XDP_DROP", "MALFORMED", "ihl 4")
    other(out / IP(dst="10.20.0.5", len=19) / TCP(), "XDP_DROP", "MALFORMED",
          "total length 19")
    p = bytearray(bytes(out / IP(src="10.30.0.1", dst="10.20.0.5") / TCP()))
    p[16:18] = be16(200)
    other(bytes(p), "XDP_DROP", "MALFORMED", "to a tunnel, total length past the frame")

    for i, name in enumerate(IPIP_COUNTERS):
        ex.expect_u64("counters", u32(i), t.get(name), "packets counted " + name)
    ex.write()


# ---- router ----

ROUTER_STATS = ["NOT_IPV4", "MALFORMED", "BAD_CSUM", "OPTIONS", "TTL_EXPIRED", "NO_ROUTE",
                "LOCAL", "BLACKHOLE", "FWD_DEVMAP", "FWD_DEVMAP_HASH", "FWD_IFINDEX", "FWD_MISS"]
NH_DEVMAP, NH_DEVMAP_HASH, NH_IFINDEX, NH_LOCAL, NH_BLACKHOLE = 0, 1, 2, 4, 8


def router():
    ex = Example("router", "xdp_router")
    routes = [("10.1.0.0", 16, 0), ("10.1.2.0", 24, 1), ("10.2.0.0", 16, 2), ("10.3.0.0", 16, 3),
              ("192.168.1.1", 32, 4), ("10.9.0.0", 16, 5), ("10.4.0.0", 16, 6),
              ("10.5.0.0", 16, 7), ("10.0.0.0", 8, 8)]
    # index: (dmac, smac, port, flags)
    nhs = {0: ("02:00:00:00:03:00", "02:00:00:00:0a:00", 0, NH_DEVMAP),
           1: ("02:00:00:00:03:01", "02:00:00:00:0a:01", 1, NH_DEVMAP),
           2: ("02:00:00:00:03:02", "02:00:00:00:0a:02", 100, NH_DEVMAP_HASH),
           3: ("02:00:00:00:03:03", "02:00:00:00:0a:03", 1, NH_IFINDEX),
           4: ("00:00:00:00:00:00", "00:00:00:00:00:00", 0, NH_LOCAL),
           5: ("00:00:00:00:00:00", "00:00:00:00:00:00", 0, NH_BLACKHOLE),
           6: ("02:00:00:00:03:06", "02:00:00:00:0a:06", 5, NH_DEVMAP),
           7: ("02:00:00:00:03:07", "02:00:00:00:0a:07", 300, NH_DEVMAP_HASH),
           8: ("02:00:00:00:03:08", "02:00:00:00:0a:08", 2, NH_DEVMAP)}
    for addr, plen, nh in routes:
        ex.entry("routes", u32(plen) + ip4(addr), u32(nh))
    for i, (dm, sm, port, flags) in nhs.items():
        ex.entry("nexthops", u32(i), mac(dm) + mac(sm) + u32(port) + u32(flags))
    # devmap values are interface indexes; 1 (the loopback) exists everywhere.
    ex.entry("tx_ports", u32(0), u32(1))
    ex.entry("tx_ports", u32(1), u32(1))
    ex.entry("tx_ports", u32(2), u32(1))
    ex.entry("tx_ifs", u32(100), u32(1))
    t = Tally()

    def lpm(dst):
        best = None
        for addr, plen, nh in routes:
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            if (int.from_bytes(ip4(dst), "big") & mask) == int.from_bytes(ip4(addr), "big"):
                if best is None or plen > best[0]:
                    best = (plen, nh)
        return None if best is None else best[1]

    def route(p, why):
        """A valid packet: what the router does follows from the tables."""
        p = Ether(bytes(p))
        ip = p[IP]
        nh = lpm(ip.dst)
        assert ip.ttl > 1 and nh is not None
        dm, sm, port, flags = nhs[nh]
        if flags & NH_LOCAL:
            t("LOCAL")
            return ex.add(p, "XDP_PASS", "LOCAL: " + why, out=bytes(p))
        if flags & NH_BLACKHOLE:
            t("BLACKHOLE")
            return ex.add(p, "XDP_DROP", "BLACKHOLE: " + why)
        if flags & NH_IFINDEX:
            stat, hit, miss = "FWD_IFINDEX", True, None
        elif flags & NH_DEVMAP_HASH:
            stat, hit, miss = "FWD_DEVMAP_HASH", port in (100,), "XDP_DROP"
        else:
            stat, hit, miss = "FWD_DEVMAP", port in (0, 1, 2), "XDP_PASS"
        if not hit:
            t("FWD_MISS")
            return ex.add(p, miss, "FWD_MISS: %s (no device for port %d)" % (why, port),
                          out=bytes(p))
        q = Ether(bytes(p))
        q[Ether].dst, q[Ether].src = dm, sm
        q[IP].ttl -= 1
        del q[IP].chksum
        t(stat)
        return ex.add(p, "XDP_REDIRECT", "%s: %s via next hop %d" % (stat, why, nh),
                      out=bytes(q))

    def other(p, verdict, stat, why):
        t(stat)
        ex.add(p, verdict, stat + ": " + why)

    out = eth()
    S = "172.20.0.1"
    route(out / IP(src=S, dst="10.1.5.5") / UDP(sport=1, dport=2) / Raw(b"a" * 20), "10.1/16")
    route(out / IP(src=S, dst="10.1.2.7") / TCP(sport=1, dport=2), "10.1.2/24 beats 10.1/16")
    route(out / IP(src=S, dst="10.2.3.4") / ICMP(), "10.2/16 by the devmap hash")
    route(out / IP(src=S, dst="10.3.0.9") / UDP(), "10.3/16 by ifindex (bpf_redirect)")
    route(out / IP(src=S, dst="192.168.1.1") / ICMP(), "our own address")
    route(out / IP(src=S, dst="10.9.1.1") / UDP(), "10.9/16 is a blackhole")
    route(out / IP(src=S, dst="10.4.0.1") / UDP(), "10.4/16: devmap port 5 has no device")
    route(out / IP(src=S, dst="10.5.0.1") / UDP(), "10.5/16: devmap hash key 300 missing")
    route(out / IP(src=S, dst="10.77.0.1") / UDP(), "10/8 catches the rest of 10/8")
    other(out / IP(src=S, dst="172.16.0.1") / UDP(), "XDP_DROP", "NO_ROUTE", "172.16.0.1")
    other(out / IP(src=S, dst="11.0.0.1") / UDP(), "XDP_DROP", "NO_ROUTE", "11.0.0.1")
    other(out / IP(src=S, dst="10.1.5.5", ttl=1) / UDP(), "XDP_DROP", "TTL_EXPIRED", "TTL 1")
    other(out / IP(src=S, dst="10.1.5.5", ttl=0) / UDP(), "XDP_DROP", "TTL_EXPIRED", "TTL 0")
    route(out / IP(src=S, dst="10.1.5.5", ttl=2) / UDP(), "TTL 2 leaves with 1")
    other(out / IP(src=S, dst="10.1.5.5", chksum=0x1234) / UDP(), "XDP_DROP", "BAD_CSUM",
          "header checksum 0x1234")
    other(out / IP(src=S, dst="10.1.5.5", options=IP_OPTS) / UDP(), "XDP_PASS",
          "OPTIONS", "IP options: slow path")
    other(out / ARP(), "XDP_PASS", "NOT_IPV4", "ARP")
    other(out / IPv6(dst="fd00::1") / UDP(), "XDP_PASS", "NOT_IPV4", "IPv6")
    other(truncated(out / IP(dst="10.1.5.5") / UDP(), 14 + 19), "XDP_DROP", "MALFORMED",
          "IP header cut at 19")
    other(out / IP(dst="10.1.5.5", ihl=4) / UDP(), "XDP_DROP", "MALFORMED", "ihl 4")
    other(out / IP(dst="10.1.5.5", version=5) / UDP(), "XDP_DROP", "MALFORMED", "version 5")
    other(out / IP(dst="10.1.5.5", len=16) / UDP(), "XDP_DROP", "MALFORMED", "total length 16")
    # Many forwarded packets with varied headers exercise the checksum carry of the TTL update.
    rnd = random.Random(7)
    dsts = ["10.1.%d.%d", "10.1.2.%d", "10.2.%d.%d", "10.3.%d.%d", "10.8.%d.%d"]
    for i in range(40):
        d = dsts[i % len(dsts)]
        d = d % tuple(rnd.randrange(1, 255) for _ in range(d.count("%d")))
        route(out / IP(src="172.20.%d.%d" % (rnd.randrange(256), rnd.randrange(256)), dst=d,
                       ttl=rnd.randrange(2, 256), id=rnd.randrange(65536),
                       tos=rnd.choice((0, 0x10, 0xb8))) /
              UDP(sport=rnd.randrange(65536), dport=rnd.randrange(65536)) /
              Raw(bytes(rnd.randrange(256) for _ in range(rnd.randrange(64)))),
              "varied header %d" % i)
    # The checksum wraps: TTL 255 and a header whose checksum is 0xffff before the update.
    for ident in range(65536):
        cand = IP(src=S, dst="10.1.5.5", ttl=255, id=ident) / UDP(sport=9, dport=9)
        if IP(bytes(cand)).chksum in (0xFFFF, 0x0000, 0x00FF, 0xFEFF):
            route(out / cand, "TTL 255, checksum 0x%04x before" % IP(bytes(cand)).chksum)
            if sum(1 for _, e in ex.packets if "before" in e["why"]) >= 3:
                break

    for i, name in enumerate(ROUTER_STATS):
        ex.expect_u64("stats", u32(i), t.get(name), "packets counted " + name)
    ex.write()


# ---- parser ----

PARSER_COUNTERS = ["IPV4", "IPV6", "OTHER_L3", "TCP", "UDP", "OTHER_L4", "FRAGMENT", "MALFORMED",
                   "TAILCALL_MISS", "NO_META", "SAMPLED", "SAMPLE_LOST"]


def parser():
    ex = Example("parser", "xdp_parser")
    ex.entry("config", u32(0), u32(1))  # sample every packet: the expectations are exact
    t = Tally()

    def meta(l3_off, l4_off, l3_proto, l4_proto, vlans):
        return struct.pack("<HHHBB", l3_off, l4_off, l3_proto, l4_proto, vlans)

    def ok(p, why, counters, m, sampled):
        for c in counters:
            t(c)
        if sampled:
            t("SAMPLED")
        ex.add(p, "XDP_PASS", why, meta=m, ringbuf=1 if sampled else 0, perf=0, out=bytes(p))

    def bad(p, why, counters, stage):
        for c in counters + ["MALFORMED"]:
            t(c)
        ex.add(p, "XDP_DROP", why, ringbuf=0, perf=1, report_stage=stage)

    v4 = IP(src="192.0.2.10", dst="198.51.100.20")
    v6 = IPv6(src="2001:db8::10", dst="2001:db8::20")
    out = eth()
    ok(out / v4 / TCP(sport=1111, dport=80), "IPv4 TCP", ["IPV4", "TCP"],
       meta(14, 34, 0x0800, 6, 0), True)
    ok(out / v4 / UDP(sport=2222, dport=53) / Raw(b"q" * 10), "IPv4 UDP", ["IPV4", "UDP"],
       meta(14, 34, 0x0800, 17, 0), True)
    ok(out / v6 / TCP(sport=3333, dport=443), "IPv6 TCP", ["IPV6", "TCP"],
       meta(14, 54, 0x86DD, 6, 0), True)
    ok(out / v6 / UDP(sport=4444, dport=123), "IPv6 UDP", ["IPV6", "UDP"],
       meta(14, 54, 0x86DD, 17, 0), True)
    ok(out / v6 / IPv6ExtHdrHopByHop() / UDP(sport=5555, dport=7), "IPv6 hop-by-hop, then UDP",
       ["IPV6", "UDP"], meta(14, 62, 0x86DD, 17, 0), True)
    ok(out / v6 / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 12)]) / TCP(sport=1, dport=2),
       "IPv6 16-byte hop-by-hop, then TCP", ["IPV6", "TCP"], meta(14, 70, 0x86DD, 6, 0), True)
    ok(out / Dot1Q(vlan=100) / v4 / TCP(sport=6666, dport=22), "VLAN, IPv4 TCP",
       ["IPV4", "TCP"], meta(18, 38, 0x0800, 6, 1), True)
    ok(Ether(dst=MAC_NIC, src=MAC_CLIENT, type=0x88A8) / Dot1AD(vlan=200, type=0x8100) /
       Dot1Q(vlan=300) / v4 / UDP(sport=7777, dport=4789), "QinQ, IPv4 UDP", ["IPV4", "UDP"],
       meta(22, 42, 0x0800, 17, 2), True)
    ok(Ether(dst=MAC_NIC, src=MAC_CLIENT, type=0x8100) / Dot1Q(vlan=1, type=0x8100) /
       Dot1Q(vlan=2, type=0x8100) / Dot1Q(vlan=3) / v4 / UDP(),
       "three VLAN tags: the third EtherType is left as L3", ["OTHER_L3"],
       meta(22, 0, 0x8100, 0, 2), False)
    ok(out / ARP(), "ARP", ["OTHER_L3"], meta(14, 0, 0x0806, 0, 0), False)
    ok(out / v4 / ICMP(), "IPv4 ICMP", ["IPV4", "OTHER_L4"], meta(14, 34, 0x0800, 1, 0), False)
    ok(out / v4 / GRE(), "IPv4 GRE", ["IPV4", "OTHER_L4"], meta(14, 34, 0x0800, 47, 0), False)
    ok(out / v6 / ICMPv6EchoRequest(), "IPv6 ICMPv6", ["IPV6", "OTHER_L4"],
       meta(14, 54, 0x86DD, 58, 0), False)
    ok(out / IP(src="192.0.2.10", dst="198.51.100.20", frag=10, proto=17) / Raw(b"x" * 16),
       "later IPv4 fragment: no L4 header", ["IPV4", "FRAGMENT"], meta(14, 0, 0x0800, 17, 0),
       False)
    ok(out / IP(src="192.0.2.10", dst="198.51.100.20", flags="MF") / UDP(sport=8, dport=9) /
       Raw(b"y" * 16), "first IPv4 fragment has the UDP header", ["IPV4", "UDP"],
       meta(14, 34, 0x0800, 17, 0), True)
    ok(out / IP(src="192.0.2.10", dst="198.51.100.20", options=IP_OPTS) /
       TCP(sport=9, dport=10), "IPv4 options (ihl 6), TCP", ["IPV4", "TCP"],
       meta(14, 38, 0x0800, 6, 0), True)
    for i in range(8):
        ok(out / IP(src="192.0.2.%d" % (100 + i), dst="198.51.100.20") /
           UDP(sport=20000 + i, dport=53) / Raw(b"z" * (i * 17)), "IPv4 UDP %d" % i,
           ["IPV4", "UDP"], meta(14, 34, 0x0800, 17, 0), True)

    ETH, IPV4S, IPV6S, TCPS, UDPS = 4, 0, 1, 2, 3  # enum stage; PROG_MAX (4) = Ethernet
    bad(truncated(out / v4 / TCP(), 14 + 12), "IPv4 header cut at 12", ["IPV4"], IPV4S)
    bad(out / IP(src="192.0.2.10", dst="198.51.100.20", ihl=4) / TCP(), "IPv4 ihl 4", ["IPV4"],
        IPV4S)
    bad(out / IP(src="192.0.2.10", dst="198.51.100.20", len=12) / TCP(), "IPv4 length 12",
        ["IPV4"], IPV4S)
    bad(truncated(out / v4 / TCP(), 14 + 20 + 12), "TCP header cut at 12", ["IPV4"], TCPS)
    bad(out / v4 / TCP(dataofs=3), "TCP data offset 3", ["IPV4"], TCPS)
    bad(truncated(out / v4 / UDP(), 14 + 20 + 4), "UDP header cut at 4", ["IPV4"], UDPS)
    bad(out / v4 / UDP(len=6), "UDP length 6", ["IPV4"], UDPS)
    bad(truncated(out / v6 / UDP(), 14 + 20), "IPv6 header cut at 20", ["IPV6"], IPV6S)
    bad(out / IPv6(version=4, src="2001:db8::10", dst="2001:db8::20") / UDP(),
        "version 4 in an IPv6 EtherType", ["IPV6"], IPV6S)
    bad(truncated(out / v6 / IPv6ExtHdrHopByHop() / UDP(), 14 + 40 + 1),
        "IPv6 hop-by-hop header cut at 1 byte", ["IPV6"], IPV6S)
    bad(truncated(out / v6 / IPv6ExtHdrHopByHop() / TCP(), 14 + 40 + 8 + 10),
        "TCP after hop-by-hop cut at 10", ["IPV6"], TCPS)
    bad(Ether(dst=MAC_NIC, src=MAC_CLIENT, type=0x8100) / Raw(b"\x00\x64"),
        "VLAN tag cut at 2 bytes", [], ETH)

    for i, name in enumerate(PARSER_COUNTERS):
        ex.expect_u64(".bss", u32(0), t.get(name), "counters[%s]" % name, offset=8 * i)
    ex.write()


def main():
    firewall()
    l4lb()
    ipip()
    router()
    parser()
    return 0


if __name__ == "__main__":
    sys.exit(main())
