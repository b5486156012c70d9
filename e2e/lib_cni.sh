#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Driving the sockvx CNI plugin as a runtime does, on one simulated cluster
# node (node 1 of e2e/lib.sh): empty pod namespaces, the plugin's verbs with
# their output and status, and what the node holds afterwards (veths, leases,
# records, endpoints). Source it, then call sx_cni_node.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# sx_cni_node: node 1 of a cluster, loaded, and the names the helpers use.
sx_cni_node() {
	sx_setup
	sx_underlay_create
	sx_cluster_node 1
	# shellcheck disable=SC2034 # used by the scripts that source this file
	PIN=$(sx_node_pin 1)
	NET=$SX_CNI_NET
	RECORDS="$SX_TMP/cni-n1/$NET"
	LEASES="$SX_TMP/ipam-n1/$NET"
}

# conf VERSION [jq filter]: node 1's main-mode configuration, edited by the filter.
conf() { sx_cni_conf 1 | jq -c --arg v "$1" ".cniVersion = \$v | ${2:-.}"; }
# run_cni VERB CID NETNS CONF [extra env...]: the plugin's stdout; $SX_TMP/rc its status.
run_cni() {
	local verb=$1 cid=$2 netns=$3 cfg=$4
	shift 4
	set +e
	sx_on 1 env CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni "$@" "$SOCKVX_CNI" <<<"$cfg" 2>>"$SX_TMP/stderr"
	echo $? >"$SX_TMP/rc"
	set -e
}
rc() { cat "$SX_TMP/rc"; }
code() { jq -r '.code // empty' <<<"$1"; }
# jqt FILTER [args]: jq as a test: true when the filter yields true.
jqt() { jq -e "$@" >/dev/null; }
# newpod NAME: an empty pod namespace whose processes run in node 1's cgroup.
newpod() {
	ip netns add "sx${SX_ID}-$1"
	SX_PODS+=("sx${SX_ID}-$1")
	SX_POD_CG[$1]="$SX_CG/n1"
	ip -n "sx${SX_ID}-$1" link set lo up
}
nspath() { echo "/run/netns/sx${SX_ID}-$1"; }
pod_ip() { jq -r ".ips[] | select(.address | test(\"${2:-\\\\.}\")) | .address" <<<"$1" | head -1 | cut -d/ -f1; }
endpoints() { sx_nctl 1 endpoint list --json; }
has_endpoint() { endpoints | jqt --arg ip "$1" 'any(.[]; .ip == $ip)'; }
# lease_count: host-local's lease files (named by address) in this test's IPAM directory.
# leased CONTAINER: host-local holds an address for it (its lease files start
# with the container ID and "\r\n").
leased() {
	find "$LEASES" -maxdepth 1 -name '*[0-9a-f]' ! -name 'last_reserved_ip*' -exec head -qn1 {} + 2>/dev/null |
		tr -d '\r' | grep -qxF "$1"
}
lease_count() { find "$LEASES" -maxdepth 1 -name '*[0-9a-f]' ! -name 'last_reserved_ip*' 2>/dev/null | wc -l; }
host_veths() { sx_on 1 ip -j link show | jq -r '.[].ifname' | grep -c '^sx[0-9a-f]\{12\}$' || true; }
records() { find "$RECORDS" -maxdepth 1 -name '*:*' 2>/dev/null | wc -l; }
pings() { sx_pod "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
nothing_left() { [[ $(host_veths) -eq 0 && $(lease_count) -eq 0 && $(records) -eq 0 ]] && ! endpoints | jqt 'length > 0'; }
