#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what sockvx needs to build, test, demo and benchmark, through the
# package manager only. Safe to run again: it installs only what is missing.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: must run as root (try: sudo $0)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "install-deps: apt-get not found; sockvx supports Debian and Ubuntu" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
	make gcc clang llvm pkg-config           # toolchain (clang builds the BPF objects)
	libbpf-dev libelf-dev zlib1g-dev         # libbpf and what it links against
	libcjson-dev libssl-dev                  # JSON, sha256 for the torture test
	libnl-3-dev libnl-route-3-dev            # rtnetlink: VXLAN device, addresses, routes
	bpftool                                  # vmlinux.h and skeleton generation
	iproute2 procps util-linux kmod jq       # ip/tc/nstat, sysctl, nsenter, JSON checks
	iputils-ping                             # ICMP reachability in the e2e tests
	libcmocka-dev                            # unit test framework
	netperf sockperf iperf3 gnuplot-nox      # benchmarks, their charts, the demo
	containernetworking-plugins              # CNI host-local/bridge/ptp: IPAM, chained mode, bench
	libjansson-dev                           # JSON with a static archive: the CNI binary is static
	podman containerd runc busybox-static    # real CNI clients for the e2e tests (busybox image)
	clang-tidy cppcheck clang-format shellcheck # make check / make format
)

log "apt-get update"
apt-get update -qq

# netperf lives in Debian's non-free component (Ubuntu: multiverse). Enable
# it with a deb822 source only when netperf cannot be installed otherwise.
netperf_installable() {
	apt-cache policy netperf 2>/dev/null | grep -q 'Candidate: [0-9]'
}
if ! dpkg -s netperf >/dev/null 2>&1 && ! netperf_installable; then
	. /etc/os-release
	src=/etc/apt/sources.list.d/sockvx-netperf.sources
	case "${ID:-}" in
	ubuntu)
		log "enabling Ubuntu's multiverse component for netperf ($src)"
		cat >"$src" <<SRC
Types: deb
URIs: http://archive.ubuntu.com/ubuntu
Suites: ${VERSION_CODENAME} ${VERSION_CODENAME}-updates
Components: multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
SRC
		;;
	*)
		# Reuse the mirror the machine already uses for main.
		uri=$(grep -hoE '^URIs:[[:space:]]*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk '{print $2}' | grep -m1 -E '/debian/?$' || true)
		if [[ -z $uri ]]; then
			uri=$(grep -hoE '^deb[[:space:]]+\S+' /etc/apt/sources.list 2>/dev/null |
				awk '{print $2}' | grep -m1 -E '/debian/?$' || true)
		fi
		uri=${uri:-http://deb.debian.org/debian}
		log "enabling Debian's non-free component for netperf ($src, $uri)"
		cat >"$src" <<SRC
Types: deb
URIs: ${uri}
Suites: ${VERSION_CODENAME} ${VERSION_CODENAME}-updates
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		;;
	esac
	apt-get update -qq
fi

missing=()
for p in "${PACKAGES[@]}"; do
	[[ $p == \#* ]] && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "all packages already installed"
fi
