# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# How an idle vCPU waits, which sets the price of every cross-CPU wake-up.
#
# In a KVM guest with the cpuidle-haltpoll driver, an idle vCPU first polls
# for up to guest_halt_poll_ns, then halts (an exit to the hypervisor). A
# wake-up that finds it polling costs a flag write; one that finds it halted
# costs an interrupt and a VM entry, tens of microseconds. A request/response
# pays that twice per transaction, whichever path carries the bytes.
#
# Without that driver (current_driver "none"), the idle loop halts at once,
# and guest_halt_poll_ns, which may still be listed, changes nothing.
#
# bench/bench.sh --idle-poll NS sets the window for the run and restores the
# machine's own value when the run ends, even on failure. Without it, the run
# measures the machine as it is, and the report says which it was.

BENCH_HALTPOLL=/sys/module/haltpoll/parameters/guest_halt_poll_ns
BENCH_CPUIDLE=/sys/devices/system/cpu/cpuidle
BENCH_IDLE_SAVED=""

bench_idle_driver() { cat "$BENCH_CPUIDLE/current_driver" 2>/dev/null || echo none; }

# bench_idle_can_poll: true where the haltpoll driver runs and its window can be set.
bench_idle_can_poll() { [[ $(bench_idle_driver) == haltpoll && -w $BENCH_HALTPOLL ]]; }

# bench_idle_halts_at_once: true where idle vCPUs halt without polling first.
bench_idle_halts_at_once() {
	[[ $(bench_idle_driver) != haltpoll || ! -r $BENCH_HALTPOLL || $(<"$BENCH_HALTPOLL") == 0 ]]
}

# bench_idle_describe: one JSON object, the cpuidle driver and governor and
# the poll window in ns (null where the machine has no haltpoll driver).
bench_idle_describe() {
	local poll=null
	[[ $(bench_idle_driver) == haltpoll && -r $BENCH_HALTPOLL ]] && poll=$(<"$BENCH_HALTPOLL")
	jq -n --arg driver "$(bench_idle_driver)" \
		--arg governor "$(cat "$BENCH_CPUIDLE/current_governor" 2>/dev/null || cat "$BENCH_CPUIDLE/current_governor_ro" 2>/dev/null || echo none)" \
		--argjson poll "$poll" '{driver: $driver, governor: $governor, halt_poll_ns: $poll}'
}

# bench_idle_check NS: dies unless NS is a window this machine can take.
bench_idle_check() {
	[[ $1 =~ ^[0-9]{1,10}$ ]] || sx_die "--idle-poll takes a number of nanoseconds, not '$1'"
	bench_idle_can_poll ||
		sx_die "--idle-poll needs the cpuidle-haltpoll driver (a KVM guest); this machine's cpuidle driver is '$(bench_idle_driver)', so its idle vCPUs halt at once"
}

# bench_idle_set NS: the poll window for this run (restored by bench_idle_restore).
bench_idle_set() {
	local ns=$1
	bench_idle_check "$ns"
	BENCH_IDLE_SAVED=$(<"$BENCH_HALTPOLL")
	echo "$ns" >"$BENCH_HALTPOLL"
	echo "# idle vCPUs poll for up to $ns ns before halting (was $BENCH_IDLE_SAVED; restored at exit)" >&2
}

bench_idle_restore() {
	[[ -n $BENCH_IDLE_SAVED ]] || return 0
	echo "$BENCH_IDLE_SAVED" >"$BENCH_HALTPOLL" 2>/dev/null ||
		echo "warning: could not restore $BENCH_HALTPOLL to $BENCH_IDLE_SAVED" >&2
	BENCH_IDLE_SAVED=""
}
