#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The DaemonSet's init step on each node: install the binaries on the host,
# load the dataplane, install the CNI configuration. Safe to run again (a pod
# restart or an upgrade): every step is idempotent.
#   MODE       main | chained
#   UNDERLAY   main mode: the interface between nodes
#   CONFLIST   main mode: the conflist, with POD_CIDR for this node's podCIDR
#   NODE_NAME  this node; POD_CIDR comes from its Node object
set -eu

HOST_BIN=${HOST_CNI_BIN:-/host/opt/cni/bin}
HOST_CONF=${HOST_CNI_CONF:-/host/etc/cni/net.d}
SA=/var/run/secrets/kubernetes.io/serviceaccount
API=https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}

# Copy, then rename: a runtime executing the plugin never sees half a file.
cp /opt/cni/bin/sockvx "$HOST_BIN/.sockvx.new"
mv "$HOST_BIN/.sockvx.new" "$HOST_BIN/sockvx"

case $MODE in
main)
	node=$(curl -sSf --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" \
		"$API/api/v1/nodes/$NODE_NAME")
	# spec.podCIDR without a JSON tool in the image: the first "podCIDR": "..." value.
	pod_cidr=$(printf '%s' "$node" | tr -d '\n ' | sed -n 's/.*"podCIDR":"\([^"]*\)".*/\1/p')
	[ -n "$pod_cidr" ] || { echo "sockvx-install: node $NODE_NAME has no spec.podCIDR yet" >&2; exit 1; }
	sockvxctl load --underlay "$UNDERLAY" --pod-cidr "$pod_cidr"
	printf '%s\n' "$CONFLIST" | sed "s|POD_CIDR|$pod_cidr|g" >"$HOST_CONF/.10-sockvx.conflist.new"
	mv "$HOST_CONF/.10-sockvx.conflist.new" "$HOST_CONF/10-sockvx.conflist"
	;;
chained)
	sockvxctl load
	sockvxctl cni-chain --cni-conf-dir "$HOST_CONF"
	;;
*)
	echo "sockvx-install: mode must be main or chained, not '$MODE'" >&2
	exit 1
	;;
esac
sockvxctl doctor --cni-conf-dir "$HOST_CONF" --cni-bin-dir "$HOST_BIN" || true
