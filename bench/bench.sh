#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sockvx benchmark: every path a pod-to-pod TCP connection can take, measured
# in one run on simulated nodes (e2e/lib.sh, e2e/lib_flannel.sh), against the
# paths sockvx replaces and the limits of the machine (bench/lib_topo.sh lists
# them). Runs are interleaved and repeated; the report gives medians, spreads,
# ratios between paths and the targets, as results.json, report.md and charts.
#
#   bench/bench.sh [--quick] [--reps N] [--len SEC] [--out DIR]
#                  [--paths P,P...] [--tests T,T...] [--hold N] [--endpoints N] [--no-scale]
#                  [--idle-poll NS]
#
#   --quick        2 repetitions of 1 s, fewer tests (rr1,rr1-1cpu,crr,s1k,s64k,pp64), no
#                  separate "endpoints" stage in the scale phase
#   --reps/--len   repetitions per case (default 3) and seconds per run (default 2)
#   --paths        plain,loopback,unix,flannel-same,flannel-cross,tc-same,tc-cross,accel
#   --tests        rr1,rr1-1cpu,rr1-2cpu,rr1k,crr,s64,s64nd,s1k,s16k,s64k,par4,par16,pp64
#                  (bench/bench.sh --list)
#   --hold N       idle accelerated connections held in the scale phase (default 50000)
#   --endpoints N  extra endpoint entries in the scale phase (default 10000)
#   --no-scale     skip the scale phase
#   --idle-poll NS idle vCPUs poll NS nanoseconds before halting, for this run only
#                  (KVM guests with cpuidle-haltpoll; bench/lib_idle.sh says why it matters)
#   --out DIR      results.json, report.md, results.tsv, *.png (default .output/bench/DATE)
set -euo pipefail
BENCH_DIR=$(dirname "$0")
# shellcheck source=../e2e/lib.sh
source "$BENCH_DIR/../e2e/lib.sh"
# shellcheck source=../e2e/lib_flannel.sh
source "$BENCH_DIR/../e2e/lib_flannel.sh"
# shellcheck source=lib_topo.sh
source "$BENCH_DIR/lib_topo.sh"
# shellcheck source=lib_run.sh
source "$BENCH_DIR/lib_run.sh"
# shellcheck source=lib_report.sh
source "$BENCH_DIR/lib_report.sh"
# shellcheck source=lib_idle.sh
source "$BENCH_DIR/lib_idle.sh"

ALL_MODES=plain,loopback,unix,flannel-same,flannel-cross,tc-same,tc-cross,accel
ALL_TESTS=rr1,rr1-1cpu,rr1-2cpu,rr1k,crr,s64,s64nd,s1k,s16k,s64k,par4,par16,pp64
QUICK_TESTS=rr1,rr1-1cpu,crr,s1k,s64k,pp64
# test id -> kind, its arguments (netperf: TEST|OPTIONS[|GLOBAL OPTIONS];
# parallel: STREAMS|OPTIONS; sockperf: message size) and its label in the report.
declare -A TEST_KIND=() TEST_ARGS=() TEST_LABEL=()
bench_test() { TEST_KIND[$1]=$2 TEST_ARGS[$1]=$3 TEST_LABEL[$1]=$4; }
bench_test rr1 netperf "TCP_RR|-r 1,1" "TCP_RR 1 B"
# The same transaction with both ends pinned (netperf -T): on one CPU a
# wake-up is a context switch, on two it is an inter-processor interrupt.
# Unpinned, the scheduler picks either, which makes rr1 bimodal.
bench_test rr1-1cpu netperf "TCP_RR|-r 1,1|-T 0,0" "TCP_RR 1 B, both ends on CPU 0"
bench_test rr1-2cpu netperf "TCP_RR|-r 1,1|-T 0,1" "TCP_RR 1 B, ends on CPUs 0 and 1"
bench_test rr1k netperf "TCP_RR|-r 1024,1024" "TCP_RR 1 KiB"
bench_test crr netperf "TCP_CRR|-r 1,1" "TCP_CRR"
bench_test s64 netperf "TCP_STREAM|-m 64" "TCP_STREAM 64 B"
# Small writes with Nagle off (TCP_NODELAY at both ends): TCP sends one
# segment per write, as latency-minded protocols ask it to.
bench_test s64nd netperf "TCP_STREAM|-m 64 -D" "TCP_STREAM 64 B, TCP_NODELAY"
bench_test s1k netperf "TCP_STREAM|-m 1024" "TCP_STREAM 1 KiB"
bench_test s16k netperf "TCP_STREAM|-m 16384" "TCP_STREAM 16 KiB"
bench_test s64k netperf "TCP_STREAM|-m 65536" "TCP_STREAM 64 KiB"
bench_test par4 parallel "4|-m 16384" "4 × TCP_STREAM 16 KiB"
bench_test par16 parallel "16|-m 16384" "16 × TCP_STREAM 16 KiB"
bench_test pp64 sockperf 64 "sockperf ping-pong 64 B"

REPS=3 LEN=2 OUT="" MODES_ARG=$ALL_MODES TESTS_ARG=$ALL_TESTS HOLD=50000 ENDPOINTS=10000 SCALE=1
IDLE_POLL=""
STAGES="empty endpoints held"
while (($#)); do
	case $1 in
	--quick) REPS=2 LEN=1 TESTS_ARG=$QUICK_TESTS STAGES="empty held" ;;
	--reps) REPS=$2 && shift ;;
	--len) LEN=$2 && shift ;;
	--out) OUT=$2 && shift ;;
	--paths) MODES_ARG=$2 && shift ;;
	--tests) TESTS_ARG=$2 && shift ;;
	--hold) HOLD=$2 && shift ;;
	--endpoints) ENDPOINTS=$2 && shift ;;
	--no-scale) SCALE=0 ;;
	--idle-poll) IDLE_POLL=$2 && shift ;;
	--list)
		for t in ${ALL_TESTS//,/ }; do printf '%-9s %s\n' "$t" "${TEST_LABEL[$t]}"; done
		exit 0
		;;
	-h | --help)
		sed -n '3,24p' "$0"
		exit 0
		;;
	*) sx_die "unknown option $1 (see --help)" ;;
	esac
	shift
done
for v in REPS LEN HOLD ENDPOINTS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || sx_die "--${v,,} takes a positive integer"
done
# The SOCKHASH holds SX_MAX_SOCKETS (131,072) sockets, two per connection,
# and the endpoint map SX_MAX_ENDPOINTS (16,384) addresses (bpf/include/sockvx_abi.h).
((HOLD <= 65000)) || sx_die "--hold: the SOCKHASH has room for 65,536 connections (two sockets each)"
((ENDPOINTS <= 16000)) || sx_die "--endpoints: the endpoint map has room for 16,384 addresses"
[[ $MODES_ARG == all ]] && MODES_ARG=$ALL_MODES
[[ $TESTS_ARG == all ]] && TESTS_ARG=$ALL_TESTS
IFS=, read -r -a MODES <<<"$MODES_ARG"
IFS=, read -r -a TESTS <<<"$TESTS_ARG"
for m in "${MODES[@]}"; do [[ ,$ALL_MODES, == *,"$m",* ]] || sx_die "unknown path '$m' (paths: $ALL_MODES)"; done
for t in "${TESTS[@]}"; do [[ ,$ALL_TESTS, == *,"$t",* ]] || sx_die "unknown test '$t' (tests: $ALL_TESTS)"; done
if (($(nproc) < 2)) && [[ ,$TESTS_ARG, == *,rr1-2cpu,* ]]; then
	echo "# one CPU: rr1-2cpu left out" >&2
	mapfile -t TESTS < <(printf '%s\n' "${TESTS[@]}" | grep -vx rr1-2cpu)
fi
[[ -z $IDLE_POLL ]] || bench_idle_check "$IDLE_POLL"
((${#MODES[@]} && ${#TESTS[@]})) || sx_die "--paths and --tests take comma-separated lists"
want_mode() { [[ ,$MODES_ARG, == *,"$1",* ]]; }
for t in netperf netserver sockperf jq gnuplot; do
	command -v $t >/dev/null || sx_die "$t is missing (run: sudo make deps)"
done
[[ -x $SX_TOOLS/sxunixbench && -x $SX_TOOLS/sxhold ]] || sx_die "$SX_TOOLS/sxunixbench, sxhold not built (run: make)"
if want_mode flannel-same || want_mode flannel-cross; then sx_fl_require; fi

OUT=${OUT:-$OUTPUT/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
: >"$OUT/results.tsv"
T0=$SECONDS
bench_topology "$SCALE"
# sx_setup's exit trap, with the machine's idle setting restored first. set +e:
# under set -e, replaying a failed run's status would end the trap before sx_cleanup.
bench_on_exit() {
	local rc=$?
	set +e
	bench_idle_restore
	(exit "$rc")
	sx_cleanup
}
trap bench_on_exit EXIT
[[ -z $IDLE_POLL ]] || bench_idle_set "$IDLE_POLL"
IDLE=$(bench_idle_describe)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$SECONDS
echo "# sockvx benchmark: paths $MODES_ARG; tests $TESTS_ARG; $REPS interleaved repetitions of ${LEN}s (load: $LOAD_BEFORE)" >&2
bench_main_phase
if ((SCALE)); then bench_scale_phase "$ENDPOINTS" "$HOLD" "$STAGES"; fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURING=$((SECONDS - START))

bench_summary >"$OUT/results.json"
bench_report >"$OUT/report.md"
bench_charts "$OUT"
cat "$OUT/report.md"
echo "results in $OUT (report.md, results.json, results.tsv, *.png); $((SECONDS - T0)) s in all" >&2
if jq -e '.checks | all(.ok)' "$OUT/results.json" >/dev/null; then exit 0; fi
echo "error: a path did not take the route it is named after (see path checks); its figures are not valid" >&2
exit 1
