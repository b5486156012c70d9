#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job in one command: sandbox nodes in network namespaces, pods
# talking over the plain veth path, with socket acceleration, over sockvx's TC
# dataplane and across nodes against a Flannel-style VXLAN, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../bench/lib_idle.sh
source bench/lib_idle.sh
echo "sockvx demo: pods on simulated nodes (network namespaces, veth, VXLAN, cgroup v2)"
echo "netperf TCP_RR, TCP_CRR and TCP_STREAM and sockperf: plain veth, Flannel-style bridge + VXLAN,"
echo "sockvx's TC dataplane and socket acceleration, against loopback TCP and a Unix socket pair,"
echo "then connection cost with idle accelerated connections held in the SOCKHASH"
echo
bench/bench.sh --quick
echo
echo "ratio = B / A as each table names them (higher is better; for latency and CPU columns lower is better)."
echo "A quick run on a small machine is noisy: 'sudo make bench' repeats every case more."
echo "TCP_RR depends on where the scheduler puts the two ends: 'both ends on CPU 0' shows the"
echo "saving itself; across CPUs the wake-up interrupt of a VM dominates every path."
if bench_idle_halts_at_once; then
	echo "Here idle vCPUs halt at once, which makes each wake-up an interrupt and a VM entry:"
	if bench_idle_can_poll; then
		echo "'sudo bench/bench.sh --quick --idle-poll 200000' measures with the kernel's default poll window."
	else
		echo "This machine has no cpuidle-haltpoll driver ('$(bench_idle_driver)'), so that cost cannot be lifted here."
	fi
fi
