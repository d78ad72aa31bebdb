#!/bin/bash
# SPDX-License-Identifier: MIT
#
# selftests/twovm-guest.sh ROLE RUN: one VM's half of selftests/twovm.sh,
# run inside a VM started with tools/vm/run --net bridge:... (TP_NETDEV is
# its NIC).  Never run it on a machine whose network you care about.
#
# RUN is a directory of the repository, shared read-write by the two VMs
# and the host: the VMs meet there (a file NAME appears when one side is
# ready for the other: signal/await below) and leave their results and
# captures there, which the host judges (tshark is 20 times faster there
# than under TCG).  RUN/block (1 MiB of random bytes) is written by the
# host first.
#
# Roles, in pairs booted together:
#   server   10.9.0.2, module loaded          with client (module loaded)
#   client   10.9.0.1, module loaded
#   plain    10.9.0.2, the module NOT loaded  with peer (module loaded)
#   peer     10.9.0.1, module loaded
#
# Phases and the files they leave in RUN:
#   a (client -> server)  curl with tenant=alice -> python3 http.server
#                         --cgi, whose CGI prints its baggage:  a.body;
#                         captures of port 8000 on both NICs: a-ROLE.pcapng
#   c (client -> server)  1 GiB, the sender holding 256 B of baggage:
#                         c.recv (receiver: verdict, bytes, seconds, its
#                         baggage), c.send (sender: bytes, seconds,
#                         RetransSegs before and after), c.rxerr (the
#                         server NIC's receive errors), a 128-byte-snap
#                         capture on the receiving NIC: c-server.pcapng
#   d (peer <-> plain)    1 MiB each way: d1.recv (peer with baggage ->
#                         plain), d2.recv (plain -> peer: the reader's
#                         baggage must be empty); captures on both NICs:
#                         d-ROLE.pcapng
# Every capture leaves its dumpcap log too (ROLE-NAME.dumpcap: drops).
#
# Environment: TWOVM_MIB, the size of phase c in MiB (default 1024).
# Exit status: 0 when every step ran (the host judges the results), 1 when
# one could not (the reason on stderr).
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
ROLE=${1:-} RUN=${2:-}
TPCTL=$REPO/tools/tpctl
PY=/usr/bin/python3
MIB=${TWOVM_MIB:-1024}
DEV=${TP_NETDEV:-}
TMP=$(mktemp -d /tmp/twovm.XXXXXX)
chmod 755 "$TMP"
PIDS=()

log() { echo "# [$ROLE $(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { log "FAIL: $*" >&2; exit 1; }

cleanup() {
	stop_pids
	rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source=selftests/lib.sh
. "$REPO/selftests/lib.sh"

# ---- rendezvous: files in RUN -------------------------------------------------
# signal NAME: tells the other VM that NAME happened
signal() { : >"$RUN/$1" || fail "cannot write $RUN/$1"; }
# await NAME: waits for the other VM's signal; 20 minutes covers the bulk
# phase on a loaded host, and the host's VM timeout ends a dead peer sooner
await() { poll 1200 test -e "$RUN/$1" || fail "the other VM never signalled $1"; }

# ---- the machine ------------------------------------------------------------------
# has_module: the roles that load it do so first thing
has_module() { [ "$ROLE" != plain ]; }

load_module() {
	insmod "$TP_KO" || fail "insmod $TP_KO"
	cat /sys/module/tracingplane/parameters/tcp_exid >"$RUN/exid"
}

# net_up ADDR: the NIC up with ADDR/24.  GRO off: the captures must see the
# frames as they came off the wire, not merged (the NIC itself was given no
# receive offloads by the host: see twovm.sh).
net_up() {
	[ -n "$DEV" ] || fail "no TP_NETDEV: run under tools/vm/run --net"
	ip link set "$DEV" up && ip addr add "$1/24" dev "$DEV" || fail "ip addr add $1"
	ethtool -K "$DEV" gro off 2>/dev/null
	ethtool -k "$DEV" >"$RUN/$ROLE.ethtool"
}

# fresh: clears the calling (sub)shell's baggage.  This script reads its
# programs' output through $(...), so it may carry their baggage (the module
# at work); a server it starts must not inherit that.  Nothing to clear
# without the module.
fresh() { ! has_module || "$TPCTL" clear --pid "$BASHPID"; }

# bg CMD...: starts CMD without baggage in the background, for cleanup
bg() {
	(fresh && exec "$@") &
	PIDS+=($!)
}

listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

# settled PORT: no connection of PORT is still closing (all but TIME-WAIT
# gone), so a capture stopped now has every packet of it
settled() { ! ss -Htan "( sport = :$1 or dport = :$1 )" | grep -qv -e LISTEN -e TIME-WAIT; }

# ---- captures ------------------------------------------------------------------------
# capture_start NAME SNAPLEN FILTER: dumpcap on the NIC, to tmpfs (9p under
# a capture of 700000 frames would slow the receiver) until capture_stop
capture_start() {
	local name=$1
	(exec dumpcap -q -i "$DEV" -s "$2" -f "$3" -w "$TMP/$name.pcapng" \
		>"$TMP/$name.dumpcap" 2>&1) &
	eval "CAP_$name=$!"
	PIDS+=($!)
	poll 60 grep -q "Capturing on" "$TMP/$name.dumpcap" || fail "dumpcap $name did not start"
}

# capture_stop NAME: stops it and copies the file and its log to RUN
capture_stop() {
	local name=$1 pid
	pid=$(eval "echo \$CAP_$name")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	cp "$TMP/$name.pcapng" "$RUN/$name-$ROLE.pcapng" &&
		cp "$TMP/$name.dumpcap" "$RUN/$ROLE-$name.dumpcap" || fail "cannot copy capture $name"
}

# ---- the stream programs ----------------------------------------------------------------
# The receiver: RECV_PY PORT REF OUT TPCTL MODULE(0|1) accepts one
# connection, checks that it carries REF over and over (to the end: a lost,
# doubled or changed byte shows), then writes "ok|bad BYTES SECONDS" and the
# reader's baggage (tpctl get run by a child, which inherits it; "-"
# without the module) to OUT, atomically (the other VM polls for it).
# Its receive buffer is clamped to 512 KiB: the window, at most ~360 frames,
# then fits in the host tap's queue (1000 frames), which a sender with TSO
# would otherwise overflow whenever the emulated receiver lags, and a drop
# there would look like the loss of an oversize segment.
RECV_PY='
import os, socket, subprocess, sys, time
port, ref, out, tpctl, mod = sys.argv[1:6]
block = open(ref, "rb").read()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 512 << 10)
ls.bind(("0.0.0.0", int(port)))
ls.listen(1)
c, _ = ls.accept()
buf = bytearray(1 << 20)
total, good, t0 = 0, True, time.monotonic()
while True:
    n = c.recv_into(buf)
    if n == 0:
        break
    i = 0
    while i < n:  # slices compare with memcmp, wrapping around the block
        at = (total + i) % len(block)
        k = min(n - i, len(block) - at)
        good = good and buf[i:i + k] == block[at:at + k]
        i += k
    total += n
secs = time.monotonic() - t0
bag = subprocess.run([tpctl, "get"], capture_output=True, text=True).stdout if mod == "1" else "-\n"
c.close()
with open(out + ".tmp", "w") as f:
    f.write("%s %d %.1f\n%s" % ("ok" if good else "bad", total, secs, bag))
os.rename(out + ".tmp", out)
'

# The sender: SEND_PY ADDR PORT REF MIB sends MIB MiB (REF over and over),
# then waits for the peer to close (every byte was acknowledged) and prints
# "BYTES SECONDS".
SEND_PY='
import socket, sys, time
addr, port, ref, mib = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
block = open(ref, "rb").read()
s = socket.create_connection((addr, port), timeout=600)
t0 = time.monotonic()
for _ in range(mib * (1 << 20) // len(block)):
    s.sendall(block)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print(mib << 20, "%.1f" % (time.monotonic() - t0))
'

# receiver PORT OUT: RECV_PY in the background, without baggage
receiver() { bg "$PY" -c "$RECV_PY" "$1" "$RUN/block" "$2" "$TPCTL" "$(has_module && echo 1 || echo 0)"; }

# send [-b BAGGAGE] ADDR PORT MIB: SEND_PY, with that baggage if asked
send() {
	local bag=()
	[ "$1" = -b ] && { bag=("$TPCTL" run -b "$2" --); shift 2; }
	"${bag[@]}" "$PY" -c "$SEND_PY" "$1" "$2" "$RUN/block" "$3"
}

retrans() { awk '$1 == "Tcp:" && !h { for (i = 1; i <= NF; i++) f[$i] = i; h = 1; next }
	$1 == "Tcp:" { print $f["RetransSegs"] }' /proc/net/snmp; }

# The NIC's receive errors: an oversize frame would be dropped and counted
rxerr() {
	local s=/sys/class/net/$DEV/statistics
	echo "length=$(cat $s/rx_length_errors) over=$(cat $s/rx_over_errors)" \
		"errors=$(cat $s/rx_errors) dropped=$(cat $s/rx_dropped) frames=$(cat $s/rx_packets)"
}

# A baggage of 256 bytes once serialized (the atom layer's format): one
# key=value pair, the value 247 bytes long (checked on the wire by the host:
# the fragments' total field).
BIG=$(printf 'x%.0s' {1..247})

# ---- the roles ------------------------------------------------------------------------------
# a, server side: http.server --cgi whose CGI prints the baggage it inherited
# from the thread that read the request
server_a() {
	mkdir -p "$TMP/www/cgi-bin"
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nexec %s get\n' "$TPCTL" \
		>"$TMP/www/cgi-bin/bag"
	chmod 755 "$TMP/www" "$TMP/www/cgi-bin" "$TMP/www/cgi-bin/bag"
	(fresh && cd "$TMP/www" && exec "$PY" -m http.server --cgi --bind 10.9.0.2 8000 \
		>"$TMP/http.log" 2>&1) &
	PIDS+=($!)
	poll 60 listening 8000 || fail "http.server did not listen"
	capture_start a 0 "tcp port 8000"
	signal a.ready
	log "a: ready"
	await a.done
	poll 60 settled 8000
	capture_stop a
}

client_a() {
	capture_start a 0 "tcp port 8000"
	await a.ready
	fresh || fail "tpctl clear"
	"$TPCTL" run -b tenant=alice -- curl -sS --max-time 300 \
		http://10.9.0.2:8000/cgi-bin/bag >"$RUN/a.body" || log "curl failed"
	poll 60 settled 8000
	capture_stop a
	signal a.done
}

# c: the bulk transfer, checked on the receiving side
server_c() {
	receiver 9000 "$RUN/c.recv"
	poll 60 listening 9000 || fail "receiver did not listen"
	capture_start c 128 "tcp port 9000"
	rxerr >"$RUN/c.rxerr.before"
	signal c.ready
	log "c: ready"
	await c.recv
	log "c: received: $(head -n1 "$RUN/c.recv")"
	poll 60 settled 9000
	capture_stop c
	rxerr >"$RUN/c.rxerr"
}

client_c() {
	local before out
	await c.ready
	before=$(retrans)
	fresh || fail "tpctl clear"
	out=$(send -b "big=$BIG" 10.9.0.2 9000 "$MIB") || fail "the sender failed"
	echo "$out $before $(retrans)" >"$RUN/c.send"
}

# d: the module-less VM, which receives first, then sends
plain_d() {
	capture_start d 0 "tcp port 7000 or tcp port 7001"
	receiver 7000 "$RUN/d1.recv"
	poll 60 listening 7000 || fail "receiver did not listen"
	signal d1.ready
	await d1.recv
	await d2.ready
	send 10.9.0.1 7001 1 >/dev/null || log "sending to the peer failed"
	await d2.recv
	poll 60 settled 7001
	capture_stop d
	signal d.done
}

peer_d() {
	capture_start d 0 "tcp port 7000 or tcp port 7001"
	await d1.ready
	fresh || fail "tpctl clear"
	send -b tenant=alice 10.9.0.2 7000 1 >/dev/null || log "sending to the plain VM failed"
	receiver 7001 "$RUN/d2.recv"
	poll 60 listening 7001 || fail "receiver did not listen"
	signal d2.ready
	await d.done
	poll 60 settled 7001
	capture_stop d
}

[ -d "$RUN" ] || { echo "usage: $0 server|client|plain|peer RUN" >&2; exit 2; }
log "start"
case $ROLE in
server) load_module; net_up 10.9.0.2; server_a; server_c ;;
client) load_module; net_up 10.9.0.1; client_a; client_c ;;
plain) net_up 10.9.0.2; plain_d ;;
peer) load_module; net_up 10.9.0.1; peer_d ;;
*) echo "usage: $0 server|client|plain|peer RUN" >&2; exit 2 ;;
esac
log "done"
exit 0
