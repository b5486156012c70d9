#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A map schema change on a running node (loader/migrate.c): `sockvxctl load`
# of a build with the next schema over an older build, while accelerated
# connections carry data. The older build is commit SX_UPGRADE_FROM, on a
# two-node cluster; the newer one is this tree with the endpoint map twice as
# large and it and the tunnel map renamed (sx_endpoints_v2, sx_tunnel_v2),
# which is what a capacity change looks like. Endpoints, the node table and
# every live connection must survive, every byte checked by sha256; a schema
# the newer build cannot convert must be refused before anything changes.
# (test_upgrade.sh covers an upgrade that adds maps without renaming any.)
source "$(dirname "$0")/lib.sh"
# The last commit before the CNI plugin: an older loader with today's v1 schema.
FROM=${SX_UPGRADE_FROM:-b006e8a}
# Enough connections (1 B to 8 MiB each, 20 at a time) that many are in flight
# when the upgrade runs, and many start after it.
CONNS=${UPGRADE_CONNS:-5000}
CUR_CTL=$SOCKVXCTL
sx_setup

# build_tree DIR [VAR=VALUE...] TARGET...: builds in DIR/.output with this
# build's vmlinux.h.
build_tree() {
	local dir=$1 t targets=() vars=()
	shift
	mkdir -p "$dir/.output"
	cp "$OUTPUT/vmlinux.h" "$dir/.output/"
	for t in "$@"; do
		if [[ $t == *=* ]]; then vars+=("$t"); else targets+=("$dir/.output/$t"); fi
	done
	make -C "$dir" -s -j2 OUTPUT="$dir/.output" "${vars[@]}" "${targets[@]}" >"$dir.build.log" 2>&1 ||
		sx_die "building $dir failed: $(tail -5 "$dir.build.log")"
}

old="$SX_TMP/old"
if git -C "$SX_ROOT" cat-file -e "$FROM^{commit}" 2>/dev/null; then
	mkdir -p "$old"
	git -C "$SX_ROOT" archive "$FROM" | tar -x -C "$old"
	build_tree "$old" sockvxctl
	OLD_CTL="$old/.output/sockvxctl"
	old_desc="commit $(git -C "$SX_ROOT" rev-parse --short "$FROM")"
else
	skip "commit $FROM is not in this repository: the older build is this tree's"
	OLD_CTL=$CUR_CTL
	old_desc="this tree"
fi

new="$SX_TMP/new"
mkdir -p "$new"
(cd "$SX_ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$new")
grep -rlE 'sx_(endpoints|tunnel)_v1' "$new/bpf" "$new/loader" "$new/cni" |
	xargs sed -i -e 's/sx_endpoints_v1/sx_endpoints_v2/g' -e 's/sx_tunnel_v1/sx_tunnel_v2/g'
sed -i 's/^\(#define SX_MAX_ENDPOINTS *\)16384/\132768/' "$new/bpf/include/sockvx_abi.h"
# Under the sanitize suite (an ASan build of sockvxctl), the build that migrates is one too.
sanitize=SANITIZE=0
ldd "$CUR_CTL" 2>/dev/null | grep -q libasan && sanitize=SANITIZE=1
build_tree "$new" "$sanitize" sockvxctl sockvx
NEW_CTL="$new/.output/sockvxctl"

# The cluster runs the older build; pods are wired by this tree's plugin (schema v1).
SOCKVXCTL=$OLD_CTL
sx_two_node_cluster
pin1=$(sx_node_pin 1)
# ctl BUILD N args...: a build's sockvxctl on node N.
ctl() {
	local c=$1 n=$2
	shift 2
	sx_on "$n" "$c" "$@" --pin-dir "$(sx_node_pin "$n")"
}
ctl "$CUR_CTL" 1 endpoint list --json | jq -S 'sort_by(.ip)' >"$SX_TMP/ep.before"
ctl "$CUR_CTL" 1 node list --json | jq -S 'sort_by(.podCIDR)' >"$SX_TMP/nodes.before"
sx_log "older build: $old_desc; $(jq length "$SX_TMP/ep.before") endpoints, $(jq length "$SX_TMP/nodes.before") routes"

ctl "$NEW_CTL" 1 doctor --json >"$SX_TMP/doctor.before" 2>/dev/null || true
check "before: the newer doctor warns about the pins its load will migrate" \
	test "$(jq -r '.findings[] | select(.check == "map versions") | "\(.level): \(.what)"' "$SX_TMP/doctor.before")" = \
	"warn: pins of an older map version, which this build's load migrates: sx_endpoints_v1 (now sx_endpoints_v2), sx_tunnel_v1 (now sx_tunnel_v2)"

# A schema the newer build cannot convert: refused, nothing changed.
prog_id() { ctl "$CUR_CTL" 1 status --json | jq -r '.sockops.program.id'; }
id0=$(prog_id)
bpftool map create "$pin1/sx_nodes_v0" type hash key 4 value 8 entries 16 name sx_nodes_v0
ctl "$NEW_CTL" 1 load --cgroup "$SX_CG/n1" >/dev/null 2>"$SX_TMP/refused" && rc=0 || rc=$?
check "a map layout without a converter: load refuses, naming the map and what to do" \
	bash -c '[[ $1 -ne 0 ]] && grep -q "sx_nodes_v0 .*no converter.*sockvxctl unload" "$2"' _ "$rc" "$SX_TMP/refused"
check "... and changes nothing (same programs, v1 pins in place, no v2 pin created)" \
	bash -c '[[ $1 == "$2" && -e $3/sx_endpoints_v1 && -e $3/sx_tunnel_v1 && ! -e $3/sx_endpoints_v2 ]]' _ "$id0" "$(prog_id)" "$pin1"
rm "$pin1/sx_nodes_v0"

# Live traffic between the two pods of node 1, accelerated by the older build.
PORT=9400
sx_pod_bg n1b "$SX_TOOLS/sxtorture" server 10.244.1.3 $PORT >/dev/null 2>"$SX_TMP/live.server.err"
sx_wait_listen n1b $PORT || sx_die "torture server did not start"
r0=$(ctl "$CUR_CTL" 1 stats --json | jq .messages_redirected)
sx_pod n1a "$SX_TOOLS/sxtorture" client 10.244.1.3 $PORT --conns "$CONNS" --concurrency 20 \
	--seed 21 --json --io epoll --close fin,receiver-first >"$SX_TMP/live.json" 2>"$SX_TMP/live.err" &
client=$!
# Upgrade once connections are accelerated and in flight.
for _ in $(seq 1 100); do
	[[ $(ctl "$CUR_CTL" 1 stats --json | jq .messages_redirected) -gt $((r0 + 2000)) ]] && break
	sleep 0.05
done
in_flight=$(ctl "$CUR_CTL" 1 status --json | jq '.maps[] | select(.name == "sx_sockhash_v1") | .entries')
ctl "$NEW_CTL" 1 load --cgroup "$SX_CG/n1" >"$SX_TMP/upgrade.out" 2>&1 && rc=0 || rc=$?
after_load=$(ctl "$NEW_CTL" 1 status --json | jq '.maps[] | select(.name == "sx_sockhash_v1") | .entries')
r1=$(ctl "$NEW_CTL" 1 stats --json | jq .messages_redirected)
wait "$client" || true
r2=$(ctl "$NEW_CTL" 1 stats --json | jq .messages_redirected)
check "the newer load over the running older one succeeds" test "$rc" -eq 0
check "it reports the migrated maps" \
	test "$(grep -c '^migrated sx_\(endpoints\|tunnel\)_v1 to sx_\(endpoints\|tunnel\)_v2$' "$SX_TMP/upgrade.out")" -eq 2
summary=$(jq -r '"\(.conns) conns, \(.bytes_verified) bytes verified, mismatches \(.mismatches), premature EOF \(.premature_eof), hangs \(.hangs), spurious EAGAIN \(.spurious_eagain), unexpected errors \(.unexpected_errors)"' "$SX_TMP/live.json" 2>/dev/null)
echo "# live run across the upgrade ($in_flight sockets accelerated just before the upgrade, $after_load just after; $((r1 - r0)) messages redirected before, $((r2 - r1)) after): $summary"
live_ok() {
	jq -e --argjson n "$CONNS" '.conns == $n and .mismatches == 0 and .premature_eof == 0 and .hangs == 0
		and .spurious_eagain == 0 and .unexpected_errors == 0 and .bytes_verified > 0' "$SX_TMP/live.json" >/dev/null
}
check "every connection across the upgrade intact: no byte lost or corrupted ($(jq .bytes_verified "$SX_TMP/live.json" 2>/dev/null) bytes verified)" live_ok
check "connections were accelerated when the upgrade ran ($in_flight sockets in the sockhash)" test "${in_flight:-0}" -gt 0
check "the newer programs redirect the live connections' messages ($((r2 - r1)) after the upgrade)" \
	test $((r2 - r1)) -gt 0

check "pins: sx_endpoints_v2 and sx_tunnel_v2 replace the v1 pins" \
	bash -c '[[ -e $1/sx_endpoints_v2 && -e $1/sx_tunnel_v2 && ! -e $1/sx_endpoints_v1 && ! -e $1/sx_tunnel_v1 ]]' _ "$pin1"
check "the endpoint map has the new capacity (32768)" \
	test "$(ctl "$NEW_CTL" 1 status --json | jq '.maps[] | select(.name == "sx_endpoints_v2") | .capacity')" -eq 32768
check "endpoints kept ($(jq length "$SX_TMP/ep.before"))" \
	diff "$SX_TMP/ep.before" <(ctl "$NEW_CTL" 1 endpoint list --json | jq -S 'sort_by(.ip)')
check "node table kept ($(jq length "$SX_TMP/nodes.before") routes)" \
	diff "$SX_TMP/nodes.before" <(ctl "$NEW_CTL" 1 node list --json | jq -S 'sort_by(.podCIDR)')

# Across nodes through the migrated tunnel map (node 2 still runs the older build).
e0=$(ctl "$NEW_CTL" 1 stats --json | jq .tc_encapsulated)
sx_pod_bg n2a "$SX_TOOLS/sxtorture" server 10.244.2.2 $((PORT + 1)) >/dev/null 2>&1
sx_wait_listen n2a $((PORT + 1)) || true
sx_pod n1a "$SX_TOOLS/sxtorture" client 10.244.2.2 $((PORT + 1)) --conns 20 --concurrency 4 \
	--seed 5 --json >"$SX_TMP/cross.json" 2>/dev/null || true
check "across nodes after the upgrade: intact, through VXLAN ($(jq .bytes_verified "$SX_TMP/cross.json") bytes)" \
	jq -e '.conns == 20 and .mismatches == 0 and .bytes_verified > 0' "$SX_TMP/cross.json"
check "... encapsulated by the newer tc programs with the migrated tunnel map" \
	test "$(ctl "$NEW_CTL" 1 stats --json | jq .tc_encapsulated)" -gt "$e0"

# A pod wired after the upgrade by the newer plugin, accelerated with an old one.
SOCKVX_CNI="$new/.output/sockvx"
sx_cluster_pod 1 n1c 4
r0=$(ctl "$NEW_CTL" 1 stats --json | jq .messages_redirected)
sx_pod_bg n1b "$SX_TOOLS/sxtorture" server 10.244.1.3 $((PORT + 2)) >/dev/null 2>&1
sx_wait_listen n1b $((PORT + 2)) || true
sx_pod n1c "$SX_TOOLS/sxtorture" client 10.244.1.3 $((PORT + 2)) --conns 20 --concurrency 4 \
	--seed 6 --json >"$SX_TMP/newpod.json" 2>/dev/null || true
check "a pod wired after the upgrade talks to an older pod, accelerated and intact" \
	bash -c 'jq -e ".conns == 20 and .mismatches == 0" "$1" >/dev/null && (($2 > $3))' _ \
	"$SX_TMP/newpod.json" "$(ctl "$NEW_CTL" 1 stats --json | jq .messages_redirected)" "$r0"

ctl "$NEW_CTL" 1 load --cgroup "$SX_CG/n1" >"$SX_TMP/again.out" 2>&1
check "loading the newer build again migrates nothing and keeps the endpoints" \
	bash -c '! grep -q migrated "$1" && [[ $(jq length <<<"$2") -eq $(($(jq length "$3") + 2)) ]]' _ \
	"$SX_TMP/again.out" "$(ctl "$NEW_CTL" 1 endpoint list --json)" "$SX_TMP/ep.before"
ctl "$NEW_CTL" 1 doctor --json >"$SX_TMP/doctor.after" 2>/dev/null || true
check "after: doctor finds the pins, attachments and VXLAN device healthy, no older pin" \
	jq -e '[.findings[] | select(.check | IN("pins", "sockops", "setsockopt", "sk_msg", "overlay")) | .level]
		== ["ok", "ok", "ok", "ok", "ok"] and ([.findings[] | select(.check == "map versions")] | length == 0)' \
	"$SX_TMP/doctor.after"
# Cleanup unloads with the newest build.
SOCKVXCTL=$NEW_CTL
sx_done
