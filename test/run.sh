#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs sockvx's test suites and ends with "N passed, N failed".
#   test/run.sh            every suite: unit, then end to end
#   test/run.sh unit|e2e   one suite
#   test/run.sh e2e NAME   e2e scripts whose name contains NAME
# Each check prints "ok - ..." or "not ok - ..." (TAP); V=1 shows more.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
OUTPUT=${OUTPUT:-.output}
export OUTPUT
suite=${1:-all}
filter=${2:-}
passed=0
failed=0
skipped=0
failures=()

# count_tap NAME < output: echoes and tallies the TAP lines of one program.
# It runs at the end of a pipe (a subshell), so it reports through files.
count_tap() {
	local name=$1 line p=0 f=0
	while IFS= read -r line; do
		case $line in
		"not ok"*)
			f=$((f + 1))
			echo "$name: ${line#not ok - }" >>"$tally.failures"
			echo "$line"
			;;
		"ok"*"# SKIP"*)
			echo >>"$tally.skips"
			echo "$line"
			;;
		"ok"*)
			p=$((p + 1))
			echo "$line"
			;;
		*) [[ ${V:-0} == 1 ]] && echo "    $line" ;;
		esac
	done
	echo "$p $f" >"$tally"
}

tally=$(mktemp)
trap 'rm -f "$tally" "$tally.failures" "$tally.skips"' EXIT

# run_one NAME cmd...: a test program; a non-zero exit with no failing check
# still counts as a failure (a crash must never pass).
run_one() {
	local name=$1 rc p f
	shift
	echo "# $name"
	: >"$tally.skips"
	: >"$tally.failures"
	"$@" 2>&1 | count_tap "$name"
	rc=${PIPESTATUS[0]}
	read -r p f <"$tally"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + $(wc -l <"$tally.skips")))
	[[ -s $tally.failures ]] && mapfile -t -O "${#failures[@]}" failures <"$tally.failures"
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		failed=$((failed + 1))
		failures+=("$name: exited with status $rc")
		echo "not ok - $name exited with status $rc"
	fi
}

if [[ $suite == all || $suite == unit ]]; then
	for t in "$OUTPUT"/test/*; do
		[[ -x $t ]] || continue
		run_one "unit/$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
	done
fi

if [[ $suite == all || $suite == fuzz ]]; then
	for f in cni_conf nodelist; do run_one "fuzz/$f" test/fuzz/run.sh "$f" "${FUZZ_SECONDS:-20}"; done
fi

if [[ $suite == all || $suite == e2e ]]; then
	for t in e2e/test_*.sh; do
		[[ -z $filter || $t == *"$filter"* ]] || continue
		run_one "$t" bash "$t"
	done
fi

echo
if ((${#failures[@]})); then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
