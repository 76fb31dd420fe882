#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a pcap of N packets mutated from an example trace: random bytes rewritten, bits flipped,
frames cut short or grown with random bytes (never below the 14 bytes BPF_PROG_TEST_RUN needs).
Deterministic for a given seed. Usage: mutate_trace.py IN.pcap OUT.pcap N SEED"""
import struct, random, sys
src, dst, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)
d=open(src,'rb').read(); hdr=d[:24]; recs=[]; o=24
while o<len(d):
    ts1,ts2,cl,wl=struct.unpack('<IIII',d[o:o+16]); recs.append(bytearray(d[o+16:o+16+cl])); o+=16+cl
with open(dst,'wb') as f:
    f.write(hdr)
    for i in range(n):
        p=bytearray(random.choice(recs))
        k=random.randrange(4)
        for _ in range(random.randrange(1,4)):
            if k==0 and len(p)>14: p[random.randrange(14,len(p))]=random.randrange(256)
            elif k==1: p=p[:random.randrange(14,len(p)+1)]
            elif k==2: p+=bytes(random.randrange(256) for _ in range(random.randrange(1,40)))
            elif k==3 and len(p)>14: j=random.randrange(12,len(p)); p[j]^=1<<random.randrange(8)
        if len(p)<14: p+=bytes(14-len(p))
        f.write(struct.pack('<IIII',i,0,len(p),len(p))); f.write(p)
