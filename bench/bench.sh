#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# netperf benchmark of sockvx's paths against the paths they replace, in one
# run, on simulated nodes (e2e/lib.sh, e2e/lib_flannel.sh):
#   same-node-accel  same node: socket acceleration vs plain veth routing
#   same-node-tc     same node: TC dataplane (acceleration off) vs plain veth routing
#   cross-node       across nodes: TC dataplane (acceleration off) vs Flannel-style
#                    bridge + kernel VXLAN
# Each case runs its two paths interleaved (A, B, then B, A, ...) and repeated;
# the report gives medians, spread (min-max) and the ratio against the targets.
#
#   bench/bench.sh [--quick] [--reps N] [--len SEC] [--out DIR] [--paths P,P...]
set -euo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/../e2e/lib_flannel.sh"

ALL_PATHS=same-node-accel,same-node-tc,cross-node
REPS=5
LEN=3
OUT=""
PATHS=$ALL_PATHS
while (($#)); do
	case $1 in
	--quick) REPS=3 LEN=1 ;;
	--reps) REPS=$2 && shift ;;
	--len) LEN=$2 && shift ;;
	--out) OUT=$2 && shift ;;
	--paths) PATHS=$2 && shift ;;
	-h | --help)
		sed -n '3,12p' "$0"
		exit 0
		;;
	*) sx_die "unknown option $1" ;;
	esac
	shift
done
[[ $REPS =~ ^[1-9][0-9]*$ && $LEN =~ ^[1-9][0-9]*$ ]] || sx_die "--reps and --len take positive integers"
[[ $PATHS == all ]] && PATHS=$ALL_PATHS
IFS=, read -r -a SELECTED <<<"$PATHS"
((${#SELECTED[@]})) || sx_die "--paths takes a comma-separated list of: $ALL_PATHS"
for p in "${SELECTED[@]}"; do
	[[ ,$ALL_PATHS, == *,"$p",* ]] || sx_die "unknown path '$p' (paths: $ALL_PATHS)"
done
want() { [[ ,$PATHS, == *,"$1",* ]]; }
for t in netperf netserver jq; do command -v $t >/dev/null || sx_die "$t is missing (run: sudo make deps)"; done
if want cross-node; then sx_fl_require; fi

# Each comparison: the baseline (A) and the candidate (B) it is measured against.
declare -A BASELINE=([same-node-accel]=plain [same-node-tc]=plain [cross-node]=flannel)
declare -A CANDIDATE=([same-node-accel]=accelerated [same-node-tc]=tc [cross-node]=tc)
declare -A TITLE=(
	[same-node-accel]="Same node: socket acceleration (accelerated) vs plain veth routing (plain)"
	[same-node-tc]="Same node: TC dataplane, acceleration off (tc) vs plain veth routing (plain)"
	[cross-node]="Across nodes: TC dataplane, acceleration off (tc) vs Flannel-style bridge + kernel VXLAN (flannel)"
)

# path|name|netperf test|test options|target ratio (B / A; "-": none, reported only)
CASES=(
	"same-node-accel|TCP_RR 1B|TCP_RR|-r 1,1|1.6"
	"same-node-accel|TCP_CRR|TCP_CRR|-r 1,1|1.1"
	"same-node-accel|TCP_STREAM 64B|TCP_STREAM|-m 64|1.0"
	"same-node-accel|TCP_STREAM 1KiB|TCP_STREAM|-m 1024|2.5"
	"same-node-accel|TCP_STREAM 16KiB|TCP_STREAM|-m 16384|1.0"
	"same-node-accel|TCP_STREAM 64KiB|TCP_STREAM|-m 65536|1.2"
	"same-node-tc|TCP_RR 1B|TCP_RR|-r 1,1|1.15"
	"same-node-tc|TCP_CRR|TCP_CRR|-r 1,1|-"
	"same-node-tc|TCP_STREAM 1KiB|TCP_STREAM|-m 1024|-"
	"same-node-tc|TCP_STREAM 64KiB|TCP_STREAM|-m 65536|-"
	"cross-node|TCP_RR 1B|TCP_RR|-r 1,1|1.1"
	"cross-node|TCP_CRR|TCP_CRR|-r 1,1|-"
	"cross-node|TCP_STREAM 1KiB|TCP_STREAM|-m 1024|1.0"
	"cross-node|TCP_STREAM 64KiB|TCP_STREAM|-m 65536|1.0"
)
FIELDS=THROUGHPUT,THROUGHPUT_UNITS,P50_LATENCY,P99_LATENCY,LOCAL_SD,LOCAL_CPU_UTIL

# --- the simulated machines ---------------------------------------------------
# Every fixture shares one set-up (cgroup, temporary directory, cleanup trap).
if want same-node-accel || want same-node-tc; then
	# Plain veth + host routes; sockvx loaded for socket acceleration only.
	sx_two_pod_node
	sx_netserver b
fi
if want same-node-tc || want cross-node; then
	# The TC dataplane, exactly as e2e/test_tc_dataplane.sh builds it, with
	# socket acceleration off on both nodes: only the tc programs are measured.
	sx_two_node_cluster
	sx_nctl 1 accel off >/dev/null
	sx_nctl 2 accel off >/dev/null
	if want same-node-tc; then sx_netserver n1b; fi
	if want cross-node; then sx_netserver n2a; fi
fi
if want cross-node; then
	sx_fl_two_node_cluster
	sx_netserver f2a
fi
OUT=${OUT:-$SX_TMP/out}
mkdir -p "$OUT"

# peer PATH MODE: the client pod and the server address of one path.
peer() {
	case $1/$2 in
	same-node-*/plain | same-node-accel/accelerated) echo "a $(sx_pod_ip 3)" ;;
	same-node-tc/tc) echo "n1a 10.244.1.3" ;;
	cross-node/tc) echo "n1a 10.244.2.2" ;;
	cross-node/flannel) echo "f1a $(sx_fl_pod_ip f2a)" ;;
	*) sx_die "no peer for $1/$2" ;;
	esac
}

# The first node's sockops program is attached to this run's cgroup, so it
# sees the sockets of every pod below it, and the cluster's node 1 reuses its
# pod addresses (10.244.1.2, .3). It must be on only for the accelerated runs,
# or it would accelerate what should go through the TC path or Flannel.
ACCEL=""
set_accel() {
	local want_state=off
	[[ $1 == accelerated ]] && want_state=on
	[[ -d $SX_PIN && $ACCEL != "$want_state" ]] || return 0
	sx_ctl accel "$want_state" >/dev/null
	ACCEL=$want_state
}

# measure PATH MODE CASE REP: one netperf run, appended to results.tsv.
# A run that fails or hangs is recorded with throughput 0 and unit "?".
measure() {
	local path=$1 mode=$2 rep=$4 name test opts target client server line
	IFS='|' read -r _ name test opts target <<<"$3"
	read -r client server <<<"$(peer "$path" "$mode")"
	set_accel "$mode"
	# shellcheck disable=SC2086 # opts holds several words
	line=$(sx_pod "$client" timeout $((LEN + 30)) netperf -H "$server" -t "$test" -l "$LEN" -P 0 -c -C \
		-- $opts -o "$FIELDS" 2>/dev/null | tail -1) || true
	[[ $line == *,* ]] || line="0,?,0,0,0,0"
	printf '%s\t%s\t%s\t%s\t%s\n' "$path" "$name" "$mode" "$rep" "$line" >>"$OUT/results.tsv"
}

# counters: the figures that prove each path took the path it is named after.
counters() {
	local c=() k
	if [[ -d $SX_PIN ]]; then c+=(--argjson redirected "$(sx_stat messages_redirected)"); fi
	if [[ -d $(sx_node_pin 1) ]]; then
		for k in tc_local_delivered tc_encapsulated sockets_inserted messages_redirected; do
			c+=(--argjson "n1_$k" "$(sx_nstat 1 "$k")")
		done
		for k in tc_decapsulated sockets_inserted messages_redirected; do
			c+=(--argjson "n2_$k" "$(sx_nstat 2 "$k")")
		done
	fi
	if want cross-node; then
		c+=(--argjson fl_tx "$(sx_fl_vxlan_packets 1 tx)" --argjson fl_rx "$(sx_fl_vxlan_packets 2 rx)")
	fi
	jq -n "${c[@]}" '$ARGS.named'
}

: >"$OUT/results.tsv"
load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$SECONDS
before=$(counters)
echo "# sockvx benchmark ($PATHS): $REPS interleaved repetitions of ${LEN}s per case (load before: $load)" >&2
for rep in $(seq 1 "$REPS"); do
	for c in "${CASES[@]}"; do
		path=${c%%|*}
		want "$path" || continue
		# Alternate which path goes first, so neither always runs on a warm cache.
		if ((rep % 2)); then
			order="${BASELINE[$path]} ${CANDIDATE[$path]}"
		else
			order="${CANDIDATE[$path]} ${BASELINE[$path]}"
		fi
		for mode in $order; do measure "$path" "$mode" "$c" "$rep"; done
	done
	echo "#   repetition $rep/$REPS done ($((SECONDS - start)) s)" >&2
done
after=$(counters)
elapsed=$((SECONDS - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# What each path must have done; a path that did not is reported and fails the run.
checks=$(jq -n --argjson b "$before" --argjson a "$after" --arg paths "$PATHS" '
	def d(k): ($a[k] // 0) - ($b[k] // 0);
	($paths | split(",")) as $p | {}
	| if $p | index("same-node-accel") then
		.["same-node-accel"] = { messages_redirected: d("redirected") } | .["same-node-accel"].ok = (d("redirected") > 0)
	  else . end
	| if $p | index("same-node-tc") then
		.["same-node-tc"] = { tc_local_delivered: d("n1_tc_local_delivered"),
			sockets_accelerated: (d("n1_sockets_inserted") + d("n1_messages_redirected")) }
		| .["same-node-tc"].ok = (.["same-node-tc"].tc_local_delivered > 0 and .["same-node-tc"].sockets_accelerated == 0)
	  else . end
	| if $p | index("cross-node") then
		.["cross-node"] = { tc_encapsulated: d("n1_tc_encapsulated"), tc_decapsulated: d("n2_tc_decapsulated"),
			sockets_accelerated: (d("n1_sockets_inserted") + d("n1_messages_redirected") + d("n2_sockets_inserted") + d("n2_messages_redirected")),
			flannel_vxlan_tx_packets: d("fl_tx"), flannel_vxlan_rx_packets: d("fl_rx") }
		| .["cross-node"] as $x
		| .["cross-node"].ok = ($x.tc_encapsulated > 0 and $x.tc_decapsulated > 0 and $x.sockets_accelerated == 0
			and $x.flannel_vxlan_tx_packets > 0 and $x.flannel_vxlan_rx_packets > 0)
	  else . end')

# Medians and spread per path, case and mode, then ratios, as JSON.
summary=$(for i in "${!CASES[@]}"; do
	IFS='|' read -r path name test opts target <<<"${CASES[$i]}"
	want "$path" || continue
	[[ $target == - ]] && target=null
	for mode in "${BASELINE[$path]}" "${CANDIDATE[$path]}"; do
		awk -F'\t' -v p="$path" -v n="$name" -v m="$mode" '$1 == p && $2 == n && $3 == m { split($5, f, ","); print f[1], f[3], f[4], f[5], f[2] }' \
			"$OUT/results.tsv" | sort -n -k1,1 | awk -v i="$i" -v p="$path" -v n="$name" -v m="$mode" -v t="$target" \
			-v base="${BASELINE[$path]}" -v cand="${CANDIDATE[$path]}" '
			{ v[NR] = $1; p50[NR] = $2; p99[NR] = $3; sd[NR] = $4; if ($5 != "?") unit = $5; else failed++ }
			function med(a, k,   i, j, s, tmp) { for (i = 1; i <= k; i++) s[i] = a[i]
				for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (s[j] < s[i]) { tmp = s[i]; s[i] = s[j]; s[j] = tmp }
				return k % 2 ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2 }
			END { printf "{\"order\":%d,\"path\":\"%s\",\"case\":\"%s\",\"mode\":\"%s\",\"baseline\":\"%s\",\"candidate\":\"%s\",\"target\":%s,\"unit\":\"%s\",\"median\":%s,\"min\":%s,\"max\":%s,\"p50_us\":%s,\"p99_us\":%s,\"sd\":%s,\"runs\":%d,\"failed\":%d}\n",
				i, p, n, m, base, cand, t, unit, med(v, NR), v[1], v[NR], med(p50, NR), med(p99, NR), med(sd, NR), NR, failed }'
	done
done | jq -s --arg load "$load" --arg load_after "$load_after" --arg kernel "$(uname -r)" \
	--arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --argjson cores "$(nproc)" \
	--argjson reps "$REPS" --argjson len "$LEN" --argjson elapsed "$elapsed" --arg paths "$PATHS" \
	--argjson checks "$checks" '
	{ machine: { kernel: $kernel, cpu: $cpu, cores: $cores, loadavg_before: $load, loadavg_after: $load_after },
	  method: { repetitions: $reps, seconds_per_run: $len, interleaved: true, paths: ($paths | split(",")),
		measuring_seconds: $elapsed },
	  messages_redirected: ($checks["same-node-accel"].messages_redirected // 0),
	  checks: $checks,
	  cases: (group_by(.order)
		| map(.[0] as $f | { path: $f.path, case: $f.case, target: $f.target, unit: (map(.unit) | max),
			baseline: $f.baseline, candidate: $f.candidate }
			+ (map({ key: .mode, value: (del(.order, .path, .case, .baseline, .candidate, .target, .mode)) }) | from_entries)
		| . + { ratio: (if .[.baseline].median > 0 then (.[.candidate].median / .[.baseline].median) else 0 end) }
		| . + { met: (if .target == null then null else (.ratio >= .target) end) })) }')
echo "$summary" >"$OUT/results.json"

{
	for path in "${SELECTED[@]}"; do
		b=${BASELINE[$path]} c=${CANDIDATE[$path]}
		echo "### $path: ${TITLE[$path]}"
		echo
		echo "| case | $b (median, min-max) | $c (median, min-max) | ratio | target | P99 µs $b → $c | CPU µs/unit $b → $c | |"
		echo "|---|---|---|---|---|---|---|---|"
		# Ratios are truncated to two decimals, not rounded: one shown as
		# 1.00x never sits next to NOT MET.
		jq -r --arg p "$path" 'def x2: "\(. / 100 | floor).\(. % 100 | tostring | if length < 2 then "0" + . else . end)x";
			.cases[] | select(.path == $p) | .[.baseline] as $a | .[.candidate] as $b |
			"| \(.case) | \($a.median) (\($a.min)-\($a.max)) \(.unit) | \($b.median) (\($b.min)-\($b.max)) | \(.ratio * 100 | floor | x2) | \(if .target == null then "—" else "≥ \(.target * 100 | round | x2)" end) | \($a.p99_us) → \($b.p99_us) | \($a.sd) → \($b.sd) | \(if .met == null then "" elif .met then "met" else "NOT MET" end)\(if $a.failed + $b.failed > 0 then " (\($a.failed + $b.failed) failed runs)" else "" end) |"' "$OUT/results.json"
		echo
	done
	jq -r '"machine: \(.machine.cpu), \(.machine.cores) cores, kernel \(.machine.kernel), load \(.machine.loadavg_before) before, \(.machine.loadavg_after) after; \(.method.repetitions) interleaved runs of \(.method.seconds_per_run) s per case, \(.method.measuring_seconds) s of measuring",
		"path checks: \(.checks | to_entries | map("\(.key) \(if .value.ok then "ok" else "FAILED" end) (\(.value | del(.ok) | to_entries | map("\(.key) \(.value)") | join(", ")))") | join("; "))"' "$OUT/results.json"
} | tee "$OUT/results.md"
[[ $OUT == "$SX_TMP/out" ]] || echo "results in $OUT (results.md, results.json, results.tsv)" >&2
if jq -e '[.checks[] | .ok] | all' "$OUT/results.json" >/dev/null; then exit 0; fi
echo "error: a path did not take the route it is named after (see path checks); its figures are not valid" >&2
exit 1
