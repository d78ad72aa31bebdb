#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""
selftests/tcp_paths.py: the two ends of selftests/tcp_topo.sh's case
paths, connections whose packets take unusual ways out of the client.

  tcp_paths.py server ADDR PORT...
      Listens on each PORT of ADDR (IPv4 or IPv6).  Each connection is read
      to its end, then answered with one line: the number of bytes read and
      the server's baggage after the read ("tpctl get", lines joined by
      spaces, its comments left out).  Run it under "tpctl run --on-read=replace" so that the
      baggage is that of the last connection.  On port 7001 it signs the
      connection with TCP-MD5 once accepted (key "tracingplane", for the
      client's address).

  tcp_paths.py client MODE ADDR PORT BYTES
      Sends BYTES bytes and prints the server's answer (exit 1 on a
      timeout or error).  MODE:
        plain   nothing special
        vrf     bound to the device "red", a VRF, whose packets go through
                netfilter's LOCAL_OUT twice
        srh     IPv6, with a segment routing header through fd06:1::2, so
                that the IP header names the router, not the server
        md5     TCP-MD5 added to the connection once established, before
                the data
"""
import socket
import struct
import subprocess
import sys
import threading
import time

TPCTL = sys.path[0] + "/../tools/tpctl"
MD5_PORT = 7001
KEY = b"tracingplane"
TCP_MD5SIG = 14


def sign(sock, peer):
    """Adds a TCP-MD5 key for @peer to an established socket."""
    family = socket.AF_INET6 if ":" in peer else socket.AF_INET
    if family == socket.AF_INET:
        addr = struct.pack("=HH4s", family, 0, socket.inet_pton(family, peer))
    else:
        addr = struct.pack("=HHI16sI", family, 0, 0, socket.inet_pton(family, peer), 0)
    sig = addr.ljust(128, b"\0") + struct.pack("=BBHi", 0, 0, len(KEY), 0)
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, sig + KEY.ljust(80, b"\0"))


def serve_one(conn, peer, port):
    if port == MD5_PORT:
        sign(conn, peer)
    n = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        n += len(chunk)
    bag = subprocess.run([TPCTL, "get"], capture_output=True, text=True, check=False)
    lines = [l for l in bag.stdout.splitlines() if l and not l.startswith("#")]
    conn.sendall(b"%d %s\n" % (n, " ".join(lines).encode()))
    conn.close()


def listen(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.create_server((addr, port), family=family, reuse_port=True)
    while True:
        conn, peer = srv.accept()
        serve_one(conn, peer[0], port)


def server(addr, ports):
    for port in ports:
        threading.Thread(target=listen, args=(addr, int(port)), daemon=True).start()
    while True:
        time.sleep(3600)


def client(mode, addr, port, size):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(30)
    if mode == "vrf":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"red")
    elif mode == "srh":
        segments = [socket.inet_pton(family, a) for a in (addr, "fd06:1::2")]
        # type 4 (segment routing), segments left 1, last entry 1
        srh = struct.pack("!BBBBBBH", 0, 2 * len(segments), 4, 1, 1, 0, 0)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, srh + b"".join(segments))
    sock.connect((addr, port))
    if mode == "md5":
        sign(sock, addr)
        time.sleep(1)
    sock.sendall(b"x" * size)
    sock.shutdown(socket.SHUT_WR)
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    print(answer.decode().strip())


def main():
    try:
        if sys.argv[1] == "server":
            server(sys.argv[2], sys.argv[3:])
        else:
            client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    except OSError as err:
        sys.exit("tcp_paths.py: %s" % err)


if __name__ == "__main__":
    main()
