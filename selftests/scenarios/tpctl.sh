#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tpctl as a user meets it (Documentation/tpctl.rst): writes over the
# module's limits are refused whole, never stored trimmed behind a
# success; every error is one line on stderr with a non-zero exit.  Run
# by selftests/run with the module loaded; prints kselftest TAP ending in
# one "# Totals:" line.
set -u
cd "$(dirname "$0")/../.." || exit 1

T=tools/tpctl
D=$(mktemp -d /tmp/tp-tpctl.XXXXXX)

log() { echo "# $*"; }
# shellcheck source=selftests/lib.sh
. selftests/lib.sh

echo "TAP version 13"
echo "# suite: tpctl${TP_KERNEL:+ [$TP_KERNEL kernel]}"

BIG=$(printf 'a%.0s' $(seq 4000))

# fails_one_line STATUS PATTERN CMD...: CMD exits STATUS and says, in one
# line of stderr, something matching PATTERN
fails_one_line() {
	local want=$1 pattern=$2 rc

	shift 2
	"$@" >"$D/out" 2>"$D/err"
	rc=$?
	[ "$rc" -eq "$want" ] || { log "exit $rc, want $want: $(head -c 300 "$D/err")"; return 1; }
	[ "$(wc -l <"$D/err")" -eq 1 ] || { log "stderr is not one line: $(cat -A "$D/err")"; return 1; }
	grep -q -- "$pattern" "$D/err" || { log "stderr: $(cat "$D/err")"; return 1; }
}

# ---- writes over max_bytes are refused, and change nothing -----------------
# Each writes to the shell that then runs "tpctl get" (--pid $$: tpctl's
# own baggage goes with it), under "tpctl run -b", so that what must
# survive is known.
set_over_max() {
	$T run -b keep=1 -- sh -c "
		$T set --pid \$\$ k1=$BIG k2=$BIG k3=$BIG 2>'$D/err'; echo \$? >'$D/rc'
		$T get >'$D/after'"
	[ "$(cat "$D/rc")" = 1 ] || { log "set exited $(cat "$D/rc")"; return 1; }
	grep -q "larger than max_bytes; nothing changed" "$D/err" || { log "$(cat "$D/err")"; return 1; }
	[ "$(cat "$D/after")" = "keep=1" ] || { log "after: $(cat "$D/after")"; return 1; }
}
tap "tpctl set over max_bytes exits 1 and leaves the baggage as it was" set_over_max

merge_over_max() {
	$T run -b k1="$BIG" -b k2="$BIG" -- sh -c "
		$T merge --pid \$\$ k3=$BIG 2>'$D/err'; echo \$? >'$D/rc'
		$T get | cut -c1-3 >'$D/after'"
	[ "$(cat "$D/rc")" = 1 ] || { log "merge exited $(cat "$D/rc")"; return 1; }
	grep -q "larger than max_bytes" "$D/err" || { log "$(cat "$D/err")"; return 1; }
	[ "$(cat "$D/after")" = "k1=
k2=" ] || { log "after: $(cat "$D/after")"; return 1; }
}
tap "tpctl merge over max_bytes exits 1 and leaves the baggage as it was" merge_over_max

run_over_max() {
	rm -f "$D/ran"
	fails_one_line 1 "larger than max_bytes" \
		$T run -b k1="$BIG" -b k2="$BIG" -b k3="$BIG" -- touch "$D/ran" &&
		[ ! -e "$D/ran" ]
}
tap "tpctl run over max_bytes does not start the command" run_over_max

# A write that fits is not refused: max_bytes itself is the limit.
set_under_max() {
	$T run -b keep=1 -- sh -c "$T set --pid \$\$ k1=$BIG k2=$BIG && $T get | cut -c1-3" >"$D/under" &&
		[ "$(cat "$D/under")" = "k1=
k2=
kee" ]
}
tap "tpctl set under max_bytes succeeds" set_under_max

# ---- errors are one line -----------------------------------------------------------
tap "an argument with a newline is quoted on one line" \
	fails_one_line 2 'a\\x0ab' $T set $'a\nb:foo=1'
tap "a bad --pid is one line with its hint" \
	fails_one_line 2 "not a valid id.*(try 'tpctl --help')" $T get --pid $'1\n2'
tap "tpctl --version takes no argument" \
	fails_one_line 2 "unexpected argument 'extra'" $T --version extra

rm -rf "$D"
tap_end
