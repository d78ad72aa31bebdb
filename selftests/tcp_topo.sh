#!/bin/bash
# SPDX-License-Identifier: MIT
#
# selftests/tcp_topo.sh CASE: baggage across network namespaces, carried by
# unmodified programs.  Run by the topo_* tests of selftests/tcp, inside the
# VM, with the module loaded; exits 0 when the case passed.  Never run it
# on a machine whose network you care about.
#
#   +-----------------+        +-----------------------+        +-----------------+
#   | netns tp6c      |        | netns tp6p            |        | netns tp6s      |
#   | client          |  veth  | router, or proxy      |  veth  | server          |
#   |  c0 10.6.1.1 ---+--------+-- p0 10.6.1.2         |        |                 |
#   |     fd06:1::1   |        |     fd06:1::2         |        |                 |
#   |                 |        |    p1 10.6.2.1 -------+--------+-- s0 10.6.2.2   |
#   |                 |        |       fd06:2::1       |        |     fd06:2::2   |
#   +-----------------+        +-----------------------+        +-----------------+
#
# tp6p forwards IPv4 and IPv6, so the client reaches the server either
# directly (routed: tp6p never terminates the connection) or through a socat
# proxy listening in tp6p.  Checksum offload is off on every veth, so the
# packets a capture sees carry real checksums, cut to the MSS in software;
# except in case gso, where the veths keep TSO and checksum offload.
#
# Cases:
#   http         curl with baggage -> python3 -m http.server --cgi; the CGI
#                script (forked by the thread that read the request) prints
#                the baggage it inherited; over IPv4 (where a capture checks
#                every checksum and where the option appears), over IPv6,
#                and through a socat proxy in tp6p (three namespaces)
#   pid          the same with a one-thread server, read with tpctl get --pid
#   socat        socat client with baggage -> socat server, tpctl get --pid
#   off          the server's namespace switched off: the connection works,
#                data arrive intact, nothing but the SYN carries the option
#   hostile      scapy sends random and malformed options at an open port:
#                counted, nothing else changes, the server still works
#   forge        segments with a live connection's addresses but sequence
#                numbers TCP refuses, carrying our options, from a client
#                that did not offer: the server never takes it for a peer
#   gso          offloads on: 16 MiB whose baggage changes every 256 KiB,
#                so that versions start inside GSO segments; every byte
#                arrives intact and the reader has both baggages
#   paths        packets that leave the client by unusual ways
#                (selftests/tcp_paths.py): an IPv6 segment routing header
#                (the IP header names the router, the checksum the
#                server); TCP-MD5 added to an established connection (its
#                segments are signed: left alone, the data arrives); an
#                nftables policy that drops what no root socket sends (the
#                pieces a segment is cut into are the socket's); a VRF
#                (LOCAL_OUT twice: one fragment per segment, not two)
#
# Exit status: 0 passed, 1 failed, 2 usage, 4 skipped (a tool is missing:
# tools/deps installs them).
#
# Environment: TPCTL, tools/tpctl.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
TPCTL=${TPCTL:-$REPO/tools/tpctl}
PY=/usr/bin/python3
C=tp6c P=tp6p S=tp6s
TMP=$(mktemp -d /tmp/tp6-topo.XXXXXX)
chmod 755 "$TMP"
PIDS=()

log() { echo "# $*"; }
fail() { log "FAIL: $*"; exit 1; }

cleanup() {
	stop_pids
	for ns in $C $P $S; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# shellcheck source=selftests/lib.sh
. selftests/lib.sh

# ---- the topology ------------------------------------------------------------------
# topology [offload]: builds the namespaces; offloads stay on if asked
topology() {
	local offload=${1:-} dev
	for ns in $C $P $S; do
		ip netns del "$ns" 2>/dev/null	# left over by a killed run
		ip netns add "$ns" || fail "ip netns add $ns"
		in_ns "$ns" ip link set lo up
	done
	ip link add c0 netns $C type veth peer name p0 netns $P || fail "veth c0"
	ip link add p1 netns $P type veth peer name s0 netns $S || fail "veth p1"
	in_ns $C ip addr add 10.6.1.1/24 dev c0
	in_ns $C ip addr add fd06:1::1/64 dev c0 nodad
	in_ns $P ip addr add 10.6.1.2/24 dev p0
	in_ns $P ip addr add fd06:1::2/64 dev p0 nodad
	in_ns $P ip addr add 10.6.2.1/24 dev p1
	in_ns $P ip addr add fd06:2::1/64 dev p1 nodad
	in_ns $S ip addr add 10.6.2.2/24 dev s0
	in_ns $S ip addr add fd06:2::2/64 dev s0 nodad
	for dev in "$C c0" "$P p0" "$P p1" "$S s0"; do
		set -- $dev
		[ "$offload" = offload ] || in_ns "$1" ethtool -K "$2" tx off >/dev/null 2>&1 ||
			fail "ethtool -K $2 tx off (package ethtool)"
		in_ns "$1" ip link set "$2" up
	done
	in_ns $P sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	in_ns $C ip route add default via 10.6.1.2
	in_ns $C ip -6 route add default via fd06:1::2
	in_ns $S ip route add default via 10.6.2.1
	in_ns $S ip -6 route add default via fd06:2::1
}

# listening NS PORT: something listens on PORT in NS
listening() { in_ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

# fresh: clears the calling (sub)shell's baggage.  The script reads its
# programs' output through pipes, $(...), so it carries their baggage (the
# module at work); a server it starts afterwards must not inherit that.
fresh() { "$TPCTL" clear --pid "$BASHPID"; }

# bg NS CMD...: starts CMD in NS in the background, remembered for cleanup
bg() {
	local ns=$1
	shift
	(fresh && exec ip netns exec "$ns" "$@") &
	PIDS+=($!)
}

# A CGI server in $S on port 8000 whose script prints its own baggage.
cgi_server() {
	mkdir -p "$TMP/www/cgi-bin"
	cat >"$TMP/www/cgi-bin/bag" <<-EOF
	#!/bin/sh
	printf 'Content-Type: text/plain\r\n\r\n'
	exec $TPCTL get
	EOF
	chmod 755 "$TMP/www" "$TMP/www/cgi-bin" "$TMP/www/cgi-bin/bag"
	(fresh && cd "$TMP/www" && exec ip netns exec $S $PY -m http.server --cgi --bind :: 8000 >"$TMP/http.log" 2>&1) &
	PIDS+=($!)
	poll 60 listening $S 8000 || fail "http.server did not listen"
}

# capture_start NS DEV: dumpcap on DEV until capture_stop
capture_start() {
	(exec ip netns exec "$1" dumpcap -q -i "$2" -w "$TMP/cap.pcapng" >"$TMP/dumpcap.log" 2>&1) &
	DUMPCAP=$!
	PIDS+=($DUMPCAP)
	poll 60 grep -q "Capturing on" "$TMP/dumpcap.log" || fail "dumpcap did not start"
}

# capture_stop N: once N connections closed on the server's side (its FINs
# are in the file: the packets before them are too), stops the capture
capture_stop() {
	poll 60 at_least "$1" tshark_count "tcp.flags.fin == 1 && tcp.srcport == 8000" ||
		log "the capture lacks the server's FINs"
	kill -TERM "$DUMPCAP"
	wait "$DUMPCAP" 2>/dev/null
}

# tshark_count FILTER: packets of the capture matching a display filter
tshark_count() {
	tshark -r "$TMP/cap.pcapng" -o tcp.check_checksum:TRUE -Y "$1" 2>/dev/null | wc -l
}

EXID_FILTER() { printf 'tcp.options.experimental.exid == 0x%04x' "$(cat /sys/module/tracingplane/parameters/tcp_exid)"; }

# Every TCP checksum good, no frame above the MTU, the option where expected.
check_capture() {
	local opt total bad big
	opt=$(EXID_FILTER)
	total=$(tshark_count "tcp")
	bad=$(tshark_count "tcp.checksum.status != 1")
	big=$(tshark_count "frame.len > 1514")
	log "capture: $total TCP segments, $bad bad checksums, $big above the MTU"
	[ "$total" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$big" -eq 0 ] || return 1
	log "option on: SYN $(tshark_count "$opt && tcp.flags.syn == 1 && tcp.flags.ack == 0")," \
		"SYN-ACK $(tshark_count "$opt && tcp.flags.syn == 1 && tcp.flags.ack == 1")," \
		"data $(tshark_count "$opt && tcp.len > 0")," \
		"other $(tshark_count "$opt && tcp.len == 0 && tcp.flags.syn == 0")"
	[ "$(tshark_count "$opt && tcp.flags.syn == 1")" -eq 2 ] || return 1
	# fragments only on data, capabilities only on the SYN and the SYN-ACK
	[ "$(tshark_count "$opt && tcp.len == 0 && tcp.flags.syn == 0")" -eq 0 ]
}

# bag_is TEXT WANT...: TEXT's lines are exactly the WANTs, in any order
# (so nothing was lost, and nothing more was credited)
bag_is() {
	local text=$1
	shift
	[ "$(sort <<<"$text")" = "$(printf '%s\n' "$@" | sort)" ] && return 0
	log "baggage is not '$*': $(tr '\n' ' ' <<<"$text")"
	return 1
}

# ---- the cases ------------------------------------------------------------------------
# through URL BAGGAGE...: the CGI's answer to curl with BAGGAGE (-b ...)
through() {
	local url=$1 args=() b
	shift
	fresh || fail "tpctl clear"
	for b in "$@"; do args+=(-b "$b"); done
	in_ns $C "$TPCTL" run "${args[@]}" -- curl -sS --max-time 60 "$url" || fail "curl $url"
}

case_http() {
	local body
	cgi_server
	capture_start $P p0
	body=$(through http://10.6.2.2:8000/cgi-bin/bag tenant=alice req=42)
	capture_stop 1
	log "IPv4: the server's CGI reports: $(tr '\n' ' ' <<<"$body")"
	bag_is "$body" tenant=alice req=42 || fail "the server did not get the client's baggage"
	check_capture || fail "capture"

	body=$(through "http://[fd06:2::2]:8000/cgi-bin/bag" tenant=bob req=43)
	log "IPv6: the server's CGI reports: $(tr '\n' ' ' <<<"$body")"
	bag_is "$body" tenant=bob req=43 || fail "IPv6"

	bg $P socat TCP4-LISTEN:8080,reuseaddr,fork TCP4:10.6.2.2:8000
	poll 60 listening $P 8080 || fail "proxy did not listen"
	body=$(through http://10.6.1.2:8080/cgi-bin/bag tenant=dave hop=client)
	log "proxied: the server's CGI reports: $(tr '\n' ' ' <<<"$body")"
	bag_is "$body" tenant=dave hop=client || fail "the baggage did not cross the proxy"
}

case_pid() {
	local pid
	bg $S $PY -c 'import http.server as h
h.HTTPServer(("10.6.2.2", 8001), h.SimpleHTTPRequestHandler).serve_forever()'
	pid=${PIDS[-1]}
	poll 60 listening $S 8001 || fail "server did not listen"
	in_ns $C "$TPCTL" run -b tenant=bob -- curl -sS -o /dev/null --max-time 60 \
		http://10.6.2.2:8001/ || fail "curl"
	bag_is "$("$TPCTL" get --pid "$pid")" tenant=bob || fail "tpctl get --pid $pid"
}

case_socat() {
	local pid
	mkfifo "$TMP/in"
	bg $S socat -u TCP4-LISTEN:7000,reuseaddr "OPEN:$TMP/out,creat"
	pid=${PIDS[-1]}
	poll 60 listening $S 7000 || fail "socat did not listen"
	bg $C "$TPCTL" run -b tenant=carol -- socat -u "OPEN:$TMP/in" TCP4:10.6.2.2:7000
	exec 3>"$TMP/in"
	echo "hello over socat" >&3
	poll 60 grep -q "hello over socat" "$TMP/out" || fail "nothing arrived"
	bag_is "$("$TPCTL" get --pid "$pid")" tenant=carol || fail "tpctl get --pid $pid"
	exec 3>&-
}

case_off() {
	local body sum opt
	cgi_server
	head -c 1000000 /dev/urandom >"$TMP/www/blob"
	sum=$(md5sum <"$TMP/www/blob")
	in_ns $S "$TPCTL" net off || fail "switching $S off"
	[ "$(in_ns $S "$TPCTL" net)" = off ] || fail "tpctl net does not say off"
	capture_start $P p0
	body=$(in_ns $C "$TPCTL" run -b tenant=erin -- \
		curl -sS --max-time 60 "http://10.6.2.2:8000/cgi-bin/bag") || fail "curl"
	[ "$(in_ns $C "$TPCTL" run -b tenant=erin -- curl -sS --max-time 60 \
		http://10.6.2.2:8000/blob | md5sum)" = "$sum" ] || fail "data changed"
	capture_stop 2
	[ -z "$body" ] || fail "a switched-off server got baggage: $body"
	opt=$(EXID_FILTER)
	log "option on $(tshark_count "$opt") packets, SYNs: $(tshark_count "$opt && tcp.flags.syn == 1")"
	# two connections: their two SYNs, and nothing else
	[ "$(tshark_count "$opt")" -eq 2 ] || fail "options beyond the SYNs"
	[ "$(tshark_count "$opt && tcp.flags.syn == 1 && tcp.flags.ack == 0")" -eq 2 ] ||
		fail "the SYNs did not offer baggage"
}

# counter NS NAME: one TCP counter of tpctl status, seen from NS
counter() { in_ns "$1" "$TPCTL" status | sed -n "s/^tcp_$2: //p"; }

case_hostile() {
	local before after conns_before conns_after body
	cgi_server
	before=$(counter $S malformed)
	conns_before=$(counter $S live_conns)
	in_ns $C $PY "$REPO/selftests/tcp_hostile.py" 10.6.2.2 8000 \
		"$(cat /sys/module/tracingplane/parameters/tcp_kind)" \
		"$(cat /sys/module/tracingplane/parameters/tcp_exid)" || fail "scapy"
	poll 60 at_least $((before + 100)) counter $S malformed ||
		fail "malformed moved from $before to $(counter $S malformed) only"
	after=$(counter $S malformed)
	conns_after=$(counter $S live_conns)
	log "malformed options counted: $((after - before)); live sockets $conns_before -> $conns_after"
	[ "$conns_after" -le "$conns_before" ] || fail "hostile packets created state"
	body=$(through http://10.6.2.2:8000/cgi-bin/bag tenant=frank)
	bag_is "$body" tenant=frank || fail "the server no longer works"
}

# A peer that never offered stays one that never offered, whatever segments
# with its addresses but sequence numbers TCP would refuse carry.
case_forge() {
	local neg sent mal out
	in_ns $C "$TPCTL" net off || fail "switching $C off"
	bg $S "$TPCTL" run -b tenant=alice -- $PY -c 'import socket
s = socket.create_server(("10.6.2.2", 8002))
c, _ = s.accept()
while c.recv(1):
    c.sendall(b"x" * 100)'
	poll 60 listening $S 8002 || fail "server did not listen"
	neg=$(counter $S negotiated) sent=$(counter $S opts_sent) mal=$(counter $S malformed)
	out=$(in_ns $C $PY "$REPO/selftests/tcp_forge.py" 10.6.2.2 8002 \
		"$(cat /sys/module/tracingplane/parameters/tcp_kind)" \
		"$(cat /sys/module/tracingplane/parameters/tcp_exid)") || fail "scapy"
	[ "$out" = ok ] || fail "the connection did not survive the forged segments"
	poll 60 at_least $((mal + 2)) counter $S malformed ||
		fail "malformed moved from $mal to $(counter $S malformed) only"
	log "negotiated $neg -> $(counter $S negotiated), options sent $sent -> $(counter $S opts_sent)"
	[ "$(counter $S negotiated)" -eq "$neg" ] || fail "a forged segment negotiated"
	[ "$(counter $S opts_sent)" -eq "$sent" ] || fail "baggage went to a peer that never offered"
}

case_gso() {
	local splits result helper=${TP_TCP_HELPER:-$REPO/build/selftests/tcp}
	splits=$(counter $S splits)
	bg $S "$helper" --sink 9000 "$TMP/sink"
	poll 60 listening $S 9000 || fail "sink did not listen"
	in_ns $C "$helper" --source 10.6.2.2 9000 16 || fail "source"
	poll 60 test -s "$TMP/sink" || fail "no result from the sink"
	result=$(cat "$TMP/sink")
	log "sink: $result; segments cut to carry fragments: $(($(counter $S splits) - splits))"
	case $result in
	"ok 16777216 "*) ;;
	*) fail "the stream did not arrive intact" ;;
	esac
	[[ $result == *phase=even* && $result == *phase=odd* ]] ||
		fail "the reader lacks one of the two baggages"
}

# paths_client MODE ADDR PORT BYTES BAGGAGE...: from the client, with
# BAGGAGE, the answer of tcp_paths.py's server: bytes read, its baggage
paths_client() {
	local mode=$1 addr=$2 port=$3 size=$4 args=() b
	shift 4
	for b in "$@"; do args+=(-b "$b"); done
	fresh || fail "tpctl clear"
	in_ns $C "$TPCTL" run "${args[@]}" -- \
		$PY "$REPO/selftests/tcp_paths.py" client "$mode" "$addr" "$port" "$size"
}

# answer_is WHAT GOT WANT
answer_is() {
	log "$1: the server answers: ${2:0:80}"
	[ "$2" = "$3" ] || fail "$1: the server should have answered '${3:0:80}'"
}

case_paths() {
	local out long mal port
	bg $S "$TPCTL" run --on-read=replace -- $PY "$REPO/selftests/tcp_paths.py" server fd06:2::2 7000
	bg $S "$TPCTL" run --on-read=replace -- $PY "$REPO/selftests/tcp_paths.py" server 10.6.2.2 7001 7002 7003
	for port in 7000 7001 7002 7003; do
		poll 60 listening $S $port || fail "tcp_paths.py did not listen on $port"
	done

	in_ns $P sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.p0.seg6_enabled=1
	in_ns $S sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.s0.seg6_enabled=1
	out=$(paths_client srh fd06:2::2 7000 100 case=srh) || fail "srh: no connection"
	answer_is srh "$out" "100 case=srh"

	out=$(paths_client md5 10.6.2.2 7001 100 case=md5) || fail "md5: the connection stalled"
	answer_is md5 "${out%% *}" 100

	in_ns $C nft -f - <<-EOF || fail "nft"
	table inet tp_owner {
		chain out {
			type filter hook output priority 0; policy accept;
			tcp dport 7002 meta skuid 0 accept
			tcp dport 7002 counter drop
		}
	}
	EOF
	long=$(head -c 1500 /dev/zero | tr '\0' v)
	out=$(paths_client plain 10.6.2.2 7002 20000 "k=$long") || fail "owner: the connection stalled"
	answer_is owner "$out" "20000 k=$long"
	in_ns $C nft list chain inet tp_owner out | grep -q "counter packets 0 " ||
		fail "owner: the policy dropped packets the socket sent"

	in_ns $C ip link add red type vrf table 10 || fail "ip link add type vrf"
	in_ns $C ip link set red up
	in_ns $C ip link set c0 master red
	in_ns $C ip route add default via 10.6.1.2 vrf red || fail "VRF route"
	mal=$(counter $S malformed)
	out=$(paths_client vrf 10.6.2.2 7003 100 case=vrf) || fail "vrf: no connection"
	answer_is vrf "$out" "100 case=vrf"
	[ "$(counter $S malformed)" -eq "$mal" ] || fail "vrf: the server counted malformed options"
}

[ $# -eq 1 ] || { echo "usage: $0 http|pid|socat|off|hostile|forge|gso|paths" >&2; exit 2; }
[ -d /sys/module/tracingplane ] || fail "module not loaded"
for tool in ip ss ethtool tshark curl socat nft; do
	command -v $tool >/dev/null || { log "SKIP: $tool is not installed"; exit 4; }
done
$PY -c 'import scapy' 2>/dev/null || { log "SKIP: python3-scapy is not installed"; exit 4; }
fresh || fail "tpctl clear"
if [ "$1" = gso ]; then topology offload; else topology; fi
case $1 in
http) case_http ;;
pid) case_pid ;;
socat) case_socat ;;
off) case_off ;;
hostile) case_hostile ;;
forge) case_forge ;;
gso) case_gso ;;
paths) case_paths ;;
*) fail "unknown case $1" ;;
esac
log "case $1 passed"
exit 0
