#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sockvx node agent: keeps this node's tunnel table in step with the
# cluster's Nodes. Every SOCKVX_SYNC_SECONDS it lists the Nodes from the API
# server (the pod's ServiceAccount) and hands the list to
# `sockvxctl node sync`, which applies only the difference and skips this node.
# API errors never touch the table: the agent logs, backs off (doubling up to
# SOCKVX_MAX_BACKOFF_SECONDS) and tries again. POSIX sh and curl only.
#
# Environment:
#   NODE_NAME                   this node (the DaemonSet sets it from spec.nodeName)
#   SOCKVX_PIN_DIR              default /sys/fs/bpf/sockvx
#   SOCKVX_SYNC_SECONDS         default 30
#   SOCKVX_MAX_BACKOFF_SECONDS  default 300
#   SOCKVX_API                  default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
#   SOCKVX_SA_DIR               default /var/run/secrets/kubernetes.io/serviceaccount
#   SOCKVXCTL                   default sockvxctl
#   SOCKVX_ONCE=1               one round, then exit with its status (for tests and debugging)
set -u

PIN_DIR=${SOCKVX_PIN_DIR:-/sys/fs/bpf/sockvx}
EVERY=${SOCKVX_SYNC_SECONDS:-30}
MAX_BACKOFF=${SOCKVX_MAX_BACKOFF_SECONDS:-300}
SA=${SOCKVX_SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
API=${SOCKVX_API:-https://${KUBERNETES_SERVICE_HOST:-}:${KUBERNETES_SERVICE_PORT:-443}}
CTL=${SOCKVXCTL:-sockvxctl}
LIST=$(mktemp /tmp/sockvx-nodes.XXXXXX) || exit 1
trap 'rm -f "$LIST"' EXIT
trap 'exit 0' INT TERM

log() { printf '%s sockvx-node-agent: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# fetch: the NodeList into $LIST. The token is read each time: it is rotated.
fetch() {
	set -- --silent --show-error --fail --max-time 20 -o "$LIST"
	if [ -r "$SA/token" ]; then
		set -- "$@" -H "Authorization: Bearer $(cat "$SA/token")"
	fi
	if [ -r "$SA/ca.crt" ]; then
		set -- "$@" --cacert "$SA/ca.crt"
	fi
	curl "$@" "$API/api/v1/nodes"
}

# round: one fetch and sync; 0 when the table is in step.
round() {
	if ! out=$(fetch 2>&1); then
		log "cannot list Nodes from $API: $out; the node table is left as it is"
		return 1
	fi
	if [ -n "${NODE_NAME:-}" ]; then set -- --node-name "$NODE_NAME"; else set --; fi
	if ! out=$("$CTL" node sync "$LIST" "$@" --pin-dir "$PIN_DIR" 2>&1); then
		log "node sync failed: $out"
		return 1
	fi
	[ -n "$out" ] && log "$out"
	return 0
}

if [ "${SOCKVX_ONCE:-0}" = 1 ]; then
	round
	exit
fi
[ -n "${NODE_NAME:-}" ] || log "NODE_NAME is not set: this node is recognised by its address only"
backoff=$EVERY
while :; do
	if round; then
		backoff=$EVERY
	else
		backoff=$((backoff * 2))
		[ "$backoff" -gt "$MAX_BACKOFF" ] && backoff=$MAX_BACKOFF
		log "next attempt in ${backoff}s"
	fi
	sleep "$backoff" &
	wait $!
done
