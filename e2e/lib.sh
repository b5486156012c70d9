#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A simulated sockvx node on one machine: a network namespace that routes
# between pod namespaces over veth pairs, its own cgroup v2 child (the pods'
# processes live there and sockops is attached there), and its own pin dir.
# Everything carries a unique prefix and is removed on exit, also on failure.
#
# Source it, then: sx_two_pod_node, or sx_setup; sx_node_create; sx_pod_create a 2; ...
# Test scripts report with ok/fail and end with sx_done.

set -euo pipefail

SX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTPUT=${OUTPUT:-.output}
[[ $OUTPUT == /* ]] || OUTPUT="$SX_ROOT/$OUTPUT"
SOCKVXCTL="$OUTPUT/sockvxctl"
# shellcheck disable=SC2034 # used by the scripts that source this file
SX_TOOLS="$OUTPUT/tools"
V=${V:-0}

# Short unique id: interface names have at most 15 characters.
SX_ID=${SX_ID:-$(printf 'x%04x' $((RANDOM ^ $$ & 0xffff)))}
SX_NODE_NS="sx${SX_ID}-node"
SX_PIN="/sys/fs/bpf/sx${SX_ID}"
SX_CG=""
SX_PODS=()
SX_BG_PIDS=()
SX_TMP=""
SX_PASSED=0
SX_FAILED=0
SX_SKIPPED=0

sx_log() { [[ $V == 1 ]] && echo "# $*" >&2 || true; }
sx_die() {
	echo "error: $*" >&2
	exit 1
}

# Reporting, one line per check, in the form test/run.sh counts.
ok() {
	SX_PASSED=$((SX_PASSED + 1))
	echo "ok - $*"
}
fail() {
	SX_FAILED=$((SX_FAILED + 1))
	echo "not ok - $*"
}
skip() {
	SX_SKIPPED=$((SX_SKIPPED + 1))
	echo "ok - # SKIP $*"
}
# check "description" command...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
sx_done() {
	[[ $SX_FAILED -eq 0 ]]
}

sx_cgroup2_root() {
	awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo 2>/dev/null ||
		true
}

sx_cleanup() {
	local rc=$? pid ns pin
	set +e
	for pid in "${SX_BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	if [[ -n $SX_CG && -d $SX_CG ]]; then
		# Every process a test started lives in the node's cgroup (cgroup
		# files report size 0: read them rather than test their size).
		for _ in $(seq 1 50); do
			[[ -n $(cat "$SX_CG/cgroup.procs" 2>/dev/null) ]] || break
			echo 1 >"$SX_CG/cgroup.kill" 2>/dev/null ||
				xargs -r kill -9 <"$SX_CG/cgroup.procs" 2>/dev/null
			sleep 0.1
		done
	fi
	wait 2>/dev/null
	# The node's pin dir, and any extra instance a test loaded beside it ($SX_PIN-*).
	for pin in "$SX_PIN" "$SX_PIN"-*; do
		[[ -d $pin ]] || continue
		"$SOCKVXCTL" unload --pin-dir "$pin" --timeout 2 --force >/dev/null 2>&1 ||
			rm -rf "$pin"
	done
	for ns in "${SX_PODS[@]}" "$SX_NODE_NS"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n $SX_CG && -d $SX_CG ]] && rmdir "$SX_CG" 2>/dev/null
	[[ -n $SX_TMP ]] && rm -rf "$SX_TMP"
	return $rc
}

sx_setup() {
	[[ $(id -u) -eq 0 ]] || sx_die "e2e tests need root"
	[[ -x $SOCKVXCTL ]] || sx_die "$SOCKVXCTL not built (run make)"
	local cgroot
	cgroot=$(sx_cgroup2_root)
	[[ -n $cgroot ]] || sx_die "no cgroup v2 mount"
	SX_CG="$cgroot/sx${SX_ID}"
	SX_TMP=$(mktemp -d "/tmp/sx${SX_ID}.XXXX")
	trap sx_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$SX_CG"
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf
	fi
}

# The node: a namespace that routes between its pods.
sx_node_create() {
	ip netns add "$SX_NODE_NS"
	sx_node ip link set lo up
	# The node's own address (kubelet probes and host traffic come from it).
	sx_node ip addr add 10.244.1.1/32 dev lo
	sx_node ip -6 addr add fd00:244:1::1/128 dev lo
	sx_node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# Runs a command in the node namespace.
sx_node() { nsenter --net="/run/netns/$SX_NODE_NS" "$@"; }

# sx_pod_create NAME INDEX: pod NAME with 10.244.1.INDEX and fd00:244:1::INDEX,
# wired by a plain veth pair and host routes (no BPF on the packet path).
sx_pod_create() {
	local idx=$2 ns="sx${SX_ID}-$1" hveth="sx${SX_ID}$1" hmac
	ip netns add "$ns"
	SX_PODS+=("$ns")
	ip link add "$hveth" netns "$SX_NODE_NS" type veth peer name eth0 netns "$ns"
	hmac=$(sx_node ip -j link show dev "$hveth" | jq -r ".[0].address")
	sx_node sysctl -qw "net.ipv6.conf.$hveth.accept_dad=0"
	sx_node ip link set "$hveth" up
	sx_node ip addr add fe80::1/64 dev "$hveth" nodad
	sx_node ip route add "10.244.1.$idx/32" dev "$hveth"
	sx_node ip -6 route add "fd00:244:1::$idx/128" dev "$hveth"
	nsenter --net="/run/netns/$ns" sh -ec "
		sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		ip link set lo up
		ip link set eth0 up
		ip addr add 10.244.1.$idx/32 dev eth0
		ip -6 addr add fd00:244:1::$idx/128 dev eth0 nodad
		ip route add 169.254.1.1 dev eth0 scope link
		ip route add default via 169.254.1.1 dev eth0
		ip neigh replace 169.254.1.1 lladdr $hmac dev eth0 nud permanent
		ip -6 route add default via fe80::1 dev eth0
		ip -6 neigh replace fe80::1 lladdr $hmac dev eth0 nud permanent
	"
}

# sx_two_pod_node: the usual fixture: a node with pods a (.2) and b (.3),
# sockvx loaded, both pods registered as endpoints (IPv4 and IPv6).
sx_two_pod_node() {
	sx_setup
	sx_node_create
	sx_pod_create a 2
	sx_pod_create b 3
	sx_load
	sx_ctl endpoint add "$(sx_pod_ip 2)" "$(sx_pod_ip 3)" "$(sx_pod_ip6 2)" "$(sx_pod_ip6 3)" >/dev/null
}

sx_pod_ip() { echo "10.244.1.$1"; }
sx_pod_ip6() { echo "fd00:244:1::$1"; }

# sx_pod NAME cmd...: runs cmd in the pod's namespace, inside the node's cgroup.
sx_pod() {
	local ns="sx${SX_ID}-$1"
	shift
	# shellcheck disable=SC2016
	bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "${@:2}"' \
		"$SX_CG" "$ns" "$@"
}

# sx_pod_bg NAME cmd...: the same in the background; records the pid.
sx_pod_bg() {
	sx_pod "$@" &
	SX_BG_PIDS+=($!)
}

sx_load() { "$SOCKVXCTL" load --pin-dir "$SX_PIN" --cgroup "$SX_CG" >/dev/null; }
sx_ctl() { "$SOCKVXCTL" "$@" --pin-dir "$SX_PIN"; }
# sx_stat NAME: one counter from sockvxctl stats.
sx_stat() { sx_ctl stats --json | jq -r ".$1"; }
# sx_sockhash_entries: sockets currently in the sockhash.
sx_sockhash_entries() {
	sx_ctl status --json | jq -r '.maps[] | select(.name == "sx_sockhash_v1") | .entries'
}

# sx_eventually cmd...: polls cmd for up to 5 s (things the kernel finishes
# asynchronously, such as releasing a link from a workqueue).
sx_eventually() {
	for _ in $(seq 1 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# Waits until a TCP port listens in a pod (netserver, test servers).
sx_wait_listen() {
	local pod=$1 port=$2
	for _ in $(seq 1 100); do
		sx_pod "$pod" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# sx_node_cg cmd...: a host (node namespace) process inside the node's cgroup,
# so sockops sees its sockets: they must never be accelerated.
sx_node_cg() {
	# shellcheck disable=SC2016
	bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "${@:2}"' \
		"$SX_CG" "$SX_NODE_NS" "$@"
}

# sx_netserver POD [PORT]: netserver in the foreground mode (-D), backgrounded.
sx_netserver() {
	local pod=$1 port=${2:-12865}
	sx_pod_bg "$pod" netserver -D -p "$port" >/dev/null 2>&1
	sx_wait_listen "$pod" "$port"
}

# sx_tcp_outsegs POD: the pod namespace's TcpOutSegs (segments TCP sent).
sx_tcp_outsegs() {
	sx_pod "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}
