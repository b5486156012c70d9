#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The report of bench/bench.sh: results.json (for machines) from
# results.tsv, report.md (for people: absolute figures, ratios between paths,
# the targets met or not) and the gnuplot charts.

# The comparisons: candidate path, baseline path, test, metric (value: the
# throughput or rate, higher is better; p99 and cpu: lower is better), and the
# target for the ratio candidate / baseline ("ge X", "le X" or "-": reported only).
# The targets are those of the sockvx issues; see docs/benchmarks.md.
BENCH_COMPARISONS="
accel plain rr1 value ge 1.6
accel plain rr1-1cpu value -
accel plain rr1-2cpu value -
accel plain rr1k value ge 1.6
accel plain crr value ge 1.1
accel plain s64 value ge 1.0
accel plain s64nd value -
accel plain s1k value ge 2.5
accel plain s16k value ge 1.0
accel plain s64k value ge 1.2
accel plain rr1 cpu le 0.7
accel plain rr1 p99 le 0.7
accel plain pp64 p99 le 0.7
accel plain crr cpu -
accel plain par4 value -
accel plain par16 value -
accel unix s64 value ge 0.75
accel unix s1k value ge 0.75
accel unix s16k value ge 0.75
accel unix s64k value ge 0.75
accel unix rr1 value -
unix plain rr1 value -
accel loopback rr1 value ge 1.0
accel loopback rr1k value ge 1.0
accel loopback crr value -
accel loopback s64k value -
tc-same plain rr1 value ge 1.15
tc-same plain rr1-1cpu value -
tc-same plain rr1-2cpu value -
tc-same plain crr value -
tc-same plain s1k value -
tc-same plain s64k value -
tc-same plain pp64 p99 -
tc-same flannel-same rr1 value -
tc-same flannel-same crr value -
tc-same flannel-same s1k value -
tc-same flannel-same s64k value -
tc-cross flannel-cross rr1 value ge 1.1
tc-cross flannel-cross rr1-1cpu value -
tc-cross flannel-cross rr1-2cpu value -
tc-cross flannel-cross rr1k value -
tc-cross flannel-cross crr value -
tc-cross flannel-cross s64 value ge 1.0
tc-cross flannel-cross s1k value ge 1.0
tc-cross flannel-cross s16k value ge 1.0
tc-cross flannel-cross s64k value ge 1.0
tc-cross flannel-cross par4 value -
tc-cross flannel-cross par16 value -
tc-cross flannel-cross pp64 p99 -
loaded empty crr@empty value -
loaded empty rr1@empty value -
loaded empty crr@endpoints value -
loaded empty rr1@endpoints value -
loaded empty crr@held value ge 0.95
loaded empty rr1@held value -
"

# bench_summary: results.json from results.tsv and scale.jsonl.
bench_summary() {
	local labels scale='[]'
	labels=$(for t in "${!TEST_LABEL[@]}"; do printf '%s\t%s\n' "$t" "${TEST_LABEL[$t]}"; done |
		jq -R -s 'split("\n") | map(select(length > 0) | split("\t") | {key: .[0], value: .[1]}) | from_entries')
	[[ -s $OUT/scale.jsonl ]] && scale=$(jq -s . "$OUT/scale.jsonl")
	jq -R -s --argjson labels "$labels" --arg comparisons "$BENCH_COMPARISONS" --argjson scale "$scale" \
		--arg kernel "$(uname -r)" --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
		--argjson cores "$(nproc)" --arg mem "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
		--arg netperf "$(netperf -V 2>&1 | awk '{ print $NF; exit }')" \
		--arg load_before "$LOAD_BEFORE" --arg load_after "$LOAD_AFTER" --argjson reps "$REPS" --argjson len "$LEN" \
		--argjson measuring "$MEASURING" --arg paths "$MODES_ARG" --arg tests "$TESTS_ARG" \
		--argjson hold "$HOLD" --argjson endpoints "$ENDPOINTS" --argjson idle "$IDLE" '
	def med: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def num: if . == "-" then null else tonumber end;
	def tlabel: split("@") as $t | $labels[$t[0]] + (if $t[1] then " (\($t[1]))" else "" end);
	split("\n") | map(select(length > 0) | split("\t")
		| {test: .[0], mode: .[1], rep: (.[2] | tonumber), value: (.[3] | tonumber), unit: .[4],
		   p50: (.[5] | num), p99: (.[6] | num), cpu: (.[7] | num), p999: (.[8] | num), check: .[9]}) as $runs
	| ($runs | group_by([.test, .mode]) | map(
		(map(select(.unit != "?"))) as $ok
		| {test: .[0].test, label: (.[0].test | tlabel), mode: .[0].mode, unit: ($ok[0].unit // "?"),
		   median: ($ok | map(.value) | med), min: ($ok | map(.value) | min), max: ($ok | map(.value) | max),
		   p50_us: ($ok | map(.p50 // empty) | med), p99_us: ($ok | map(.p99 // empty) | med),
		   p999_us: ($ok | map(.p999 // empty) | med), cpu: ($ok | map(.cpu // empty) | med),
		   runs: length, failed: (length - ($ok | length))})) as $results
	| ($results | map({key: "\(.test)|\(.mode)", value: .}) | from_entries) as $r
	| {
		machine: {kernel: $kernel, cpu: $cpu, cores: $cores, memory: $mem, netperf: $netperf,
			loadavg_before: $load_before, loadavg_after: $load_after, cpuidle: $idle},
		method: {repetitions: $reps, seconds_per_run: $len, interleaved: true, paths: ($paths | split(",")),
			tests: ($tests | split(",")), held_connections: $hold, extra_endpoints: $endpoints,
			measuring_seconds: $measuring},
		checks: ($runs | group_by(.mode) | map({path: .[0].mode, runs: length,
			failed: map(select(.check != "ok")) | length} | .ok = (.failed == 0))),
		results: $results,
		comparisons: [$comparisons | split("\n")[] | select(length > 0) | split(" ")
			| {candidate: .[0], baseline: .[1], test: .[2], label: (.[2] | tlabel), metric: .[3],
			   op: (if .[4] == "-" then null else .[4] end), target: (if .[4] == "-" then null else (.[5] | tonumber) end)}
			| ($r["\(.test)|\(.candidate)"]) as $c | ($r["\(.test)|\(.baseline)"]) as $b
			| select($c != null and $b != null)
			| ({value: "median", p99: "p99_us", cpu: "cpu"}[.metric]) as $f
			| .candidate_value = $c[$f] | .baseline_value = $b[$f] | .unit = $c.unit
			| .ratio = (if (.baseline_value // 0) > 0 and .candidate_value != null
				then .candidate_value / .baseline_value else null end)
			| .met = (if .target == null or .ratio == null then null
				elif .op == "ge" then .ratio >= .target else .ratio <= .target end)],
		scale: $scale
	}' "$OUT/results.tsv"
}

# jq helpers for the markdown: numbers with three significant digits and
# thousands separators; ratios truncated, not rounded, to two decimals, so a
# ratio shown as 1.00x never sits next to "not met" for a target of 1.0.
BENCH_JQ_FMT='
def commas: tostring | if test("^[0-9]{4,}") then capture("^(?<a>[0-9]+)(?<b>.*)$")
	| (.a | explode | reverse | [recurse(.[3:]; length > 0) | .[:3]] | map(reverse | implode) | reverse | join(",")) + .b
	else . end;
def n: if . == null then "—" elif . >= 100 then (round | commas) elif . >= 10 then (. * 10 | round / 10 | tostring)
	else (. * 100 | round / 100 | tostring) end;
def x2: if . == null then "—" else (. * 100 + 1e-9 | floor) as $v
	| "\($v / 100 | floor).\($v % 100 | tostring | if length < 2 then "0" + . else . end)x" end;
def metric: {value: "", p99: "P99 latency", cpu: "CPU per unit"}[.];
def verdict: if .met == null then "" elif .met then "met" else "**NOT MET**" end;
def target: if .target == null then "—" else "\(if .op == "ge" then "≥" else "≤" end) \(.target * 100 | round / 100 | x2)" end;
def unit: {"10^6bits/s": "Mbit/s", "Trans/s": "trans/s", "usec": "µs (mean, one way)"}[.] // .;
'

# bench_report: report.md from results.json.
bench_report() {
	local json=$OUT/results.json
	echo "## sockvx benchmark"
	echo
	jq -r "$BENCH_JQ_FMT"'
		"Machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.memory), kernel \(.machine.kernel), netperf \(.machine.netperf); load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after; idle vCPUs \(.machine.cpuidle | if .halt_poll_ns == null then "use cpuidle driver \(.driver)" elif .halt_poll_ns == 0 then "halt at once (haltpoll, no polling)" else "poll \(.halt_poll_ns / 1000) µs before halting (haltpoll)" end). Method: \(.method.repetitions) interleaved repetitions of \(.method.seconds_per_run) s per case, \(.method.measuring_seconds) s of measuring."' "$json"
	echo
	echo "### Targets (ratio candidate / baseline of the medians, same run)"
	echo
	echo "| candidate vs baseline | case | measured | target | |"
	echo "|---|---|---|---|---|"
	jq -r "$BENCH_JQ_FMT"'.comparisons[] | select(.target != null)
		| "| \(.candidate) vs \(.baseline) | \(.label)\(if .metric == "value" then "" else ", \(.metric | metric)" end) | \(.ratio | x2) | \(target) | \(verdict) |"' "$json"
	echo
	echo "### Ratios between paths"
	echo
	echo "| candidate vs baseline | case | baseline | candidate | ratio | target | |"
	echo "|---|---|---|---|---|---|---|"
	jq -r "$BENCH_JQ_FMT"'.comparisons[]
		| (if .metric == "value" then .unit elif .metric == "p99" then "µs" else "µs CPU" end) as $u
		| "| \(.candidate) vs \(.baseline) | \(.label)\(if .metric == "value" then "" else ", \(.metric | metric)" end) | \(.baseline_value | n) \($u | unit) | \(.candidate_value | n) | \(.ratio | x2) | \(target) | \(verdict) |"' "$json"
	echo
	echo "### Absolute figures (median, min-max)"
	echo
	jq -r "$BENCH_JQ_FMT"'.method.paths as $p | .method.tests as $order | (.results | map(select(.test | contains("@") | not))) as $r
		| "| case | unit | \($p | join(" | ")) |", "|---|---|\($p | map("---") | join("|"))|",
		  ($r | group_by(.test) | sort_by(.[0].test as $t | $order | index($t))[] | (map({key: .mode, value: .}) | from_entries) as $m
			| "| \(.[0].label) | \(map(select(.unit != "?")) | .[0].unit // "?" | unit) | \($p | map($m[.] | if . == null then "—"
				else "\(.median | n) (\(.min | n)-\(.max | n))\(if .failed > 0 then ", \(.failed) failed" else "" end)" end) | join(" | ")) |")' "$json"
	echo
	echo "### Latency and CPU (medians)"
	echo
	echo "| path | TCP_RR 1 B P50 µs | P99 µs | CPU µs/transaction | TCP_CRR CPU µs/transaction | sockperf 64 B P50 µs | P99 µs | P99.9 µs |"
	echo "|---|---|---|---|---|---|---|---|"
	jq -r "$BENCH_JQ_FMT"'.method.paths[] as $p | [.results[] | select(.mode == $p)] | map({key: .test, value: .}) | from_entries
		| "| \($p) | \(.rr1.p50_us | n) | \(.rr1.p99_us | n) | \(.rr1.cpu | n) | \(.crr.cpu | n) | \(.pp64.p50_us | n) | \(.pp64.p99_us | n) | \(.pp64.p999_us | n) |"' "$json"
	if jq -e '.scale | length > 0' "$json" >/dev/null; then
		echo
		echo "### Scale: node 1 loaded vs node 2 empty (both accelerating)"
		echo
		echo "| stage | node 1 SOCKHASH sockets | node 1 endpoints | TCP_CRR loaded | empty | ratio | TCP_RR loaded | empty | ratio | CRR CPU µs loaded → empty |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		jq -r "$BENCH_JQ_FMT"'(.results | map({key: "\(.test)|\(.mode)", value: .}) | from_entries) as $r | .scale[]
			| .stage as $s | $r["crr@\($s)|loaded"] as $cl | $r["crr@\($s)|empty"] as $ce
			| $r["rr1@\($s)|loaded"] as $rl | $r["rr1@\($s)|empty"] as $re
			| "| \($s) | \(.loaded.sockhash | n) | \(.loaded.endpoints | n) | \($cl.median | n) | \($ce.median | n) | \(if $ce.median > 0 then $cl.median / $ce.median else null end | x2) | \($rl.median | n) | \($re.median | n) | \(if $re.median > 0 then $rl.median / $re.median else null end | x2) | \($cl.cpu | n) → \($ce.cpu | n) |"' "$json"
	fi
	echo
	jq -r '"Path checks (counters show each run took its route): \(.checks | map("\(.path) \(if .ok then "ok" else "FAILED (\(.failed) of \(.runs) runs)" end)") | join(", "))."' "$json"
}

# bench_charts DIR: throughput by message size and latency by path, as PNG.
bench_charts() {
	local dir=$1 json=$1/results.json
	# One row per message size, one column per path; "?" where not measured.
	jq -r '.method.paths as $p | (.results | map({key: "\(.test)|\(.mode)", value: .median}) | from_entries) as $r
		| "size \($p | join(" "))",
		  ([["s64", 64], ["s1k", 1024], ["s16k", 16384], ["s64k", 65536]][] as [$t, $s]
			| "\($s) \($p | map($r["\($t)|\(.)"] // "?" | tostring) | join(" "))")' "$json" >"$dir/throughput.dat"
	jq -r '(.results | map({key: "\(.test)|\(.mode)", value: .}) | from_entries) as $r
		| "path TCP_RR_P50 TCP_RR_P99 sockperf_P50 sockperf_P99",
		  (.method.paths[] | select($r["rr1|\(.)"] != null or $r["pp64|\(.)"] != null)
			| "\(.) \([$r["rr1|\(.)"].p50_us, $r["rr1|\(.)"].p99_us, $r["pp64|\(.)"].p50_us, $r["pp64|\(.)"].p99_us]
				| map(. // "?" | tostring) | join(" "))")' "$json" >"$dir/latency.dat"
	local ncol latency_plot
	ncol=$(head -1 "$dir/throughput.dat" | wc -w)
	# Only the latency columns some path measured (a run without pp64 has
	# no sockperf figures): gnuplot refuses a column with no value at all.
	latency_plot=$(awk 'NR > 1 { for (i = 2; i <= NF; i++) if ($i != "?") seen[i] = 1 }
		END { for (i = 2; i <= 5; i++) if (seen[i]) printf "%s\"%s\" using %d%s title columnheader(%d)",
			(n++ ? ", " : ""), FILENAME, i, (n == 1 ? ":xtic(1)" : ""), i }' "$dir/latency.dat")
	gnuplot <<EOF || echo "warning: gnuplot failed; no charts" >&2
set terminal pngcairo size 960,600 font ",11" noenhanced
set datafile missing "?"
set key outside right top
set grid
set output "$dir/throughput.png"
set title "TCP_STREAM throughput by message size (medians)"
set logscale xy 2
set format y "%g"
set xlabel "bytes per write"
set ylabel "Mbit/s"
# A margin around 64 B and 64 KiB, so their labels are not lost on the border.
set xrange [45:92000]
set xtics ("64" 64, "1 KiB" 1024, "16 KiB" 16384, "64 KiB" 65536)
plot for [i=2:$ncol] "$dir/throughput.dat" using 1:i with linespoints lw 2 title columnheader(i)
unset logscale
set autoscale x
set output "$dir/latency.png"
set title "Request/response latency by path (medians): netperf TCP_RR 1 B round trip, sockperf 64 B one way"
set xlabel ""
set ylabel "µs"
set xtics auto rotate by -30
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
${latency_plot:+plot $latency_plot}
EOF
}
