#!/bin/bash
# SPDX-License-Identifier: MIT
#
# selftests/twovm.sh: baggage between two VMs over a virtual NIC.  Runs on
# the host (it loads nothing there): it boots two VMs at once with
# tools/vm/run --net bridge:..., each running its half,
# selftests/twovm-guest.sh, and judges what they leave in a run directory
# under build/twovm/ (results, and captures read here with tshark).
#
#   +---------------------+   virtio-net, tap    +---------------------+
#   | VM client / peer    |   bridge br0 in a    | VM server / plain   |
#   | 10.9.0.1/24         |---- private host ----| 10.9.0.2/24         |
#   | module loaded       |   netns tpvm-NAME    | module: server yes, |
#   +---------------------+                      | plain no            |
#                                                +---------------------+
#
# The NICs keep virtio-net's transmit offloads (checksum, TSO), so the
# module's segments leave CHECKSUM_PARTIAL and as GSO packets, and are
# finished by the "hardware" (the host).  They get no receive offloads
# (guest_csum, guest_tso4... off): a VM receives wire-sized frames with the
# checksums the host computed, so a capture on the receiving NIC shows what
# a wire would.  Every check reads the capture of the receiving side.
#
# Round 1, client and server, both with the module:
#   a  curl with tenant=alice -> python3 http.server --cgi without baggage;
#      its CGI prints tenant=alice
#   b  the captures of a: every checksum good, no frame above 1514 bytes,
#      the option (ExID from tcp_exid) on the SYN and the SYN-ACK only,
#      no capability anywhere else, fragments only on
#      the first data segments of each version, which decode to the baggage
#   c  1 GiB (TWOVM_MIB) with 256 B of baggage: intact, the reader holds the
#      baggage, no frame above 1514 bytes, none lost on the way, no receive
#      error: no retransmission was caused by an oversize segment
# Round 2, peer (module) and plain (no module):
#   d  1 MiB each way, intact; the reader in the peer gets no baggage; on
#      the wire, one option only: the peer's SYN to plain
#
# Exit status: 0 all passed, 1 a check failed.  Output: kselftest TAP.
# Environment: TWOVM_MIB (default 1024), TWOVM_TIMEOUT (seconds per round,
# default 1800), TWOVM_KEEP=1 keeps the run directory.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
MIB=${TWOVM_MIB:-1024}
TIMEOUT=${TWOVM_TIMEOUT:-1800}
MTU_FRAME=1514
mkdir -p build/twovm || exit 1
RUN=$(mktemp -d "$REPO/build/twovm/run.XXXXXX") || exit 1
chmod 755 "$RUN"
NET=twovm$$
# No receive offloads: see above.  The transmit ones are virtio-net's defaults.
NIC=guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off
VMS=()

log() { echo "# $*"; }
# shellcheck source=selftests/lib.sh
. selftests/lib.sh

# Only the VMs we started; tools/vm/run kills its QEMU and leaves the bridge.
cleanup() {
	local pid
	for pid in "${VMS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "${TWOVM_KEEP:-0}" = 1 ]; then log "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the VMs -----------------------------------------------------------------------
# round A B: boots the VMs of roles A and B at once on one bridge; true when
# both guest scripts exited 0.  Their output: RUN/vm-ROLE.log.
round() {
	local a=$1 b=$2 rc_a rc_b start=$SECONDS
	tools/vm/run --timeout "$TIMEOUT" --net "bridge:$NET,$NIC" -- \
		env TWOVM_MIB="$MIB" selftests/twovm-guest.sh "$a" "$RUN" >"$RUN/vm-$a.log" 2>&1 &
	VMS=($!)
	tools/vm/run --timeout "$TIMEOUT" --net "bridge:$NET,$NIC" -- \
		env TWOVM_MIB="$MIB" selftests/twovm-guest.sh "$b" "$RUN" >"$RUN/vm-$b.log" 2>&1 &
	VMS+=($!)
	wait "${VMS[0]}"
	rc_a=$?
	wait "${VMS[1]}"
	rc_b=$?
	VMS=()
	log "round $a + $b: $((SECONDS - start)) s, exit $rc_a and $rc_b"
	[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] && return 0
	tail -n 5 "$RUN/vm-$a.log" "$RUN/vm-$b.log" | sed 's/^/#   /'
	return 1
}

# ---- reading captures ---------------------------------------------------------------------
# frames FILE FILTER: frames of a capture matching a display filter
frames() {
	[ -s "$RUN/$1" ] || { echo 0; return; }
	tshark -r "$RUN/$1" -o tcp.check_checksum:TRUE -Y "$2" 2>/dev/null | wc -l
}

exid_filter() { printf 'tcp.options.experimental.exid == 0x%04x' "$(cat "$RUN/exid")"; }

# received FILE ADDR CHECK: CHECK holds for the frames of FILE sent to ADDR
# (a VM's own transmissions are captured before the host finished their
# checksums and cut their TSO packets, so only what it received counts)
checksums_good() { # FILE ADDR
	local all bad
	all=$(frames "$1" "ip.dst == $2 && tcp")
	bad=$(frames "$1" "ip.dst == $2 && tcp && tcp.checksum.status != 1")
	log "$1: $all TCP segments received by $2, $bad without a good checksum"
	[ "$all" -gt 0 ] && [ "$bad" -eq 0 ]
}

no_big_frame() { # FILE ADDR
	local big max
	big=$(frames "$1" "ip.dst == $2 && frame.len > $MTU_FRAME")
	max=$(tshark -r "$RUN/$1" -Y "ip.dst == $2" -T fields -e frame.len 2>/dev/null | sort -n | tail -n1)
	log "$1: largest frame received by $2: ${max:-none} bytes; $big above $MTU_FRAME"
	[ -n "$max" ] && [ "$big" -eq 0 ]
}

# options FILE ADDR: one line per received segment carrying our option:
# src dst syn ack seq len data (data "-" for the capability)
options() {
	tshark -r "$RUN/$1" -Y "ip.dst == $2 && $(exid_filter)" -T fields \
		-e ip.src -e ip.dst -e tcp.flags.syn -e tcp.flags.ack -e tcp.seq_raw \
		-e tcp.len -e tcp.options.experimental.data 2>/dev/null |
		awk -F'\t' '{ d = $7; gsub(/:/, "", d); print $1, $2, $3, $4, $5, $6, (d == "" ? "-" : d) }'
}

# check_options: the lines of options() (both directions) on stdin follow
# the rules of Documentation/wire-format.rst: capability on the SYN and
# the SYN-ACK only; a fragment on a data segment
# exactly at its anchor (SEG.SEQ = start + back, off = back * D), every
# version complete; prints each version's baggage
CHECK_OPTIONS_PY='
import sys
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80:
            return v, i
versions, syn, synack, errors = {}, 0, 0, []
for line in sys.stdin:
    src, dst, fsyn, fack, seq, ln, data = line.split()
    seq, ln = int(seq), int(ln)
    if data == "-":
        if fsyn == "1":
            syn += fack == "0"; synack += fack == "1"
        else:
            errors.append("capability on a non-SYN from %s, %d bytes" % (src, ln))
        continue
    if fsyn == "1" or ln == 0:
        errors.append("fragment on a SYN or without payload: " + line.strip())
        continue
    b = bytes.fromhex(data)
    back, i = varint(b, 0); total, i = varint(b, i); off, i = varint(b, i)
    v = versions.setdefault((src, (seq - back) % 2**32), {"total": total, "bytes": {}, "backs": []})
    v["backs"].append(back)
    for k, c in enumerate(b[i:]):
        v["bytes"][off + k] = c
for (src, start), v in sorted(versions.items()):
    got = bytes(v["bytes"].get(k, 0) for k in range(v["total"]))
    if sorted(v["backs"]) != list(range(len(v["backs"]))):
        errors.append("%s: fragments not on the first bytes of the version: %s" % (src, v["backs"]))
    if len(v["bytes"]) != v["total"]:
        errors.append("%s: version at %d incomplete" % (src, start))
    atoms, i = [], 0
    while i < len(got):
        n, i = varint(got, i); atoms.append(got[i:i + n]); i += n
    print("# version from %s: %d bytes in %d fragments, atoms %s" % (src, v["total"],
          len(v["backs"]), b" ".join(a for a in atoms if a.isascii())[:120]))
print("# capability on %d SYN, %d SYN-ACK" % (syn, synack))
if syn != 1 or synack != 1:
    errors.append("expected the option on one SYN and one SYN-ACK")
for e in errors:
    print("# " + e)
sys.exit(1 if errors else 0)
'

# ---- the checks -------------------------------------------------------------------------------
check_a() {
	log "a: the server's CGI printed: $(tr '\n' ' ' <"$RUN/a.body" 2>/dev/null)"
	[ "$(cat "$RUN/a.body" 2>/dev/null)" = tenant=alice ]
}

check_b_checksums() {
	checksums_good a-client.pcapng 10.9.0.1 && checksums_good a-server.pcapng 10.9.0.2
}

check_b_mtu() {
	no_big_frame a-client.pcapng 10.9.0.1 && no_big_frame a-server.pcapng 10.9.0.2
}

check_b_options() {
	{ options a-server.pcapng 10.9.0.2; options a-client.pcapng 10.9.0.1; } |
		python3 -c "$CHECK_OPTIONS_PY"
}

# c: the receiver's verdict, "ok BYTES SECONDS", then its baggage
check_c_data() {
	local verdict send
	verdict=$(head -n1 "$RUN/c.recv" 2>/dev/null)
	send=$(cat "$RUN/c.send" 2>/dev/null)
	read -r bytes secs _ _ <<<"$send"
	log "c: receiver: ${verdict:-nothing}; sender: ${bytes:-?} bytes in ${secs:-?} s" \
		"($(awk -v b="${bytes:-0}" -v s="${secs:-0}" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1048576; else printf "?" }') MiB/s)"
	[ "$verdict" = "ok $((MIB << 20)) ${verdict##* }" ]
}

check_c_baggage() {
	local bag total
	bag=$(tail -n +2 "$RUN/c.recv" 2>/dev/null)
	# the serialized size, from the fragments' total field
	total=$(options c-server.pcapng 10.9.0.2 | awk '$7 != "-" { print $7; exit }' |
		python3 -c 'import sys
b = bytes.fromhex(sys.stdin.read().strip() or "00")
i = 0
for _ in range(2):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if not c & 0x80: break
print(v)' 2>/dev/null)
	log "c: the reader holds ${#bag} characters of baggage (${bag:0:24}...), $total bytes serialized on the wire"
	[[ $bag == big=xxxx* ]] && [ "$total" = 256 ]
}

# wire_summary FILE ADDR: one tshark pass over the frames received by ADDR
# (700000 of them in c): "frames largest above-MTU gaps retransmissions".
# A gap (tcp.analysis.lost_segment) is a frame lost on the way: an oversize
# segment, dropped by the host's bridge, would leave one.
wire_summary() {
	tshark -r "$RUN/$1" -Y "ip.dst == $2" -T fields -e frame.len \
		-e tcp.analysis.lost_segment -e tcp.analysis.retransmission 2>/dev/null |
		awk -F'\t' -v mtu=$MTU_FRAME '{ if ($1 > max) max = $1; if ($1 > mtu) big++
			if ($2 != "") lost++; if ($3 != "") re++ }
			END { print NR, max + 0, big + 0, lost + 0, re + 0 }'
}

# c on the wire: the capture of every frame the server received has none
# above the MTU and no gap, the NIC counted no receive error.  An oversize
# segment dropped on the way would leave a gap, so no gap means no
# retransmission was caused by one.  The sender's RetransSegs is only shown:
# on a loaded host the emulated VMs stall for longer than the RTO and TCP
# retransmits segments that had arrived (the receiver sees them twice, no
# gap); its count is not the number of frames seen again (a retransmission
# may collapse two segments into one, a tail probe may come after the
# capture stopped), so it is not compared.
check_c_wire() {
	local before after rxerr frames max big gaps re
	read -r _ _ before after <"$RUN/c.send" 2>/dev/null
	rxerr=$(cat "$RUN/c.rxerr" 2>/dev/null)
	read -r frames max big gaps re <<<"$(wire_summary c-server.pcapng 10.9.0.2)"
	log "c: sender RetransSegs ${before:-?} -> ${after:-?}; receiver NIC: $rxerr"
	log "c: dumpcap: $(grep -h -i -e dropped "$RUN/server-c.dumpcap" 2>/dev/null | tr '\n' ' ')"
	log "c: receiving NIC's capture: $frames frames, largest $max bytes, $big above $MTU_FRAME," \
		"$gaps gaps (frames lost on the way), $re retransmitted segments seen again"
	[ "$frames" -gt 0 ] && [ "$big" = 0 ] && [ "$gaps" = 0 ] &&
		[[ $rxerr == "length=0 over=0 errors=0 "* ]]
}

# d1: peer (with baggage) -> plain; d2: plain -> peer (no baggage)
check_d_data() {
	log "d: plain received: $(head -n1 "$RUN/d1.recv" 2>/dev/null); peer received: $(head -n1 "$RUN/d2.recv" 2>/dev/null)"
	[[ $(head -n1 "$RUN/d1.recv" 2>/dev/null) == "ok 1048576 "* ]] &&
		[[ $(head -n1 "$RUN/d2.recv" 2>/dev/null) == "ok 1048576 "* ]]
}

check_d_nothing() {
	local bag
	bag=$(tail -n +2 "$RUN/d2.recv" 2>/dev/null)
	log "d: the peer's reader holds: '${bag}'"
	[ -z "$bag" ] && [ "$(tail -n +2 "$RUN/d1.recv" 2>/dev/null)" = - ]
}

check_d_wire() {
	local to_plain to_peer syn
	to_plain=$(frames d-plain.pcapng "ip.dst == 10.9.0.2 && $(exid_filter)")
	syn=$(frames d-plain.pcapng "ip.dst == 10.9.0.2 && $(exid_filter) && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 7000")
	to_peer=$(frames d-peer.pcapng "ip.dst == 10.9.0.1 && $(exid_filter)")
	log "d: option on $to_plain frames to plain ($syn of them the SYN), $to_peer to the peer"
	checksums_good d-plain.pcapng 10.9.0.2 && checksums_good d-peer.pcapng 10.9.0.1 &&
		no_big_frame d-plain.pcapng 10.9.0.2 && no_big_frame d-peer.pcapng 10.9.0.1 &&
		[ "$to_plain" = 1 ] && [ "$syn" = 1 ] && [ "$to_peer" = 0 ]
}

for tool in tshark python3 ss; do
	command -v $tool >/dev/null || { echo "twovm: $tool is missing (tools/deps)" >&2; exit 1; }
done
[ -x tools/tpctl ] && [ -e kmod/tracingplane.ko ] || { echo "twovm: make all first" >&2; exit 1; }
head -c 1048576 /dev/urandom >"$RUN/block"
start=$SECONDS
echo "TAP version 13"
echo "# suite: two VMs [distro kernel]"
log "run directory $RUN, bridge $NET, $MIB MiB in c"
tap "round 1: client and server VMs (module loaded) ran their parts" round client server
tap "a: the server's CGI, started without baggage, reports tenant=alice after reading" check_a
tap "b: every TCP checksum good on the receiving NIC" check_b_checksums
tap "b: no frame above $MTU_FRAME bytes" check_b_mtu
tap "b: the option on SYN, SYN-ACK and the first data segments of each version only" check_b_options
tap "c: $MIB MiB arrive intact" check_c_data
tap "c: the reader holds the sender's 256-byte baggage" check_c_baggage
tap "c: no frame above $MTU_FRAME bytes, none lost, no receive error: no retransmission for an oversize segment" check_c_wire
tap "round 2: peer (module) and plain (no module) VMs ran their parts" round peer plain
tap "d: 1 MiB intact in both directions" check_d_data
tap "d: no baggage reaches either reader" check_d_nothing
tap "d: on the wire, only the peer's SYN carries the option; checksums good, no frame too big" check_d_wire
log "wall time $((SECONDS - start)) s"
tap_end
