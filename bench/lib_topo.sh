#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The paths bench/bench.sh measures, built with the fixtures the e2e tests
# use (e2e/lib.sh, e2e/lib_flannel.sh), all on one kernel at once:
#
#   plain          same node: two pods on plain veth pairs with host routes;
#                  no BPF anywhere (no sockvx is attached above their cgroup)
#   loopback       TCP over lo inside one pod's namespace
#   unix           an AF_UNIX stream pair (test/tools/sxunixbench)
#   flannel-same   same node, Flannel-style: the reference bridge + host-local
#                  plugins wire the pods to cni0
#   flannel-cross  across nodes, Flannel-style: cni0, routing, flannel.1 VXLAN
#   tc-same        same node, sockvx's TC dataplane (pods wired by the sockvx
#                  CNI binary), acceleration off
#   tc-cross       across nodes, sockvx's TC dataplane, acceleration off
#   accel          same node, the pods of tc-same with socket acceleration on
#
# Source after e2e/lib.sh and e2e/lib_flannel.sh; uses want_mode from bench.sh.

BENCH_SOCKPERF_PORT=11111
# shellcheck disable=SC2034 # used by lib_run.sh
BENCH_HOLD_PORT=20000

# bench_topology SCALE: builds what the selected paths need (SCALE 1: also the
# pods and servers of the scale phase).
bench_topology() {
	local scale=$1
	sx_setup
	if want_mode plain || want_mode loopback || want_mode unix; then
		# No sx_load here: nothing of sockvx sees these pods' sockets.
		sx_node_create
		sx_pod_create a 2
		sx_pod_create b 3
		sx_netserver b
		bench_sockperf_server b "$(sx_pod_ip 3)"
		bench_sockperf_server b 127.0.0.1 $((BENCH_SOCKPERF_PORT + 1))
	fi
	if want_mode tc-same || want_mode tc-cross || want_mode accel || ((scale)); then
		# Exactly as e2e/test_tc_dataplane.sh builds it: pods wired by the
		# sockvx CNI binary. Acceleration is switched on per run (bench_accel).
		sx_two_node_cluster
		sx_nctl 1 accel off >/dev/null
		sx_nctl 2 accel off >/dev/null
		sx_netserver n1b
		bench_sockperf_server n1b 10.244.1.3
		sx_netserver n2a
		bench_sockperf_server n2a 10.244.2.2
		if ((scale)); then
			# The empty-map reference of the scale phase, and a third pod on
			# node 1 whose only job is to hold the idle connections (it
			# takes their source ports, so netperf's own stay free).
			sx_netserver n2b
			sx_cluster_pod 1 n1c 4
		fi
	fi
	if want_mode flannel-same || want_mode flannel-cross; then
		sx_fl_two_node_cluster
		sx_netserver f1b
		bench_sockperf_server f1b "$(sx_fl_pod_ip f1b)"
		sx_netserver f2a
		bench_sockperf_server f2a "$(sx_fl_pod_ip f2a)"
	fi
}

# bench_sockperf_server POD ADDR [PORT]
bench_sockperf_server() {
	local port=${3:-$BENCH_SOCKPERF_PORT}
	sx_pod_bg "$1" sockperf sr --tcp -i "$2" -p "$port" >/dev/null 2>&1
	sx_wait_listen "$1" "$port" || sx_die "sockperf server in pod $1 did not start"
}

# bench_peer MODE: "CLIENT_POD SERVER_ADDR SOCKPERF_PORT" of one path.
bench_peer() {
	case $1 in
	plain) echo "a $(sx_pod_ip 3) $BENCH_SOCKPERF_PORT" ;;
	loopback | unix) echo "b 127.0.0.1 $((BENCH_SOCKPERF_PORT + 1))" ;;
	flannel-same) echo "f1a $(sx_fl_pod_ip f1b) $BENCH_SOCKPERF_PORT" ;;
	flannel-cross) echo "f1a $(sx_fl_pod_ip f2a) $BENCH_SOCKPERF_PORT" ;;
	tc-same | accel | loaded) echo "n1a 10.244.1.3 $BENCH_SOCKPERF_PORT" ;;
	tc-cross) echo "n1a 10.244.2.2 $BENCH_SOCKPERF_PORT" ;;
	empty) echo "n2a 10.244.2.3 $BENCH_SOCKPERF_PORT" ;;
	*) sx_die "no peer for path $1" ;;
	esac
}

# bench_accel MODE: node 1 accelerates only for the accelerated path (and in
# the scale phase, which sets BENCH_ACCEL_ALWAYS): tc-same uses the same pods.
BENCH_ACCEL_STATE=off
BENCH_ACCEL_ALWAYS=0
bench_accel() {
	local state=off
	[[ $1 == accel || $BENCH_ACCEL_ALWAYS == 1 ]] && state=on
	[[ $BENCH_ACCEL_STATE != "$state" && -d $(sx_node_pin 1) ]] || return 0
	sx_nctl 1 accel "$state" >/dev/null
	BENCH_ACCEL_STATE=$state
}

# bench_counters: the counters that prove which route a run took, as one
# line: n1 inserted, n1 redirected, n1 local, n1 encapsulated, n2
# decapsulated, n2 inserted, n2 redirected, flannel.1 tx on node 1, rx on node 2.
bench_counters() {
	local n1='0 0 0 0' n2='0 0 0' fl='0 0'
	if [[ -d $(sx_node_pin 1) ]]; then
		n1=$(sx_nctl 1 stats --json |
			jq -r '"\(.sockets_inserted) \(.messages_redirected) \(.tc_local_delivered) \(.tc_encapsulated)"')
		n2=$(sx_nctl 2 stats --json |
			jq -r '"\(.tc_decapsulated) \(.sockets_inserted) \(.messages_redirected)"')
	fi
	if [[ -n ${SX_FL_POD_IP[f2a]:-} ]]; then
		fl="$(sx_fl_vxlan_packets 1 tx) $(sx_fl_vxlan_packets 2 rx)"
	fi
	echo "$n1 $n2 $fl"
}

# bench_check MODE DELTAS...: prints "ok" or "FAILED" for one run's counter
# deltas (in bench_counters' order): did the path take its route?
bench_check() {
	local mode=$1
	shift
	local ins1=$1 red1=$2 loc1=$3 enc1=$4 dec2=$5 ins2=$6 red2=$7 fltx=$8 flrx=$9 ok=1
	case $mode in
	accel | loaded | empty) ((red1 + red2 > 0)) || ok=0 ;;
	tc-same) ((loc1 > 0 && ins1 + red1 == 0)) || ok=0 ;;
	tc-cross) ((enc1 > 0 && dec2 > 0 && ins1 + red1 + ins2 + red2 == 0)) || ok=0 ;;
	flannel-cross) ((fltx > 0 && flrx > 0)) || ok=0 ;;
	esac
	((ok)) && echo ok || echo FAILED
}
