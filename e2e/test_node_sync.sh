#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sockvxctl node add/del/list/sync on a live node: the tunnel trie, the known
# nodes and the routes through the VXLAN device follow a Kubernetes NodeList
# that adds, changes and removes nodes; malformed input changes nothing.
source "$(dirname "$0")/lib.sh"
sx_setup
sx_underlay_create
sx_cluster_node 1
DATA="$SX_ROOT/test/data"

# table: the node table as "cidr=ip" lines, sorted.
table() { sx_nctl 1 node list --json | jq -r '.[] | "\(.podCIDR)=\(.nodeIP)"' | sort | tr '\n' ' '; }
routes() { { sx_on 1 ip route show proto 92; sx_on 1 ip -6 route show proto 92; } | awk '{print $1}' | sort | tr '\n' ' '; }

# add_refused CIDR IP: node add fails where the node's table lives (node 1's
# namespace: from anywhere else every change is refused, whatever the CIDR).
add_refused() { ! sx_nctl 1 node add "$@" 2>/dev/null; }

# --- node add / del / list -------------------------------------------------------
check "node add" sx_nctl 1 node add 10.244.7.0/24 10.99.0.7
check "node add (IPv6 CIDR, IPv4 underlay)" sx_nctl 1 node add fd00:244:7::/64 10.99.0.7
check "node list shows both" test "$(table)" = "10.244.7.0/24=10.99.0.7 fd00:244:7::/64=10.99.0.7 "
check "each CIDR has its route through the VXLAN device" test "$(routes)" = "10.244.7.0/24 fd00:244:7::/64 "
check "the route's source is the node's own pod-network address" \
	sh -c "ip -n $(sx_node_ns 1) route show proto 92 | grep -q 'src 10.244.1.1'"
check "node add replaces the owner of a CIDR" sx_nctl 1 node add 10.244.7.0/24 10.99.0.8
check "... as node list shows" test "$(table)" = "10.244.7.0/24=10.99.0.8 fd00:244:7::/64=10.99.0.7 "
for bad in "10.244.7.5/24 10.99.0.7" "10.244.7.0 10.99.0.7" "10.244.7.0/33 10.99.0.7" \
	"10.244.8.0/24 fd00::1" "10.244.8.0/24 10.99.0" "10.244.1.0/24 10.99.0.9" \
	"10.244.0.0/16 10.99.0.9" "fd00:244:1::/64 10.99.0.9" "fd00:244::/32 10.99.0.9"; do
	# shellcheck disable=SC2086 # two words on purpose
	check "node add $bad is refused" add_refused $bad
done
check "... and changed nothing" test "$(table)" = "10.244.7.0/24=10.99.0.8 fd00:244:7::/64=10.99.0.7 "
# A pod of this node outside its pod CIDR (an IPAM range of its own): no
# remote CIDR may hold it, or that pod's address would lead across the overlay.
sx_on 1 ip link add sxov0 type veth peer name sxov1
sx_nctl 1 endpoint add 10.244.60.5 fd00:244:60::5 --dev sxov0 >/dev/null
err=$(sx_nctl 1 node add 10.244.60.0/24 10.99.0.9 2>&1 >/dev/null) && rc=0 || rc=$?
check "node add of a CIDR holding a pod of this node is refused, naming it" \
	test "$rc" -ne 0 -a "${err/10.244.60.5/}" != "$err"
check "... also for IPv6" add_refused fd00:244:60::/64 10.99.0.9
check "... and changed nothing" test "$(table)" = "10.244.7.0/24=10.99.0.8 fd00:244:7::/64=10.99.0.7 "
# Socket-only endpoints (sockvx chained after another CNI, whose IPAM may use
# any range) are not the overlay's business.
sx_nctl 1 endpoint add 10.244.61.5 >/dev/null
check "a socket-only endpoint does not stop node add" sx_nctl 1 node add 10.244.61.0/24 10.99.0.9
sx_nctl 1 node del 10.244.61.0/24 >/dev/null
sx_nctl 1 endpoint del 10.244.61.5 >/dev/null
# node sync leaves such a CIDR out, says so, and applies the rest.
jq '.items[1].spec.podCIDRs = ["10.244.60.0/24"] | .items[1].spec.podCIDR = "10.244.60.0/24"' \
	"$DATA/nodelist-3nodes.json" >"$SX_TMP/overlap.json"
out=$(sx_nctl 1 node sync "$SX_TMP/overlap.json" 2>"$SX_TMP/overlap.err") && rc=0 || rc=$?
check "node sync leaves out a node's CIDR holding it: $(cat "$SX_TMP/overlap.err")" \
	sh -c "test $rc -eq 0 && grep -q 'node-2 claims 10.244.60.0/24, which holds 10.244.60.5' '$SX_TMP/overlap.err'"
check "... applies the other nodes ($out)" \
	test "$(table)" = "10.244.3.0/24=10.99.0.3 fd00:244:3::/64=10.99.0.3 "
check "... and counts what it left out" grep -q ", 1 CIDR(s) left out" <<<"$out"
sx_nctl 1 node del 10.244.3.0/24 fd00:244:3::/64 >/dev/null
sx_nctl 1 node add 10.244.7.0/24 10.99.0.8 >/dev/null
sx_nctl 1 node add fd00:244:7::/64 10.99.0.7 >/dev/null
sx_nctl 1 endpoint del 10.244.60.5 fd00:244:60::5 >/dev/null
sx_on 1 ip link del sxov0
check "with the pod gone, the same node add succeeds" sx_nctl 1 node add 10.244.60.0/24 10.99.0.9
sx_nctl 1 node del 10.244.60.0/24 >/dev/null
check "node del" sx_nctl 1 node del 10.244.7.0/24 fd00:244:7::/64
check "... empties the table and the routes" test -z "$(table)$(routes)"
check "node del of an absent CIDR succeeds" sx_nctl 1 node del 10.244.7.0/24

# --- node sync ----------------------------------------------------------------------
out=$(sx_nctl 1 node sync "$DATA/nodelist-3nodes.json")
want="10.244.2.0/24=10.99.0.2 10.244.3.0/24=10.99.0.3 fd00:244:2::/64=10.99.0.2 fd00:244:3::/64=10.99.0.3 "
check "sync adds every other node's CIDRs and skips this node ($out)" test "$(table)" = "$want"
check "... with routes" test "$(routes)" = "10.244.2.0/24 10.244.3.0/24 fd00:244:2::/64 fd00:244:3::/64 "
out=$(sx_nctl 1 node sync "$DATA/nodelist-3nodes.json")
check "sync again changes nothing ($out)" grep -q '0 added or changed, 0 removed, 4 unchanged' <<<"$out"

# node-2 moves to another address, node-3 leaves, node-4 joins.
jq '.items |= (map(select(.metadata.name != "node-3"))
	| map(if .metadata.name == "node-2" then .status.addresses |= map(if .type == "InternalIP" then .address = "10.99.0.22" else . end) else . end)
	+ [(.[0] | .metadata.name = "node-4" | .spec.podCIDR = "10.244.4.0/24" | .spec.podCIDRs = ["10.244.4.0/24"]
	   | .status.addresses = [{"type": "InternalIP", "address": "10.99.0.4"}])])' \
	"$DATA/nodelist-3nodes.json" >"$SX_TMP/changed.json"
out=$(sx_nctl 1 node sync "$SX_TMP/changed.json")
want="10.244.2.0/24=10.99.0.22 10.244.4.0/24=10.99.0.4 fd00:244:2::/64=10.99.0.22 "
check "sync applies a change, a removal and an addition ($out)" test "$(table)" = "$want"
check "... and the routes follow" test "$(routes)" = "10.244.2.0/24 10.244.4.0/24 fd00:244:2::/64 "
known=$(bpftool map dump pinned "$(sx_node_pin 1)/sx_nodes_v1" -j | jq length)
check "the known-node set follows the table ($known nodes)" test "$known" -eq 2
out=$(sx_on 1 "$SOCKVXCTL" node sync - --pin-dir "$(sx_node_pin 1)" <"$DATA/nodelist-3nodes.json")
check "... with the same result as a file" test "$(table)" = "10.244.2.0/24=10.99.0.2 10.244.3.0/24=10.99.0.3 fd00:244:2::/64=10.99.0.2 fd00:244:3::/64=10.99.0.3 "

before=$(table)
for bad in '{' '[]' '{"kind":"Node","metadata":{"name":"x"}}' '{"kind":"List","items":{}}' \
	'{"kind":"List","items":[{"metadata":{"name":"x"},"spec":{"podCIDR":"10.244.9.0/33"},"status":{"addresses":[{"type":"InternalIP","address":"10.99.0.9"}]}}]}'; do
	printf '%s' "$bad" >"$SX_TMP/bad.json"
	err=$(sx_nctl 1 node sync "$SX_TMP/bad.json" 2>&1 >/dev/null) && rc=0 || rc=$?
	check "malformed NodeList ${bad:0:30}... is refused: $err" test "$rc" -ne 0 -a -n "$err"
done
check "... and nothing changed" test "$(table)" = "$before"
sx_done
