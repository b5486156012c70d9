#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs sockvx's test suites and ends with "N passed, N failed".
#   test/run.sh            every suite: unit, then end to end
#   test/run.sh unit|fuzz|e2e|sanitize   one suite
#   test/run.sh sanitize [NAME,...]  e2e scripts (default: all) with the
#                          ASan/UBSan builds in $OUTPUT/asan (make sanitize);
#                          any sanitizer report fails
#   test/run.sh e2e NAME[,NAME...]   e2e scripts whose name contains one NAME
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
	IFS=, read -r -a names <<<"$filter"
	for t in e2e/test_*.sh; do
		wanted=$((${#names[@]} == 0))
		for n in "${names[@]}"; do [[ $t == *"$n"* ]] && wanted=1; done
		((wanted)) && run_one "$t" bash "$t"
	done
fi

# Sanitized binaries (sockvxctl, the plugin, the test tools) over the e2e
# scripts, all of them unless named; every report, leaks included, is a
# failure. Skipped when not built.
SANITIZE_E2E=${SANITIZE_E2E:-test_}
if [[ $suite == all || $suite == sanitize ]]; then
	asan=$OUTPUT/asan
	if [[ -x $asan/sockvxctl && -x $asan/sockvx ]] && ldd "$asan/sockvx" 2>/dev/null | grep -c libasan >/dev/null; then
		logs=$(mktemp -d /tmp/sx-sanitize.XXXX)
		IFS=, read -r -a names <<<"${filter:-$SANITIZE_E2E}"
		for t in e2e/test_*.sh; do
			wanted=0
			for n in "${names[@]}"; do [[ $t == *"$n"* ]] && wanted=1; done
			((wanted)) || continue
			run_one "sanitize/$t" env OUTPUT="$asan" \
				ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan" \
				UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/ubsan" bash "$t"
		done
		reports=$(find "$logs" -type f | wc -l)
		if ((reports == 0)); then
			echo "ok - sanitizers: no ASan, LSan or UBSan report from sockvxctl, sockvx or the tools"
			passed=$((passed + 1))
		else
			echo "not ok - sanitizers: $reports report(s), first lines:"
			grep -h -m 3 -E 'ERROR|SUMMARY|runtime error' "$logs"/* | head -n 12 | sed 's/^/    /'
			failed=$((failed + 1))
			failures+=("sanitize: $reports report(s) in $logs")
		fi
		((reports)) || rm -rf "$logs"
	else
		echo "ok - sanitizers # SKIP no ASan build in $asan (make sanitize)"
		skipped=$((skipped + 1))
	fi
fi

echo
if ((${#failures[@]})); then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
