#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
selftests/tcp_hostile.py DST PORT KIND EXID: hostile baggage options at an
open TCP port, for selftests/tcp_topo.sh (case hostile).

Sends 110 segments whose baggage option is malformed in one of ten
documented ways (Documentation/wire-format.rst, "Failure modes"), each of
which the receiver must count as malformed and ignore, then 300 segments
with random option bytes after our kind and ExID.  Every segment has a
correct TCP checksum, so that nothing but the option is wrong.  IPv4 only:
the parser is the same for both families.
"""
import random
import socket
import struct
import sys

from scapy.all import IP, Raw, send  # pylint: disable=no-name-in-module

SYN, ACK, PSH = 0x02, 0x10, 0x08


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def segment(src, dst, dport, flags, opts, payload=b"", sport=None):
    """A TCP segment with a correct checksum; from a random port unless
    given, with a random sequence and acknowledgment number."""
    opts += b"\x01" * (-len(opts) % 4)  # NOP padding
    sport = sport or random.randint(20000, 60000)
    seq, ack = random.getrandbits(32), random.getrandbits(32) if flags & ACK else 0
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack,
                      (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0)
    seg = bytearray(hdr + opts + payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", seg, 16, checksum(pseudo + bytes(seg)))
    return bytes(seg)


def ours(kind, exid, body, length=None):
    """Our option: kind, length (true one unless given), ExID, body."""
    return bytes([kind, length if length is not None else 4 + len(body)]) + \
        struct.pack("!H", exid) + body


def malformed(kind, exid):
    """(flags, options, payload) for each documented way to be wrong."""
    frag = b"\x00\x01\x00x"  # back 0, total 1, off 0, "x": a valid fragment
    return [
        (SYN, ours(kind, exid, b"\x00"), b""),                 # length 5
        (SYN, ours(kind, exid, b"\x00\x00"), b""),             # length 6
        (SYN, ours(kind, exid, frag), b""),                    # fragment on a SYN
        (ACK, ours(kind, exid, frag), b""),                    # fragment, no payload
        (ACK | PSH, ours(kind, exid, b"\x00\x02\x01xy"), b"p"),  # off+len > total
        (ACK | PSH, ours(kind, exid, b"\x00\x00\x00x"), b"p"),   # data in an empty one
        (ACK | PSH, ours(kind, exid, b"\x80\x00\x01\x00x"), b"p"),  # overlong varint
        (ACK | PSH, ours(kind, exid, b"\x00\x80\x80\x80\x08\x00x"), b"p"),  # 2^24
        (ACK | PSH, ours(kind, exid, frag) * 2, b"p"),         # two of ours
        (ACK | PSH, ours(kind, exid, frag, length=40), b"p"),  # runs past the end
    ]


def main():
    dst, port, kind, exid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0)
    src = IP(dst=dst).src
    packets = []
    cases = malformed(kind, exid)
    for i in range(11 * len(cases)):
        flags, opts, payload = cases[i % len(cases)]
        packets.append(IP(src=src, dst=dst, proto=6) /
                       Raw(segment(src, dst, port, flags, opts, payload)))
    for _ in range(300):
        body = bytes(random.getrandbits(8) for _ in range(random.randint(0, 32)))
        flags = random.choice([SYN, ACK, ACK | PSH])
        packets.append(IP(src=src, dst=dst, proto=6) /
                       Raw(segment(src, dst, port, flags, ours(kind, exid, body), b"p")))
    send(packets, verbose=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
