#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The DaemonSet's node agent (scripts/sockvx-node-agent.sh) against a stand-in
# API server (test/tools/k8s_api_mock.py) instead of a cluster: install in
# main and chained mode into temporary CNI directories, the tunnel map
# following Node changes through the watch, API errors survived with the last
# good table kept, a list without this node refused.
source "$(dirname "$0")/lib.sh"
AGENT="$SX_ROOT/scripts/sockvx-node-agent.sh"
MOCK="$SX_ROOT/test/tools/k8s_api_mock.py"
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
	skip "python3 and curl are needed for the stand-in API server"
	exit 0
fi
sx_setup
sx_underlay_create
sx_cluster_node 1
api="$SX_TMP/api"
mkdir -p "$api"
echo test-token >"$api/token"
sa="$SX_TMP/sa"
mkdir -p "$sa"
cp "$api/token" "$sa/token"

# write_nodes VERSION NAME:IP:CIDR[,CIDR]... : the NodeList the API serves.
write_nodes() {
	local rv=$1 n name ip cidrs items=()
	shift
	for n in "$@"; do
		IFS=: read -r name ip cidrs <<<"$n"
		items+=("$(jq -cn --arg n "$name" --arg ip "$ip" --arg c "$cidrs" \
			'{metadata: {name: $n}, spec: {podCIDR: ($c | split(",")[0]), podCIDRs: ($c | split(","))},
			  status: {addresses: [{type: "Hostname", address: $n}, {type: "InternalIP", address: $ip}]}}')")
	done
	printf '%s\n' "${items[@]}" | jq -cs --arg rv "$rv" \
		'{kind: "NodeList", apiVersion: "v1", metadata: {resourceVersion: $rv}, items: .}' >"$api/nodes.json.tmp"
	mv "$api/nodes.json.tmp" "$api/nodes.json"
}
write_nodes 1 node1:10.99.0.1:10.244.1.0/24,fd00:244:1::/64 \
	node2:10.99.0.2:10.244.2.0/24,fd00:244:2::/64 node3:10.99.0.3:10.244.3.0/24
# nsenter execs its command, so $! is the server itself (killed on exit).
nsenter --net="/run/netns/$(sx_node_ns 1)" python3 "$MOCK" "$api" 8080 >/dev/null 2>"$SX_TMP/mock.err" &
SX_BG_PIDS+=($!)
sx_eventually sx_on 1 curl -fs -o /dev/null -H "Authorization: Bearer test-token" http://127.0.0.1:8080/api/v1/nodes ||
	sx_die "the stand-in API server did not start: $(cat "$SX_TMP/mock.err")"

# agent_cmd [VAR=VALUE...] SUBCOMMAND: sets CMD to the agent in node 1's
# namespace with the stand-in's settings. nsenter and env exec, so "${CMD[@]}" &
# makes $! the agent itself.
agent_cmd() {
	CMD=(nsenter --net="/run/netns/$(sx_node_ns 1)" env NODE_NAME=node1
		SOCKVX_API_URL=http://127.0.0.1:8080 SOCKVX_SA_DIR="$sa" SOCKVXCTL="$SOCKVXCTL"
		SOCKVX_PIN_DIR="$(sx_node_pin 1)" SOCKVX_CGROUP="$SX_CG/n1" PATH="$OUTPUT:$PATH"
		"${@:1:$#-1}" sh "$AGENT" "${!#}")
}
agent() {
	agent_cmd "$@"
	"${CMD[@]}"
}
routes() { sx_nctl 1 node list --json | jq -c '[.[] | "\(.podCIDR)=\(.nodeIP)"] | sort'; }
routes_are() { [[ $(routes) == "$1" ]]; }

# ---- install ---------------------------------------------------------------
cni="$SX_TMP/cni"
mkdir -p "$cni/bin" "$cni/net.d"
agent SOCKVX_MODE=main SOCKVX_UNDERLAY=ul0 SOCKVX_CNI_CONF_DIR="$cni/net.d" SOCKVX_CNI_BIN_DIR="$cni/bin" \
	install >"$SX_TMP/install.out" 2>&1 && rc=0 || rc=$?
check "install, main mode: succeeds ($(tail -1 "$SX_TMP/install.out"))" test "$rc" -eq 0
check "install: the CNI plugin copied to the host, mode 0755" \
	bash -c '[[ $(stat -c %a "$1/sockvx") == 755 ]] && cmp -s "$1/sockvx" "$2"' _ "$cni/bin" "$OUTPUT/sockvx"
check "install, main mode: a conflist with host-local over the Node's spec.podCIDRs" \
	test "$(jq -c '[.plugins[0].type, .plugins[0].ipam.ranges]' "$cni/net.d/10-sockvx.conflist")" = \
	'["sockvx",[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:244:1::/64"}]]]'
check "install, main mode: the node is loaded with its overlay" \
	test "$(sx_nctl 1 status --json | jq -r '[.loaded, .overlay.device] | join(" ")')" = "true sockvx_vxlan"
rm "$cni/net.d/10-sockvx.conflist"
cp "$SX_ROOT/cni/examples/10-flannel-sockvx.conflist" "$cni/net.d/10-flannel.conflist"
agent SOCKVX_MODE=chained SOCKVX_CNI_CONF_DIR="$cni/net.d" SOCKVX_CNI_BIN_DIR="$cni/bin" \
	install >"$SX_TMP/install.out" 2>&1 && rc=0 || rc=$?
check "install, chained mode: succeeds and writes 00-sockvx.conflist after the cluster's plugins" \
	bash -c '[[ $1 -eq 0 ]] && [[ $(jq -c "[.plugins[].type]" "$2") == "[\"flannel\",\"portmap\",\"sockvx\"]" ]]' \
	_ "$rc" "$cni/net.d/00-sockvx.conflist"
agent SOCKVX_MODE=bogus install >/dev/null 2>"$SX_TMP/err" && rc=0 || rc=$?
check "install with a wrong mode: refused with a message" \
	bash -c '[[ $1 -ne 0 ]] && grep -q "must be main or chained" "$2"' _ "$rc" "$SX_TMP/err"

# ---- run: follow the cluster's Nodes ----------------------------------------
# A long interval: only the watch can explain a change applied within seconds.
agent_cmd SOCKVX_SYNC_INTERVAL=30 SOCKVX_BACKOFF_MAX=2 run
"${CMD[@]}" >/dev/null 2>"$SX_TMP/agent.log" &
agent_pid=$!
SX_BG_PIDS+=("$agent_pid")
# within SECONDS cmd...: polls for up to SECONDS.
within() {
	local s=$1
	shift
	for _ in $(seq 1 $((s * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
check "run: the tunnel map gets every other node's pod CIDRs" within 10 routes_are \
	'["10.244.2.0/24=10.99.0.2","10.244.3.0/24=10.99.0.3","fd00:244:2::/64=10.99.0.2"]'
write_nodes 2 node1:10.99.0.1:10.244.1.0/24,fd00:244:1::/64 node2:10.99.0.12:10.244.2.0/24,fd00:244:2::/64
check "run: a Node that moved and one that left are applied within 5 s (the watch)" within 5 routes_are \
	'["10.244.2.0/24=10.99.0.12","fd00:244:2::/64=10.99.0.12"]'
touch "$api/fail"
write_nodes 3 node1:10.99.0.1:10.244.1.0/24,fd00:244:1::/64 node2:10.99.0.12:10.244.2.0/24,fd00:244:2::/64 \
	node4:10.99.0.4:10.244.4.0/24
sleep 4
check "API errors: the agent keeps running and the map its last good state" \
	bash -c 'kill -0 "$1" && [[ $2 == "[\"10.244.2.0/24=10.99.0.12\",\"fd00:244:2::/64=10.99.0.12\"]" ]]' _ \
	"$agent_pid" "$(routes)"
check "API errors: logged, with the retry" \
	bash -c 'grep -q "cannot list Nodes" "$1" && grep -q "retrying in" "$1"' _ "$SX_TMP/agent.log"
rm "$api/fail"
check "after the API recovers: the change made meanwhile is applied (backoff at most 2 s here)" within 10 routes_are \
	'["10.244.2.0/24=10.99.0.12","10.244.4.0/24=10.99.0.4","fd00:244:2::/64=10.99.0.12"]'
write_nodes 4 node2:10.99.0.12:10.244.2.0/24,fd00:244:2::/64
sleep 3
check "a Node list without this node is not applied (it would remove every route)" \
	bash -c '[[ $1 == "[\"10.244.2.0/24=10.99.0.12\",\"10.244.4.0/24=10.99.0.4\",\"fd00:244:2::/64=10.99.0.12\"]" ]] &&
		grep -q "does not contain this node" "$2"' _ "$(routes)" "$SX_TMP/agent.log"
check "requests carry the ServiceAccount token (no 401 answered)" \
	bash -c '! grep -q 401 "$1"' _ "$SX_TMP/agent.log"
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
check "the agent stops on TERM and removes its temporary files" \
	bash -c '! kill -0 "$1" 2>/dev/null && [[ -z $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name "sockvx-agent.*" -newer "$2") ]]' _ \
	"$agent_pid" "$api/token"
sx_done
