#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reliability under churn and faults, through the real plugin and loader on a
# simulated cluster node. Each part prints its figures as "# ..." lines.
#   churn     CHURN_PODS (100) parallel ADDs, then as many parallel DELs,
#             CHURN_ROUNDS (2) times: every pod works, and nothing is left
#   kill      KILL_PODS (30) ADDs killed with SIGKILL at random moments; DEL
#             cleans up half of them, GC the other half
#   restart   every process of the node dropped and `sockvxctl load` run
#             again: pods keep working, accelerated, and nothing is doubled
#   pressure  the endpoint map filled to capacity: ADD fails with a clear
#             error and changes nothing, running pods keep working; the
#             SOCKHASH filled with idle connections: new ones fall back to
#             the TC path and carry their bytes intact
#   privilege the pin dir, maps and records are root's alone; the CLI and
#             the plugin refuse unprivileged callers with a clear message
source "$(dirname "$0")/lib_cni.sh"

PODS=${CHURN_PODS:-100}
ROUNDS=${CHURN_ROUNDS:-2}
KILLS=${KILL_PODS:-30}
sx_cni_node
good=$(conf 1.0.0)
NODE_NETNS=/run/netns/$(sx_node_ns 1)

# cni_bg VERB CID CONF OUT: the plugin in the background, its pid in $cni_pid
# (nsenter and env exec it, so the pid is the plugin's own).
cni_bg() {
	local netns=""
	[[ $1 == DEL || $1 == ADD ]] && netns=$(nspath "$2")
	nsenter --net="$NODE_NETNS" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$netns" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$SOCKVX_CNI" <<<"$3" >"$4" 2>>"$SX_TMP/stderr" &
	cni_pid=$!
}
# wait_all PID...: $bad, how many of them exited non-zero (never in $(...):
# a subshell cannot wait for its parent's children).
wait_all() {
	local pid
	bad=0
	for pid in "$@"; do wait "$pid" || bad=$((bad + 1)); done
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
tc_filters() { sx_on 1 tc filter show dev "$1" ingress | grep -c 'direct-action' || true; }
proto92_routes() { { sx_on 1 ip route show proto 92; sx_on 1 ip -6 route show proto 92; } | wc -l; }
# every_veth_wired: each host veth carries exactly one tc program.
every_veth_wired() {
	local v
	for v in $(sx_on 1 ip -j link show | jq -r '.[].ifname | select(test("^sx[0-9a-f]{12}$"))'); do
		[[ $(tc_filters "$v") -eq 1 ]] || return 1
	done
}

# --- churn ------------------------------------------------------------------------
for r in $(seq 1 "$ROUNDS"); do
	dir="$SX_TMP/churn$r"
	mkdir -p "$dir"
	for i in $(seq 1 "$PODS"); do newpod "c$r-$i"; done
	pids=()
	t=$(now)
	for i in $(seq 1 "$PODS"); do
		cni_bg ADD "c$r-$i" "$good" "$dir/$i.json"
		pids+=("$cni_pid")
	done
	wait_all "${pids[@]}"
	add_s=$(elapsed "$t")
	addrs=$(cat "$dir"/*.json | jq -r '.ips[]?.address | select(endswith("/32"))' | sort -u | wc -l)
	check "churn $r: $PODS parallel ADDs succeed ($add_s s)" test "$bad" -eq 0
	check "churn $r: ... with $PODS distinct IPv4 addresses" test "$addrs" -eq "$PODS"
	check "churn $r: ... $PODS veths, each with one tc program" \
		eval '[[ $(host_veths) -eq $PODS ]] && every_veth_wired'
	check "churn $r: ... $((2 * PODS)) endpoints (IPv4 and IPv6)" test "$(endpoints | jq length)" -eq $((2 * PODS))
	check "churn $r: ... the first pod reaches the last" pings "c$r-1" "$(pod_ip "$(cat "$dir/$PODS.json")")"
	pids=()
	t=$(now)
	for i in $(seq 1 "$PODS"); do
		cni_bg DEL "c$r-$i" "$good" /dev/null
		pids+=("$cni_pid")
	done
	wait_all "${pids[@]}"
	del_s=$(elapsed "$t")
	echo "# churn round $r: $PODS pods, parallel ADD $add_s s, parallel DEL $del_s s"
	check "churn $r: $PODS parallel DELs succeed ($del_s s)" test "$bad" -eq 0
	check "churn $r: ... no veth, lease, record or endpoint is left" nothing_left
	check "churn $r: ... nor a route or neighbour entry of the plugin" test "$(proto92_routes)" -eq 0
	for i in $(seq 1 "$PODS"); do ip netns del "sx${SX_ID}-c$r-$i"; done
done

# --- SIGKILL during ADD -------------------------------------------------------------
newpod keep
run_cni ADD keep "$(nspath keep)" "$good" >"$SX_TMP/keep.json"
check "kill: a pod that must survive the clean-up is added" test "$(rc)" -eq 0
killed=0 finished=0
for i in $(seq 1 "$KILLS"); do
	newpod "k$i"
	cni_bg ADD "k$i" "$good" "$SX_TMP/k$i.json"
	# A random moment within a typical ADD (a few milliseconds).
	sleep "0.00$((RANDOM % 10))"
	kill -KILL "$cni_pid" 2>/dev/null || true
	if wait "$cni_pid" 2>/dev/null; then finished=$((finished + 1)); else killed=$((killed + 1)); fi
done
# An IPAM plugin the killed ADD had started finishes on its own: let it.
sx_eventually sh -c '! pgrep -x host-local >/dev/null'
left="$(($(host_veths) - 1)) veths, $(($(records) - 1)) records, $(($(endpoints | jq length) - 2)) endpoints"
echo "# kill: $KILLS ADDs, $killed killed midway, $finished finished first; left behind: $left"
check "kill: some ADDs were killed midway ($killed of $KILLS)" test "$killed" -gt 0
pids=()
for i in $(seq 1 2 "$KILLS"); do
	cni_bg DEL "k$i" "$good" /dev/null
	pids+=("$cni_pid")
done
wait_all "${pids[@]}"
check "kill: DEL after a killed ADD succeeds (odd pods)" test "$bad" -eq 0
gc=$(conf 1.1.0 '."cni.dev/valid-attachments" = [{"containerID":"keep","ifname":"eth0"}]')
run_cni GC "" "" "$gc" >/dev/null
check "kill: GC succeeds (even pods)" test "$(rc)" -eq 0
check "kill: ... only the surviving pod is left (veth, record, endpoints, leases)" \
	eval '[[ $(host_veths) -eq 1 && $(records) -eq 1 && $(endpoints | jq length) -eq 2 && $(lease_count) -eq 2 ]]'
keep_ip=$(pod_ip "$(cat "$SX_TMP/keep.json")")
check "kill: ... and its endpoint is intact" has_endpoint "$keep_ip"
run_cni DEL keep "$(nspath keep)" "$good" >/dev/null
check "kill: after its DEL, nothing is left" nothing_left

# --- node restart -------------------------------------------------------------------
for p in ra rb; do
	newpod "$p"
	run_cni ADD "$p" "$(nspath "$p")" "$good" >"$SX_TMP/$p.json"
done
rb_ip=$(pod_ip "$(cat "$SX_TMP/rb.json")")
# tcp_echo FROM IP PORT: a line sent to the echo server comes back.
tcp_echo() { [[ $(sx_pod "$1" sh -c "echo restart-$SX_ID | busybox nc -w 3 $2 $3" 2>/dev/null) == "restart-$SX_ID" ]]; }
# echo_server PORT: a persistent echo server in pod rb.
echo_server() {
	sx_pod_bg rb busybox nc -ll -p "$1" -e /bin/cat
	sx_wait_listen rb "$1" || true
}
echo_server 7301
check "restart: pods talk before" tcp_echo ra "$rb_ip" 7301
before_eps=$(endpoints | jq -c 'sort_by(.ip)')
# Every process of the node dies, as in a crash; the pins and the pods' namespaces stay.
echo 1 >"$SX_CG/n1/cgroup.kill"
sx_eventually grep -q '^populated 0' "$SX_CG/n1/cgroup.events"
wait "${SX_BG_PIDS[@]}" 2>/dev/null || true
reload() { sx_nctl 1 load --cgroup "$SX_CG/n1" --underlay ul0 --pod-cidr "10.244.1.0/24,fd00:244:1::/64" >/dev/null; }
check "restart: load runs again" reload
check "restart: endpoints are the same" test "$(endpoints | jq -c 'sort_by(.ip)')" = "$before_eps"
check "restart: each pod veth still has exactly one tc program" every_veth_wired
attached() { bpftool -j cgroup show "$SX_CG/n1" | jq -c '[.[].attach_type] | sort'; }
check "restart: one sockops and one setsockopt program on the node's cgroup" \
	test "$(attached)" = '["cgroup_setsockopt","cgroup_sock_ops"]'
check "restart: one VXLAN device" \
	test "$(sx_on 1 ip -j -d link show | jq '[.[] | select(.linkinfo.info_kind == "vxlan")] | length')" -eq 1
echo_server 7302
socks=$(sx_nstat 1 sockets_inserted)
check "restart: pods talk after" tcp_echo ra "$rb_ip" 7302
check "restart: ... accelerated" test "$(sx_nstat 1 sockets_inserted)" -gt "$socks"
for p in ra rb; do
	run_cni CHECK "$p" "$(nspath "$p")" "$(conf 1.0.0 ".prevResult = $(cat "$SX_TMP/$p.json")")" >/dev/null
	check "restart: CNI CHECK passes for $p" test "$(rc)" -eq 0
done

# --- map pressure: the endpoint map full ----------------------------------------
cap=$(sx_nctl 1 status --json | jq '.maps[] | select(.name == "sx_endpoints_v1") | .capacity')
have=$(endpoints | jq length)
fill=$((cap - have))
awk -v n="$fill" 'BEGIN { for (i = 0; i < n; i++) printf "10.%d.%d.%d\n", 128 + int(i / 65536), int(i / 256) % 256, i % 256 }' >"$SX_TMP/fill"
t=$(now)
xargs -a "$SX_TMP/fill" -n 4096 "$SOCKVXCTL" endpoint add --pin-dir "$PIN" >/dev/null
echo "# pressure: $fill endpoints added in $(elapsed "$t") s, map $(endpoints | jq length)/$cap"
check "pressure: the endpoint map is full ($cap)" test "$(endpoints | jq length)" -eq "$cap"
snapshot() { echo "$(host_veths) $(records) $(lease_count)"; }
before=$(snapshot)
newpod full
out=$(run_cni ADD full "$(nspath full)" "$good")
echo "# pressure: ADD on a full map: $(jq -c . <<<"$out")"
check "pressure: ADD fails with an error JSON naming the full map" \
	eval '[[ $(rc) -ne 0 ]] && jqt ".code >= 100 and (.msg + .details | test(\"full|capacity|space\"; \"i\"))" <<<"$out"'
check "pressure: ... and changes nothing (veths, records, leases)" test "$(snapshot)" = "$before"
# A wired endpoint add that re-adds rb's address fails on the full map at the
# second address; rb's entry, which it had replaced by then, is put back.
rb_entry() { endpoints | jq -c --arg ip "$rb_ip" '.[] | select(.ip == $ip)'; }
rb_before=$(rb_entry)
check "pressure: endpoint add --dev on a full map fails" \
	eval '! sx_nctl 1 endpoint add "$rb_ip" 10.250.0.1 --dev lo >/dev/null 2>&1'
check "pressure: ... and restores the entry it had replaced" test "$(rb_entry)" = "$rb_before"
socks=$(sx_nstat 1 sockets_inserted)
check "pressure: running pods keep talking" tcp_echo ra "$rb_ip" 7302
check "pressure: ... accelerated" test "$(sx_nstat 1 sockets_inserted)" -gt "$socks"
xargs -a "$SX_TMP/fill" -n 4096 "$SOCKVXCTL" endpoint del --pin-dir "$PIN" >/dev/null
run_cni ADD full "$(nspath full)" "$good" >/dev/null
check "pressure: with room again, the same ADD succeeds" test "$(rc)" -eq 0
# --- map pressure: the SOCKHASH full ------------------------------------------------
# Idle connections fill it (two sockets each); probes made on top must carry
# their bytes intact on the TC path, counted as failed inserts.
map_field() { sx_nctl 1 status --json | jq ".maps[] | select(.name == \"$1\") | .$2"; }
hcap=$(map_field sx_sockhash_v1 capacity)
hold=$(((hcap - $(map_field sx_sockhash_v1 entries)) / 2 + 64))
errs=$(sx_nstat 1 socket_insert_errors)
sx_hold ra rb "$rb_ip" 7401 "$hold"
held=$SX_HOLD_HELD failed=$SX_HOLD_FAILED holders=${#SX_HOLD_PIDS[@]}
entries=$(map_field sx_sockhash_v1 entries)
# Probes on top of a full map, through the first holder's server.
sx_pod ra "$SX_TOOLS/sxhold" client "$rb_ip" 7401 --conns 0 --probe 50 </dev/null >"$SX_TMP/probe.json" 2>&1 || true
errs=$(($(sx_nstat 1 socket_insert_errors) - errs))
echo "# pressure: $held idle connections held by $holders processes ($failed failed), SOCKHASH $entries/$hcap, $errs failed inserts; probes: $(cat "$SX_TMP/probe.json")"
check "pressure: $hold idle connections are held" test "$held $failed" = "$hold 0"
check "pressure: the SOCKHASH is full ($hcap)" test "$entries" -eq "$hcap"
# 64 held connections and 50 probes find it full: at least one failed insert each.
check "pressure: connections beyond it fail to insert ($errs) and fall back to TCP" test "$errs" -ge 114
check "pressure: ... 50 probes on top carry 64 KiB each, intact" jqt '.probes_intact == 50' "$SX_TMP/probe.json"
sx_hold_release
check "pressure: closed connections leave the SOCKHASH" \
	sx_eventually eval '[[ $(map_field sx_sockhash_v1 entries) -lt 64 ]]'
socks=$(sx_nstat 1 sockets_inserted) errs=$(sx_nstat 1 socket_insert_errors)
check "pressure: afterwards new connections are accelerated again" \
	eval 'tcp_echo ra "$rb_ip" 7302 && [[ $(sx_nstat 1 sockets_inserted) -gt $socks && $(sx_nstat 1 socket_insert_errors) -eq $errs ]]'

for p in ra rb full; do run_cni DEL "$p" "$(nspath "$p")" "$good" >/dev/null; done
check "after every DEL, nothing is left" nothing_left

# --- privilege ----------------------------------------------------------------------
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
check "privilege: the pin dir is root's alone (0700)" test "$(stat -c '%U %a' "$PIN")" = "root 700"
check "privilege: every pin is root's alone (0600)" \
	test -z "$(find "$PIN" -mindepth 1 \( ! -user root -o -perm /077 \))"
check "privilege: the CNI records are not writable by others" \
	test -z "$(find "$SX_TMP/cni-n1" \( ! -user root -o -perm /022 \))"
cannot_list() { ! nobody ls "$PIN" >/dev/null 2>&1; }
check "privilege: an unprivileged user cannot list the pins" cannot_list
# shellcheck disable=SC2034 # read by the check's eval
out=$(nobody "$SOCKVXCTL" stats --pin-dir "$PIN" 2>&1) && rc_=0 || rc_=$?
check "privilege: sockvxctl refuses an unprivileged user, saying why" \
	eval '[[ $rc_ -ne 0 && $out == *root* ]]'
# shellcheck disable=SC2034 # read by the check's eval
out=$(nobody env CNI_COMMAND=ADD CNI_CONTAINERID=np CNI_NETNS=/proc/self/ns/net CNI_IFNAME=eth0 \
	CNI_PATH=/usr/lib/cni "$SOCKVX_CNI" <<<"$good" 2>/dev/null) && rc_=0 || rc_=$?
echo "# privilege: unprivileged ADD: $(jq -c . <<<"$out")"
check "privilege: the plugin refuses an unprivileged caller: permission denied, code 5" \
	eval '[[ $rc_ -ne 0 ]] && jqt ".code == 5 and .msg == \"permission denied\"" <<<"$out"'
check "... and nothing changed" nothing_left
sx_done
