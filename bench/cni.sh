#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pod set-up cost of the sockvx CNI plugin against the reference ptp plugin
# (containernetworking-plugins), side by side in one run, on one simulated node
# (e2e/lib.sh): both in main mode with the same host-local IPAM, cniVersion
# 1.0.0 (what Debian's host-local and ptp speak), invoked as a runtime invokes
# them, each call timed alone (spawn to exit) by the same small wrapper.
#   pair   ADD then DEL of a fresh pod, sockvx and ptp interleaved, repeated
#   churn  PODS pods added one after another, then all deleted; whole rounds
#          interleaved; after each round nothing may be left behind
# Leftovers (veths, leases, endpoint entries, records, namespaces) fail the run.
# Target: median ADD+DEL time of sockvx at most that of ptp (ratio <= 1.0x).
#
#   bench/cni.sh [--quick] [--reps N] [--pods N] [--rounds N] [--out DIR] [--profile]
#     --reps N    ADD/DEL pairs per plugin (default 30; --quick: 10)
#     --pods N    pods per churn round, at most 250 (default 100)
#     --rounds N  churn rounds per plugin (default 3; --quick: 1)
#     --out DIR   results.md, results.json, results.tsv (default: a new
#                 /tmp/sockvx-cnibench.* directory, printed at the end)
#     --profile   also one ADD and one DEL of each plugin under strace -f
#                 (syscall summary and timeline in DIR/profile/)
set -euo pipefail
source "$(dirname "$0")/../e2e/lib.sh"

REPS=30
PODS=100
ROUNDS=3
WARMUP=2
OUT=""
PROFILE=0
while (($#)); do
	case $1 in
	--quick) REPS=10 ROUNDS=1 ;;
	--reps) REPS=$2 && shift ;;
	--pods) PODS=$2 && shift ;;
	--rounds) ROUNDS=$2 && shift ;;
	--out) OUT=$2 && shift ;;
	--profile) PROFILE=1 ;;
	-h | --help)
		sed -n '3,21p' "$0"
		exit 0
		;;
	*) sx_die "unknown option $1" ;;
	esac
	shift
done
for v in "$REPS" "$PODS" "$ROUNDS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || sx_die "--reps, --pods and --rounds take positive integers"
done
# Each plugin gets one /24 from host-local (.1 is the gateway).
((PODS <= 250)) || sx_die "--pods: at most 250 (one /24 of addresses per plugin)"
PTP=/usr/lib/cni/ptp
for t in jq "$PTP" /usr/lib/cni/host-local; do
	command -v "$t" >/dev/null || sx_die "$t is missing (run: sudo make deps; ptp and host-local: apt-get install containernetworking-plugins)"
done
if ((PROFILE)); then command -v strace >/dev/null || sx_die "--profile needs strace"; fi
[[ -x $SOCKVX_CNI ]] || sx_die "$SOCKVX_CNI not built (run make)"
if [[ -n $OUT ]]; then mkdir -p "$OUT"; fi

sx_setup
# Pod namespaces are named sx$SX_ID-<plugin><n>: the lib removes its own
# namespaces, this removes whatever pod a failed run left, first.
cni_cleanup() {
	local rc=$? ns
	set +e
	for ns in $(ip netns list | awk -v p="sx${SX_ID}-" 'index($1, p) == 1 && $1 ~ /-(s|p)[0-9]+$/ { print $1 }'); do
		ip netns del "$ns"
	done
	(exit "$rc")
	sx_cleanup
}
trap cni_cleanup EXIT
sx_underlay_create
sx_cluster_node 1
PIN=$(sx_node_pin 1)
WORK="$SX_TMP/cni"
mkdir -p "$WORK/out"

# --- the timer ------------------------------------------------------------------
# cnitime PLUGIN: runs PLUGIN (environment and stdio inherited) and writes the
# nanoseconds from spawn to exit on fd 3; exits with PLUGIN's status. Everything
# around it (nsenter, env, this wrapper's own exec) is outside the timed span.
TIMER="$WORK/cnitime"
CC=${CC:-cc}
if command -v "$CC" >/dev/null && "$CC" -O2 -x c -o "$TIMER" - <<'EOF'; then
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv)
{
	struct timespec a, b;
	pid_t pid;
	int st;

	if (argc < 2)
		return 125;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ))
		return 126;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 126;
	clock_gettime(CLOCK_MONOTONIC, &b);
	dprintf(3, "%lld\n", (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
EOF
	TIMER_KIND="posix_spawn to waitpid, CLOCK_MONOTONIC (compiled wrapper)"
else
	# Without a compiler: bash's microsecond clock around fork, exec and wait.
	# shellcheck disable=SC2016 # expanded by the inner bash
	printf '%s\n' '#!/usr/bin/env bash' 't0=${EPOCHREALTIME/./}' '"$@"' 'rc=$?' \
		't1=${EPOCHREALTIME/./}' 'echo "$(((t1 - t0) * 1000))" >&3' 'exit $rc' >"$TIMER"
	chmod +x "$TIMER"
	TIMER_KIND="bash fork/exec/wait, EPOCHREALTIME (microseconds; no working C compiler $CC)"
fi

# --- the two networks -----------------------------------------------------------
PLUGINS=(sockvx ptp)
declare -A BIN=([sockvx]=$SOCKVX_CNI [ptp]=$PTP)
declare -A NET=([sockvx]="sx${SX_ID}sx" [ptp]="sx${SX_ID}ptp")
declare -A SUBNET=([sockvx]=10.244.1.0/24 [ptp]=10.245.1.0/24)
declare -A IPAMDIR=([sockvx]="$WORK/ipam-sockvx" [ptp]="$WORK/ipam-ptp")
declare -A CONF=([sockvx]="$WORK/sockvx.json" [ptp]="$WORK/ptp.json")
declare -A TAG=([sockvx]=s [ptp]=p)
DATADIR="$WORK/data"
jq -nc --arg net "${NET[sockvx]}" --arg pin "$PIN" --arg data "$DATADIR" --arg ipam "${IPAMDIR[sockvx]}" \
	--arg subnet "${SUBNET[sockvx]}" '{cniVersion: "1.0.0", name: $net, type: "sockvx", pinDir: $pin,
	dataDir: $data, ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $subnet}]]}}' >"${CONF[sockvx]}"
jq -nc --arg net "${NET[ptp]}" --arg ipam "${IPAMDIR[ptp]}" --arg subnet "${SUBNET[ptp]}" \
	'{cniVersion: "1.0.0", name: $net, type: "ptp",
	ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $subnet}]]}}' >"${CONF[ptp]}"

# invoke PLUGIN VERB POD: one timed call of PLUGIN for pod namespace POD, in the
# node's namespace, as a runtime makes it; prints the nanoseconds. The result
# is in $WORK/result.json; a failing call ends the run with the plugin's error.
invoke() {
	local p=$1 verb=$2 pod=$3 ns
	if ! ns=$(sx_on 1 env CNI_COMMAND="$verb" CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$pod" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$TIMER" "${BIN[$p]}" \
		<"${CONF[$p]}" 3>&1 >"$WORK/result.json" 2>>"$WORK/stderr"); then
		sx_die "$p $verb of pod $pod failed: $(cat "$WORK/result.json")"$'\n'"$(tail -3 "$WORK/stderr")"
	fi
	if [[ $verb == ADD ]] && ! jq -e '.ips[0].address' "$WORK/result.json" >/dev/null 2>&1; then
		sx_die "$p ADD of pod $pod gave no address: $(cat "$WORK/result.json")"
	fi
	echo "$ns"
}

# pod_name PLUGIN N: the namespace (and container ID) of PLUGIN's pod N.
pod_name() { echo "sx${SX_ID}-${TAG[$1]}$2"; }
# pods_create PLUGIN FIRST LAST, pods_delete PLUGIN FIRST LAST: pod namespaces.
pods_create() {
	local i
	for ((i = $2; i <= $3; i++)); do ip netns add "$(pod_name "$1" "$i")"; done
}
pods_delete() {
	local i
	for ((i = $2; i <= $3; i++)); do ip netns del "$(pod_name "$1" "$i")"; done
}
# The kernel tears deleted namespaces down in the background, holding the
# rtnl lock and waiting for RCU grace periods: timed calls must not overlap
# that, so pod namespaces come and go in batches between the timed phases,
# then this waits (100 empty namespaces go in well under 0.3 s).
settle() { sleep 0.5; }

# leftovers PLUGIN: what PLUGIN's pods left in the node once all were deleted;
# nothing printed when nothing is left. Run before the namespaces go, which
# would take a leaked veth along with them.
leftovers() {
	local p=$1 n
	n=$(sx_on 1 ip -j link show type veth | jq -r '[.[].ifname | select(. != "ul0")] | join(" ")')
	[[ -z $n ]] || echo "host veths in the node namespace: $n"
	n=$(find "${IPAMDIR[$p]}/${NET[$p]}" -maxdepth 1 -type f ! -name lock ! -name 'last_reserved_ip.*' \
		-printf '%f ' 2>/dev/null || true)
	[[ -z $n ]] || echo "host-local leases: $n"
	n=$(sx_on 1 ip -j route show | jq -r --arg a "${SUBNET[$p]%.*}." \
		'[.[] | select(.dst | startswith($a)) | .dst] | join(" ")')
	[[ -z $n ]] || echo "routes to pod addresses: $n"
	if [[ $p == sockvx ]]; then
		n=$(sx_nctl 1 endpoint list --json | jq -r '[.[].ip] | join(" ")')
		[[ -z $n ]] || echo "sockvx endpoint entries: $n"
		n=$(find "$DATADIR/${NET[$p]}" -maxdepth 1 -type f -printf '%f ' 2>/dev/null || true)
		[[ -z $n ]] || echo "sockvx records in $DATADIR/${NET[$p]}: $n"
	fi
}
# check_clean PLUGIN WHEN: fails the run on any leftover.
check_clean() {
	local left
	left=$(leftovers "$1")
	[[ -z $left ]] || sx_die "$1 left things behind after $2:"$'\n'"$left"
}
# check_no_pods WHEN: the pods' namespaces are gone.
check_no_pods() {
	local left
	left=$(ip netns list | awk -v p="sx${SX_ID}-" 'index($1, p) == 1 && $1 ~ /-(s|p)[0-9]+$/ { printf "%s ", $1 }')
	[[ -z $left ]] || sx_die "pod namespaces left after $1: $left"
}

TSV="$WORK/out/results.tsv"
: >"$TSV"
# record PHASE PLUGIN ROUND POD VERB NS
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; }

# pair PLUGIN N [PHASE]: ADD then DEL of pod N (its namespace made beforehand).
pair() {
	local p=$1 n=$2 pod add del
	pod=$(pod_name "$p" "$n")
	add=$(invoke "$p" ADD "$pod")
	del=$(invoke "$p" DEL "$pod")
	if [[ -n ${3:-} ]]; then
		record "$3" "$p" "$n" "$n" ADD "$add"
		record "$3" "$p" "$n" "$n" DEL "$del"
	fi
}

# churn PLUGIN ROUND: PODS pods added one after another, then deleted in the same order.
churn() {
	local p=$1 r=$2 i t
	pods_create "$p" 1 "$PODS"
	settle
	for verb in ADD DEL; do
		for ((i = 1; i <= PODS; i++)); do
			t=$(invoke "$p" "$verb" "$(pod_name "$p" "$i")")
			record churn "$p" "$r" "$i" "$verb" "$t"
		done
	done
	check_clean "$p" "churn round $r"
	pods_delete "$p" 1 "$PODS"
	check_no_pods "$p churn round $r"
	settle
}

# order I: the two plugins, the first one alternating with I.
order() { if (($1 % 2)); then echo "sockvx ptp"; else echo "ptp sockvx"; fi; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$SECONDS
echo "# CNI pod set-up: sockvx vs ptp, host-local IPAM, cniVersion 1.0.0 (load before: $load)" >&2
# Warm-up pairs (not recorded): page cache, the data and lease directories,
# first-use paths. Pod N of the warm-up is 1000 + N.
for p in "${PLUGINS[@]}"; do
	pods_create "$p" 1001 $((1000 + WARMUP))
	pods_create "$p" 1 "$REPS"
done
settle
for ((i = 1; i <= WARMUP; i++)); do
	for p in $(order "$i"); do pair "$p" $((1000 + i)); done
done
for ((i = 1; i <= REPS; i++)); do
	for p in $(order "$i"); do pair "$p" "$i" pair; done
done
for p in "${PLUGINS[@]}"; do
	check_clean "$p" "$REPS ADD/DEL pairs"
	pods_delete "$p" 1001 $((1000 + WARMUP))
	pods_delete "$p" 1 "$REPS"
done
check_no_pods "the ADD/DEL pairs"
settle
echo "#   $REPS interleaved ADD/DEL pairs per plugin done ($((SECONDS - start)) s)" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	for p in $(order "$r"); do churn "$p" "$r"; done
	echo "#   churn round $r/$ROUNDS ($PODS pods per plugin) done ($((SECONDS - start)) s)" >&2
done
elapsed=$((SECONDS - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- optional profile: one ADD and one DEL of each plugin under strace -----------
# strace -f follows the plugin into host-local; it slows every call down (about
# 2x), so these files show where the time goes, not how much there is of it.
# profile PLUGIN VERB POD KIND STRACE-ARGS...
profile() {
	local p=$1 verb=$2 pod=$3 kind=$4
	shift 4
	sx_on 1 env CNI_COMMAND="$verb" CNI_CONTAINERID="$pod" CNI_NETNS="/run/netns/$pod" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni strace -f "$@" -o "$WORK/out/profile/$p-$verb-$kind.txt" \
		"${BIN[$p]}" <"${CONF[$p]}" >"$WORK/result.json" 2>>"$WORK/stderr" ||
		sx_die "$p $verb under strace failed: $(cat "$WORK/result.json")"
}
if ((PROFILE)); then
	mkdir -p "$WORK/out/profile"
	for p in "${PLUGINS[@]}"; do
		pod=$(pod_name "$p" 9999)
		ip netns add "$pod"
		# The syscall summary (wall-clock time per call, children included),
		# then the timeline: which process, which call, when, how long.
		for verb in ADD DEL; do profile "$p" "$verb" "$pod" summary -c -w; done
		for verb in ADD DEL; do profile "$p" "$verb" "$pod" trace -tt -T; done
		check_clean "$p" "the profile"
		ip netns del "$pod"
	done
fi

# --- the report -------------------------------------------------------------------
jq -R -s --arg load "$load" --arg load_after "$load_after" --arg kernel "$(uname -r)" \
	--arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --argjson cores "$(nproc)" \
	--argjson reps "$REPS" --argjson pods "$PODS" --argjson rounds "$ROUNDS" --argjson warmup "$WARMUP" \
	--argjson elapsed "$elapsed" --arg timer "$TIMER_KIND" --arg sockvx "$SOCKVX_CNI" --arg ptp "$PTP" \
	--arg ptp_version "$(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo unknown)" '
	def ms: . / 1e4 | round / 100;          # nanoseconds to milliseconds, 2 decimals
	def s: . / 1e6 | round / 1000;          # nanoseconds to seconds, 3 decimals
	def q($p): sort as $s | ((($s | length) - 1) * $p) as $i | ($i | floor) as $lo | ($i | ceil) as $hi
		| $s[$lo] + ($s[$hi] - $s[$lo]) * ($i - $lo);
	def stats: { median: (q(0.5) | ms), p10: (q(0.1) | ms), p90: (q(0.9) | ms),
		min: (min | ms), max: (max | ms), runs: length };
	split("\n") | map(select(length > 0) | split("\t")
		| { phase: .[0], plugin: .[1], round: (.[2] | tonumber), pod: (.[3] | tonumber), verb: .[4], ns: (.[5] | tonumber) })
	| . as $rows
	| def prows($p): [$rows[] | select(.phase == "pair" and .plugin == $p)];
	  def sums($p): prows($p) | group_by(.round) | map(map(.ns) | add);
	  def verb($p; $v): [prows($p)[] | select(.verb == $v) | .ns];
	  def case($name; get; $target):
		{ case: $name, unit: "ms", target: $target, ptp: ("ptp" | get | stats), sockvx: ("sockvx" | get | stats) }
		| . + { ratio: (.sockvx.median / .ptp.median * 1000 | round / 1000) }
		| . + { met: (if $target == null then null else .ratio <= $target end) };
	  def churn($p): [$rows[] | select(.phase == "churn" and .plugin == $p)] | group_by(.round)
		| map({ round: .[0].round, add_s: (map(select(.verb == "ADD") | .ns) | add | s),
			del_s: (map(select(.verb == "DEL") | .ns) | add | s), total_s: (map(.ns) | add | s),
			total_ns: (map(.ns) | add),
			add_first10_ms: (map(select(.verb == "ADD" and .pod <= 10) | .ns) | add / length | ms),
			add_last10_ms: (map(select(.verb == "ADD" and .pod > $pods - 10) | .ns) | add / length | ms) });
	  def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	  def csum: { add_s: (map(.add_s) | med), del_s: (map(.del_s) | med), total_s: (map(.total_s) | med),
		per_pod_ms: (map(.total_ns) | med / $pods | ms), rounds: map(del(.total_ns)) };
	{ machine: { kernel: $kernel, cpu: $cpu, cores: $cores, loadavg_before: $load, loadavg_after: $load_after },
	  method: { cni_version: "1.0.0", ipam: "host-local", repetitions: $reps, warmup_pairs: $warmup,
		interleaved: true, churn_pods: $pods, churn_rounds: $rounds, timer: $timer,
		plugins: { sockvx: $sockvx, ptp: ($ptp + " (containernetworking-plugins " + $ptp_version + ")") },
		measuring_seconds: $elapsed },
	  cases: [ case("ADD+DEL"; sums(.); 1.0), case("ADD"; verb(.; "ADD"); null), case("DEL"; verb(.; "DEL"); null) ],
	  churn: ({ pods: $pods, ptp: (churn("ptp") | csum), sockvx: (churn("sockvx") | csum) }
		| . + { ratio: (.sockvx.total_s / .ptp.total_s * 1000 | round / 1000) }),
	  leftovers: "none" }
	| . + { target: { case: "ADD+DEL", max_ratio: 1.0, ratio: .cases[0].ratio, met: .cases[0].met } }' \
	"$TSV" >"$WORK/out/results.json"

{
	echo "### CNI pod set-up: sockvx vs ptp (host-local IPAM, cniVersion 1.0.0), ms per call"
	echo
	echo "| case | ptp median (p10-p90) | sockvx median (p10-p90) | ratio sockvx/ptp | target | |"
	echo "|---|---|---|---|---|---|"
	# Ratios are rounded up to two decimals: one shown as 1.00x never sits next to NOT met.
	jq -r 'def x2: "\(. / 100 | floor).\(. % 100 | tostring | if length < 2 then "0" + . else . end)x";
		.cases[] | .ptp as $a | .sockvx as $b |
		"| \(.case) | \($a.median) (\($a.p10)-\($a.p90)) | \($b.median) (\($b.p10)-\($b.p90)) | \(.ratio * 100 | ceil | x2) | \(if .target == null then "—" else "≤ \(.target * 100 | round | x2)" end) | \(if .met == null then "" elif .met then "met" else "NOT met" end) |"' \
		"$WORK/out/results.json"
	echo
	jq -r '"### Churn: \(.churn.pods) pods added one after another, then deleted (median of \(.method.churn_rounds) round(s)), s",
		"",
		"| plugin | ADD total | DEL total | ADD+DEL total | ms per pod | ADD ms, first 10 → last 10 pods | rounds (total s) | leftovers |",
		"|---|---|---|---|---|---|---|---|",
		(.churn as $c | ("ptp", "sockvx") | . as $p | $c[$p] |
		"| \($p) | \(.add_s) | \(.del_s) | \(.total_s) | \(.per_pod_ms) | \(.rounds | map("\(.add_first10_ms) → \(.add_last10_ms)") | join(", ")) | \(.rounds | map(.total_s | tostring) | join(", ")) | none |"),
		"",
		"churn sockvx/ptp: \(.churn.ratio)x",
		"machine: \(.machine.cpu), \(.machine.cores) cores, kernel \(.machine.kernel), load \(.machine.loadavg_before) before, \(.machine.loadavg_after) after; \(.method.repetitions) interleaved ADD/DEL pairs per plugin after \(.method.warmup_pairs) warm-up pairs, \(.method.measuring_seconds) s of measuring; timer: \(.method.timer)",
		"plugins: sockvx \(.method.plugins.sockvx); ptp \(.method.plugins.ptp)",
		"",
		"ADD+DEL sockvx/ptp ≤ 1.0x: \(if .target.met then "met" else "NOT met" end)"' "$WORK/out/results.json"
} | tee "$WORK/out/results.md"

if [[ -z $OUT ]]; then OUT=$(mktemp -d /tmp/sockvx-cnibench.XXXXXX); fi
cp -r "$WORK/out/." "$OUT/"
if ((PROFILE)); then
	echo "results in $OUT (results.md, results.json, results.tsv, profile/)" >&2
else
	echo "results in $OUT (results.md, results.json, results.tsv)" >&2
fi
