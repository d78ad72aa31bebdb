# SPDX-License-Identifier: MIT
#
# selftests/lib.sh: helpers shared by the shell selftests, sourced after
# the caller has defined log() (and PIDS, the background processes it
# started, for stop_pids).
#
# Every wait is a deadline in wall-clock seconds, not a count of turns: on
# a loaded host under TCG one turn of a polling loop can take many times
# its sleep, and a count of turns then waits far longer than it says.

# poll SECONDS CMD...: retries CMD every 0.1 s until it succeeds; 1 when
# SECONDS pass first (the reason is logged)
poll() {
	local deadline=$((SECONDS + $1))

	shift
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "gave up waiting for: $*"
			return 1
		fi
		sleep 0.1
	done
}

# stop_pids: kills and reaps every process in PIDS
stop_pids() {
	local pid

	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

# at_least N CMD...: CMD prints a number of at least N; for poll, which
# must run CMD again each turn (poll 5 test "$(CMD)" -ge N would not)
at_least() {
	local n=$1

	shift
	[ "$("$@")" -ge "$n" ]
}

# ---- kselftest TAP for shell scripts ------------------------------------------
tap_n=0 tap_pass=0 tap_fail=0
ok() { tap_n=$((tap_n + 1)) tap_pass=$((tap_pass + 1)); echo "ok $tap_n $*"; }
not_ok() { tap_n=$((tap_n + 1)) tap_fail=$((tap_fail + 1)); echo "not ok $tap_n $*"; }

# tap DESCRIPTION CMD...: one test, passing when CMD succeeds
tap() {
	local desc=$1

	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# tap_end: the plan and the totals line; succeeds when nothing failed
tap_end() {
	echo "1..$tap_n"
	echo "# Totals: pass:$tap_pass fail:$tap_fail xfail:0 xpass:0 skip:0 error:0"
	[ "$tap_fail" -eq 0 ]
}
