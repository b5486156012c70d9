#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real container runtimes drive a CNI configuration: podman 4 (CNI backend)
# and containerd 1.6 through `ctr run --cni`. For each runtime and each mode
# (main, chained), two busybox containers on one network reach each other
# over TCP, with sockvx accelerated at the socket layer (its counters prove
# it); removing them must leave no veth, no IPAM lease, no endpoint entry,
# no CNI cache entry and no network namespace behind.
#
# The network comes from rt_conflist. RT_CNI=reference uses the
# reference plugins: ptp + host-local (main), bridge + host-local (chained).
# RT_CNI=sockvx (the default) tests the sockvx plugin: sockvx with host-local (main),
# bridge + host-local then sockvx (chained), loaded in the node namespace
# with its sockops program on the test's cgroup (the containers are below it).
source "$(dirname "$0")/lib_runtime.sh"

RT_CNI=${RT_CNI:-sockvx}
MODES=${MODES:-main chained}
PORT=7000

# rt_conflist MODE SUBNET [NAME]: network NAME (MODE main|chained) with
# host-local IPAM over SUBNET, its leases in $SX_TMP/ipam-NAME.
rt_conflist() {
	local mode=$1 subnet=$2 name=${3:-sx${SX_ID}net} ipam bridge plugins
	ipam="{\"type\":\"host-local\",\"dataDir\":\"$SX_TMP/ipam-$name\",
	  \"ranges\":[[{\"subnet\":\"$subnet\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}"
	bridge="{\"type\":\"bridge\",\"bridge\":\"$name\",\"isGateway\":true,\"ipMasq\":false,\"ipam\":$ipam}"
	case $RT_CNI/$mode in
	reference/main) plugins="{\"type\":\"ptp\",\"ipMasq\":false,\"ipam\":$ipam}" ;;
	reference/chained) plugins=$bridge ;;
	# sockvx's records go to $SX_TMP, not to its default /var/lib/cni/sockvx.
	sockvx/main) plugins="{\"type\":\"sockvx\",\"pinDir\":\"$SX_PIN\",\"dataDir\":\"$SX_TMP/sockvx-$name\",\"ipam\":$ipam}" ;;
	sockvx/chained) plugins="$bridge, {\"type\":\"sockvx\",\"pinDir\":\"$SX_PIN\",\"dataDir\":\"$SX_TMP/sockvx-$name\"}" ;;
	*) sx_die "rt_conflist: unknown $RT_CNI/$mode" ;;
	esac
	printf '{"cniVersion":"1.0.0","name":"%s","plugins":[%s]}\n' "$name" "$plugins" | jq .
}
# Where the runtimes find the plugins of that configuration.
case $RT_CNI in
reference) PLUGINS=/usr/lib/cni ;;
sockvx) PLUGINS=$OUTPUT ;;
*) sx_die "RT_CNI=$RT_CNI: reference or sockvx" ;;
esac

# One /24 per test run, 10.99.X.0/24 with X in 20..219 from SX_ID, split in
# four /26: podman main, podman chained, ctr main, ctr chained.
X=$(($(printf %s "$SX_ID" | cksum | cut -d' ' -f1) % 200 + 20))
# subnet RUNTIME MODE: that network's /26.
subnet() {
	local base=0
	[[ $1 == ctr ]] && base=128
	[[ $2 == chained ]] && base=$((base + 64))
	echo "10.99.$X.$base/26"
}
# in_subnet IP CIDR: IP is a host address of the /26 CIDR.
in_subnet() {
	local base=${2%/*} last=${1##*.}
	[[ ${1%.*} == "${base%.*}" ]] && ((last > ${base##*.} && last < ${base##*.} + 63))
}
# leases NET: the addresses host-local has handed out on NET, sorted.
leases() { find "$SX_TMP/ipam-$1" -type f -name '10.*' -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
# cg_of PID: the process's cgroup v2 path.
cg_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
# host_veth PID: the node-side end of the container's eth0.
host_veth() {
	local idx
	# Not /sys/class/net: sysfs shows the namespace it was mounted in.
	idx=$(nsenter --net="/proc/$1/ns/net" ip -o link show dev eth0 |
		sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
	[[ -n $idx ]] || return 0
	sx_node ip -o link | awk -F': ' -v i="$idx" '$1 == i { sub("@.*", "", $2); print $2 }'
}
# two_in_subnet IP1 IP2 CIDR: two different addresses of CIDR.
two_in_subnet() { in_subnet "$1" "$3" && in_subnet "$2" "$3" && [[ $1 != "$2" ]]; }
# node_veths V1 V2: two different links of the node namespace, absent here.
node_veths() { [[ -n $1 && -n $2 && $1 != "$2" ]] && ! ip link show dev "$1" >/dev/null 2>&1; }
no_link() { [[ -n $1 ]] && ! sx_node ip link show dev "$1" >/dev/null 2>&1; }
no_links() { no_link "$1" && no_link "$2"; }
# no_file GLOB: nothing matches.
no_file() { ! compgen -G "$1" >/dev/null; }
# run_two RUN_FN NET A B CMD...: starts containers A and B on NET, running CMD.
run_two() { "$1" "$2" "$3" "${@:5}" && "$1" "$2" "$4" "${@:5}"; }
podman_run_on() { local net=$1 name=$2; shift 2; sx_podman_run "$name" "$net" "$@"; }
ctr_run_on() { local conf=$1 name=$2; shift 2; sx_ctr_run_cni "$name" "$conf" "$PLUGINS" "$@"; }
# (grep without -q: an early exit would make podman fail with SIGPIPE under pipefail)
podman_has_net() { sx_podman network ls --format '{{.Name}}' | grep -x "$1" >/dev/null; }
# echo_tcp EXEC_FN FROM IP TOKEN: FROM sends TOKEN to the echo server at
# IP:PORT and gets it back.
echo_tcp() {
	local out
	out=$("$1" "$2" sh -c "echo $4 | nc -w 3 $3 $PORT" 2>&1)
	[[ $out == "$4" ]] || {
		echo "# $2 -> $3: got '$out'"
		return 1
	}
}
# counter NAME: one sockvx counter of the node (0 with the reference plugins).
counter() {
	if [[ $RT_CNI == sockvx ]]; then
		sx_node "$SOCKVXCTL" stats --json --pin-dir "$SX_PIN" | jq -r ".$1"
	else
		echo 0
	fi
}
# endpoints_of IP...: the node's endpoint entries for these addresses.
endpoints_of() {
	[[ $RT_CNI == sockvx ]] || return 0
	sx_node "$SOCKVXCTL" endpoint list --json --pin-dir "$SX_PIN" |
		jq -r --arg a "$1" --arg b "$2" '.[].ip | select(. == $a or . == $b)'
}
# accelerated_tcp EXEC_FN A B IPA IPB: both echo exchanges pass, and with sockvx
# their sockets entered the SOCKHASH and their bytes went through sk_msg.
accelerated_tcp() {
	local run=$1 a=$2 b=$3 ipa=$4 ipb=$5 token="hello-$3-$SX_ID" socks bytes
	socks=$(counter sockets_inserted) bytes=$(counter bytes_redirected)
	echo_tcp "$run" "$a" "$ipb" "hello-$b-$SX_ID" && echo_tcp "$run" "$b" "$ipa" "hello-$a-$SX_ID" || return 1
	[[ $RT_CNI == sockvx ]] || return 0
	socks=$(($(counter sockets_inserted) - socks)) bytes=$(($(counter bytes_redirected) - bytes))
	# Two connections, each with both ends inserted. Each request (token and
	# newline) is redirected; the echo may go over TCP, as the client's
	# half-close ejects the pair first (docs/semantics.md).
	((socks >= 4 && bytes >= 2 * (${#token} + 1))) || {
		echo "# sockets inserted: $socks, bytes redirected: $bytes"
		return 1
	}
}
# The echo server every container runs (busybox nc, persistent).
SERVER=(nc -ll -p "$PORT" -e /bin/cat)

# pair_wired LABEL NET SUB A B IPA IPB VETHA VETHB EXEC: what every runtime
# must have done for two running containers, and that they talk (EXEC runs a
# command in a container).
pair_wired() {
	local label=$1 net=$2 sub=$3 a=$4 b=$5 ipa=$6 ipb=$7 vetha=$8 vethb=$9 exec=${10}
	check "$label: addresses in $sub ($ipa, $ipb)" two_in_subnet "$ipa" "$ipb" "$sub"
	check "$label: host-local holds their two leases" test "$(leases "$net")" = "$(sorted "$ipa" "$ipb")"
	check "$label: their veths ($vetha, $vethb) are in the node namespace" node_veths "$vetha" "$vethb"
	check "$label: their addresses are node endpoints" test "$(endpoints_of "$ipa" "$ipb" | wc -l)" -eq "$ENDPOINTS_PER_PAIR"
	check "$label: $a <-> $b over TCP$ACCEL_NOTE" accelerated_tcp "$exec" "$a" "$b" "$ipa" "$ipb"
}

# pair_gone LABEL NET IPA IPB VETHA VETHB: after the containers' removal,
# nothing of their networking is left.
pair_gone() {
	local label=$1 net=$2 ipa=$3 ipb=$4 vetha=$5 vethb=$6
	check "$label: ... their veths are gone" no_links "$vetha" "$vethb"
	check "$label: ... their endpoint entries are gone" test -z "$(endpoints_of "$ipa" "$ipb")"
	check "$label: ... their leases are released (DEL reached host-local)" test -z "$(leases "$net")"
}

# podman_case MODE: containers ma, mb (main) or ca, cb (chained) on network
# sx${SX_ID}pm or sx${SX_ID}pc, through podman.
podman_case() {
	local mode=$1 net="sx${SX_ID}p${1:0:1}" a="${1:0:1}a" b="${1:0:1}b" sub
	local ipa ipb pida pidb cga nsa nsb vetha vethb
	sub=$(subnet podman "$mode")
	rt_conflist "$mode" "$sub" "$net" >"$PODMAN_CONF/$net.conflist"
	check "podman $mode: lists network $net" podman_has_net "$net"
	check "podman $mode: runs containers $a and $b" run_two podman_run_on "$net" "$a" "$b" "${SERVER[@]}"
	ipa=$(sx_podman_ip "$a") ipb=$(sx_podman_ip "$b")
	pida=$(sx_podman_pid "$a") pidb=$(sx_podman_pid "$b")
	cga=$(cg_of "$pida")
	check "podman $mode: container in cgroup v2 ${cga:0:30}... (below the test's, a child of the root)" \
		test "${cga%/libpod-*}" = "/sx$SX_ID/podman"
	nsa=$(sx_podman_netns "$a") nsb=$(sx_podman_netns "$b")
	check "podman $mode: made their network namespaces" test -e "$nsa" -a -e "$nsb"
	vetha=$(host_veth "$pida") vethb=$(host_veth "$pidb")
	pair_wired "podman $mode" "$net" "$sub" "$a" "$b" "$ipa" "$ipb" "$vetha" "$vethb" sx_podman_exec
	check "podman $mode: removes both containers" sx_podman_rm "$a" "$b"
	check "podman $mode: ... no container is left" test -z "$(sx_podman ps -aq)"
	pair_gone "podman $mode" "$net" "$ipa" "$ipb" "$vetha" "$vethb"
	check "podman $mode: ... their network namespaces are gone" test ! -e "$nsa" -a ! -e "$nsb"
	check "podman $mode: ... and podman's CNI cache entries" no_file "/var/lib/cni/results/$net-*"
}

# ctr_case MODE: the same through ctr, on network sx${SX_ID}cm or sx${SX_ID}cc.
ctr_case() {
	local mode=$1 net="sx${SX_ID}c${1:0:1}" a="${1:0:1}a" b="${1:0:1}b" sub conf cache
	local ipa ipb pida pidb cga vetha vethb
	sub=$(subnet ctr "$mode")
	conf="$SX_TMP/ctr-$net"
	mkdir -p "$conf"
	rt_conflist "$mode" "$sub" "$net" >"$conf/10-$net.conflist"
	check "ctr $mode: runs containers $a and $b with --cni" run_two ctr_run_on "$conf" "$a" "$b" "${SERVER[@]}"
	ipa=$(sx_ctr_ip "$a") ipb=$(sx_ctr_ip "$b")
	pida=$(sx_ctr_pid "$a") pidb=$(sx_ctr_pid "$b")
	cga=$(cg_of "$pida")
	check "ctr $mode: container in cgroup v2 $cga (below the test's, a child of the root)" \
		test "$cga" = "/sx$SX_ID/ctr/$a"
	cache="$SX_CTRD_DIR/varlib/cni/results"
	check "ctr $mode: cached the ADD results in its private /var/lib/cni" \
		test -e "$cache/$net-sx$SX_ID-sx$SX_ID-$a-eth0" -a -e "$cache/$net-sx$SX_ID-sx$SX_ID-$b-eth0"
	vetha=$(host_veth "$pida") vethb=$(host_veth "$pidb")
	pair_wired "ctr $mode" "$net" "$sub" "$a" "$b" "$ipa" "$ipb" "$vetha" "$vethb" sx_ctr_exec
	check "ctr $mode: removes both containers (its CNI DEL succeeds)" sx_ctr_rm "$a" "$b"
	check "ctr $mode: ... no container is left" test -z "$(sx_ctr containers ls -q)"
	pair_gone "ctr $mode" "$net" "$ipa" "$ipb" "$vetha" "$vethb"
	check "ctr $mode: ... and the CNI cache entries" no_file "$cache/$net-*"
}

sx_rt_setup
ACCEL_NOTE="" ENDPOINTS_PER_PAIR=0
if [[ $RT_CNI == sockvx ]]; then
	ACCEL_NOTE=", accelerated (SOCKHASH and sk_msg counters grow)" ENDPOINTS_PER_PAIR=2
fi
# sockvx must be loaded in the namespace its plugin runs in: the node's.
if [[ $RT_CNI == sockvx ]]; then
	sx_node "$SOCKVXCTL" load --pin-dir "$SX_PIN" --cgroup "$SX_CG" >/dev/null
fi
T0=$SECONDS
PODMAN_CONF="$SX_TMP/podman-net"
mkdir -p "$PODMAN_CONF"
sx_podman_setup "$PLUGINS" "$PODMAN_CONF"
for mode in $MODES; do podman_case "$mode"; done
T1=$SECONDS
check "containerd starts and imports the image" sx_containerd_start
for mode in $MODES; do ctr_case "$mode"; done
echo "# podman $((T1 - T0)) s, containerd $((SECONDS - T1)) s"
sx_done
