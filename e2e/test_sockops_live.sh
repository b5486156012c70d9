#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live socket acceleration on a simulated node: real pods (namespaces + veth),
# real TCP, sockops attached to the node's own cgroup. Proves which sockets
# enter the sockhash, that redirected bytes skip TCP, and that unload keeps
# open connections working.
source "$(dirname "$0")/lib.sh"
sx_two_pod_node
sx_pod_create c 4 # wired like the others, but never registered as an endpoint
B=$(sx_pod_ip 3) C=$(sx_pod_ip 4)
sx_netserver b
sx_netserver c

# delta COUNTER cmd...: how much a counter moved while cmd ran; "failed" if
# cmd failed, so a check never passes on a connection that did not happen.
delta() {
	local name=$1 before after
	shift
	before=$(sx_stat "$name")
	if ! "$@" >/dev/null 2>&1; then
		echo failed
		return
	fi
	after=$(sx_stat "$name")
	echo $((after - before))
}

# --- which sockets are accelerated ---------------------------------------
n=$(delta sockets_inserted sx_pod a netperf -H "$B" -l 1 -t TCP_RR)
check "pod-to-pod IPv4 sockets enter the sockhash (control + data, both ends)" test "$n" -eq 4
n=$(delta sockets_inserted sx_pod a netperf -H "$(sx_pod_ip6 3)" -l 1 -t TCP_RR -- -4 -6)
check "pod-to-pod IPv6 sockets enter the sockhash" test "$n" -eq 4
n=$(delta sockets_inserted sx_pod a netperf -H "$C" -l 1 -t TCP_RR)
check "sockets to a pod that is not an endpoint are not inserted" test "$n" -eq 0
n=$(delta sockets_inserted sx_node_cg netperf -H "$B" -l 1 -t TCP_RR)
check "host sockets are never inserted" test "$n" -eq 0
sx_pod_bg a netserver -D -L 127.0.0.1 -p 12870 >/dev/null 2>&1
sx_wait_listen a 12870
n=$(delta sockets_inserted sx_pod a netperf -H 127.0.0.1 -p 12870 -l 1 -t TCP_RR)
check "loopback sockets inside a pod are never inserted" test "$n" -eq 0

sx_netserver b 12866
sx_ctl exclude-port add 12866
n=$(delta sockets_skipped_excluded_port sx_pod a netperf -H "$B" -p 12866 -l 1 -t TCP_RR)
check "connections on an excluded port are not accelerated" test "$n" -ge 2
sx_ctl exclude-port del 12866

sx_ctl accel off >/dev/null
n=$(delta sockets_inserted sx_pod a netperf -H "$B" -l 1 -t TCP_RR)
check "with acceleration off no socket is inserted" test "$n" -eq 0
sx_ctl accel on >/dev/null

# --- entries while a connection is open ------------------------------------
sx_pod_bg a netperf -H "$B" -l 3 -t TCP_RR >/dev/null 2>&1
entries_are() { [[ $(sx_sockhash_entries) -eq $1 ]]; }
check "an open connection holds its sockets in the sockhash" sx_eventually entries_are 4
wait "${SX_BG_PIDS[-1]}"
check "closed connections leave the sockhash" sx_eventually entries_are 0

# --- redirected bytes skip TCP ---------------------------------------------
# stream BYTES_FILE: a 2 s TCP_STREAM a->b; writes the bytes moved.
stream() {
	local segs0 segs1 mbps
	segs0=$(sx_tcp_outsegs a)
	mbps=$(sx_pod a netperf -H "$B" -l 2 -t TCP_STREAM -P 0 -- -m 65536 | awk 'NF >= 5 { v = $5 } END { print v }')
	segs1=$(sx_tcp_outsegs a)
	echo "$((segs1 - segs0)) $(awk -v m="$mbps" 'BEGIN { printf "%.0f", m * 1e6 / 8 * 2 }')"
}
read -r segs_on bytes_on < <(stream)
sx_ctl accel off >/dev/null
read -r segs_off bytes_off < <(stream)
sx_ctl accel on >/dev/null
sx_log "accelerated: $segs_on segments for $bytes_on bytes; plain: $segs_off for $bytes_off"
check "a redirected transfer barely moves TcpOutSegs ($segs_on segments for $bytes_on bytes)" \
	test $((segs_on * 1000000)) -lt "$bytes_on"
check "the plain path sends one segment per MSS or so ($segs_off for $bytes_off bytes)" \
	test $((segs_off * 65536)) -gt "$bytes_off"
check "bytes_redirected covers the accelerated transfer" test "$(sx_stat bytes_redirected)" -ge "$bytes_on"
check "no redirect errors" test "$(sx_stat redirect_errors)" -eq 0

# --- unload with a connection open -----------------------------------------
sx_pod a netperf -H "$B" -l 4 -t TCP_RR -P 0 >"$SX_TMP/rr.out" 2>&1 &
rr=$!
sleep 1
map_id=$(sx_ctl status --json | jq -r '.maps[] | select(.name == "sx_sockhash_v1") | .id')
"$SOCKVXCTL" unload --pin-dir "$SX_PIN" >/dev/null
wait $rr && rc=0 || rc=$?
check "a connection open during unload keeps working" \
	bash -c "[[ $rc -eq 0 ]] && awk 'NF >= 6 && \$6 > 0 { found = 1 } END { exit !found }' '$SX_TMP/rr.out'"
map_gone() { ! bpftool map show id "$map_id" >/dev/null 2>&1; }
check "unload frees the sockhash (map id $map_id)" sx_eventually map_gone
sx_done
