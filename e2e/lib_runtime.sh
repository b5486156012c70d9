#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real container runtimes as CNI clients, on this machine, with nothing global
# changed: podman 4 (CNI backend, runc, cgroupfs) and containerd 1.6 + `ctr run
# --cni`, both from Debian packages, both running a busybox image built here
# from busybox-static (no registry). Each runtime gets private configuration,
# storage, state and sockets under $SX_TMP; everything is removed on exit,
# also on failure.
#
# Source after (or instead of) e2e/lib.sh, then:
#   sx_rt_setup                          lib.sh's sx_setup plus the cleanup hooks
#   sx_podman_setup PLUGIN_DIR CONF_DIR  podman for networks whose conflists are in CONF_DIR
#   sx_podman_run NAME NETWORK [--opt... --] CMD...
#                                        detached container sx$SX_ID-NAME on NETWORK
#   sx_podman_exec NAME CMD...           runs CMD in it
#   sx_podman_ip NAME / sx_podman_pid NAME / sx_podman_netns NAME
#   sx_podman_rm NAME...                 stops and removes (podman calls CNI DEL)
#   sx_podman_pod NAME NETWORK           a pod (infra container from our image)
#   sx_containerd_start                  private containerd with the image imported
#   sx_ctr_run_cni NAME CONF_DIR PLUGIN_DIR CMD...
#                                        `ctr run --cni --rm` in the background
#   sx_ctr_exec NAME CMD... / sx_ctr_ip NAME / sx_ctr_pid NAME
#   sx_ctr_rm NAME...                    kills the task; the waiting ctr calls CNI DEL
#
# containerd and each `ctr run` are background children of the test's shell:
# wait for your own pids, never a bare `wait`.
#
# Names: containers are sx$SX_ID-NAME, the containerd namespace is sx$SX_ID;
# network names in conflists should contain sx$SX_ID (cleanup finds podman's
# CNI result cache entries by it).
#
# The runtimes, and so the CNI plugins they call, run in lib.sh's node
# network namespace ($SX_NODE_NS, created by sx_rt_setup if absent): host-side
# veths, routes, bridges and sysctls such as ip_forward (ptp and bridge set it)
# stay there, not in the machine's own namespace. Check them with sx_node.
#
# Where processes live (cgroup v2, the unified hierarchy; sockops attached to
# $SX_CG or to the root sees every container):
#   podman containers   $SX_CG/podman/libpod-<id>   (--cgroup-parent /sx$SX_ID/podman)
#   ctr containers      $SX_CG/ctr/<name>           (ctr run --cgroup /sx$SX_ID/ctr/<name>)
#   podman, conmon, ctr $SX_CG/rt/cli
#   containerd, shims   $SX_CG/rt/containerd
# (Defaults without these options: podman /libpod_parent/libpod-<id>, conmon
# in the caller's v2 cgroup; ctr /<namespace>/<id>: all children of the root.)
# runc (cgroupfs, hybrid layout) also creates the container paths in every
# cgroup v1 hierarchy; the cleanup removes /sx$SX_ID there.
#
# Pitfalls handled here (see sx_podman_setup and sx_containerd_start):
# crun refuses the hybrid layout (runc); default ulimits exceed this machine's;
# podman writes /dev/shm/libpod_lock (lock_type=file), /run/runc (a runc wrapper
# with --root: podman's --runtime-flag misses conmon's exit command),
# /var/tmp (TMPDIR), /var/lib/containers/cache (import in a mount namespace with a private
# /var/lib) and /var/lib/cni/results (unavoidable: removed on DEL, and the
# directories are removed on exit if this test created them); containerd writes
# /opt/containerd (opt plugin disabled) and /run/containerd (private /run in
# its mount namespace); ctr makes FIFOs in /run/containerd/fifo, reads only the
# first file of /etc/cni/net.d, looks for plugins in /opt/cni/bin:/usr/lib/cni
# and caches results in /var/lib/cni (all replaced by private directories in
# ctr's mount namespace; its /run is containerd's private one).

if [[ -z ${SX_ROOT:-} ]]; then
	# shellcheck source=lib.sh
	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi

SX_RT_BUSYBOX=${SX_RT_BUSYBOX:-/bin/busybox}
SX_RT_REF_CNI=${SX_RT_REF_CNI:-/usr/lib/cni}
SX_RT_IMAGE="localhost/sx${SX_ID}-busybox:latest"
SX_RT_NS="sx${SX_ID}"
SX_RT_WAIT=${SX_RT_WAIT:-10} # seconds to wait for a runtime to act
SX_RT_DIR=""                 # $SX_TMP/rt: image, podman, containerd
SX_RT_CG=""                  # $SX_CG/rt: runtime processes (not containers)
SX_RT_VARLIBCNI_EXISTED=1
SX_PODMAN_DIR=""
SX_CTRD_DIR=""
SX_CTRD_SOCK=""
SX_CTRD_PID=""
SX_CLEANUP_HOOKS=() # run last-registered first by sx_rt_cleanup, then sx_cleanup

# --- set-up and cleanup ------------------------------------------------------

# sx_rt_cleanup: the EXIT trap: the runtime hooks (they need the runtimes'
# own commands), then lib.sh's sx_cleanup; keeps the script's exit status.
sx_rt_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#SX_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
		sx_log "cleanup: ${SX_CLEANUP_HOOKS[i]}"
		"${SX_CLEANUP_HOOKS[i]}"
	done
	SX_CLEANUP_HOOKS=()
	(exit "$rc")
	sx_cleanup
}

# sx_rt_setup: lib.sh's set-up, then our trap in front of sx_cleanup and the
# hook that removes the cgroups and CNI cache directories the runtimes leave.
sx_rt_setup() {
	[[ -n $SX_RT_DIR ]] && return 0
	sx_setup
	SX_RT_DIR="$SX_TMP/rt"
	SX_RT_CG="$SX_CG/rt"
	mkdir -p "$SX_RT_DIR" "$SX_RT_CG/cli" "$SX_RT_CG/containerd"
	[[ -e /run/netns/$SX_NODE_NS ]] || sx_node_create
	[[ -d /var/lib/cni ]] || SX_RT_VARLIBCNI_EXISTED=0
	SX_CLEANUP_HOOKS+=(sx_rt_cleanup_common)
	trap sx_rt_cleanup EXIT
}

# sx_rt_cg_kill DIR: kills every process of a cgroup v2 subtree and waits
# until it is empty (runtime leftovers after their own clean-up failed).
sx_rt_cg_kill() {
	local cg=$1
	[[ -d $cg ]] || return 0
	for _ in $(seq 1 50); do
		grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && return 0
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		sleep 0.1
	done
	return 1
}

# sx_rt_cgroup_v1_mounts: the cgroup v1 hierarchies (runc creates container
# cgroups in each of them in this hybrid layout).
sx_rt_cgroup_v1_mounts() {
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup") print $5 }' \
		/proc/self/mountinfo
}

# sx_rt_cleanup_common: the last hook: processes left in the test's cgroup
# (runtime leftovers, containers started with other cgroup paths; sx_cleanup
# would kill them too, but only after this hook), the cgroup v1 directories
# runc created, podman's CNI cache directories.
sx_rt_cleanup_common() {
	local mnt left
	sx_rt_cg_kill "$SX_CG"
	for _ in 1 2 3 4 5; do
		left=0
		for mnt in $(sx_rt_cgroup_v1_mounts); do
			[[ -d $mnt/sx$SX_ID ]] || continue
			find "$mnt/sx$SX_ID" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $mnt/sx$SX_ID ]] && left=1
		done
		((left)) || break
		sleep 0.1
	done
	rm -f /var/lib/cni/results/*"sx${SX_ID}"* 2>/dev/null
	if [[ $SX_RT_VARLIBCNI_EXISTED == 0 ]]; then
		rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
	fi
	return 0
}

# bash -c "$SX_RT_EXEC" CGROUP NETNS CMD...: CMD (exec'd: same pid, so a
# background `bash -c ... &` has CMD's pid in $!) in a cgroup v2 and a netns.
# shellcheck disable=SC2016
SX_RT_EXEC='echo $$ >"$0/cgroup.procs" && exec nsenter --net="$1" "${@:2}"'
# sx_rt_exec CGROUP CMD...: runs CMD in a cgroup v2 and the node's namespace.
sx_rt_exec() { bash -c "$SX_RT_EXEC" "$1" "/run/netns/$SX_NODE_NS" "${@:2}"; }

# sx_rt_umount_under DIR: unmounts whatever is mounted below DIR, deepest
# first (podman's shm mounts if podman could not remove its containers).
sx_rt_umount_under() {
	local dir=$1 m
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}

# sx_rt_wait_exit PID [SECONDS]: waits for a process (not necessarily our
# child) to exit; fails on timeout.
sx_rt_wait_exit() {
	local pid=$1 t=${2:-$SX_RT_WAIT}
	for _ in $(seq 1 $((t * 20))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# --- the image ---------------------------------------------------------------

# sx_rt_image: builds the busybox image once per test run: a rootfs tarball
# ($SX_RT_DIR/image/rootfs.tar, for podman import) and an OCI archive
# ($SX_RT_DIR/image/oci.tar, for ctr images import), made by hand so that no
# registry and no other image tool is needed.
sx_rt_image() {
	local img="$SX_RT_DIR/image" root a lsha lsize csha csize msha msize
	[[ -f $img/oci.tar ]] && return 0
	if [[ ! -x $SX_RT_BUSYBOX ]] || ldd "$SX_RT_BUSYBOX" >/dev/null 2>&1; then
		sx_die "$SX_RT_BUSYBOX is not a static busybox (install busybox-static)"
	fi
	root="$img/rootfs"
	mkdir -p "$root"/{bin,etc,dev,proc,sys,tmp,run} "$img/oci/blobs/sha256"
	cp "$SX_RT_BUSYBOX" "$root/bin/busybox"
	for a in $("$SX_RT_BUSYBOX" --list); do
		[[ $a == busybox ]] || ln -sf busybox "$root/bin/$a"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	# The infra ("pause") process of podman pods.
	printf '#!/bin/sh\nexec sleep 2147483647\n' >"$root/bin/pause"
	chmod 755 "$root/bin/pause"
	tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-cf "$img/rootfs.tar" .
	# OCI layout: one uncompressed layer, a config, a manifest, an index.
	lsha=$(sha256sum "$img/rootfs.tar" | cut -d' ' -f1)
	lsize=$(stat -c %s "$img/rootfs.tar")
	cp "$img/rootfs.tar" "$img/oci/blobs/sha256/$lsha"
	printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$lsha" >"$img/config.json"
	csha=$(sha256sum "$img/config.json" | cut -d' ' -f1)
	csize=$(stat -c %s "$img/config.json")
	mv "$img/config.json" "$img/oci/blobs/sha256/$csha"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"$csha" "$csize" "$lsha" "$lsize" >"$img/manifest.json"
	msha=$(sha256sum "$img/manifest.json" | cut -d' ' -f1)
	msize=$(stat -c %s "$img/manifest.json")
	mv "$img/manifest.json" "$img/oci/blobs/sha256/$msha"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
		"$msha" "$msize" "$SX_RT_IMAGE" >"$img/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$img/oci/oci-layout"
	tar -C "$img/oci" -cf "$img/oci.tar.part" oci-layout index.json blobs
	mv "$img/oci.tar.part" "$img/oci.tar"
	rm -rf "$img/oci" "$root"
}

# --- podman --------------------------------------------------------------------

# sx_podman_setup PLUGIN_DIR CONF_DIR: private containers.conf and storage
# under $SX_RT_DIR/podman, CNI plugins from PLUGIN_DIR then the reference
# plugins, networks from the conflists in CONF_DIR; imports the image.
sx_podman_setup() {
	local plugins=$1 conf=$2 p dirs
	sx_rt_setup
	[[ -n $SX_PODMAN_DIR ]] && sx_die "sx_podman_setup called twice"
	command -v podman >/dev/null || sx_die "podman is not installed"
	sx_rt_image
	p="$SX_RT_DIR/podman"
	SX_PODMAN_DIR=$p
	mkdir -p "$p"/{root,runroot,tmp,runc,bin} "$conf"
	# runc keeps its state in /run/runc unless told otherwise; podman's
	# --runtime-flag root=... does not reach the `podman container cleanup`
	# that conmon runs when a container exits, so runc is a wrapper.
	printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v runc)" "$p/runc" >"$p/bin/runc"
	chmod 755 "$p/bin/runc"
	dirs="\"$plugins\""
	[[ $plugins -ef $SX_RT_REF_CNI ]] || dirs+=", \"$SX_RT_REF_CNI\""
	# runc: crun refuses this hybrid cgroup layout. cgroupfs: PID 1 is not
	# systemd. The default ulimits are above this machine's hard limits.
	# lock_type file: not /dev/shm/libpod_lock. No events: no journal, no
	# /run/libpod. The pod infra container is our image (nothing to pull).
	cat >"$p/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
lock_type = "file"
tmp_dir = "$p/tmp"
image_copy_tmp_dir = "$p/tmp"
volume_path = "$p/root/volumes"
infra_image = "$SX_RT_IMAGE"
infra_command = "/bin/pause"
[engine.runtimes]
runc = ["$p/bin/runc"]
[network]
network_backend = "cni"
cni_plugin_dirs = [$dirs]
network_config_dir = "$conf"
EOF
	cat >"$p/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$p/root"
runroot = "$p/runroot"
EOF
	SX_CLEANUP_HOOKS+=(sx_podman_cleanup)
	# copy.Image writes a blob-info cache to /var/lib/containers/cache whatever
	# the storage root: import with a private /var/lib.
	# shellcheck disable=SC2016
	sx_podman_env unshare --mount --propagation private -- \
		sh -c 'mount -t tmpfs sx-varlib /var/lib && exec "$@"' sh \
		podman import -q --change 'CMD=["/bin/pause"]' "$SX_RT_DIR/image/rootfs.tar" "$SX_RT_IMAGE" >/dev/null
}

# sx_podman_env CMD...: CMD with the private podman configuration, in
# $SX_RT_CG/cli and the node namespace.
sx_podman_env() {
	[[ -n $SX_PODMAN_DIR ]] || sx_die "sx_podman_setup first"
	CONTAINERS_CONF="$SX_PODMAN_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$SX_PODMAN_DIR/storage.conf" \
		CONTAINERS_REGISTRIES_CONF=/dev/null TMPDIR="$SX_PODMAN_DIR/tmp" \
		sx_rt_exec "$SX_RT_CG/cli" "$@"
}

# sx_podman ARGS...: podman with the private configuration and storage.
sx_podman() {
	sx_podman_env podman "$@"
}

# sx_podman_run NAME NETWORK [--opt... --] [CMD...]: detached container
# sx$SX_ID-NAME on NETWORK (podman calls CNI VERSION and ADD), in cgroup
# $SX_CG/podman/libpod-<id>. Options before a "--" go to podman run (an
# empty NETWORK and --pod P: join pod P's network). No CMD: /bin/pause.
sx_podman_run() {
	local name="sx${SX_ID}-$1" opts=()
	[[ -n $2 ]] && opts+=(--network "$2")
	shift 2
	if [[ ${1:-} == -* ]]; then
		while (($#)) && [[ $1 != -- ]]; do
			opts+=("$1")
			shift
		done
		(($#)) && shift
	fi
	# In a pod, the pod's cgroup (below the same parent) is the parent.
	[[ " ${opts[*]} " == *" --pod "* ]] || opts+=(--cgroup-parent "/sx${SX_ID}/podman")
	sx_podman run -d -q --name "$name" "${opts[@]}" "$SX_RT_IMAGE" "$@" >/dev/null
}

# sx_podman_pod NAME NETWORK: pod sx$SX_ID-NAME on NETWORK (its infra
# container, running /bin/pause of our image, holds the network namespace);
# add containers with sx_podman_run C "" --pod sx$SX_ID-NAME -- CMD...
sx_podman_pod() {
	sx_podman pod create --name "sx${SX_ID}-$1" --network "$2" \
		--cgroup-parent "/sx${SX_ID}/podman" >/dev/null
}

# sx_podman_inspect NAME FORMAT: one field of podman inspect.
sx_podman_inspect() { sx_podman inspect --format "$2" "sx${SX_ID}-$1"; }
# sx_podman_ip NAME: the container's first IPv4 address.
sx_podman_ip() {
	sx_podman_inspect "$1" '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | awk '{print $1}'
}
# sx_podman_pid NAME: the container's init process, as seen from the host.
sx_podman_pid() { sx_podman_inspect "$1" '{{.State.Pid}}'; }
# sx_podman_netns NAME: the network namespace podman created (/run/netns/netns-...).
sx_podman_netns() { sx_podman_inspect "$1" '{{.NetworkSettings.SandboxKey}}'; }
# sx_podman_exec NAME CMD...: runs CMD in the container (stdin passed on).
sx_podman_exec() {
	local name="sx${SX_ID}-$1"
	shift
	sx_podman exec -i "$name" "$@"
}
# sx_podman_rm NAME...: kills and removes containers (podman calls CNI DEL).
sx_podman_rm() {
	local n names=()
	for n in "$@"; do names+=("sx${SX_ID}-$n"); done
	sx_podman rm -f -t 0 "${names[@]}" >/dev/null
}

# sx_podman_cleanup: hook: pods, containers (CNI DEL), then leftovers podman
# could not remove (netns mounts, shm mounts), then the storage.
sx_podman_cleanup() {
	local p=$SX_PODMAN_DIR ns
	[[ -n $p && -d $p ]] || return 0
	sx_podman_env timeout "$SX_RT_WAIT" podman pod rm -a -f -t 0 >/dev/null 2>&1
	sx_podman_env timeout "$SX_RT_WAIT" podman rm -a -f -t 0 >/dev/null 2>&1
	sx_rt_cg_kill "$SX_CG/podman"
	# Network namespaces of containers podman did not remove.
	for ns in $(cat "$p"/root/vfs-containers/*/userdata/config.json 2>/dev/null |
		jq -r '.linux.namespaces[] | select(.type == "network") | .path // empty' 2>/dev/null); do
		[[ $ns == /run/netns/* && -e $ns ]] || continue
		umount "$ns" 2>/dev/null
		rm -f "$ns"
	done
	sx_rt_umount_under "$p"
	rm -rf "$p"
	SX_PODMAN_DIR=""
}

# --- containerd and ctr ----------------------------------------------------------

# sx_containerd_start: containerd with private root, state, sockets and /run
# (in its own mount namespace, so shim sockets and runc state stay private
# and its mounts vanish with it) in $SX_RT_CG/containerd; waits until it
# answers, then imports the image into namespace sx$SX_ID.
sx_containerd_start() {
	local d
	sx_rt_setup
	[[ -n $SX_CTRD_DIR ]] && sx_die "sx_containerd_start called twice"
	command -v containerd >/dev/null || sx_die "containerd is not installed"
	sx_rt_image
	d="$SX_RT_DIR/containerd"
	SX_CTRD_DIR=$d
	SX_CTRD_SOCK="$d/c.sock"
	mkdir -p "$d"/{root,state,run,varlib}
	# opt would create /opt/containerd; the CRI plugin would read
	# /etc/cni/net.d; the other snapshotters probe modules and devices.
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SX_CTRD_SOCK"
[ttrpc]
  address = "$SX_CTRD_SOCK.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
EOF
	SX_CLEANUP_HOOKS+=(sx_containerd_cleanup)
	# shellcheck disable=SC2016
	bash -c "$SX_RT_EXEC" "$SX_RT_CG/containerd" "/run/netns/$SX_NODE_NS" unshare --mount --propagation private -- \
		sh -c 'mount --bind "$0/run" /run && exec containerd --config "$0/config.toml"' "$d" \
		</dev/null >"$d/containerd.log" 2>&1 &
	SX_CTRD_PID=$!
	for _ in $(seq 1 $((SX_RT_WAIT * 20))); do
		sx_ctr version >/dev/null 2>&1 && break
		kill -0 "$SX_CTRD_PID" 2>/dev/null || sx_die "containerd exited: $(tail -5 "$d/containerd.log")"
		sleep 0.05
	done
	sx_ctr version >/dev/null 2>&1 || sx_die "containerd did not start: $(tail -5 "$d/containerd.log")"
	sx_ctr images import "$SX_RT_DIR/image/oci.tar" >/dev/null
}

# sx_ctr ARGS...: ctr against our containerd, namespace sx$SX_ID, in a mount
# namespace where /run is containerd's private one: the stdio FIFOs ctr
# makes in /run/containerd/fifo are where the shim looks for them.
sx_ctr() {
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- sh -c 'mount --bind "$0" /run && exec "$@"' \
		"$SX_CTRD_DIR/run" ctr --address "$SX_CTRD_SOCK" --namespace "$SX_RT_NS" "$@"
}

# _sx_ctr_ns CONF_DIR BIN_DIR VARLIB RUN CMD...: runs in a new mount
# namespace: ctr's CNI sees CONF_DIR as /etc/cni/net.d, BIN_DIR as
# /usr/lib/cni (it searches /opt/cni/bin, absent here, then /usr/lib/cni),
# VARLIB as /var/lib (its CNI result cache is /var/lib/cni) and containerd's
# RUN as /run (FIFOs).
_sx_ctr_ns() {
	mount --bind "$1" /etc/cni/net.d &&
		mount --bind "$2" /usr/lib/cni &&
		mount --bind "$3" /var/lib &&
		mount --bind "$4" /run &&
		shift 4 && exec "$@"
}

# sx_ctr_run_cni NAME CONF_DIR PLUGIN_DIR CMD...: `ctr run --cni --rm` of
# container sx$SX_ID-NAME, in the background (not -d: a detached ctr never
# calls DEL; this one calls ADD before the task starts and DEL when it
# exits). CONF_DIR holds one conflist; PLUGIN_DIR's executables are added to
# the reference plugins. Returns once the task runs (networking is set up).
# Container output: $SX_CTRD_DIR/NAME.out; ctr's own: $SX_CTRD_DIR/NAME.ctr.
sx_ctr_run_cni() {
	local name=$1 conf=$2 plugins=$3 id="sx${SX_ID}-$1" d=$SX_CTRD_DIR bin f pid
	shift 3
	[[ -n $d ]] || sx_die "sx_containerd_start first"
	bin="$d/cni-$name"
	rm -rf "$bin"
	mkdir -p "$bin"
	cp -al "$SX_RT_REF_CNI"/. "$bin"/ 2>/dev/null || cp -a "$SX_RT_REF_CNI"/. "$bin"/
	if ! [[ $plugins -ef $SX_RT_REF_CNI ]]; then
		for f in "$plugins"/*; do
			[[ -f $f && -x $f ]] || continue
			f=$(realpath "$f")
			rm -f "$bin/${f##*/}"
			ln -s "$f" "$bin/${f##*/}"
		done
	fi
	bash -c "$SX_RT_EXEC" "$SX_RT_CG/cli" "/run/netns/$SX_NODE_NS" unshare --mount --propagation private -- \
		bash -c "$(declare -f _sx_ctr_ns)"'; _sx_ctr_ns "$@"' bash "$conf" "$bin" "$d/varlib" "$d/run" \
		ctr --address "$SX_CTRD_SOCK" --namespace "$SX_RT_NS" run --cni --rm \
		--log-uri "file://$d/$name.out" --cgroup "/sx${SX_ID}/ctr/$name" \
		"$SX_RT_IMAGE" "$id" "$@" </dev/null >"$d/$name.ctr" 2>&1 &
	pid=$!
	echo "$pid" >"$d/$name.pid"
	for _ in $(seq 1 $((SX_RT_WAIT * 20))); do
		if [[ $(sx_ctr task ls 2>/dev/null | awk -v id="$id" '$1 == id { print $3 }') == RUNNING ]]; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "ctr run $id failed: $(cat "$d/$name.ctr")" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "ctr run $id: no running task after ${SX_RT_WAIT}s" >&2
	return 1
}

# sx_ctr_pid NAME: the container's init process, as seen from the host.
sx_ctr_pid() { sx_ctr task ls | awk -v id="sx${SX_ID}-$1" '$1 == id { print $2 }'; }
# sx_ctr_ip NAME: the IPv4 address of the container's eth0.
sx_ctr_ip() {
	nsenter --net="/proc/$(sx_ctr_pid "$1")/ns/net" ip -4 -o addr show dev eth0 |
		awk 'NR == 1 { sub("/.*", "", $4); print $4 }'
}
# sx_ctr_exec NAME CMD...: runs CMD in the container (ctr task exec, stdin
# passed on). Exit status is CMD's.
sx_ctr_exec() {
	local id="sx${SX_ID}-$1"
	shift
	sx_ctr task exec --exec-id "e${BASHPID}-${RANDOM}" "$id" "$@"
}

# sx_ctr_rm NAME...: kills the tasks; each waiting `ctr run` then calls CNI
# DEL (empty CNI_NETNS: the namespace died with the task), deletes the task
# and removes the container and its snapshot (--rm). Fails if a ctr does not
# exit or reports an error.
sx_ctr_rm() {
	local n pid rc=0 d=$SX_CTRD_DIR
	for n in "$@"; do
		# Fails when the task has already exited: its ctr exits anyway.
		sx_ctr task kill -s SIGKILL "sx${SX_ID}-$n" 2>/dev/null
	done
	for n in "$@"; do
		pid=$(cat "$d/$n.pid" 2>/dev/null) || continue
		if ! sx_rt_wait_exit "$pid"; then
			echo "ctr run sx${SX_ID}-$n did not exit" >&2
			rc=1
			continue # the cleanup kills it
		fi
		if grep -qi 'level=error\|ctr: ' "$d/$n.ctr"; then
			echo "ctr run sx${SX_ID}-$n: $(cat "$d/$n.ctr")" >&2
			rc=1
		fi
		rm -f "$d/$n.pid"
	done
	return $rc
}

# sx_containerd_cleanup: hook: containers (so ctr calls DEL), ctr processes,
# containerd and its shims, then its directory (its mounts went with its
# mount namespace).
sx_containerd_cleanup() {
	local d=$SX_CTRD_DIR f names=() pid
	[[ -n $d && -d $d ]] || return 0
	for f in "$d"/*.pid; do
		[[ -e $f ]] || continue
		f=${f##*/}
		names+=("${f%.pid}")
	done
	((${#names[@]})) && sx_ctr_rm "${names[@]}" >/dev/null 2>&1
	for f in "$d"/*.pid; do
		[[ -e $f ]] && pid=$(cat "$f") && kill "$pid" 2>/dev/null
	done
	sx_rt_cg_kill "$SX_CG/ctr"
	if [[ -n $SX_CTRD_PID ]]; then
		kill "$SX_CTRD_PID" 2>/dev/null
		sx_rt_wait_exit "$SX_CTRD_PID" 5 || kill -9 "$SX_CTRD_PID" 2>/dev/null
		wait "$SX_CTRD_PID" 2>/dev/null
	fi
	sx_rt_cg_kill "$SX_RT_CG/containerd" # the shims outlive containerd
	sx_rt_umount_under "$d"
	rm -rf "$d"
	SX_CTRD_DIR=""
}
