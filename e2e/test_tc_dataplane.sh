#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The TC VXLAN dataplane on a two-node cluster simulated on one machine: a
# connectivity matrix (ICMP, TCP, UDP; IPv4 and IPv6) for pod to pod on one
# node, pod to pod across nodes, node to its own pods and node to remote pods;
# anti-spoofing; VXLAN from unknown sources; socket acceleration on top; load
# twice and unload.
source "$(dirname "$0")/lib.sh"
sx_two_node_cluster

for pod in n1b n2a; do
	sx_netserver "$pod"
done

# delta N COUNTER cmd...: how much node N's counter moved while cmd ran;
# "failed" when cmd failed, so a check never passes on traffic that did not flow.
delta() {
	local n=$1 name=$2 before after
	shift 2
	before=$(sx_nstat "$n" "$name")
	if ! "$@" >/dev/null 2>&1; then
		echo failed
		return
	fi
	after=$(sx_nstat "$n" "$name")
	echo $((after - before))
}
moved() { [[ $1 =~ ^[0-9]+$ && $1 -gt 0 ]]; }
# reach POD IP: one ping answered.
reach() { sx_pod "$1" ping -q -c 1 -W 2 "$2" >/dev/null 2>&1; }

# --- connectivity matrix -----------------------------------------------------
# from_where: "pod NAME" or "node N"; run: cmd in that place.
run_from() {
	local kind=$1 who=$2
	shift 2
	if [[ $kind == pod ]]; then sx_pod "$who" "$@"; else sx_on_cg "$who" "$@"; fi
}

# matrix LABEL KIND WHO DST_POD NODE_OF_DST COUNTER_NODE COUNTER
matrix() {
	local label=$1 kind=$2 who=$3 dst=$4 dn=$5 cn=$6 counter=$7 ip4 ip6 idx d
	idx=$([[ $dst == *a ]] && echo 2 || echo 3)
	ip4="10.244.$dn.$idx" ip6="fd00:244:$dn::$idx"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" ping -c 2 -i 0.2 -W 2 "$ip4")
	check "$label: ICMP over IPv4 ($counter moved by $d)" moved "$d"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" ping -6 -c 2 -i 0.2 -W 2 "$ip6")
	check "$label: ICMPv6 ($counter moved by $d)" moved "$d"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" netperf -H "$ip4" -l 1 -t TCP_RR)
	check "$label: TCP over IPv4" moved "$d"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" netperf -H "$ip6" -l 1 -t TCP_RR -- -4 -6)
	check "$label: TCP over IPv6" moved "$d"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" netperf -H "$ip4" -l 1 -t UDP_RR)
	check "$label: UDP over IPv4" moved "$d"
	d=$(delta "$cn" "$counter" run_from "$kind" "$who" netperf -H "$ip6" -l 1 -t UDP_RR -- -4 -6)
	check "$label: UDP over IPv6" moved "$d"
}

matrix "pod to pod, same node" pod n1a n1b 1 1 tc_local_delivered
matrix "pod to pod, across nodes (sender encapsulates)" pod n1a n2a 2 1 tc_encapsulated
matrix "pod to pod, across nodes (receiver decapsulates)" pod n1a n2a 2 2 tc_decapsulated
matrix "node to its own pod (replies reach the host)" node 1 n1b 1 1 tc_to_host
matrix "node to a remote pod" node 1 n2a 2 1 tc_host_encapsulated

n=$(sx_pod n1a ping -c 1 -W 2 -M "do" -s $((SX_POD_MTU - 28)) 10.244.2.2 >/dev/null 2>&1 && echo yes || echo no)
check "a full pod-MTU packet ($SX_POD_MTU bytes, DF) crosses nodes" test "$n" = yes
vx_mtu=$(sx_on 1 ip -j link show dev sockvx_vxlan | jq -r '.[0].mtu')
check "the VXLAN device's MTU is the underlay's minus 50 ($vx_mtu)" test "$vx_mtu" -eq "$SX_POD_MTU"

# --- anti-spoofing -------------------------------------------------------------
sx_pod n1a ip addr add 10.244.1.99/32 dev eth0
before=$(sx_nstat 1 drop_spoofed_ip)
sx_pod n1a ping -c 2 -i 0.2 -W 1 -I 10.244.1.99 10.244.1.3 >/dev/null 2>&1 && spoof_ok=yes || spoof_ok=no
after=$(sx_nstat 1 drop_spoofed_ip)
check "a pod sending from an address that is not its own is dropped" test "$spoof_ok" = no
check "... and counted as drop_spoofed_ip ($((after - before)))" test $((after - before)) -ge 2
sx_pod n1a ip addr del 10.244.1.99/32 dev eth0

mac=$(sx_pod n1a ip -j link show dev eth0 | jq -r '.[0].address')
sx_pod n1a ip link set dev eth0 address 02:00:00:00:be:ef
before=$(sx_nstat 1 drop_spoofed_mac)
sx_pod n1a ping -c 2 -i 0.2 -W 1 10.244.1.3 >/dev/null 2>&1 && spoof_ok=yes || spoof_ok=no
after=$(sx_nstat 1 drop_spoofed_mac)
check "a pod sending with another MAC is dropped" test "$spoof_ok" = no
check "... and counted as drop_spoofed_mac ($((after - before)))" test $((after - before)) -ge 2
# A MAC change flushes the pod's neighbour table, static gateway entry included:
# from_pod's ARP responder answers for the gateway.
sx_pod n1a ip link set dev eth0 address "$mac"
before=$(sx_nstat 1 tc_arp_replied)
check "the pod works again with its own MAC" reach n1a 10.244.1.3
after=$(sx_nstat 1 tc_arp_replied)
check "... its ARP request for the gateway was answered by from_pod ($((after - before)))" \
	test $((after - before)) -ge 1
check "... and its neighbour entry names the host veth's MAC" sh -c \
	"ip -n sx${SX_ID}-n1a neigh show 169.254.1.1 | grep -qi \$(ip -n $(sx_node_ns 1) -j link show $(sx_pod_hveth n1a) | jq -r '.[0].address')"

# --- VXLAN from outside the cluster --------------------------------------------
# A rogue host on the underlay with a plain kernel VXLAN device aimed at node 1.
rogue="sx${SX_ID}-rogue"
ip netns add "$rogue"
SX_PODS+=("$rogue")
ip link add "sx${SX_ID}ur" netns "$SX_UL_NS" type veth peer name ul0 netns "$rogue"
ip -n "$SX_UL_NS" link set "sx${SX_ID}ur" master br0 up
ip -n "$rogue" link set ul0 up
ip -n "$rogue" addr add 10.99.0.99/24 dev ul0
# rogue_send VNI: pings node 1's pod through a VXLAN device with that VNI.
rogue_send() {
	ip -n "$rogue" link del rvx 2>/dev/null || true
	ip -n "$rogue" link add rvx type vxlan id "$1" dstport 4789 remote 10.99.0.1 local 10.99.0.99 dev ul0
	ip -n "$rogue" link set rvx up
	ip -n "$rogue" addr replace 10.244.2.77/32 dev rvx
	ip -n "$rogue" route replace 10.244.1.0/24 dev rvx
	ip -n "$rogue" neigh replace 10.244.1.2 lladdr 02:00:00:00:00:01 dev rvx nud permanent
	! nsenter --net="/run/netns/$rogue" ping -c 2 -i 0.2 -W 1 10.244.1.2 >/dev/null 2>&1
}
before=$(sx_nstat 1 drop_unknown_node)
check "VXLAN with the cluster's VNI from an unknown host does not reach the pod" rogue_send 1
after=$(sx_nstat 1 drop_unknown_node)
check "... and is counted as drop_unknown_node ($((after - before)))" test $((after - before)) -ge 2
before=$(sx_nstat 1 drop_unknown_vni)
check "VXLAN with another VNI does not reach the pod" rogue_send 7
after=$(sx_nstat 1 drop_unknown_vni)
check "... and is counted as drop_unknown_vni ($((after - before)))" test $((after - before)) -ge 2

# --- socket acceleration on top --------------------------------------------------
d=$(delta 1 sockets_inserted sx_pod n1a netperf -H 10.244.1.3 -l 1 -t TCP_RR)
check "same-node TCP is accelerated on top of the TC path ($d sockets)" test "$d" = 4
d=$(delta 1 sockets_inserted sx_pod n1a netperf -H 10.244.2.2 -l 1 -t TCP_RR)
check "cross-node TCP is not accelerated ($d sockets)" test "$d" = 0

# --- other tools' filters on the same hooks -------------------------------------------
# Frames from_pod lets go to the node get no verdict: a lower-priority filter
# of another tool still sees them (here one that drops everything). Frames the
# dataplane redirects are its own.
hveth=$(sx_pod_hveth n1a)
sx_on 1 tc filter add dev "$hveth" ingress pref 2 protocol all bpf bytecode "1,6 0 0 2," da
check "a later filter sees what from_pod passes to the node" eval '! reach n1a 10.244.1.1'
check "... not what it delivers to a pod" reach n1a 10.244.1.3
sx_on 1 tc filter del dev "$hveth" ingress pref 2
check "... and without that filter the node answers" reach n1a 10.244.1.1

# --- Services: flows the host translates --------------------------------------------
# kube-proxy's way: DNAT in the node's nat table, from a Service address (or
# the node's own address, as for a NodePort or hostPort) to a pod. The reply
# must come back through the host, whose conntrack translates it back: short-cut
# into the client pod, it would come from the backend's address and be reset.
# Kubernetes nodes forward (kubeadm checks it); the dataplane alone never needed it here.
for n in 1 2; do sx_on "$n" sysctl -qw net.ipv4.ip_forward=1; done
sx_on 1 iptables -t nat -A PREROUTING -d 10.96.0.10 -j DNAT --to-destination 10.244.1.3
sx_on 1 iptables -t nat -A PREROUTING -d 10.96.0.11 -j DNAT --to-destination 10.244.2.2
# TCP only on the node's address: its UDP carries the overlay itself.
sx_on 1 iptables -t nat -A PREROUTING -d "$(sx_node_ip 1)" -p tcp -j DNAT --to-destination 10.244.1.3
# service LABEL POD ADDR TEST: netperf TEST from POD to ADDR completes, and node 1
# handed replies of host-routed flows to its stack.
service() {
	local d
	d=$(delta 1 tc_host_flow_replies sx_pod "$2" timeout 20 netperf -H "$3" -l 1 -t "$4")
	check "$1: $4 ($d replies through the host)" moved "$d"
}
service "a pod to a Service whose backend is a pod of its node" n1a 10.96.0.10 TCP_RR
service "a pod to a Service whose backend is a pod of its node" n1a 10.96.0.10 UDP_RR
service "a pod to a Service whose backend is on another node" n1a 10.96.0.11 TCP_RR
service "a pod to a Service whose backend is on another node" n1a 10.96.0.11 UDP_RR
service "a pod of another node to a NodePort-style address" n2a "$(sx_node_ip 1)" TCP_RR
d=$(delta 1 sockets_inserted sx_pod n1a netperf -H 10.96.0.10 -l 1 -t TCP_RR)
check "... a translated connection is not accelerated at the socket layer ($d sockets)" test "$d" = 0
# Direct connections between the same pods keep the dataplane (a SYN that reuses
# a translated flow's ports forgets its record: test/bpf/test_tc_dataplane.c).
d=$(delta 1 tc_local_delivered sx_pod n1a netperf -H 10.244.1.3 -l 1 -t TCP_RR)
check "direct pod-to-pod connections still take the dataplane ($d frames)" moved "$d"
flows=$(bpftool map dump pinned "$(sx_node_pin 1)/sx_hostflow_v1" -j | jq length)
check "the host-routed flows are recorded in sx_hostflow_v1 ($flows)" test "$flows" -gt 0
# A pod to another node's own address: an API server behind the kubernetes
# Service, a kubelet, a hostNetwork server. The request leaves through the
# underlay; the node answers from that address through its route to the pod's
# CIDR, over VXLAN. Node 1's stack must see the answer: its conntrack
# translates it back, and kube-proxy drops what conntrack finds INVALID. Node 1
# filters reverse paths strictly, as some distributions do.
sx_on 1 iptables -t nat -A PREROUTING -d 10.96.0.1 -j DNAT --to-destination "$(sx_node_ip 2)"
sx_on 1 iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
sx_on 1 sysctl -qw net.ipv4.conf.all.rp_filter=1
for n in 1 2; do
	sx_on "$n" ip addr add "fd00:99::$n/64" dev ul0 nodad
	sx_on "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
done
sx_on_cg 2 netserver -D -p 12865 >/dev/null 2>&1 &
SX_BG_PIDS+=($!)
node_served() { sx_on 2 ss -Hltn "sport = :12865" | grep -q .; }
sx_eventually node_served || true
check "the VXLAN device filters reverse paths loosely" \
	test "$(sx_on 1 sysctl -n net.ipv4.conf.sockvx_vxlan.rp_filter)" = 2
node_rr() { sx_pod n1a timeout 20 netperf -H "$1" -l 1 -t TCP_RR "${@:2}" >/dev/null 2>&1; }
d=$(delta 1 tc_to_host node_rr 10.96.0.1)
check "a pod to a Service whose backend is another node's own address ($d frames to the host)" moved "$d"
check "a pod to another node's own address" node_rr "$(sx_node_ip 2)"
check "... and to its IPv6 address" node_rr fd00:99::2 -- -4 -6
sx_on 1 iptables -D FORWARD -m conntrack --ctstate INVALID -j DROP
sx_on 1 sysctl -qw net.ipv4.conf.all.rp_filter=0
# The checks below must see the dataplane alone carry pod traffic, as before.
sx_on 1 iptables -t nat -F PREROUTING
for n in 1 2; do sx_on "$n" sysctl -qw net.ipv4.ip_forward=0; done

# --- load twice, unload ------------------------------------------------------------
filters() { sx_on 1 tc filter show dev "$(sx_pod_hveth n1a)" "${1:-ingress}" | grep -c 'direct-action'; }
load_again() {
	sx_nctl 1 load --cgroup "$SX_CG/n1" --underlay ul0 --pod-cidr 10.244.1.0/24,fd00:244:1::/64 >/dev/null
}
check "load twice is harmless" load_again
check "... a pod veth still has exactly one sockvx filter ($(filters))" test "$(filters)" -eq 1
check "... on each hook ($(filters egress) on egress)" test "$(filters egress)" -eq 1
check "... and traffic still flows across nodes" reach n1a 10.244.2.3
routes=$(sx_on 1 ip route show proto 92 dev sockvx_vxlan | wc -l)
check "node 1 has one route per remote pod CIDR family ($routes)" test "$routes" -eq 1
routes6=$(sx_on 1 ip -6 route show proto 92 dev sockvx_vxlan | wc -l)
check "... and for IPv6 ($routes6)" test "$routes6" -eq 1
# --- an upgrade that fails part-way puts the earlier tc programs back ---------------
# With IPv6 disabled on the VXLAN device, a reload fails at the IPv6 routes,
# after it has attached its new programs to the device.
tc_prog() { sx_on 1 bpftool net show dev "$1" -j | jq -r --arg k "clsact/$2" '.[0].tc[] | select(.kind == $k) | .id'; }
pinned_prog() { bpftool prog show pinned "$(sx_node_pin 1)/$1" -j | jq -r .id; }
ovl_in=$(pinned_prog prog_from_overlay_v1)
ovl_out=$(pinned_prog prog_to_overlay_v1)
pod_in=$(pinned_prog prog_from_pod_v1)
pod_out=$(pinned_prog prog_to_pod_v1)
sx_on 1 sysctl -qw net.ipv6.conf.sockvx_vxlan.disable_ipv6=1
failed_load() {
	! sx_on 1 "$SOCKVXCTL" load --pin-dir "$(sx_node_pin 1)" --cgroup "$SX_CG/n1" --underlay ul0 \
		>/dev/null 2>"$SX_TMP/failed-load.err"
}
check "a reload that cannot route fails" failed_load
check "... and says it put the earlier programs back" grep -q "earlier tc programs are back" "$SX_TMP/failed-load.err"
now="$(tc_prog sockvx_vxlan ingress) $(tc_prog sockvx_vxlan egress)"
check "... which run on the VXLAN device ($now, pinned $ovl_in $ovl_out)" test "$now" = "$ovl_in $ovl_out"
now="$(tc_prog "$(sx_pod_hveth n1a)" ingress) $(tc_prog "$(sx_pod_hveth n1a)" egress)"
check "... and on the pod veths ($now, pinned $pod_in $pod_out)" test "$now" = "$pod_in $pod_out"
check "... which stay pinned" \
	test "$(pinned_prog prog_from_overlay_v1) $(pinned_prog prog_from_pod_v1)" = "$ovl_in $pod_in"
check "... and traffic still flows across nodes" reach n1a 10.244.2.3
sx_on 1 sysctl -qw net.ipv6.conf.sockvx_vxlan.disable_ipv6=0
check "the same reload then succeeds" load_again
check "... with new programs on the device" test "$(tc_prog sockvx_vxlan ingress)" != "$ovl_in"
check "... and its IPv6 route back ($(sx_on 1 ip -6 route show proto 92 dev sockvx_vxlan | wc -l))" \
	test "$(sx_on 1 ip -6 route show proto 92 dev sockvx_vxlan | wc -l)" -eq 1
# A reload on another VXLAN port recreates the device. With IPv6 off for new
# devices, the new one cannot take the node's IPv6 address and the reload
# fails there: it puts the earlier programs on the new device (not on the old
# one, which is gone) and says to load again.
ovl_in=$(pinned_prog prog_from_overlay_v1)
ovl_out=$(pinned_prog prog_to_overlay_v1)
sx_on 1 sysctl -qw net.ipv6.conf.default.disable_ipv6=1
port_load() {
	! sx_on 1 "$SOCKVXCTL" load --pin-dir "$(sx_node_pin 1)" --cgroup "$SX_CG/n1" --underlay ul0 \
		--vxlan-port 4790 >/dev/null 2>"$SX_TMP/port-load.err"
}
check "a reload on a new VXLAN port whose device cannot take IPv6 fails" port_load
sx_on 1 sysctl -qw net.ipv6.conf.default.disable_ipv6=0
check "... and says to load again" grep -q "load again" "$SX_TMP/port-load.err"
now="$(tc_prog sockvx_vxlan ingress) $(tc_prog sockvx_vxlan egress)"
check "... with the earlier programs on the recreated device ($now, pinned $ovl_in $ovl_out)" \
	test "$now" = "$ovl_in $ovl_out"
sx_on 1 sysctl -qw net.ipv6.conf.sockvx_vxlan.disable_ipv6=0
port_back() {
	sx_nctl 1 load --cgroup "$SX_CG/n1" --underlay ul0 --vxlan-port 4789 \
		--pod-cidr 10.244.1.0/24,fd00:244:1::/64 >/dev/null
}
check "loading again on the cluster's port finishes" port_back
check "... and traffic flows across nodes again" reach n1a 10.244.2.3
check "... also over IPv6" reach n1a fd00:244:2::3
# Without --pod-cidr, a recreated device gets the node's addresses from the
# netconf: its routes to other nodes need them as their source.
port_only() { sx_nctl 1 load --cgroup "$SX_CG/n1" --underlay ul0 --vxlan-port 4790 >/dev/null; }
vx_state() {
	echo "$(sx_on 1 ip -br addr show dev sockvx_vxlan | grep -o '10.244.1.1/[0-9]*\|fd00:244:1::1/[0-9]*' | tr '\n' ' ')$(routes_via_vxlan)"
}
routes_via_vxlan() { { sx_on 1 ip route show proto 92 dev sockvx_vxlan; sx_on 1 ip -6 route show proto 92 dev sockvx_vxlan; } | wc -l; }
before_vx=$(vx_state)
check "a reload on another VXLAN port alone succeeds" port_only
check "... and the new device has the node's addresses and routes ($(vx_state); before: $before_vx)" test "$(vx_state)" = "$before_vx"
check "back on the cluster's port" port_back
check "... traffic flows across nodes" reach n1a 10.244.2.3
# A reload whose new VXLAN device cannot be created (another collect-metadata
# device holds the new port) brings the old one back: the node keeps its overlay.
vx_port() { sx_on 1 ip -d -j link show sockvx_vxlan | jq -r '.[0].linkinfo.info_data.port'; }
sx_on 1 ip link add sxblock type vxlan external dstport 4791
blocked_load() {
	! sx_on 1 "$SOCKVXCTL" load --pin-dir "$(sx_node_pin 1)" --cgroup "$SX_CG/n1" --underlay ul0 \
		--vxlan-port 4791 >/dev/null 2>"$SX_TMP/blocked.err"
}
check "a reload onto a VXLAN port another device holds fails" blocked_load
check "... and says the device is back with its earlier settings" \
	grep -q "back with its earlier settings" "$SX_TMP/blocked.err"
check "... on the cluster's port ($(vx_port))" test "$(vx_port)" = 4789
check "... with the earlier programs" \
	test "$(tc_prog sockvx_vxlan ingress)" = "$(pinned_prog prog_from_overlay_v1)"
check "... and traffic flows across nodes" reach n1a 10.244.2.3
check "... also over IPv6" reach n1a fd00:244:2::3
sx_on 1 ip link del sxblock
check "a reload on the cluster's port then succeeds" port_back

# A reload with another --pod-cidr moves the node's pod-network addresses.
vx_addrs() {
	sx_on 1 ip -j addr show dev sockvx_vxlan |
		jq -r '[.[0].addr_info[] | select(.scope == "global") | .local] | sort | join(" ")'
}
cidr_load() { sx_nctl 1 load --cgroup "$SX_CG/n1" --underlay ul0 --pod-cidr "$1" >/dev/null; }
check "a reload with another --pod-cidr succeeds" cidr_load 10.244.101.0/24,fd00:244:101::/64
check "... and leaves the device only the new addresses" \
	test "$(vx_addrs)" = "10.244.101.1 fd00:244:101::1"
check "a reload back to the node's pod CIDRs succeeds" cidr_load 10.244.1.0/24,fd00:244:1::/64
check "... with only their addresses" test "$(vx_addrs)" = "10.244.1.1 fd00:244:1::1"
check "... and traffic flows across nodes" reach n1a 10.244.2.3

# --- a veth is wired on both hooks or not at all ------------------------------------
# Another tool's filter at sockvx's priority with another protocol: the kernel
# refuses sockvx's egress filter there, after from_pod went on ingress.
sx_on 1 ip link add sxpa0 type veth peer name sxpa1
sx_on 1 tc qdisc add dev sxpa0 clsact
sx_on 1 tc filter add dev sxpa0 egress pref 1 protocol ip bpf bytecode "1,6 0 0 4294967295,"
hook_filters() { sx_on 1 tc filter show dev sxpa0 "$1" | grep -c "${2:-direct-action}" || true; }
has_clsact() { sx_on 1 tc qdisc show dev sxpa0 | grep -q clsact; }
listed() { sx_nctl 1 endpoint list --json | jq -e --arg ip "$1" 'any(.[]; .ip == $ip)' >/dev/null; }
wire_pa() { sx_nctl 1 endpoint add 10.244.1.77 --dev sxpa0 >/dev/null 2>"$SX_TMP/pa.err"; }
refused_on_egress() { ! wire_pa && grep -q "cannot attach the tc program" "$SX_TMP/pa.err"; }
check "endpoint add --dev fails when to_pod cannot go on egress" refused_on_egress
check "... takes from_pod off ingress again ($(hook_filters ingress))" test "$(hook_filters ingress)" -eq 0
check "... records no endpoint" eval '! listed 10.244.1.77'
others_kept() { test "$(hook_filters egress bytecode)" -eq 1 && has_clsact; }
check "... and leaves the other tool's filter and qdisc" others_kept
sx_on 1 tc qdisc del dev sxpa0 clsact
check "on a bare veth, endpoint add --dev wires both hooks" wire_pa
check "... ($(hook_filters ingress) on ingress, $(hook_filters egress) on egress)" \
	test "$(hook_filters ingress)$(hook_filters egress)" = 11
sx_nctl 1 endpoint del 10.244.1.77 >/dev/null
check "endpoint del unwires the veth ($(hook_filters ingress)$(hook_filters egress))" \
	test "$(hook_filters ingress)$(hook_filters egress)" = 00
check "... and removes the clsact qdisc sockvx gave it" eval '! has_clsact'
sx_on 1 ip link del sxpa0
check "load from another network namespace is refused" \
	sh -c "! '$SOCKVXCTL' load --pin-dir '$(sx_node_pin 2)' --cgroup '$SX_CG/n2' 2>/dev/null"
unload_node2() { sx_nctl 2 unload >/dev/null; }
check "unload node 2" unload_node2
check "... removes its VXLAN device" sh -c "! ip -n $(sx_node_ns 2) link show sockvx_vxlan >/dev/null 2>&1"
pod_filters() { sx_on 2 tc filter show dev "$(sx_pod_hveth n2a)" "$1" | grep -c direct-action || true; }
check "... and the tc filters of its pods" test "$(pod_filters ingress)$(pod_filters egress)" = 00
pod_qdiscs() { sx_on 2 tc qdisc show dev "$(sx_pod_hveth n2a)" | grep -c clsact || true; }
check "... and their clsact qdiscs ($(pod_qdiscs))" test "$(pod_qdiscs)" -eq 0
check "... and its pins" test ! -e "$(sx_node_pin 2)"
sx_done
