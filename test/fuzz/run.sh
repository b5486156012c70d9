#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one fuzzer for a bounded time and reports in TAP:
#   test/fuzz/run.sh NAME [SECONDS]   (NAME: cni_conf, nodelist; SECONDS:
#                                      default $FUZZ_SECONDS, else 20)
# The fuzzer is $OUTPUT/fuzz/fuzz_NAME; its inputs live in test/fuzz/NAME/.
# First every input in NAME/regressions/ is replayed (one line each: inputs
# that once crashed must not crash again), then libFuzzer runs from the seeds
# in NAME/corpus/ plus what earlier runs found ($OUTPUT/fuzz/NAME/corpus/,
# which is where new inputs go: the source tree is never written).
# A crash leaves its input in $OUTPUT/fuzz/NAME/crash-*; V=1 shows libFuzzer's log.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
OUTPUT=${OUTPUT:-.output}
fuzzer=${1:-}
seconds=${2:-${FUZZ_SECONDS:-20}}
src=test/fuzz/$fuzzer
bin=$OUTPUT/fuzz/fuzz_$fuzzer
out=$OUTPUT/fuzz/$fuzzer
name="fuzz $fuzzer"
log=$out/fuzz.log
# The lines of a crash report that say what happened.
why='invariant broken|does not parse|ERROR: |SUMMARY: |runtime error'

if [[ ! $fuzzer =~ ^[a-z0-9_]+$ || ! -d $src/corpus ]]; then
	echo "not ok - fuzz: unknown fuzzer '$fuzzer' (one of: $(cd test/fuzz && ls -d */ | tr -d / | tr '\n' ' '))"
	exit 1
fi
if [[ ! $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
	echo "not ok - $name: bad duration '$seconds'"
	exit 1
fi
if [[ ! -x $bin ]]; then
	echo "ok - $name # SKIP $bin is not built (make fuzz)"
	exit 0
fi
mkdir -p "$out/corpus"

# Regressions: each input once. libFuzzer exits non-zero on a crash.
rc=0
for input in "$src"/regressions/*; do
	[[ -f $input ]] || continue
	rlog=$out/regression-$(basename "$input").log
	if "$bin" -runs=1 "$input" >"$rlog" 2>&1; then
		echo "ok - $name: regression $(basename "$input")"
	else
		echo "not ok - $name: regression $(basename "$input") crashes (log: $rlog)"
		grep -E "$why" "$rlog" | head -n 5 | sed 's/^/    /'
		rc=1
	fi
done

# The bounded run. -timeout catches hangs, -rss_limit_mb runaway memory.
dict=()
[[ -f $src/dict ]] && dict=(-dict="$src/dict")
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
	"${dict[@]}" -artifact_prefix="$out/" -print_final_stats=1 \
	"$out/corpus" "$src/corpus" >"$log" 2>&1
status=$?
[[ ${V:-0} == 1 ]] && sed 's/^/    /' "$log"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
if ((status == 0)) && [[ -n $runs ]]; then
	echo "ok - $name: $runs runs in ${seconds}s (${speed:-?}/s), no crash"
else
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "not ok - $name: libFuzzer exited with $status${artifact:+, input in $artifact}"
	grep -E "$why" "$log" | head -n 5 | sed 's/^/    /'
	rc=1
fi
exit $rc
