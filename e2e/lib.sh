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
declare -A SX_POD_CG=() # cluster pods: the cgroup of their node
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
		# Every process a test started lives in the node cgroup or below it
		# (cluster nodes have child cgroups); cgroup.kill takes the subtree.
		for _ in $(seq 1 50); do
			grep -q '^populated 0' "$SX_CG/cgroup.events" 2>/dev/null && break
			echo 1 >"$SX_CG/cgroup.kill" 2>/dev/null ||
				xargs -r kill -9 <"$SX_CG/cgroup.procs" 2>/dev/null
			sleep 0.1
		done
	fi
	wait 2>/dev/null
	# The node's pin dir, and any extra instance a test loaded beside it ($SX_PIN-*).
	# Interfaces of cluster nodes go away with their namespaces below.
	for pin in "$SX_PIN" "$SX_PIN"-*; do
		[[ -d $pin ]] || continue
		"$SOCKVXCTL" unload --pin-dir "$pin" --timeout 2 --force >/dev/null 2>&1 ||
			rm -rf "$pin"
	done
	for ns in "${SX_PODS[@]}" "$SX_NODE_NS"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n $SX_CG && -d $SX_CG ]] && find "$SX_CG" -depth -type d -exec rmdir {} + 2>/dev/null
	[[ -n $SX_TMP ]] && rm -rf "$SX_TMP"
	return $rc
}

# sx_setup: the test's cgroup, temporary directory and cleanup trap. Fixtures
# call it; a second call (several fixtures in one process) does nothing.
sx_setup() {
	[[ -n $SX_TMP ]] && return 0
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

# sx_pod NAME cmd...: runs cmd in the pod's namespace, inside its node's cgroup.
sx_pod() {
	local ns="sx${SX_ID}-$1" cg=${SX_POD_CG[$1]:-$SX_CG}
	shift
	# shellcheck disable=SC2016
	bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "${@:2}"' \
		"$cg" "$ns" "$@"
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

# --- a cluster on one machine (the TC VXLAN dataplane) ----------------------
# An underlay namespace holds a bridge; node N is a namespace with "ul0"
# (10.99.0.N/24) on that bridge, its own cgroup ($SX_CG/nN), its own pin dir
# ($SX_PIN-nN) and pod CIDRs 10.244.N.0/24 and fd00:244:N::/64. Pods are wired
# by the real sockvx CNI plugin (sx_cluster_pod).
SX_UL_NS="sx${SX_ID}-ul"
SX_UNDERLAY_MTU=1500
# shellcheck disable=SC2034 # used by the scripts that source this file
SX_POD_MTU=$((SX_UNDERLAY_MTU - 50))

sx_underlay_create() {
	ip netns add "$SX_UL_NS"
	SX_PODS+=("$SX_UL_NS")
	ip -n "$SX_UL_NS" link add br0 type bridge
	ip -n "$SX_UL_NS" link set br0 up
}

sx_node_ns() { echo "sx${SX_ID}-n$1"; }
sx_node_pin() { echo "$SX_PIN-n$1"; }
sx_node_ip() { echo "10.99.0.$1"; }
# sx_on N cmd...: runs cmd in node N's namespace (host processes of that node).
sx_on() {
	local n=$1
	shift
	nsenter --net="/run/netns/$(sx_node_ns "$n")" "$@"
}
# sx_on_cg N cmd...: the same inside node N's cgroup (its sockops sees it).
sx_on_cg() {
	local n=$1
	shift
	# shellcheck disable=SC2016
	bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "${@:2}"' \
		"$SX_CG/n$n" "$(sx_node_ns "$n")" "$@"
}
# sx_nctl N args...: sockvxctl for node N, run in its namespace.
sx_nctl() {
	local n=$1
	shift
	sx_on "$n" "$SOCKVXCTL" "$@" --pin-dir "$(sx_node_pin "$n")"
}
sx_nstat() { sx_nctl "$1" stats --json | jq -r ".$2"; }

# sx_cluster_node N [load args...]: node N, loaded with the overlay.
sx_cluster_node() {
	local n=$1 ns port="sx${SX_ID}u$1"
	shift
	ns=$(sx_node_ns "$n")
	ip netns add "$ns"
	SX_PODS+=("$ns")
	mkdir -p "$SX_CG/n$n"
	ip link add "$port" netns "$SX_UL_NS" mtu "$SX_UNDERLAY_MTU" type veth peer name ul0 netns "$ns"
	ip -n "$SX_UL_NS" link set "$port" master br0 up
	sx_on "$n" sh -ec "
		ip link set lo up
		ip link set ul0 up
		ip addr add $(sx_node_ip "$n")/24 dev ul0
	"
	sx_nctl "$n" load --cgroup "$SX_CG/n$n" --underlay ul0 \
		--pod-cidr "10.244.$n.0/24,fd00:244:$n::/64" "$@" >/dev/null
}

# --- the CNI plugin, invoked as a container runtime invokes it ---------------
SOCKVX_CNI="$OUTPUT/sockvx"
SX_CNI_NET="sx${SX_ID}net"

# sx_cni_conf N [IP...]: node N's main-mode network configuration: host-local
# IPAM over the node's pod CIDRs, sockvx's records and leases under $SX_TMP.
# IPs ask host-local for those addresses (runtimeConfig "ips", as kubelet's
# static-IP capability passes them).
sx_cni_conf() {
	local n=$1 ips=""
	shift
	(($#)) && ips=$(printf '"%s",' "$@") && ips=",\"runtimeConfig\":{\"ips\":[${ips%,}]}"
	cat <<EOF
{"cniVersion":"1.0.0","name":"$SX_CNI_NET","type":"sockvx","pinDir":"$(sx_node_pin "$n")",
 "dataDir":"$SX_TMP/cni-n$n"$ips,
 "ipam":{"type":"host-local","dataDir":"$SX_TMP/ipam-n$n",
  "ranges":[[{"subnet":"10.244.$n.0/24"}],[{"subnet":"fd00:244:$n::/64"}]]}}
EOF
}

# sx_cni N VERB CONTAINER NETNS [CNI_ARGS] < config: runs the plugin in node
# N's namespace with the CNI_* environment a runtime sets (CNI_IFNAME eth0).
sx_cni() {
	local n=$1 verb=$2 cid=$3 netns=$4 args=${5:-}
	sx_on "$n" env CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni CNI_ARGS="$args" "$SOCKVX_CNI"
}

# sx_cluster_pod N NAME IDX: pod NAME on node N with 10.244.N.IDX and
# fd00:244:N::IDX, wired by the sockvx CNI plugin (main mode, host-local IPAM
# asked for those addresses). Its ADD result is in $SX_TMP/pod-NAME.json.
sx_cluster_pod() {
	local n=$1 name=$2 idx=$3 ns="sx${SX_ID}-$2"
	ip netns add "$ns"
	SX_PODS+=("$ns")
	SX_POD_CG[$name]="$SX_CG/n$n"
	# The runtime's loopback plugin would bring lo up; local tools use it.
	ip -n "$ns" link set lo up
	sx_cni_conf "$n" "10.244.$n.$idx" "fd00:244:$n::$idx" |
		sx_cni "$n" ADD "$ns" "/run/netns/$ns" >"$SX_TMP/pod-$name.json" ||
		sx_die "CNI ADD of pod $name failed: $(cat "$SX_TMP/pod-$name.json")"
}

# sx_pod_hveth NAME: the host end of a CNI-wired pod's veth.
sx_pod_hveth() { jq -r '.interfaces[0].name' "$SX_TMP/pod-$1.json"; }

# sx_cluster_routes: every node learns every other node's pod CIDRs.
sx_cluster_routes() {
	local a b
	for a in "$@"; do
		for b in "$@"; do
			[[ $a == "$b" ]] && continue
			sx_nctl "$a" node add "10.244.$b.0/24" "$(sx_node_ip "$b")"
			sx_nctl "$a" node add "fd00:244:$b::/64" "$(sx_node_ip "$b")"
		done
	done
}

# sx_two_node_cluster: nodes 1 and 2, pods n1a (.2) and n1b (.3) on node 1,
# n2a (.2) and n2b (.3) on node 2, each node knowing the other.
sx_two_node_cluster() {
	sx_setup
	sx_underlay_create
	sx_cluster_node 1
	sx_cluster_node 2
	sx_cluster_pod 1 n1a 2
	sx_cluster_pod 1 n1b 3
	sx_cluster_pod 2 n2a 2
	sx_cluster_pod 2 n2b 3
	sx_cluster_routes 1 2
}

# sx_hold CLIENT SERVER ADDR PORT N: N idle TCP connections from pod CLIENT to
# pod SERVER at ADDR (test/tools/sxhold.c), held until sx_hold_release. One
# process may hold fewer descriptors than that (RLIMIT_NOFILE, and no
# CAP_SYS_RESOURCE to raise it): holders of up to 15,000 connections each,
# each with its own server on PORT, PORT+1, ... Returns once every holder
# reported; SX_HOLD_HELD and SX_HOLD_FAILED sum their reports.
SX_HOLD_PER=15000
sx_hold() {
	local client=$1 server=$2 addr=$3 port=$4 n=$5 k i cnt
	k=$(((n + SX_HOLD_PER - 1) / SX_HOLD_PER))
	SX_HOLD_PIDS=()
	rm -f "$SX_TMP/hold.in" "$SX_TMP"/hold[0-9]*.json
	mkfifo "$SX_TMP/hold.in"
	for i in $(seq 1 "$k"); do
		sx_pod_bg "$server" "$SX_TOOLS/sxhold" server "$addr" $((port + i - 1))
		sx_wait_listen "$server" $((port + i - 1)) || true
		cnt=$((i < k ? SX_HOLD_PER : n - SX_HOLD_PER * (k - 1)))
		sx_pod "$client" "$SX_TOOLS/sxhold" client "$addr" $((port + i - 1)) --conns "$cnt" \
			<"$SX_TMP/hold.in" >"$SX_TMP/hold$i.json" 2>"$SX_TMP/hold$i.err" &
		SX_HOLD_PIDS+=($!)
	done
	exec 9>"$SX_TMP/hold.in" # the holders keep their connections until it closes
	for i in $(seq 1 "$k"); do
		for _ in $(seq 1 3000); do
			[[ -s $SX_TMP/hold$i.json ]] || ! kill -0 "${SX_HOLD_PIDS[i - 1]}" 2>/dev/null && break
			sleep 0.1
		done
	done
	# shellcheck disable=SC2034 # read by the callers
	SX_HOLD_HELD=$(cat "$SX_TMP"/hold[0-9]*.json 2>/dev/null | jq -s 'map(.established) | add // 0')
	# shellcheck disable=SC2034 # read by the callers
	SX_HOLD_FAILED=$(cat "$SX_TMP"/hold[0-9]*.json 2>/dev/null | jq -s 'map(.failed) | add // 0')
}
sx_hold_release() {
	exec 9>&-
	wait "${SX_HOLD_PIDS[@]}" 2>/dev/null || true
}
