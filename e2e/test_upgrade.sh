#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Upgrade in place: an older sockvxctl, built from UPGRADE_FROM (default
# 5aff749, the last build with socket acceleration only: seven maps, no TC
# dataplane), loads and accelerates two pods; while sha256-checked
# connections run, this build's `sockvxctl load` runs over it. Nothing may be
# lost, the endpoints and exclusions stay, the pinned links stay and run the
# new programs, and the maps the older build did not have appear.
source "$(dirname "$0")/lib.sh"

OLD_REV=${UPGRADE_FROM:-5aff749}
CONNS=${UPGRADE_CONNS:-4000}
PORT=9300

sx_setup
if ! git -C "$SX_ROOT" cat-file -e "$OLD_REV^{commit}" 2>/dev/null; then
	skip "upgrade from $OLD_REV: that commit is not in this clone's history"
	sx_done
	exit
fi
# The older tree, built on its own (git archive: no worktree bookkeeping).
OLD="$SX_TMP/old"
mkdir -p "$OLD"
git -C "$SX_ROOT" archive "$OLD_REV" | tar -x -C "$OLD"
check "the $OLD_REV build of sockvxctl builds" \
	eval 'make -s -C "$OLD" OUTPUT=.output .output/sockvxctl >"$SX_TMP/old-build.log" 2>&1'
OLDCTL="$OLD/.output/sockvxctl"

sx_node_create
sx_pod_create a 2
sx_pod_create b 3
EPS=("$(sx_pod_ip 2)" "$(sx_pod_ip 3)" "$(sx_pod_ip6 2)" "$(sx_pod_ip6 3)")
check "the older build loads" eval '"$OLDCTL" load --pin-dir "$SX_PIN" --cgroup "$SX_CG" >/dev/null'
"$OLDCTL" endpoint add "${EPS[@]}" --pin-dir "$SX_PIN" >/dev/null
"$OLDCTL" exclude-port add 9999 --pin-dir "$SX_PIN" >/dev/null
status() { "$SOCKVXCTL" status --json --pin-dir "$SX_PIN"; }
eps_before=$(sx_ctl endpoint list --json | jq -c '[.[].ip] | sort')
link_before=$(status | jq '.sockops.link_id')
# shellcheck disable=SC2034 # read by the checks' eval
prog_before=$(status | jq '.sockops.program.id')
check "... with 7 maps and no TC dataplane" \
	test "$(status | jq '[.maps[] | select(.pinned)] | length')" -eq 7

# Connections that run across the upgrade: FIN and receiver-first closes with
# non-blocking I/O, the patterns whose behaviour sockvx keeps identical to TCP.
sx_pod b "$SX_TOOLS/sxtorture" server "$(sx_pod_ip 3)" "$PORT" >/dev/null 2>"$SX_TMP/server.err" &
server=$!
sx_wait_listen b "$PORT" || true
r0=$(sx_stat messages_redirected)
sx_pod a "$SX_TOOLS/sxtorture" client "$(sx_pod_ip 3)" "$PORT" --conns "$CONNS" --concurrency 100 \
	--seed 5 --json --io epoll --close fin,receiver-first >"$SX_TMP/run.json" 2>"$SX_TMP/run.err" &
client=$!
sleep 1
check "this build's load over the running older one succeeds" sx_load
wait "$client" || true
wait "$server" || true
[[ -s $SX_TMP/run.json ]] || echo '{}' >"$SX_TMP/run.json"
echo "# across the upgrade: $(jq -c '{conns, bytes_verified, mismatches, premature_eof, hangs, spurious_eagain, unexpected_errors}' "$SX_TMP/run.json")"
check "$CONNS connections across the upgrade: every byte intact, no hang, no error" \
	jq -e --argjson n "$CONNS" '.conns == $n and .bytes_verified > 0 and .mismatches == 0 and
		.premature_eof == 0 and .hangs == 0 and .spurious_eagain == 0 and .unexpected_errors == 0' \
	"$SX_TMP/run.json" >/dev/null
check "... and they were accelerated" test "$(($(sx_stat messages_redirected) - r0))" -gt 0
check "the endpoints stay" test "$(sx_ctl endpoint list --json | jq -c '[.[].ip] | sort')" = "$eps_before"
check "the excluded port stays" eval 'sx_ctl exclude-port list --json | jq -e "index(9999)" >/dev/null'
check "the pinned sockops link stays ($link_before) and runs the new program" \
	eval '[[ $(status | jq .sockops.link_id) == "$link_before" && $(status | jq .sockops.program.id) != "$prog_before" ]]'
check "the maps the older build did not have are pinned now (11)" \
	test "$(status | jq '[.maps[] | select(.pinned)] | length')" -eq 11
# shellcheck disable=SC2034 # read by the check's eval
socks=$(sx_stat sockets_inserted)
sx_pod b "$SX_TOOLS/sxtorture" server "$(sx_pod_ip 3)" $((PORT + 1)) >/dev/null 2>&1 &
server=$!
sx_wait_listen b $((PORT + 1)) || true
sx_pod a "$SX_TOOLS/sxtorture" client "$(sx_pod_ip 3)" $((PORT + 1)) --conns 50 --concurrency 10 \
	--seed 6 --json --io epoll --close fin >"$SX_TMP/after.json" 2>/dev/null || true
wait "$server" || true
check "after the upgrade: 50 new connections intact and accelerated" \
	eval 'jq -e ".conns == 50 and .mismatches == 0" "$SX_TMP/after.json" >/dev/null && [[ $(sx_stat sockets_inserted) -gt $socks ]]'
check "unload after the upgrade removes everything" \
	eval '"$SOCKVXCTL" unload --pin-dir "$SX_PIN" >/dev/null && [[ ! -e $SX_PIN ]]'
sx_done
