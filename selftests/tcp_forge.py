#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
selftests/tcp_forge.py DST PORT KIND EXID: forged baggage options into a
live connection, for selftests/tcp_topo.sh (case forge).

Connects to DST:PORT (a server that answers every byte with 100), from a
namespace whose module does not offer baggage, then sends segments with
the connection's own addresses and ports but sequence and acknowledgment
numbers TCP would not take: one with the capability option, one with a
valid fragment on a byte of data.  Neither may make the server's module
take the client for a peer that speaks baggage.  The connection must
still work after them.  Prints "ok" when it does.
"""
import socket
import sys

from scapy.all import IP, Raw, send  # pylint: disable=no-name-in-module

from tcp_hostile import ACK, PSH, ours, segment


def exchange(sock):
    sock.sendall(b"?")
    got = b""
    while len(got) < 100:
        chunk = sock.recv(100 - len(got))
        if not chunk:
            raise SystemExit("the server closed the connection")
        got += chunk


def main():
    dst, port, kind, exid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0)
    sock = socket.create_connection((dst, port), timeout=60)
    exchange(sock)
    src, sport = sock.getsockname()
    frag = b"\x00\x01\x00x"  # back 0, total 1, off 0, "x": a valid fragment
    forged = [(ACK, ours(kind, exid, b""), b""), (ACK | PSH, ours(kind, exid, frag), b"p")]
    send([IP(src=src, dst=dst, proto=6) / Raw(segment(src, dst, port, f, o, p, sport))
          for f, o, p in forged], verbose=False)
    exchange(sock)
    sock.close()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
