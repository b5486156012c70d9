#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The runners of bench/bench.sh: one measurement of one test on one path,
# the interleaved repetitions, and the scale phase (idle connections held in
# the SOCKHASH, a full endpoint map). Every run appends one row to
# $OUT/results.tsv:
#   test  path  repetition  value  unit  p50_us  p99_us  cpu  p999_us  check
# where value is the throughput (sockperf: the mean one-way latency in µs),
# cpu netperf's service demand (µs of CPU per transaction or per KB, both ends
# on this machine), "-" a figure the tool does not give, and check whether
# the counters show the run took its path.
#
# Uses LEN, OUT and the test table (TEST_KIND, TEST_ARGS) from bench.sh.

NETPERF_FIELDS=THROUGHPUT,THROUGHPUT_UNITS,P50_LATENCY,P99_LATENCY,LOCAL_SD
# TCP_CRR connections per second of --len: about what one node does here.
CRR_PER_SECOND=12000

# bench_netperf MODE TEST OPTS [GLOBAL_OPTS]: one netperf run; prints
# value,unit,p50,p99,cpu.
bench_netperf() {
	local mode=$1 test=$2 opts=$3 global=${4:-} client server
	read -r client server _ <<<"$(bench_peer "$mode")"
	if [[ $mode == unix ]]; then
		# sxunixbench plays netperf's pattern over an AF_UNIX pair.
		local pattern=stream size=${opts##* }
		[[ $test == TCP_RR ]] && pattern=rr size=${size%%,*}
		sx_pod "$client" timeout $((LEN + 30)) "$SX_TOOLS/sxunixbench" "$pattern" "$size" "$LEN" 2>/dev/null
		return 0
	fi
	# netserver pads a timed TCP_CRR run by 4 s (PAD_TIME) before it reports;
	# a run of a fixed number of connections ends when they are done.
	local len=$LEN
	[[ $test == TCP_CRR ]] && len=-$((CRR_PER_SECOND * LEN))
	# shellcheck disable=SC2086 # opts holds several words
	sx_pod "$client" timeout $((4 * LEN + 30)) netperf -H "$server" -t "$test" -l "$len" -P 0 -c -C $global \
		-- $opts -o "$NETPERF_FIELDS" 2>/dev/null | tail -1
}

# bench_parallel MODE STREAMS OPTS: STREAMS TCP_STREAM runs at once; prints
# their summed throughput (CPU and latency per stream would mean little).
bench_parallel() {
	local mode=$1 n=$2 opts=$3 client server i pids=()
	read -r client server _ <<<"$(bench_peer "$mode")"
	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2086 # opts holds several words
		sx_pod "$client" timeout $((LEN + 30)) netperf -H "$server" -t TCP_STREAM -l "$LEN" -P 0 \
			-- $opts -o THROUGHPUT >"$SX_TMP/par.$i" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	for i in $(seq 1 "$n"); do tail -1 "$SX_TMP/par.$i"; done |
		awk -v n="$n" '/^[0-9.]+$/ { s += $1; k++ } END { if (k == n) printf "%.2f,10^6bits/s,-,-,-\n", s }'
}

# bench_sockperf MODE SIZE: a sockperf TCP ping-pong; prints mean,usec,p50,p99,-,p99.9
# (one-way latencies: sockperf halves each round trip).
bench_sockperf() {
	local mode=$1 size=$2 client server port
	read -r client server port <<<"$(bench_peer "$mode")"
	sx_pod "$client" timeout $((LEN + 30)) sockperf pp --tcp -i "$server" -p "$port" -t $((LEN + 1)) \
		-m "$size" 2>/dev/null | awk '
		/avg-latency=/ { sub(/.*avg-latency=/, ""); avg = $1 + 0 }
		/percentile 50.000 =/ { p50 = $NF }
		/percentile 99.000 =/ { p99 = $NF }
		/percentile 99.900 =/ { p999 = $NF }
		END { if (p99 != "") printf "%.3f,usec,%s,%s,-,%s\n", avg, p50, p99, p999 }'
}

# bench_measure TEST MODE REP: one run of a test on a path, appended to results.tsv.
# A run that fails or hangs is recorded with value 0 and unit "?".
bench_measure() {
	local test=$1 mode=$2 rep=$3 kind args line before after delta=() i check
	kind=${TEST_KIND[${test%@*}]}
	args=${TEST_ARGS[${test%@*}]}
	bench_accel "$mode"
	# Only the paths bench_check judges need the counters (they cost a few processes).
	local counted=1
	[[ $(bench_check "$mode" 0 0 0 0 0 0 0 0 0) == ok ]] && counted=0
	before=(0 0 0 0 0 0 0 0 0)
	((counted)) && read -r -a before <<<"$(bench_counters)"
	case $kind in
	netperf)
		local fields
		IFS='|' read -r -a fields <<<"$args"
		line=$(bench_netperf "$mode" "${fields[0]}" "${fields[1]}" "${fields[2]:-}") || true
		;;
	parallel) line=$(bench_parallel "$mode" "${args%%|*}" "${args#*|}") || true ;;
	sockperf) line=$(bench_sockperf "$mode" "$args") || true ;;
	esac
	after=("${before[@]}")
	((counted)) && read -r -a after <<<"$(bench_counters)"
	for i in "${!after[@]}"; do delta+=($((after[i] - before[i]))); done
	check=$(bench_check "$mode" "${delta[@]}")
	[[ $line == *,*,* ]] || line="0,?,-,-,-"
	IFS=, read -r value unit p50 p99 cpu p999 <<<"$line"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$mode" "$rep" "$value" "$unit" \
		"${p50:--}" "${p99:--}" "${cpu:--}" "${p999:--}" "$check" >>"$OUT/results.tsv"
}

# bench_modes_for TEST: the selected paths that can run a test.
bench_modes_for() {
	local test=$1 mode
	for mode in "${MODES[@]}"; do
		case ${TEST_KIND[$test]}/$mode in
		# An AF_UNIX pair has no Nagle to turn off (s64nd: TCP_NODELAY).
		netperf/unix) [[ $test == rr1 || $test == rr1k || ($test == s* && $test != *nd) ]] || continue ;;
		parallel/unix | parallel/loopback | sockperf/unix) continue ;;
		esac
		echo "$mode"
	done
}

# bench_interleave TEST@STAGE|TEST REP MODE...: one repetition of one test on
# several paths, back to back; the order rotates with the repetition, so no
# path always runs first (on a cold cache) or right after the same neighbour.
bench_interleave() {
	local test=$1 rep=$2 i n
	shift 2
	n=$#
	local modes=("$@")
	for ((i = 0; i < n; i++)); do
		bench_measure "$test" "${modes[(i + rep) % n]}" "$rep"
	done
}

# bench_main_phase: every selected test on every selected path, REPS times.
bench_main_phase() {
	local rep test modes
	for rep in $(seq 1 "$REPS"); do
		for test in "${TESTS[@]}"; do
			mapfile -t modes < <(bench_modes_for "$test")
			((${#modes[@]})) && bench_interleave "$test" "$rep" "${modes[@]}"
		done
		echo "#   repetition $rep/$REPS done ($((SECONDS - START)) s)" >&2
	done
}

# --- scale: node 1 loaded, node 2 empty, both accelerating -------------------

# bench_fill_endpoints N: N unused addresses (10.250.0.0/16, no pod has them)
# in node 1's endpoint map, in batches of 1000 per sockvxctl call.
bench_fill_endpoints() {
	local n=$1 i batch=()
	for ((i = 0; i < n; i++)); do
		batch+=("10.250.$((i / 250)).$((i % 250 + 1))")
		if ((${#batch[@]} == 1000 || i == n - 1)); then
			sx_nctl 1 endpoint add "${batch[@]}" >/dev/null || sx_die "endpoint add failed after $i entries"
			batch=()
		fi
	done
}

# bench_map_entries NODE MAP: the entries of one of a node's maps.
bench_map_entries() {
	sx_nctl "$1" status --json | jq -r --arg m "$2" '.maps[] | select(.name == $m) | .entries'
}

# bench_hold N: N idle accelerated connections from pod n1c to pod n1b
# (sx_hold in e2e/lib.sh: several holders when one process may not hold them
# all); returns once they all are.
bench_hold() {
	local n=$1 t0=$SECONDS
	sx_hold n1c n1b 10.244.1.3 "$BENCH_HOLD_PORT" "$n"
	((SX_HOLD_HELD == n)) ||
		sx_die "holding $n connections failed: $SX_HOLD_HELD held, $SX_HOLD_FAILED failed ($(cat "$SX_TMP"/hold[0-9]*.err 2>/dev/null | head -n 2))"
	echo "#   $n connections held by ${#SX_HOLD_PIDS[@]} processes after $((SECONDS - t0)) s" >&2
}

# bench_scale_stage STAGE: TCP_CRR and TCP_RR on node 1 (loaded) and node 2
# (empty), interleaved, REPS times; then the fill of both nodes' maps.
bench_scale_stage() {
	local stage=$1 rep test
	for rep in $(seq 1 "$REPS"); do
		for test in crr rr1; do
			bench_interleave "$test@$stage" "$rep" loaded empty
		done
	done
	jq -n --arg stage "$stage" --argjson s1 "$(bench_map_entries 1 sx_sockhash_v1)" \
		--argjson s2 "$(bench_map_entries 2 sx_sockhash_v1)" --argjson e1 "$(bench_map_entries 1 sx_endpoints_v1)" \
		--argjson e2 "$(bench_map_entries 2 sx_endpoints_v1)" \
		'{stage: $stage, loaded: {sockhash: $s1, endpoints: $e1}, empty: {sockhash: $s2, endpoints: $e2}}' \
		>>"$OUT/scale.jsonl"
	echo "#   scale stage $stage done ($((SECONDS - START)) s)" >&2
}

# bench_scale_phase ENDPOINTS HOLD STAGES: the stages in STAGES of "empty"
# (node 1 as node 2), "endpoints" (ENDPOINTS more entries on node 1) and
# "held" (and HOLD idle accelerated connections on node 1).
bench_scale_phase() {
	local endpoints=$1 hold=$2 stages=" $3 "
	# shellcheck disable=SC2034 # read by bench_accel (lib_topo.sh)
	BENCH_ACCEL_ALWAYS=1
	bench_accel loaded
	sx_nctl 2 accel on >/dev/null
	: >"$OUT/scale.jsonl"
	if [[ $stages == *" empty "* ]]; then bench_scale_stage empty; fi
	bench_fill_endpoints "$endpoints"
	if [[ $stages == *" endpoints "* ]]; then bench_scale_stage endpoints; fi
	[[ $stages == *" held "* ]] || return 0
	bench_hold "$hold"
	local held
	held=$(bench_map_entries 1 sx_sockhash_v1)
	((held >= 2 * hold)) ||
		echo "warning: node 1's SOCKHASH holds $held sockets, fewer than the $((2 * hold)) of $hold connections" >&2
	bench_scale_stage held
}
