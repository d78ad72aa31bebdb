#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Baggage through pipes, FIFOs and UNIX sockets with real, unmodified
# programs (Documentation/transit.rst): shells, coreutils, python3 and
# tpctl.  Run by selftests/run with the module loaded; prints kselftest
# TAP ending in one "# Totals:" line.  Leaves the module loaded.
set -u
cd "$(dirname "$0")/../.." || exit 1

T=tools/tpctl
KO=${KO:-kmod/tracingplane.ko}
D=$(mktemp -d /tmp/tp-transit.XXXXXX)

log() { echo "# $*"; }
# shellcheck source=selftests/lib.sh
. selftests/lib.sh

# same FILE TEXT: FILE holds exactly TEXT
same() {
	local got
	got=$(cat "$1")
	[ "$got" = "$2" ] || { log "$1: got '${got//$'\n'/|}', want '${2//$'\n'/|}'"; return 1; }
}

# sleeps_in PID FUNC: PID sleeps in kernel function FUNC now
sleeps_in() { [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = "$2" ]; }
# sleeping_in PID FUNC: polls until PID sleeps in kernel function FUNC
sleeping_in() { poll 60 sleeps_in "$1" "$2"; }

# wait_file FILE: waits up to 60 s for FILE to exist
wait_file() { poll 60 test -e "$1"; }

echo "TAP version 13"
echo "# suite: transit scenarios${TP_KERNEL:+ [$TP_KERNEL kernel]}"

# ---- a FIFO: the reader has no baggage, the writer has ---------------------------
fifo_reader() {
	mkfifo "$D/fifo"
	sh -c 'read -r line < "$1" && exec "$2" get' sh "$D/fifo" "$T" >"$D/fifo.out" &
	$T run -b tenant=alice -- sh -c 'echo hello > "$1"' sh "$D/fifo" &&
		wait $! && same "$D/fifo.out" "tenant=alice"
}
tap "a reader without baggage reads a FIFO written by tpctl run -b tenant=alice" fifo_reader

# ---- byte accuracy: alice's bytes, then bob's, through one pipe -------------------
# accuracy A B: dd takes exactly alice's A bytes, python3 then reads bob's
# B bytes and reports its own baggage.  The readers start once alice has
# baggage (the probes are armed only while baggage exists: a read that
# began before would be unseen, and the pipe fuzzy) and, when both writes
# fit in the pipe (64 KiB), once they are done, so that no read races the
# first write with baggage, which makes the pipe fuzzy for a while
# (Documentation/transit.rst, "Where the kernel over-approximates", 4);
# the larger sizes block the writers until the readers drain them.
accuracy() {
	local a=$1 b=$2
	rm -f "$D/armed" "$D/written"
	{
		$T run -b tenant=alice -- sh -c ": >$D/armed; head -c $a /dev/zero | tr '\\000' a"
		$T run -b tenant=bob -- sh -c "head -c $b /dev/zero | tr '\\000' b"
		: >"$D/written"
	} | {
		wait_file "$D/armed" || exit 1
		[ $((a + b)) -gt 65536 ] || wait_file "$D/written" || exit 1
		dd bs="$a" count=1 iflag=fullblock of=/dev/null status=none
		python3 -c '
import subprocess, sys
data = sys.stdin.buffer.read()
if data != b"b" * int(sys.argv[1]):
    sys.exit("read %d bytes that are not all bob'"'"'s" % len(data))
subprocess.run([sys.argv[2], "get"], check=True)' "$b" "$T"
	} >"$D/acc.out" && same "$D/acc.out" "tenant=bob"
}
for sizes in "5000 3000" "4095 4097" "4096 4096" "65536 100" "70000 70001" "200000 1"; do
	set -- $sizes
	tap "a reader of only bob's bytes reports only bob (alice $1 B, bob $2 B)" accuracy "$1" "$2"
done

# ---- a pipeline into a consumer started before any baggage was set ---------------
pipeline() {
	mkfifo "$D/p2"
	# The consumer opens the FIFO read-write (never blocks) and sleeps in
	# read() before tpctl run even starts.
	bash -c 'exec 3<>"$1"; n=0
		while IFS= read -r l <&3; do [ "$l" = END ] && break; n=$((n + 1)); done
		echo "lines=$n"; exec "$2" get' bash "$D/p2" "$T" >"$D/p2.out" &
	local consumer=$!
	sleeping_in "$consumer" pipe_read || return 1
	$T run -b k=v -- sh -c "seq 1 2000 | cat | sort -n | tee $D/f | { cat; echo END; } > $D/p2" &&
		wait "$consumer" && same "$D/p2.out" "lines=2000
k=v" && [ "$(wc -l <"$D/f")" = 2000 ]
}
tap "tpctl run -b k=v -- sh -c 'seq | cat | sort | tee f | ...' reaches a consumer started earlier" pipeline

# ---- UNIX sockets between unrelated processes -------------------------------------
# A one-shot server of TYPE on PATH that reports its baggage after one read.
unix_server() {
	python3 -c '
import os, socket, subprocess, sys
kind = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}[sys.argv[1]]
s = socket.socket(socket.AF_UNIX, kind)
s.bind(sys.argv[2])
if kind == socket.SOCK_STREAM:
    s.listen(1)
open(sys.argv[2] + ".ready", "w").close()
c = s.accept()[0] if kind == socket.SOCK_STREAM else s
c.recv(100)
subprocess.run([sys.argv[3], "get"], check=True)' "$1" "$2" "$T"
}

unix_client() {
	python3 -c '
import socket, sys
kind = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}[sys.argv[1]]
s = socket.socket(socket.AF_UNIX, kind)
s.connect(sys.argv[2])
s.send(b"request")' "$1" "$2"
}


unrelated() {
	local kind=$1 sock=$D/$1.sock
	unix_server "$kind" "$sock" >"$D/$kind.out" &
	local server=$!
	wait_file "$sock.ready" &&
		$T run -b tenant=carol -- bash -c "$(declare -f unix_client); unix_client $kind $sock" &&
		wait "$server" && same "$D/$kind.out" "tenant=carol"
}
tap "UNIX stream socket between unrelated processes" unrelated stream
tap "UNIX datagram socket between unrelated processes" unrelated dgram

# ---- a long-lived server: replace vs merge ------------------------------------------
# serve POLICY: a server under --on-read=POLICY answers alice, bob and
# carol in turn, each on a new connection, and logs its baggage after each.
serve() {
	local sock=$D/srv-$1.sock
	rm -f "$sock" "$sock.ready"
	$T run --on-read="$1" -- python3 -c '
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[1] + ".ready", "w").close()
for i in range(3):
    c = s.accept()[0]
    c.recv(100)
    out = subprocess.run([sys.argv[2], "get"], check=True, capture_output=True)
    print(out.stdout.decode().strip().replace("\n", "|"), flush=True)
    c.send(b"done")
    c.close()' "$sock" "$T" >"$D/srv-$1.out" &
	local server=$!
	wait_file "$sock.ready" || return 1
	for who in alice bob carol; do
		$T run -b "from+=$who" -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1]); s.send(b"request"); s.recv(10)' "$sock" || return 1
	done
	wait "$server"
}
replace_server() {
	serve replace && same "$D/srv-replace.out" "from=alice|# read-policy: replace
from=bob|# read-policy: replace
from=carol|# read-policy: replace"
}
merge_server() {
	serve merge && same "$D/srv-merge.out" "from=alice
from=alice|from=bob
from=alice|from=bob|from=carol"
}
tap "a long-lived server under --on-read=replace works for exactly its current client" replace_server
tap "a long-lived server under --on-read=merge accumulates its clients" merge_server

# ---- tpctl: the read policy in its output --------------------------------------------
policy_output() {
	$T run --on-read=replace -- $T get >"$D/p.txt" &&
		same "$D/p.txt" "# read-policy: replace" &&
		$T run -b a=1 --on-read=replace -- $T get --json >"$D/p.json" &&
		same "$D/p.json" '{"a":"1"}
{"read_policy":"replace"}' &&
		$T run -b a=1 -- $T get --json >"$D/m.json" && same "$D/m.json" '{"a":"1"}' &&
		$T run --on-read=replace -- $T run --on-read=merge -- $T get >"$D/m.txt" &&
		same "$D/m.txt" ""
}
tap "tpctl get shows a non-default read policy, in text and JSON" policy_output
bad_policy() {
	$T run --on-read=sometimes -- true 2>"$D/bad.err"
	[ $? -eq 2 ] && grep -q "not merge, replace or ignore" "$D/bad.err"
}
tap "tpctl run --on-read with a bad value is a usage error" bad_policy

# ---- rmmod with full pipes and queued socket buffers --------------------------------
# status_field NAME
status_field() { $T status | sed -n "s/^$1: //p"; }

full_unload() {
	local holder mark
	# In a session of its own, so that all it started can be killed at once.
	setsid python3 -c '
import os, socket, subprocess, sys, time
r, w = os.pipe()
a, b = socket.socketpair()
sys.stdout.flush()
if os.fork() == 0:            # a writer with baggage, blocked on the full pipe
    subprocess.run([sys.argv[1], "run", "-b", "full=1", "--", "sh", "-c",
                    "head -c 300000 /dev/zero >&%d" % w], pass_fds=(w,))
    os._exit(0)
subprocess.run([sys.argv[1], "run", "-b", "queued=1", "--", "python3", "-c",
                "import socket; socket.socket(fileno=%d).send(b\"x\" * 1000)" % a.fileno()],
               pass_fds=(a.fileno(),), check=True)
open(sys.argv[2], "w").close()
time.sleep(3600)' "$T" "$D/full.ready" &
	holder=$!
	wait_file "$D/full.ready" || return 1
	poll 60 at_least 1 status_field live_pipes
	[ "$(status_field live_skb_tags)" -ge 1 ] || { log "no queued buffer holds baggage"; return 1; }
	mark=$(dmesg | wc -l)
	poll 10 rmmod tracingplane
	kill -- -"$holder"
	wait "$holder" 2>/dev/null
	[ ! -d /sys/module/tracingplane ] || { log "rmmod failed"; return 1; }
	if dmesg | tail -n +"$((mark + 1))" | grep -E 'tracingplane: leak|WARNING:|BUG:'; then
		return 1
	fi
	insmod "$KO"
}
tap "rmmod with a full pipe and queued socket buffers: no leak, insmod again" full_unload

rm -rf "$D"
tap_end
