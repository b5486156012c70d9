#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sockvxctl contract: load/unload lifecycle, idempotence, and a clear
# one-line error with a non-zero exit (and no change) for every bad input.
source "$(dirname "$0")/lib.sh"
sx_setup

# expect_error DESC PATTERN cmd...: fails with one line matching PATTERN.
expect_error() {
	local desc=$1 pattern=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	if [[ $rc -ne 0 && $out == *$pattern* && $(wc -l <<<"$out") -eq 1 ]]; then
		ok "$desc"
	else
		fail "$desc (exit $rc, stderr: $out)"
	fi
}
no_pins() { [[ ! -e $SX_PIN ]]; }
# Programs sockvx attached to the test cgroup (sockops and setsockopt).
cg_attached() { bpftool cgroup show "$SX_CG" 2>/dev/null | grep -c ' sx_' || true; }
attached_is() { [[ $(cg_attached) -eq $1 ]]; }

expect_error "unknown flag is a usage error" "unknown option" "$SOCKVXCTL" load --bogus
expect_error "unknown command is a usage error" "unknown command" "$SOCKVXCTL" frobnicate
expect_error "a flag of another command is refused" "does not apply" "$SOCKVXCTL" stats --force
expect_error "relative pin dir is refused" "absolute path" "$SOCKVXCTL" load --pin-dir relative/dir
expect_error "non-root is refused" "needs root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKVXCTL" load --pin-dir "$SX_PIN"
expect_error "missing cgroup is reported" "/nonexistent-sx" \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN" --cgroup /nonexistent-sx
check "a failed load leaves no pins" no_pins
expect_error "a non-cgroup2 directory is refused" "not a cgroup v2" \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN" --cgroup "$SX_TMP"
check "a refused cgroup leaves no pins" no_pins
expect_error "a pin dir outside bpffs is refused" "not on a bpffs" \
	"$SOCKVXCTL" load --pin-dir "$SX_TMP/pins" --cgroup "$SX_CG"
expect_error "commands on an unloaded node say so" "not loaded" sx_ctl endpoint list

# A machine without BTF, without a cgroup v2 mount, or without bpffs: each
# simulated in a private mount namespace, so the host's mounts are untouched.
in_mountns() { unshare -m --propagation private bash -c "$1" _ "${@:2}"; }
# shellcheck disable=SC2016 # expanded by the inner shell
expect_error "a kernel without BTF is refused" "has no BTF" \
	in_mountns 'mount -t tmpfs none /sys/kernel/btf && exec "$@"' \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN" --cgroup "$SX_CG"
# shellcheck disable=SC2016
expect_error "no cgroup v2 mount is reported" "no cgroup v2 hierarchy" \
	in_mountns 'umount -l "$1" && exec "${@:2}"' "$(sx_cgroup2_root)" \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN"
check "refused loads leave no pins" no_pins
# shellcheck disable=SC2016
check "load mounts bpffs when /sys/fs/bpf has none" \
	in_mountns 'umount -l /sys/fs/bpf && ! mountpoint -q /sys/fs/bpf &&
		"$1" load --pin-dir "$2" --cgroup "$3" >/dev/null && mountpoint -q /sys/fs/bpf &&
		"$1" unload --pin-dir "$2" >/dev/null' "$SOCKVXCTL" "$SX_PIN" "$SX_CG"

sx_load
check "load attaches sockops and setsockopt to the cgroup" test "$(cg_attached)" -eq 2
check "status reports loaded" test "$(sx_ctl status --json | jq -r .loaded)" = true
check "sk_msg is attached to the sockhash" test "$(sx_ctl status --json | jq -r .sk_msg.attached)" = true
check "setsockopt is attached to the cgroup" test "$(sx_ctl status --json | jq -r .setsockopt.attached)" = true
link1=$(sx_ctl status --json | jq -r .sockops.link_id)
prog1=$(sx_ctl status --json | jq -r .sockops.program.id)
sx_load
check "a second load keeps one attachment each" test "$(cg_attached)" -eq 2
check "a second load updates the same link in place" \
	test "$(sx_ctl status --json | jq -r .sockops.link_id)" = "$link1"
check "a second load swaps in a new program" \
	test "$(sx_ctl status --json | jq -r .sockops.program.id)" != "$prog1"
check "the cgroup attachments coexist with others (multi)" \
	test "$(bpftool cgroup show "$SX_CG" | grep ' sx_' | grep -c multi)" -eq 2

# Another eBPF user on the same cgroup (here a second sockvx instance with its
# own pins) attaches next to ours and survives our unload.
OTHER="$SX_PIN-other"
"$SOCKVXCTL" load --pin-dir "$OTHER" --cgroup "$SX_CG" >/dev/null
check "another program attaches next to ours on the same cgroup" test "$(cg_attached)" -eq 4

expect_error "a bad address is refused" "not an IPv4 or IPv6 address" \
	sx_ctl endpoint add 10.244.1.300
expect_error "one bad address in a list changes nothing" "not an IPv4" \
	sx_ctl endpoint add 10.244.1.2 bogus
check "no endpoint was added" test -z "$(sx_ctl endpoint list)"
sx_ctl endpoint add 10.244.1.2 fd00:244:1::2 ::ffff:10.244.1.9
check "endpoints are listed (mapped IPv6 stored as IPv4)" \
	test "$(sx_ctl endpoint list | sort | tr '\n' ' ')" = "10.244.1.2 10.244.1.9 fd00:244:1::2 "
sx_ctl endpoint add 10.244.1.2
check "adding an endpoint twice is harmless" test "$(sx_ctl endpoint list | wc -l)" -eq 3
sx_ctl endpoint del 10.244.1.9 10.244.1.77
check "deleting (also an absent endpoint) works" test "$(sx_ctl endpoint list | wc -l)" -eq 2
check "status counts endpoint map fill" \
	test "$(sx_ctl status --json | jq -r '.maps[] | select(.name=="sx_endpoints_v1") | .entries')" -eq 2

expect_error "accel takes on or off" "expected 'on' or 'off'" sx_ctl accel maybe
sx_ctl accel off >/dev/null
check "accel off shows in status" test "$(sx_ctl status --json | jq -r .acceleration)" = off
sx_load
check "a reload keeps the operator's accel off" test "$(sx_ctl status --json | jq -r .acceleration)" = off
sx_ctl accel on >/dev/null
check "accel on shows in status" test "$(sx_ctl status --json | jq -r .acceleration)" = on
expect_error "a bad port is refused" "not a port" sx_ctl exclude-port add 70000
sx_ctl exclude-port add 5432 6379
check "excluded ports are listed" test "$(sx_ctl exclude-port list | sort -n | tr '\n' ' ')" = "5432 6379 "
sx_ctl exclude-port del 6379
check "an excluded port can be removed" test "$(sx_ctl exclude-port list)" = 5432
check "stats --json has every counter" \
	test "$(sx_ctl stats --json | jq 'keys | length')" -ge 13

# --- TC dataplane options: bad values are refused before anything changes ---
expect_error "--vni 0 is refused" "--vni takes" sx_ctl load --underlay lo --vni 0
expect_error "--vni above 24 bits is refused" "--vni takes" sx_ctl load --underlay lo --vni 16777216
expect_error "--vxlan-port 0 is refused" "--vxlan-port takes" sx_ctl load --underlay lo --vxlan-port 0
expect_error "--vni without --underlay is refused" "need --underlay" sx_ctl load --vni 5
expect_error "--pod-cidr with host bits is refused" "--pod-cidr takes" sx_ctl load --pod-cidr 10.244.1.5/24
expect_error "--pod-cidr with two IPv4 CIDRs is refused" "--pod-cidr takes" \
	sx_ctl load --pod-cidr 10.244.1.0/24,10.244.2.0/24
expect_error "a missing underlay interface is reported" "no such interface" \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN-tc" --cgroup "$SX_CG" --underlay sxnosuch0
check "... and the failed load left no pins" test ! -e "$SX_PIN-tc"
# The same first load into a pin directory that exists, empty.
mkdir "$SX_PIN-tc"
cg_before=$(cg_attached)
expect_error "a first load into an empty pin dir that fails" "no such interface" \
	"$SOCKVXCTL" load --pin-dir "$SX_PIN-tc" --cgroup "$SX_CG" --underlay sxnosuch0
check "... leaves the directory, empty" test -d "$SX_PIN-tc" -a -z "$(ls -A "$SX_PIN-tc")"
check "... and nothing attached to the cgroup" sx_eventually attached_is "$cg_before"
rmdir "$SX_PIN-tc"
expect_error "--mac needs --dev" "--mac needs --dev" sx_ctl endpoint add 10.9.9.9 --mac 02:00:00:00:00:01
expect_error "a bad --mac is refused" "--mac takes" sx_ctl endpoint add 10.9.9.9 --dev lo --mac 02:00:00
expect_error "a missing --dev interface is reported" "no such interface" \
	sx_ctl endpoint add 10.9.9.9 --dev sxnosuch0
no_endpoint_9() { ! sx_ctl endpoint list | grep -q 10.9.9.9; }
check "... and no endpoint was added" no_endpoint_9
expect_error "node sync of a missing file is reported" "cannot open" sx_ctl node sync /nonexistent-sx.json
expect_error "node add needs two arguments" "expected POD_CIDR NODE_IP" sx_ctl node add 10.244.2.0/24

progs=$(sx_ctl status --json | jq -r '.sockops.program.id, .sk_msg.program.id')
"$SOCKVXCTL" unload --pin-dir "$SX_PIN" >/dev/null
check "unload removes the pin dir" no_pins
progs_gone() {
	local id
	for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}
check "unload detaches its own programs from the cgroup" sx_eventually attached_is 2
check "unload frees the programs" sx_eventually progs_gone
check "unload twice is harmless" "$SOCKVXCTL" unload --pin-dir "$SX_PIN"
check "the other user's programs stay attached" test "$(cg_attached)" -eq 2
"$SOCKVXCTL" unload --pin-dir "$OTHER" >/dev/null
check "and leave with their own unload" sx_eventually attached_is 0
sx_done
