#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The transit probes switched on and off while pipes are busy
# (Documentation/transit.rst, "Cost"): each switch rewrites the probed
# call sites, and a CPU that takes a late trap on one must still make its
# call (kmod/kprobe_guard.c).  Busy pipelines, UNIX sockets and TCP
# connections check their data while
# tpctl run arms the probes and the idle worker disarms them a second
# later, over and over, for SWITCH_SECS (60; the debug kernel under TCG
# manages four or five switches in that time).  Run by selftests/run with
# the module loaded, before transit.sh, whose scenarios then show that
# baggage still travels; prints kselftest TAP ending in one "# Totals:"
# line.
set -u
cd "$(dirname "$0")/../.." || exit 1

T=tools/tpctl
D=$(mktemp -d /tmp/tp-switch.XXXXXX)
KPROBES=/sys/kernel/debug/kprobes/list
PIDS=()

log() { echo "# $*"; }
# shellcheck source=selftests/lib.sh
. selftests/lib.sh

echo "TAP version 13"
echo "# suite: probe switching${TP_KERNEL:+ [$TP_KERNEL kernel]}"

# disarmed: pipe_read()'s probe is registered and disarmed
disarmed() { grep -q ' pipe_read+0x0 .*\[DISABLED\]' "$KPROBES"; }

# pump NAME CMD...: until the deadline, the data through CMD's pipes,
# one line per round in $D/NAME: "ok", or what came out instead
pump() {
	local name=$1 want got

	shift
	want=$(sha256sum <"$D/data")
	while [ "$SECONDS" -lt "$end" ]; do
		got=$("$@" | sha256sum)
		if [ "$got" = "$want" ]; then echo ok; else echo "$got"; fi
	done >"$D/$name"
}
# the data in big writes and in 64-byte ones, through three pipes each
big() { cat <"$D/data" | cat | cat; }
small() { dd if="$D/data" bs=64 2>/dev/null | cat | cat; }
# sockpump NAME: until the deadline, the data in 1000-byte sends over a
# UNIX socketpair (unix) or a TCP connection over loopback (tcp), one line
# per round in $D/NAME like pump's.  Their hooks are ftrace's
# (kmod/ftrace_hook.c), whose late traps the die notifier settles.  One
# python3 for all rounds: starting it is the slow part on the debug kernel.
sockpump() {
	python3 -c '
import os, socket, sys, time
kind, data, end = sys.argv[1], open(sys.argv[2], "rb").read(), float(sys.argv[3])
while time.time() < end:
    if kind == "unix":
        a, b = socket.socketpair()
    else:
        ls = socket.create_server(("127.0.0.1", 0))
        a = socket.create_connection(ls.getsockname())
        b = ls.accept()[0]
        ls.close()
    if os.fork() == 0:
        b.close()
        for i in range(0, len(data), 1000):
            a.sendall(data[i:i + 1000])
        os._exit(0)
    a.close()
    got = bytearray()
    while chunk := b.recv(65536):
        got += chunk
    b.close()
    os.wait()
    print("ok" if got == data else "%d bytes, not the data" % len(got), flush=True)
    time.sleep(0.5)  # leave the CPUs to the switching
' "$1" "$D/data" "$(($(date +%s) + end - SECONDS))" >"$D/$1"
}

switch_under_load() {
	local switches=0

	end=$((SECONDS + ${SWITCH_SECS:-60}))
	pump big big &
	PIDS+=($!)
	pump small small &
	PIDS+=($!)
	sockpump unix &
	PIDS+=($!)
	sockpump tcp &
	PIDS+=($!)
	while [ "$SECONDS" -lt "$end" ]; do
		$T run -b switch=1 -- true || return 1
		poll 30 disarmed || return 1
		switches=$((switches + 1))
	done
	wait "${PIDS[@]}"
	PIDS=()
	log "$switches switches; $(grep -c . "$D/big") big, $(grep -c . "$D/small") small," \
		"$(grep -c . "$D/unix") UNIX and $(grep -c . "$D/tcp") TCP rounds;" \
		"$($T status | grep probe_misses)"
	[ "$switches" -ge 2 ] || { log "only $switches switches"; return 1; }
}

# rounds NAME: NAME's rounds all brought their data whole, and there were some
rounds() {
	[ -s "$D/$1" ] || { log "no $1 round finished"; return 1; }
	! grep -v '^ok$' "$D/$1" | sed 's/^/# wrong data: /' | grep .
}

no_kernel_report() {
	! dmesg | tail -n +"$((mark + 1))" |
		grep -E 'BUG:|WARNING:|Oops|inconsistent lock state|general protection'
}

head -c 1000000 /dev/urandom >"$D/data"
mark=$(dmesg | wc -l)
tap "probes armed and disarmed at least twice in ${SWITCH_SECS:-60} s of busy pipes and sockets" \
	switch_under_load
stop_pids
tap "every round of big writes through three pipes kept its data" rounds big
tap "every round of 64-byte writes through three pipes kept its data" rounds small
tap "every round of 1000-byte sends over a UNIX socketpair kept its data" rounds unix
tap "every round of 1000-byte sends over TCP kept its data" rounds tcp
tap "no kernel report while the call sites were rewritten" no_kernel_report

rm -rf "$D"
tap_end
