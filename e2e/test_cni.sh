#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sockvx CNI plugin driven as a runtime drives it: every verb in every
# supported spec version, main and chained mode, rollback, idempotent DEL,
# CHECK drift, GC, STATUS, parallel ADD/DEL, and the errors bad input gets.
source "$(dirname "$0")/lib_cni.sh"

sx_cni_node

if ldd "$SOCKVX_CNI" 2>/dev/null | grep -q libasan; then
	skip "the plugin binary is statically linked" "a sanitizer build links the C library dynamically"
else
	check "the plugin binary is statically linked" sh -c "! ldd $SOCKVX_CNI >/dev/null 2>&1"
fi

# --- VERSION ------------------------------------------------------------------
out=$(run_cni VERSION "" "" "")
check "VERSION with empty stdin lists 0.3.0 ... 1.1.0" \
	test "$(jq -c .supportedVersions <<<"$out")" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]'
out=$(run_cni VERSION "" "" '{"cniVersion":"0.3.1"}')
check "VERSION answers in the newest version it speaks" test "$(jq -r .cniVersion <<<"$out")" = 1.1.0

# --- ADD, CHECK, DEL in every supported version (main mode) ------------------
newpod peer
peer=$(run_cni ADD peer "$(nspath peer)" "$(conf 1.0.0)")
peer_ip=$(pod_ip "$peer")
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	newpod "p$v"
	out=$(run_cni ADD "c$v" "$(nspath "p$v")" "$(conf "$v")")
	check "$v: ADD succeeds" test "$(rc)" -eq 0
	check "$v: the result has cniVersion $v" test "$(jq -r .cniVersion <<<"$out")" = "$v"
	if [[ $v == 0.* ]]; then
		check "$v: ips carry a version" jqt 'all(.ips[]; .version == "4" or .version == "6")' <<<"$out"
	else
		check "$v: ips carry no version" jqt 'all(.ips[]; has("version") | not)' <<<"$out"
	fi
	if [[ $v == 1.1.0 ]]; then
		check "$v: interfaces report their MTU" jqt ".interfaces[1].mtu == $SX_POD_MTU" <<<"$out"
	fi
	check "$v: the pod interface is eth0 in the sandbox" \
		jqt --arg ns "$(nspath "p$v")" '.interfaces[1] | .name == "eth0" and .sandbox == $ns' <<<"$out"
	check "$v: one IPv4 /32 and one IPv6 /128, through interface 1" \
		jqt '[.ips[] | select(.interface == 1) | .address | test("/32$|/128$")] == [true, true]' <<<"$out"
	ip4=$(pod_ip "$out")
	check "$v: the pod reaches another pod" pings "p$v" "$peer_ip"
	check "$v: the pod's address is an endpoint" has_endpoint "$ip4"
	check "$v: the pod's MTU is the overlay's ($SX_POD_MTU)" \
		test "$(ip -n "sx${SX_ID}-p$v" -j link show eth0 | jq '.[0].mtu')" -eq "$SX_POD_MTU"
	withprev=$(conf "$v" ".prevResult = $out")
	run_cni CHECK "c$v" "$(nspath "p$v")" "$withprev" >"$SX_TMP/out"
	if [[ $v == 0.3.* ]]; then
		check "$v: CHECK is refused with code 1 (introduced in 0.4.0)" test "$(code "$(cat "$SX_TMP/out")")" = 1
	else
		check "$v: CHECK passes on an intact pod" test "$(rc)" -eq 0
	fi
	run_cni DEL "c$v" "$(nspath "p$v")" "$withprev" >/dev/null
	check "$v: DEL succeeds" test "$(rc)" -eq 0
	check "$v: DEL removed the endpoint" sh -c "! $SOCKVXCTL endpoint list --json --pin-dir $PIN | grep -q '\"$ip4\"'"
	run_cni DEL "c$v" "" "$(conf "$v")" >/dev/null
	check "$v: a second DEL, without CNI_NETNS, succeeds" test "$(rc)" -eq 0
done
run_cni DEL peer "$(nspath peer)" "$(conf 1.0.0)" >/dev/null
check "after DEL of every pod: no veth, lease, record or endpoint is left" nothing_left

# --- IPAM version memo ---------------------------------------------------------
# host-local 1.1 speaks up to 1.0.0: the first 1.1.0 call costs three runs of
# it (refused, VERSION, again in 1.0.0); later calls reuse the version.
mkdir -p "$SX_TMP/counting"
printf '#!/bin/sh\necho run >>"%s"\nexec /usr/lib/cni/host-local "$@"\n' "$SX_TMP/hl-runs" \
	>"$SX_TMP/counting/host-local"
chmod +x "$SX_TMP/counting/host-local"
hl_runs() { wc -l <"$SX_TMP/hl-runs" 2>/dev/null || echo 0; }
memo_conf=$(conf 1.1.0 ".dataDir = \"$SX_TMP/cni-memo\"")
for p in m1 m2; do
	newpod "$p"
	run_cni ADD "$p" "$(nspath "$p")" "$memo_conf" CNI_PATH="$SX_TMP/counting" >/dev/null
	echo "$(rc)" >>"$SX_TMP/memo-rcs"
	echo "$(hl_runs)" >>"$SX_TMP/memo-runs"
done
for p in m1 m2; do run_cni DEL "$p" "$(nspath "$p")" "$memo_conf" CNI_PATH="$SX_TMP/counting" >/dev/null; done
check "1.1.0 with host-local 1.0: the ADDs succeed" test "$(sort -u "$SX_TMP/memo-rcs")" = 0
check "... the first negotiates (3 runs), later calls run it once (ADD, DEL, DEL)" \
	test "$(tr '\n' ' ' <"$SX_TMP/memo-runs")$(hl_runs)" = "3 4 6"
check "... and the version is remembered with the plugin's identity" \
	grep -qE '^[0-9]+:[0-9]+:[0-9.]+:[0-9]+ 1\.0\.0$' "$SX_TMP/cni-memo/.ipam-versions/host-local"
check "... nothing is left" nothing_left

# --- errors: code, message, and nothing changed ------------------------------
newpod e
expect_code() {
	local what=$1 want=$2 out
	shift 2
	out=$(run_cni "$@")
	if [[ $(rc) -ne 0 && $(code "$out") == "$want" ]] && jqt '.msg | length > 0' <<<"$out"; then
		ok "$what: code $want ($(jq -r '.msg' <<<"$out"))"
	else
		fail "$what: expected code $want, got rc $(rc): $out"
	fi
}
good=$(conf 1.0.0)
expect_code "missing CNI_COMMAND" 4 "" c1 "$(nspath e)" "$good"
expect_code "unknown CNI_COMMAND" 4 FROB c1 "$(nspath e)" "$good"
expect_code "missing CNI_CONTAINERID" 4 ADD "" "$(nspath e)" "$good"
expect_code "invalid CNI_CONTAINERID" 4 ADD "bad/id" "$(nspath e)" "$good"
expect_code "a CNI_CONTAINERID of 300 characters" 4 ADD "$(printf 'a%.0s' $(seq 300))" "$(nspath e)" "$good"
run_cni DEL "$(printf 'a%.0s' $(seq 300))" "" "$good" >/dev/null
check "... whose DEL succeeds: no ADD took it, nothing is to be deleted" test "$(rc)" -eq 0
expect_code "missing CNI_NETNS on ADD" 4 ADD c1 "" "$good"
expect_code "a relative CNI_NETNS" 4 ADD c1 "netns/e" "$good"
expect_code "CNI_IFNAME longer than 15 characters" 4 ADD c1 "$(nspath e)" "$good" CNI_IFNAME=eth0123456789abc
expect_code "CNI_IFNAME with a slash" 4 ADD c1 "$(nspath e)" "$good" CNI_IFNAME=a/b
expect_code "missing CNI_PATH in main mode (IPAM runs)" 4 ADD c1 "$(nspath e)" "$good" CNI_PATH=
expect_code "missing CNI_PATH in main mode, DEL" 4 DEL c1 "$(nspath e)" "$good" CNI_PATH=
expect_code "a netns that does not exist" 3 ADD c1 "/run/netns/sx${SX_ID}-absent" "$good"
expect_code "CNI_NETNS that is not a namespace" 4 ADD c1 "$SX_TMP/rc" "$good"
out=$(run_cni ADD c1 "/run/netns/sx${SX_ID}-"$'\xff' "$good")
check "an error quoting bytes that are not UTF-8 keeps its details ($(jq -c .details <<<"$out" 2>/dev/null))" \
	jqt '.code == 3 and (.details | startswith("CNI_NETNS=/run/netns/"))' <<<"$out"
# The plugin runs in node 1's namespace: a pod's interface and default route must not land there.
node_routes=$(sx_on 1 ip route show table main)
expect_code "CNI_NETNS that is the plugin's own (the node's) namespace" 4 ADD c1 "/run/netns/$(sx_node_ns 1)" "$good"
check "... leaves the node's routes as they were" test "$(sx_on 1 ip route show table main)" = "$node_routes"
expect_code "configuration that is not JSON" 6 ADD c1 "$(nspath e)" '{"cniVersion": '
expect_code "duplicate keys" 6 ADD c1 "$(nspath e)" '{"cniVersion":"1.0.0","cniVersion":"1.0.0"}'
expect_code "an unsupported cniVersion" 1 ADD c1 "$(nspath e)" "$(conf 9.9.9)"
expect_code "mtu that is not a number" 7 ADD c1 "$(nspath e)" "$(conf 1.0.0 '.mtu = "big"')"
ipam_files() { find "$SX_TMP/ipam-n1" -type f -printf '%p %T@\n' 2>/dev/null | sort; }
ipam_before=$(ipam_files)
out=$(run_cni ADD c1 "$(nspath e)" "$(conf 1.0.0 '.mtu = 1000')")
check "an mtu IPv6 cannot use, with an IPv6 range, is code 7 naming the field" \
	jqt '.code == 7 and (.details | contains("mtu"))' <<<"$out"
check "... found before IPAM ran (its files are as they were)" test "$(ipam_files)" = "$ipam_before"
out=$(run_cni ADD c1 "$(nspath e)" "$(conf 1.0.0 '.pinDir = "relative/pins"')")
check "a relative pinDir is code 7 naming the field" \
	jqt '.code == 7 and (.details | contains("pinDir"))' <<<"$out"
expect_code "an ipam section without type" 7 ADD c1 "$(nspath e)" "$(conf 1.0.0 '.ipam = {}')"
expect_code "an IPAM plugin that is not in CNI_PATH" 100 ADD c1 "$(nspath e)" "$(conf 1.0.0 '.ipam.type = "nosuchipam"')"
expect_code "ADD on a node where sockvx is not loaded" 11 ADD c1 "$(nspath e)" \
	"$(conf 1.0.0 ".pinDir = \"$SX_TMP/empty-pins\"")"
expect_code "STATUS in a 1.0.0 configuration (introduced in 1.1.0)" 1 STATUS "" "" "$good"
expect_code "GC without cni.dev/valid-attachments" 7 GC "" "" "$(conf 1.1.0)"
check "bad input changed nothing (no veth, lease, record, endpoint)" nothing_left
check "stdout carried only JSON, logs went to stderr" grep -q 'sockvx: ADD failed' "$SX_TMP/stderr"

# --- ADD rolls back ------------------------------------------------------------
ip -n "sx${SX_ID}-e" link add eth0 type veth peer name sxpeer0
out=$(run_cni ADD c1 "$(nspath e)" "$good")
check "ADD where eth0 exists in the pod fails (code $(code "$out"))" test "$(rc)" -ne 0
check "... and releases its lease, removes the veth, records nothing" nothing_left
ip -n "sx${SX_ID}-e" link del eth0

# An IPAM plugin that allocates, then prints what is not a result: the lease is released.
mkdir -p "$SX_TMP/garbling" "$SX_TMP/flooding"
printf '#!/bin/sh
[ "$CNI_COMMAND" = ADD ] || exec /usr/lib/cni/host-local
/usr/lib/cni/host-local >/dev/null
echo "not a result"
' \
	>"$SX_TMP/garbling/host-local"
# One that prints without end: sockvx stops reading at 1 MiB and must not wait for it.
printf '#!/bin/sh
exec head -c 100000000 /dev/zero
' >"$SX_TMP/flooding/host-local"
chmod +x "$SX_TMP/garbling/host-local" "$SX_TMP/flooding/host-local"
out=$(run_cni ADD c1 "$(nspath e)" "$good" CNI_PATH="$SX_TMP/garbling")
check "ADD with an IPAM result that is not JSON fails (code $(code "$out"))" test "$(rc)" -ne 0
check "... and releases the lease IPAM took, removes the veth, records nothing" nothing_left
out=$(run_cni ADD c1 "$(nspath e)" "$good" CNI_PATH="$SX_TMP/flooding" timeout 60)
check "ADD with an IPAM plugin that prints without end fails at once (code $(code "$out"))" \
	eval '[[ $(rc) -ne 0 && $(rc) -ne 124 ]]'
check "... and changes nothing" nothing_left

# --- a second ADD for the same container and interface -------------------------
newpod a
first=$(run_cni ADD ca "$(nspath a)" "$good")
out=$(run_cni ADD ca "$(nspath a)" "$good")
check "a second ADD for the same container and interface is refused (code 103)" test "$(code "$out")" = 103
newpod b
second=$(run_cni ADD cb "$(nspath b)" "$good")
check "... and the first attachment still works" pings a "$(pod_ip "$second")"

# --- acceleration: TCP between two CNI-wired pods goes through sk_msg ---------
accel_check() {
	local client=$1 server_ip=$2 what=$3 before after
	before=$(sx_nstat 1 messages_redirected)
	sx_pod "$client" netperf -H "$server_ip" -p 12865 -l 1 -t TCP_RR >"$SX_TMP/netperf.out" 2>&1 || true
	[[ $V == 1 ]] && { cat "$SX_TMP/netperf.out"; sx_nctl 1 stats; } >&2
	after=$(sx_nstat 1 messages_redirected)
	check "$what: TCP between the pods is accelerated ($((after - before)) messages redirected)" \
		test $((after - before)) -gt 100
}
sx_netserver b
accel_check a "$(pod_ip "$second")" "main mode"

# --- CHECK reports drift ---------------------------------------------------------
withprev=$(conf 1.0.0 ".prevResult = $first")
ip -n "sx${SX_ID}-a" addr del "$(pod_ip "$first")/32" dev eth0
out=$(run_cni CHECK ca "$(nspath a)" "$withprev")
check "CHECK reports a missing pod address (code 104)" \
	jqt --arg ip "$(pod_ip "$first")" '.code == 104 and (.details | contains($ip))' <<<"$out"
ip -n "sx${SX_ID}-a" addr add "$(pod_ip "$first")/32" dev eth0
run_cni CHECK ca "$(nspath a)" "$withprev" >/dev/null
check "... and passes once the address is back" test "$(rc)" -eq 0
sx_nctl 1 endpoint del "$(pod_ip "$first")" >/dev/null
out=$(run_cni CHECK ca "$(nspath a)" "$withprev")
check "CHECK reports a missing endpoint entry" jqt '.code == 104 and (.details | contains("endpoint"))' <<<"$out"

# --- STATUS ------------------------------------------------------------------------
run_cni STATUS "" "" "$(conf 1.1.0)" >/dev/null
check "STATUS on a loaded node succeeds" test "$(rc)" -eq 0
out=$(run_cni STATUS "" "" "$(conf 1.1.0 ".pinDir = \"$SX_TMP/empty-pins\"")")
check "STATUS where sockvx is not loaded says code 50" jqt '.code == 50' <<<"$out"

# --- DEL after the pod's namespace is gone ------------------------------------------
ip netns del "sx${SX_ID}-a"
run_cni DEL ca "" "$good" >/dev/null
check "DEL with the namespace gone and no CNI_NETNS succeeds" test "$(rc)" -eq 0
ca_gone() { ! has_endpoint "$(pod_ip "$first")" && ! leased ca; }
check "... and removes its endpoints and lease" ca_gone
run_cni DEL never-added "" "$good" >/dev/null
check "DEL of a container never added succeeds" test "$(rc)" -eq 0
# A fresh node: no ADD has told sockvx yet that Debian's host-local speaks 1.0.0 at most.
fresh=".dataDir = \"$SX_TMP/fresh-data\""
run_cni STATUS "" "" "$(conf 1.1.0 "$fresh")" >"$SX_TMP/out"
check "STATUS before any ADD, IPAM plugin older than 1.1.0: ready, the plugin is not asked ($(jq -c . "$SX_TMP/out" 2>/dev/null))" test "$(rc)" -eq 0
run_cni GC "" "" "$(conf 1.1.0 "$fresh | .\"cni.dev/valid-attachments\" = []")" >"$SX_TMP/out"
check "GC before any ADD, the same ($(jq -c . "$SX_TMP/out" 2>/dev/null))" test "$(rc)" -eq 0

# --- GC ---------------------------------------------------------------------------
for p in g1 g2 g3; do
	newpod "$p"
	run_cni ADD "$p" "$(nspath "$p")" "$(conf 1.1.0)" >"$SX_TMP/$p.json"
done
gc=$(conf 1.1.0 '."cni.dev/valid-attachments" = [{"containerID":"g1","ifname":"eth0"},{"containerID":"cb","ifname":"eth0"}]')
run_cni GC "" "" "$gc" >/dev/null
check "GC succeeds" test "$(rc)" -eq 0
check "GC keeps the listed attachments (2 records)" test "$(records)" -eq 2
check "GC kept the listed pod's lease" leased g1
check "GC released the others' leases" eval '! leased g2 && ! leased g3'
check "GC removed their endpoints" sh -c \
	"! $SOCKVXCTL endpoint list --json --pin-dir $PIN | grep -qE '\"($(pod_ip "$(cat "$SX_TMP/g2.json")")|$(pod_ip "$(cat "$SX_TMP/g3.json")"))\"'"
check "GC removed their veths" test "$(host_veths)" -eq 2
check "a listed pod still works after GC" pings g1 "$(pod_ip "$second")"
for p in g1 cb; do run_cni DEL "$p" "" "$good" >/dev/null; done
check "after DEL of the rest, nothing is left" nothing_left

# An interface name may end in ".tmp": its record is not taken for a half-written one.
newpod gt
run_cni ADD gt "$(nspath gt)" "$(conf 1.1.0)" CNI_IFNAME=net1.tmp >/dev/null
check "ADD with CNI_IFNAME net1.tmp" test "$(rc)" -eq 0
run_cni GC "" "" "$(conf 1.1.0 '."cni.dev/valid-attachments" = [{"containerID":"gt","ifname":"net1.tmp"}]')" >/dev/null
check "... GC keeps its record and lease" eval 'test -e "$RECORDS/gt:net1.tmp" && leased gt'
run_cni DEL gt "" "$(conf 1.1.0)" CNI_IFNAME=net1.tmp >/dev/null
check "... and DEL removes them" nothing_left

# --- GC and STATUS reach an IPAM plugin that speaks 1.1.0 ---------------------------
# host-local here speaks 1.0.0 at most, so the calls above skipped it; this
# stand-in speaks 1.1.0, logs GC and STATUS, and leaves the rest to host-local.
mkdir -p "$SX_TMP/ipam11"
cat >"$SX_TMP/ipam11/host-local" <<EOF
#!/bin/sh
case "\$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
GC|STATUS)
	{ printf '%s ' "\$CNI_COMMAND"; jq -c '."cni.dev/valid-attachments" // []'; } >>"$SX_TMP/ipam11.log"
	if [ -e "$SX_TMP/ipam11.down" ]; then
		echo '{"cniVersion":"1.1.0","code":50,"msg":"the lease store is unavailable"}'
		exit 1
	fi ;;
*) sed 's/"cniVersion":"1.1.0"/"cniVersion":"1.0.0"/' | /usr/lib/cni/host-local ;;
esac
EOF
chmod +x "$SX_TMP/ipam11/host-local"
conf11=$(conf 1.1.0 ".dataDir = \"$SX_TMP/cni-ipam11\"")
run_cni STATUS "" "" "$conf11" CNI_PATH="$SX_TMP/ipam11" >/dev/null
check "STATUS is passed on to the IPAM plugin" \
	eval '[[ $(rc) -eq 0 && $(grep -c "^STATUS" "$SX_TMP/ipam11.log") -eq 1 ]]'
touch "$SX_TMP/ipam11.down"
out=$(run_cni STATUS "" "" "$conf11" CNI_PATH="$SX_TMP/ipam11")
check "... and its 'not ready' is sockvx's answer (code $(code "$out"))" \
	jqt '.code == 50 and (.details | test("lease store"))' <<<"$out"
rm "$SX_TMP/ipam11.down"
gc11=$(jq -c '."cni.dev/valid-attachments" = [{"containerID":"k1","ifname":"eth0"}]' <<<"$conf11")
run_cni GC "" "" "$gc11" CNI_PATH="$SX_TMP/ipam11" >/dev/null
gc_passed_on() { [[ $(rc) -eq 0 ]] && grep -qxF 'GC [{"containerID":"k1","ifname":"eth0"}]' "$SX_TMP/ipam11.log"; }
check "GC is passed on to the IPAM plugin, with the valid attachments" gc_passed_on

# --- parallel ADD and DEL, as kubelet runs them ------------------------------------
for i in $(seq 1 8); do newpod "par$i"; done
pids=()
for i in $(seq 1 8); do
	run_cni ADD "par$i" "$(nspath "par$i")" "$good" >"$SX_TMP/par$i.json" &
	pids+=($!)
done
wait "${pids[@]}"
n=$(for i in $(seq 1 8); do jq -r '.ips[0].address' "$SX_TMP/par$i.json"; done | sort -u | grep -c /32)
check "8 parallel ADDs give 8 distinct working pods" test "$n" -eq 8
check "... that reach each other" pings par1 "$(pod_ip "$(cat "$SX_TMP/par8.json")")"
pids=()
for i in $(seq 1 8); do
	run_cni DEL "par$i" "$(nspath "par$i")" "$good" >/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
check "8 parallel DELs leave nothing behind" nothing_left

# --- the pins lock: a pod is not wired while sockvxctl changes the node ---------
# every sockvxctl command that changes state holds an exclusive flock on the pin directory's parent;
# ADD takes it shared to register and attach, so it waits rather than attach a
# program being re-pinned.
newpod lk
n_eps=$(endpoints | jq length)
# -o: the lock is flock's own, so killing it (the clean-up does) releases it.
flock -x -o "$(dirname "$PIN")" sh -c 'touch "$1/lk.held"; i=0
	while [ ! -e "$1/lk.release" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done' sh "$SX_TMP" &
lk_holder=$!
SX_BG_PIDS+=("$lk_holder")
for _ in $(seq 200); do [[ -e $SX_TMP/lk.held ]] && break; sleep 0.05; done
(run_cni ADD lk "$(nspath lk)" "$good" >"$SX_TMP/lk.json" && touch "$SX_TMP/lk.done") &
lk_add=$!
# The ADD waits once /proc/locks lists a blocked shared request ("->") on the
# locked directory's inode.
lk_waiting() { grep -qE -- "-> FLOCK +ADVISORY +READ +[0-9]+ [0-9a-f:]+:$(stat -c %i "$(dirname "$PIN")") " /proc/locks; }
for _ in $(seq 200); do lk_waiting && break; sleep 0.05; done
check "ADD waits while sockvxctl holds the node's pins" eval 'lk_waiting && test ! -e "$SX_TMP/lk.done"'
check "... and has registered no address yet" test "$(endpoints | jq length)" -eq "$n_eps"
touch "$SX_TMP/lk.release"
wait "$lk_holder" "$lk_add"
check "... then completes once they are released" jqt '.ips | length == 2' "$SX_TMP/lk.json"
run_cni DEL lk "$(nspath lk)" "$good" >/dev/null
check "... and DEL removes it" nothing_left

# --- chained mode: bridge + host-local first, sockvx second -------------------------
chain_conf='{"cniVersion":"1.0.0","name":"'$NET'c","type":"bridge","bridge":"sx'$SX_ID'br","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"'$SX_TMP'/ipam-chain","ranges":[[{"subnet":"10.245.1.0/24"}]]}}'
sockvx_chained=$(jq -nc --arg pin "$PIN" --arg data "$SX_TMP/cni-n1" --arg net "${NET}c" \
	'{cniVersion:"1.0.0", name:$net, type:"sockvx", pinDir:$pin, dataDir:$data}')
# chain_add POD (POD made by newpod): bridge's ADD, then sockvx's with its result.
# A chained sockvx runs no other plugin: its calls come without CNI_PATH, which
# the spec makes optional.
chain_add() {
	local p=$1 prev
	prev=$(sx_on 1 env CNI_COMMAND=ADD CNI_CONTAINERID="$p" CNI_NETNS="$(nspath "$p")" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge <<<"$chain_conf")
	echo "$prev" >"$SX_TMP/$p.prev"
	run_cni ADD "$p" "$(nspath "$p")" "$(jq -c --argjson p "$prev" '.prevResult = $p' <<<"$sockvx_chained")" CNI_PATH=
}
chain_del() {
	local p=$1
	run_cni DEL "$p" "$(nspath "$p")" "$(jq -c --argjson p "$(cat "$SX_TMP/$p.prev")" '.prevResult = $p' <<<"$sockvx_chained")" CNI_PATH=
	sx_on 1 env CNI_COMMAND=DEL CNI_CONTAINERID="$p" CNI_NETNS="$(nspath "$p")" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge <<<"$chain_conf"
}
newpod ch1
newpod ch2
out=$(chain_add ch1)
check "chained ADD succeeds, without CNI_PATH" test "$(rc)" -eq 0
check "chained ADD passes prevResult through unchanged" \
	test "$(jq -S . <<<"$out")" = "$(jq -S . "$SX_TMP/ch1.prev")"
chain_add ch2 >/dev/null
ch1_ip=$(pod_ip "$(cat "$SX_TMP/ch1.prev")")
ch2_ip=$(pod_ip "$(cat "$SX_TMP/ch2.prev")")
check "chained mode registers the pod addresses as socket-only endpoints" \
	sh -c "$SOCKVXCTL endpoint list --json --pin-dir $PIN | jq -e 'any(.[]; .ip == \"$ch1_ip\" and .ifindex == 0)' >/dev/null"
sx_netserver ch2
accel_check ch1 "$ch2_ip" "chained mode"
withprev=$(jq -c --argjson p "$(cat "$SX_TMP/ch1.prev")" '.prevResult = $p' <<<"$sockvx_chained")
run_cni CHECK ch1 "$(nspath ch1)" "$withprev" CNI_PATH= >/dev/null
check "chained CHECK passes, without CNI_PATH" test "$(rc)" -eq 0
# ch1's address goes to a newer pod while ch1's record stays (its DEL has not
# come yet): that DEL must leave the newer pod's endpoint.
newpod ch3
run_cni ADD ch3 "$(nspath ch3)" "$withprev" CNI_PATH= >/dev/null
check "a chained ADD of a newer pod with ch1's address succeeds" test "$(rc)" -eq 0
chain_del ch1 >/dev/null
check "... and ch1's late DEL leaves the newer pod's endpoint" has_endpoint "$ch1_ip"
run_cni DEL ch3 "$(nspath ch3)" "$withprev" CNI_PATH= >/dev/null
check "... which the newer pod's own DEL removes" eval '! has_endpoint "$ch1_ip"'
# A repeated DEL of ch1 whose cached prevResult names an address that ch2
# holds by now (host-local reuses released addresses).
reused=$(jq -c --argjson p "$(cat "$SX_TMP/ch2.prev")" '.prevResult = $p' <<<"$sockvx_chained")
run_cni DEL ch1 "$(nspath ch1)" "$reused" >/dev/null
check "a repeated chained DEL succeeds" test "$(rc)" -eq 0
check "... and leaves the endpoint of the pod that holds the address now" \
	sh -c "$SOCKVXCTL endpoint list --json --pin-dir $PIN | jq -e 'any(.[]; .ip == \"$ch2_ip\")' >/dev/null"
chain_del ch2 >/dev/null
check "chained DEL removes the endpoints" sh -c "! $SOCKVXCTL endpoint list --json --pin-dir $PIN | grep -qE '\"($ch1_ip|$ch2_ip)\"'"
check "... and the records" test "$(find "$SX_TMP/cni-n1/${NET}c" -name '*:*' | wc -l)" -eq 0

# --- the example configurations are valid ------------------------------------------
for f in "$SX_ROOT"/cni/examples/*.conflist; do
	ex=$(jq -c --arg pin "$PIN" --arg data "$SX_TMP/examples" --arg log "$SX_TMP/example.log" \
		'. as $l | .plugins[] | select(.type == "sockvx") | .cniVersion = $l.cniVersion |
		 .name = $l.name | .pinDir = $pin | .dataDir = $data |
		 if .logFile then .logFile = $log else . end |
		 if .ipam then .ipam.dataDir = ($data + "/ipam") else . end' "$f")
	run_cni DEL example "" "$ex" >/dev/null
	check "$(basename "$f"): sockvx's entry is a valid configuration" test "$(rc)" -eq 0
done

# --- logFile ------------------------------------------------------------------------
run_cni DEL nothing "" "$(conf 1.0.0 ".logFile = \"$SX_TMP/sockvx.log\" | .logLevel = \"debug\" | .ipam.type = \"nosuch\" | .frobnicate = 1")" >"$SX_TMP/out"
check "logFile receives the log, stamped per invocation" grep -q 'DEL nothing/eth0 sockvx: DEL failed' "$SX_TMP/sockvx.log"
check "... with the unknown fields the configuration's logLevel asks for" \
	grep -q 'ignoring unknown configuration field "frobnicate"' "$SX_TMP/sockvx.log"
check "... and stdout stays a single JSON document" jqt '.code == 100' "$SX_TMP/out"

sx_done
