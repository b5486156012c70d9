#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Flannel-style two-node cluster on one machine: the comparison path for
# the sockvx TC dataplane across nodes. It is built the way a default Flannel
# install builds it, with the real pieces where they exist on Debian:
#
# - pods are wired by the reference CNI plugins themselves (/usr/lib/cni:
#   loopback, then bridge with host-local IPAM), called with the CNI
#   environment and the configuration Flannel's CNI plugin hands to bridge:
#   bridge cni0, isDefaultGateway, hairpinMode, ipMasq off, MTU underlay-50,
#   routes to the cluster network;
# - each node has the kernel VXLAN device flanneld's vxlan backend creates
#   (flannel.1: VNI 1, UDP 8472, nolearning, local = the node's underlay
#   address, MTU underlay-50, address POD_SUBNET.0/32), and for every remote
#   node the three entries flanneld writes: a route to its pod subnet through
#   its flannel.1 address (onlink), a permanent neighbour for that address
#   with the remote flannel.1 MAC, and an FDB entry sending that MAC to the
#   remote underlay address.
#
# There is no flanneld (its job here is the static table above), no kube-proxy
# and no iptables: this is the kernel's bridge + routing + VXLAN path at its
# cheapest. Real clusters add netfilter (kube-proxy, masquerade, conntrack).
#
# Source after e2e/lib.sh: it uses SX_ID, SX_CG, SX_TMP, SX_PODS, SX_POD_CG,
# SX_UNDERLAY_MTU and sx_pod. Every namespace is in SX_PODS and every cgroup
# under SX_CG, so sx_cleanup removes them. Names: node N is sx${SX_ID}-fN
# (underlay 10.98.0.N, pods 10.245.N.0/24, cgroup $SX_CG/fN); the sockvx
# cluster of lib.sh uses 10.99.0.N and 10.244.N.0/24, so both can run at once.
#
#   sx_fl_two_node_cluster        pods f1a and f1b on node 1, f2a on node 2
#   sx_fl_pod_ip NAME             the pod's address (host-local picks it)
#   sx_pod NAME cmd...            runs in the pod, inside its node's cgroup

if [[ -z ${SX_ROOT:-} ]]; then
	# shellcheck source=lib.sh
	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi

SX_FL_CNI_PATH=${SX_FL_CNI_PATH:-/usr/lib/cni}
SX_FL_UL_NS="sx${SX_ID}-ful"
SX_FL_CIDR=10.245.0.0/16
SX_FL_POD_MTU=$((SX_UNDERLAY_MTU - 50))
declare -A SX_FL_POD_IP=()

sx_fl_node_ns() { echo "sx${SX_ID}-f$1"; }
sx_fl_node_ip() { echo "10.98.0.$1"; }
sx_fl_subnet() { echo "10.245.$1.0/24"; }
sx_fl_pod_ip() { echo "${SX_FL_POD_IP[$1]}"; }
# sx_fl_on N cmd...: runs cmd in Flannel node N's namespace.
sx_fl_on() {
	local n=$1
	shift
	nsenter --net="/run/netns/$(sx_fl_node_ns "$n")" "$@"
}
# sx_fl_vxlan_packets N tx|rx: packets through node N's flannel.1, which
# proves traffic took the VXLAN path (pod routes alone could not tell).
sx_fl_vxlan_packets() {
	sx_fl_on "$1" ip -s -j link show dev flannel.1 | jq -r ".[0].stats64.$2.packets"
}

sx_fl_require() {
	local p
	for p in bridge host-local loopback; do
		[[ -x $SX_FL_CNI_PATH/$p ]] ||
			sx_die "$SX_FL_CNI_PATH/$p is missing (containernetworking-plugins; run: sudo make deps)"
	done
}

# The underlay: a bridge in its own namespace, like lib.sh's, under other names.
sx_fl_underlay_create() {
	ip netns add "$SX_FL_UL_NS"
	SX_PODS+=("$SX_FL_UL_NS")
	ip -n "$SX_FL_UL_NS" link add br0 type bridge
	ip -n "$SX_FL_UL_NS" link set br0 up
}

# sx_fl_node N: node N on the underlay, with flannel.1 as flanneld creates it.
sx_fl_node() {
	local n=$1 ns port="sx${SX_ID}f$1"
	ns=$(sx_fl_node_ns "$n")
	ip netns add "$ns"
	SX_PODS+=("$ns")
	mkdir -p "$SX_CG/f$n"
	ip link add "$port" netns "$SX_FL_UL_NS" mtu "$SX_UNDERLAY_MTU" type veth peer name ul0 netns "$ns"
	ip -n "$SX_FL_UL_NS" link set "$port" master br0 up
	sx_fl_on "$n" sh -ec "
		ip link set lo up
		ip link set ul0 up
		ip addr add $(sx_fl_node_ip "$n")/24 dev ul0
		sysctl -qw net.ipv4.ip_forward=1
		ip link add flannel.1 type vxlan id 1 local $(sx_fl_node_ip "$n") dev ul0 dstport 8472 nolearning
		ip link set flannel.1 mtu $SX_FL_POD_MTU up
		ip addr add 10.245.$n.0/32 dev flannel.1
	"
}

# sx_fl_cni N PLUGIN CONTAINER_NS < config: one CNI ADD, run the way a
# container runtime runs it: in the node's namespace, with the CNI variables.
sx_fl_cni() {
	local n=$1 plugin=$2 pod_ns=$3
	CNI_COMMAND=ADD CNI_CONTAINERID="$pod_ns" CNI_NETNS="/run/netns/$pod_ns" \
		CNI_IFNAME=eth0 CNI_PATH="$SX_FL_CNI_PATH" \
		sx_fl_on "$n" "$SX_FL_CNI_PATH/$plugin"
}

# sx_fl_pod N NAME: pod NAME on node N, its address from host-local.
sx_fl_pod() {
	local n=$1 name=$2 ns="sx${SX_ID}-$2" result
	ip netns add "$ns"
	SX_PODS+=("$ns")
	SX_POD_CG[$name]="$SX_CG/f$n"
	sx_fl_cni "$n" loopback "$ns" >/dev/null <<<'{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}'
	# What Flannel's CNI plugin delegates to bridge (kube-flannel.yml's
	# defaults: hairpinMode, isDefaultGateway; ipMasq off as flanneld masquerades).
	# host-local keeps its leases per node, in this run's temporary directory.
	result=$(sx_fl_cni "$n" bridge "$ns" <<EOF
{
	"cniVersion": "0.3.1",
	"name": "cbr0",
	"type": "bridge",
	"bridge": "cni0",
	"isGateway": true,
	"isDefaultGateway": true,
	"hairpinMode": true,
	"ipMasq": false,
	"mtu": $SX_FL_POD_MTU,
	"ipam": {
		"type": "host-local",
		"dataDir": "$SX_TMP/cni-f$n",
		"ranges": [[{"subnet": "$(sx_fl_subnet "$n")"}]],
		"routes": [{"dst": "$SX_FL_CIDR"}]
	}
}
EOF
	) || sx_die "CNI bridge ADD for $name failed: $result"
	SX_FL_POD_IP[$name]=$(jq -r '.ips[0].address | split("/")[0]' <<<"$result")
}

# sx_fl_routes N...: every node learns every other node, as flanneld does
# from the node annotations (public IP, VTEP MAC).
sx_fl_routes() {
	local a b mac
	for a in "$@"; do
		for b in "$@"; do
			[[ $a == "$b" ]] && continue
			mac=$(sx_fl_on "$b" ip -j link show dev flannel.1 | jq -r '.[0].address')
			sx_fl_on "$a" sh -ec "
				ip route add $(sx_fl_subnet "$b") via 10.245.$b.0 dev flannel.1 onlink
				ip neigh replace 10.245.$b.0 lladdr $mac dev flannel.1 nud permanent
				bridge fdb add $mac dev flannel.1 dst $(sx_fl_node_ip "$b") self permanent
			"
		done
	done
}

# sx_fl_two_node_cluster: nodes 1 and 2, pods f1a and f1b on node 1 (the
# same-node path: veth, cni0, veth) and f2a on node 2 (across nodes), each
# pair checked end to end before anyone measures it.
sx_fl_two_node_cluster() {
	sx_fl_require
	sx_setup
	sx_fl_underlay_create
	sx_fl_node 1
	sx_fl_node 2
	sx_fl_pod 1 f1a
	sx_fl_pod 1 f1b
	sx_fl_pod 2 f2a
	sx_fl_routes 1 2
	sx_fl_reach f1a f1b
	sx_fl_reach f1a f2a
}

# sx_fl_reach FROM TO: dies unless pod FROM reaches pod TO (a few tries: the
# bridge port may still be learning).
sx_fl_reach() {
	local try
	for try in 1 2 3 4 5; do
		sx_pod "$1" ping -q -c 1 -W 1 "$(sx_fl_pod_ip "$2")" >/dev/null 2>&1 && return 0
		sx_log "Flannel-style cluster: ping $1 -> $2 failed (try $try)"
	done
	sx_die "Flannel-style cluster: $1 cannot reach $2 ($(sx_fl_pod_ip "$2"))"
}
