#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sockvx-node-agent: the Kubernetes side of a sockvx node (deploy/kubernetes/).
#   sockvx-node-agent install   copy the binaries to the host, write the CNI
#                               configuration, load the dataplane; then exit
#   sockvx-node-agent run       keep the tunnel map equal to the cluster's
#                               Nodes, for ever
# `run` lists Nodes from the API server (kubectl when present, else curl with
# the pod's ServiceAccount token), feeds the NodeList to `sockvxctl node sync
# -`, then waits for a change (a watch on Nodes, at most SOCKVX_SYNC_INTERVAL
# seconds) and lists again. On an API or sync error the map keeps its last
# good state and the agent retries with exponential backoff.
# Settings come from the environment (the DaemonSet's ConfigMap):
#   NODE_NAME             this node (the downward API's spec.nodeName)
#   SOCKVX_MODE           main (sockvx is the pod network) or chained
#   SOCKVX_UNDERLAY       main mode: the interface that carries VXLAN
#   SOCKVX_LOAD_ARGS      more arguments for sockvxctl load (--vni ...)
#   SOCKVX_PIN_DIR, SOCKVX_CGROUP, SOCKVX_HOST (where the host's / is mounted)
#   SOCKVX_SYNC_INTERVAL (30), SOCKVX_BACKOFF_MAX (300), SOCKVX_API_URL
set -u

PIN_DIR=${SOCKVX_PIN_DIR:-/sys/fs/bpf/sockvx}
MODE=${SOCKVX_MODE:-main}
HOST=${SOCKVX_HOST:-/host}
CNI_CONF_DIR=${SOCKVX_CNI_CONF_DIR:-$HOST/etc/cni/net.d}
CNI_BIN_DIR=${SOCKVX_CNI_BIN_DIR:-$HOST/opt/cni/bin}
INTERVAL=${SOCKVX_SYNC_INTERVAL:-30}
BACKOFF_MAX=${SOCKVX_BACKOFF_MAX:-300}
SA=${SOCKVX_SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
API=${SOCKVX_API_URL:-https://${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}:${KUBERNETES_SERVICE_PORT:-443}}
SOCKVXCTL=${SOCKVXCTL:-sockvxctl}
NODE_NAME=${NODE_NAME:-}

log() { echo "sockvx-node-agent: $*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockvx-agent.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM INT

# api_get PATH: the API server's answer on stdout. It execs, so call it in a
# subshell: ( api_get PATH ). The token is re-read each time (bound tokens
# rotate) and handed to curl in a file, never on a command line.
api_get() {
	if [ -z "${SOCKVX_API_URL:-}" ] && command -v kubectl >/dev/null 2>&1; then
		exec kubectl get --raw "$1"
	fi
	url="$API$1"
	set --
	[ -r "$SA/ca.crt" ] && set -- --cacert "$SA/ca.crt"
	if [ -r "$SA/token" ]; then
		(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SA/token")" >"$tmp/auth")
		set -- "$@" -H "@$tmp/auth"
	fi
	exec curl -fsS --connect-timeout 5 --max-time $((INTERVAL + 30)) "$@" "$url"
}

# The NodeList's resourceVersion (the first one in the API's compact JSON is
# the list's own), to watch from.
list_version() { sed -n 's/^{[^[]*"resourceVersion":"\([0-9]*\)".*/\1/p' "$1"; }

# wait_for_change VERSION: returns at the first Node event after VERSION, or
# after INTERVAL seconds. A watch that fails at once (an expired version, an
# API error) still waits the whole interval: no busy loop.
wait_for_change() {
	i=0
	: >"$tmp/events"
	if [ -n "$1" ]; then
		(api_get "/api/v1/nodes?watch=1&resourceVersion=$1&timeoutSeconds=$INTERVAL") \
			>"$tmp/events" 2>/dev/null &
		wpid=$!
		while [ "$i" -lt "$INTERVAL" ] && [ ! -s "$tmp/events" ] && kill -0 "$wpid" 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
	fi
	[ -s "$tmp/events" ] && return 0
	while [ "$i" -lt "$INTERVAL" ]; do
		sleep 1
		i=$((i + 1))
	done
}

# sync_once: one list and one sync. 0 on success.
sync_once() {
	if ! (api_get /api/v1/nodes) >"$tmp/nodes.json" 2>"$tmp/err"; then
		log "cannot list Nodes from $API: $(head -c 300 "$tmp/err")"
		return 1
	fi
	# A list without this node is not the cluster (a proxy's error page, a
	# truncated answer): syncing it would remove every route.
	if [ -n "$NODE_NAME" ] && ! grep -q "\"name\": *\"$NODE_NAME\"" "$tmp/nodes.json"; then
		log "the Node list does not contain this node ($NODE_NAME); not applied"
		return 1
	fi
	if ! "$SOCKVXCTL" node sync - --pin-dir "$PIN_DIR" ${NODE_NAME:+--node-name "$NODE_NAME"} \
		<"$tmp/nodes.json" >"$tmp/out" 2>"$tmp/err"; then
		log "node sync failed: $(head -c 300 "$tmp/err")"
		return 1
	fi
	[ -s "$tmp/out" ] && log "$(cat "$tmp/out")"
	# Chained: follow changes the cluster's CNI makes to its own configuration.
	if [ "$MODE" = chained ] &&
		! "$SOCKVXCTL" cni chain --cni-conf-dir "$CNI_CONF_DIR" --pin-dir "$PIN_DIR" >/dev/null 2>"$tmp/err"; then
		log "cni chain failed: $(head -c 300 "$tmp/err")"
	fi
	return 0
}

run() {
	backoff=1
	while :; do
		if sync_once; then
			backoff=1
			[ "${SOCKVX_AGENT_ONCE:-0}" = 1 ] && return 0
			wait_for_change "$(list_version "$tmp/nodes.json")"
			sleep 1 # a burst of Node events becomes one sync
		else
			log "retrying in ${backoff}s"
			sleep "$backoff"
			backoff=$((backoff * 2))
			[ "$backoff" -gt "$BACKOFF_MAX" ] && backoff=$BACKOFF_MAX
		fi
	done
}

# This node's pod CIDRs, comma-separated, from Node.spec.podCIDRs (or podCIDR).
node_pod_cidrs() {
	(api_get "/api/v1/nodes/$NODE_NAME") >"$tmp/node.json" || return 1
	cidrs=$(sed -n 's/.*"podCIDRs":\[\([^]]*\)\].*/\1/p' "$tmp/node.json" | tr -d '" ')
	[ -n "$cidrs" ] || cidrs=$(sed -n 's/.*"podCIDR":"\([^"]*\)".*/\1/p' "$tmp/node.json")
	[ -n "$cidrs" ] && echo "$cidrs"
}

# The main-mode network configuration: host-local over this node's pod CIDRs.
main_conflist() {
	ranges=$(echo "$1" | tr ',' '\n' | sed 's/.*/[{"subnet":"&"}]/' | paste -sd, -)
	cat <<EOF
{
  "cniVersion": "1.1.0",
  "name": "sockvx",
  "plugins": [
    {
      "type": "sockvx",
      "pinDir": "$PIN_DIR",
      "ipam": { "type": "host-local", "ranges": [$ranges] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

install_node() {
	case $MODE in
	main | chained) ;;
	*)
		log "SOCKVX_MODE must be main or chained, not '$MODE'"
		return 1
		;;
	esac
	# The binaries first: pods created once the configuration appears need them.
	# Copied aside and renamed: a runtime never executes half a binary.
	src=$(command -v sockvx || echo /usr/lib/cni/sockvx)
	cp "$src" "$CNI_BIN_DIR/.sockvx.tmp" && chmod 0755 "$CNI_BIN_DIR/.sockvx.tmp" &&
		mv "$CNI_BIN_DIR/.sockvx.tmp" "$CNI_BIN_DIR/sockvx" || return 1
	# shellcheck disable=SC2086 # SOCKVX_LOAD_ARGS holds several arguments
	case $MODE in
	main)
		cidrs=$(node_pod_cidrs) || {
			log "cannot read spec.podCIDRs of Node $NODE_NAME (is the controller manager's --allocate-node-cidrs on?)"
			return 1
		}
		"$SOCKVXCTL" load --pin-dir "$PIN_DIR" ${SOCKVX_CGROUP:+--cgroup "$SOCKVX_CGROUP"} \
			--underlay "${SOCKVX_UNDERLAY:-eth0}" --pod-cidr "$cidrs" ${SOCKVX_LOAD_ARGS:-} || return 1
		main_conflist "$cidrs" >"$CNI_CONF_DIR/.10-sockvx.conflist.tmp" &&
			mv "$CNI_CONF_DIR/.10-sockvx.conflist.tmp" "$CNI_CONF_DIR/10-sockvx.conflist"
		;;
	chained)
		"$SOCKVXCTL" load --pin-dir "$PIN_DIR" ${SOCKVX_CGROUP:+--cgroup "$SOCKVX_CGROUP"} \
			${SOCKVX_LOAD_ARGS:-} || return 1
		"$SOCKVXCTL" cni chain --cni-conf-dir "$CNI_CONF_DIR" --pin-dir "$PIN_DIR"
		;;
	esac
}

case ${1:-} in
install) install_node ;;
run) run ;;
*)
	echo "usage: sockvx-node-agent install|run (settings: see the top of this script)" >&2
	exit 2
	;;
esac
