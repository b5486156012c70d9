#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job in one command: a sandbox node with two pods, netperf between
# them over the plain veth path and with socket acceleration, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "sockvx demo: two pods on one simulated node (network namespaces, veth, cgroup v2)"
echo "netperf TCP_RR, TCP_CRR and TCP_STREAM with socket acceleration off (plain) and on"
echo
bench/bench.sh --quick
echo
echo "ratio = accelerated / plain (higher is better; for latency and CPU columns lower is better)."
echo "A quick run on a small machine is noisy: 'sudo make bench' repeats every case more."
