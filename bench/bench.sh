#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Same-node benchmark: two pods on one simulated node, netperf between them,
# socket acceleration off (the plain veth path) versus on, in one run.
# Runs are interleaved (plain, accelerated, plain, ...) and repeated; the
# report gives medians, spread (min-max) and the ratio against the targets.
#
#   bench/bench.sh [--quick] [--reps N] [--len SEC] [--out DIR]
set -euo pipefail
source "$(dirname "$0")/../e2e/lib.sh"

REPS=5
LEN=3
OUT=""
while (($#)); do
	case $1 in
	--quick) REPS=3 LEN=1 ;;
	--reps) REPS=$2 && shift ;;
	--len) LEN=$2 && shift ;;
	--out) OUT=$2 && shift ;;
	-h | --help)
		sed -n '2,9p' "$0"
		exit 0
		;;
	*) sx_die "unknown option $1" ;;
	esac
	shift
done
[[ $REPS =~ ^[1-9][0-9]*$ && $LEN =~ ^[1-9][0-9]*$ ]] || sx_die "--reps and --len take positive integers"
for t in netperf netserver jq; do command -v $t >/dev/null || sx_die "$t is missing (run: sudo make deps)"; done

sx_two_pod_node
OUT=${OUT:-$SX_TMP/out}
mkdir -p "$OUT"
sx_netserver b
B=$(sx_pod_ip 3)

# name|netperf test|test options|target ratio (accelerated / plain)
CASES=(
	"TCP_RR 1B|TCP_RR|-r 1,1|1.6"
	"TCP_CRR|TCP_CRR|-r 1,1|1.1"
	"TCP_STREAM 64B|TCP_STREAM|-m 64|1.0"
	"TCP_STREAM 1KiB|TCP_STREAM|-m 1024|2.5"
	"TCP_STREAM 16KiB|TCP_STREAM|-m 16384|1.0"
	"TCP_STREAM 64KiB|TCP_STREAM|-m 65536|1.2"
)
FIELDS=THROUGHPUT,THROUGHPUT_UNITS,P50_LATENCY,P99_LATENCY,LOCAL_SD,LOCAL_CPU_UTIL

# measure MODE CASE REP: one netperf run, appended to results.tsv.
measure() {
	local mode=$1 name test opts target line
	IFS='|' read -r name test opts target <<<"$2"
	[[ $mode == accelerated ]] && sx_ctl accel on >/dev/null || sx_ctl accel off >/dev/null
	# shellcheck disable=SC2086
	line=$(sx_pod a netperf -H "$B" -t "$test" -l "$LEN" -P 0 -c -C -- $opts -o "$FIELDS" 2>/dev/null | tail -1)
	[[ $line == *,* ]] || line="0,?,0,0,0,0"
	printf '%s\t%s\t%s\t%s\n' "$name" "$mode" "$3" "$line" >>"$OUT/results.tsv"
}

: >"$OUT/results.tsv"
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# sockvx same-node benchmark: $REPS interleaved repetitions of ${LEN}s per case (load before: $load)" >&2
for rep in $(seq 1 "$REPS"); do
	for c in "${CASES[@]}"; do
		# Alternate which path goes first, so neither always runs on a warm cache.
		if ((rep % 2)); then order="plain accelerated"; else order="accelerated plain"; fi
		for mode in $order; do measure "$mode" "$c" "$rep"; done
	done
	echo "#   repetition $rep/$REPS done" >&2
done
sx_ctl accel on >/dev/null
redirected=$(sx_stat messages_redirected)

# Medians and spread per case and mode, then ratios, as JSON.
summary=$(for c in "${CASES[@]}"; do
	IFS='|' read -r name test opts target <<<"$c"
	for mode in plain accelerated; do
		awk -F'\t' -v n="$name" -v m="$mode" '$1 == n && $2 == m { split($4, f, ","); print f[1], f[3], f[4], f[5], f[2] }' \
			"$OUT/results.tsv" | sort -n -k1,1 | awk -v n="$name" -v m="$mode" -v t="$target" '
			{ v[NR] = $1; p50[NR] = $2; p99[NR] = $3; sd[NR] = $4; unit = $5 }
			function med(a, k,   i, j, s, tmp) { for (i = 1; i <= k; i++) s[i] = a[i]
				for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (s[j] < s[i]) { tmp = s[i]; s[i] = s[j]; s[j] = tmp }
				return k % 2 ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2 }
			END { printf "{\"case\":\"%s\",\"mode\":\"%s\",\"target\":%s,\"unit\":\"%s\",\"median\":%s,\"min\":%s,\"max\":%s,\"p50_us\":%s,\"p99_us\":%s,\"sd\":%s,\"runs\":%d}\n",
				n, m, t, unit, med(v, NR), v[1], v[NR], med(p50, NR), med(p99, NR), med(sd, NR), NR }'
	done
done | jq -s --arg load "$load" --arg kernel "$(uname -r)" --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
	--argjson cores "$(nproc)" --argjson reps "$REPS" --argjson len "$LEN" --argjson redirected "$redirected" '
	{ machine: { kernel: $kernel, cpu: $cpu, cores: $cores, loadavg_before: $load },
	  method: { repetitions: $reps, seconds_per_run: $len, interleaved: true },
	  messages_redirected: $redirected,
	  cases: (group_by(.case) | map({ case: .[0].case, target: .[0].target, unit: .[0].unit,
		plain: (map(select(.mode == "plain"))[0]), accelerated: (map(select(.mode == "accelerated"))[0]) }
		| . + { ratio: (if .plain.median > 0 then (.accelerated.median / .plain.median) else 0 end) }
		| . + { met: (.ratio >= .target) })) }')
echo "$summary" >"$OUT/results.json"

{
	echo "| case | plain (median, min-max) | accelerated (median, min-max) | ratio | target | P99 µs plain → accel | CPU µs/unit plain → accel | |"
	echo "|---|---|---|---|---|---|---|---|"
	jq -r '.cases[] | "| \(.case) | \(.plain.median) (\(.plain.min)-\(.plain.max)) \(.unit) | \(.accelerated.median) (\(.accelerated.min)-\(.accelerated.max)) | \(.ratio * 100 | round / 100)x | ≥ \(.target)x | \(.plain.p99_us) → \(.accelerated.p99_us) | \(.plain.sd) → \(.accelerated.sd) | \(if .met then "met" else "NOT MET" end) |"' "$OUT/results.json"
	echo
	jq -r '"machine: \(.machine.cpu), \(.machine.cores) cores, kernel \(.machine.kernel), load before \(.machine.loadavg_before); \(.method.repetitions) interleaved runs of \(.method.seconds_per_run) s per case; \(.messages_redirected) messages redirected"' "$OUT/results.json"
} | tee "$OUT/results.md"
[[ $OUT == "$SX_TMP/out" ]] || echo "results in $OUT (results.md, results.json, results.tsv)" >&2
