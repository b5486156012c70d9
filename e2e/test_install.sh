#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Operating a node: make install/uninstall into a temporary DESTDIR, the
# systemd unit (systemd-analyze verify, and its ExecStart run for real),
# chained installation in a temporary CNI directory, Prometheus textfile
# metrics, and doctor on a healthy and on a broken pin dir. Nothing outside
# the test's own directories, pins and cgroup is touched.
source "$(dirname "$0")/lib.sh"
sx_two_pod_node
MAKE=(make -C "$SX_ROOT" -s --no-print-directory OUTPUT="$OUTPUT")

# ---- make install / uninstall ----------------------------------------------
dest="$SX_TMP/destdir"
"${MAKE[@]}" install DESTDIR="$dest" >"$SX_TMP/install.out" 2>&1 ||
	sx_die "make install failed: $(cat "$SX_TMP/install.out")"
# mode_is MODE PATH
mode_is() { [[ -f $2 && $(stat -c %a "$2") == "$1" ]]; }
check "install: sockvxctl in PREFIX/sbin, mode 0755" mode_is 755 "$dest/usr/local/sbin/sockvxctl"
check "install: the static CNI plugin in /opt/cni/bin, mode 0755" mode_is 755 "$dest/opt/cni/bin/sockvx"
check "install: the node agent in PREFIX/sbin, mode 0755" mode_is 755 "$dest/usr/local/sbin/sockvx-node-agent"
unit="$dest/usr/local/lib/systemd/system/sockvx.service"
check "install: the systemd unit, mode 0644" mode_is 644 "$unit"
check "install: the settings file /etc/sockvx/sockvx.env, mode 0644" mode_is 644 "$dest/etc/sockvx/sockvx.env"
check "install: example conflists under share, none in /etc/cni/net.d" \
	bash -c '[[ -f $1/usr/local/share/sockvx/examples/10-sockvx.conflist && ! -e $1/etc/cni ]]' _ "$dest"
check "install: the Kubernetes manifests under share" test -f "$dest/usr/local/share/sockvx/kubernetes/daemonset.yaml"
check "install: the unit names the installed sockvxctl, no placeholder left" \
	bash -c 'grep -q "^ExecStart=/usr/local/sbin/sockvxctl load" "$1" && ! grep -q @ "$1"' _ "$unit"
check "install: the installed sockvxctl runs" "$dest/usr/local/sbin/sockvxctl" --version
check "install: the installed plugin answers VERSION" \
	bash -c 'CNI_COMMAND=VERSION "$1" </dev/null | jq -e .supportedVersions >/dev/null' _ "$dest/opt/cni/bin/sockvx"
echo 'SOCKVX_LOAD_ARGS="--underlay eth9"' >"$dest/etc/sockvx/sockvx.env.edited"
"${MAKE[@]}" install DESTDIR="$dest" >/dev/null 2>&1
check "install again: succeeds and keeps the settings file" mode_is 644 "$dest/etc/sockvx/sockvx.env"
rm "$dest/etc/sockvx/sockvx.env.edited"
"${MAKE[@]}" uninstall DESTDIR="$dest" >"$SX_TMP/uninstall.out" 2>&1
left=$(find "$dest" -type f -o -type l)
check "uninstall: no file left in DESTDIR${left:+ (left: $left)}" test -z "$left"
check "uninstall: sockvx's own directories removed" \
	bash -c '[[ ! -e $1/usr/local/share/sockvx && ! -e $1/etc/sockvx ]]' _ "$dest"
"${MAKE[@]}" install DESTDIR="$dest" >/dev/null 2>&1
echo 'SOCKVX_LOAD_ARGS="--underlay eth9"' >>"$dest/etc/sockvx/sockvx.env"
"${MAKE[@]}" uninstall DESTDIR="$dest" >"$SX_TMP/uninstall.out" 2>&1
check "uninstall: an edited settings file stays, and is reported" \
	bash -c '[[ -f $1/etc/sockvx/sockvx.env ]] && grep -q "it was edited" "$2"' _ "$dest" "$SX_TMP/uninstall.out"
rm -rf "$dest"

# ---- the systemd unit --------------------------------------------------------
# systemd-analyze verify checks that every command exists, so the unit is
# installed with real paths (PREFIX in the test directory, no DESTDIR). It
# needs no systemd as PID 1. It reports problems on stderr and may still exit
# 0, so any output is a failure.
prefix="$SX_TMP/prefix"
"${MAKE[@]}" install PREFIX="$prefix/usr" SYSCONFDIR="$prefix/etc" CNI_BIN_DIR="$prefix/opt/cni/bin" \
	>/dev/null 2>&1 || sx_die "make install with PREFIX failed"
unit="$prefix/usr/lib/systemd/system/sockvx.service"
verify() { systemd-analyze verify --man=no "$1" >"$SX_TMP/verify.out" 2>&1 && [[ ! -s $SX_TMP/verify.out ]]; }
if verify "$unit"; then
	ok "systemd-analyze verify: the unit is clean"
else
	fail "systemd-analyze verify: $(cat "$SX_TMP/verify.out")"
fi
sed 's/^Type=oneshot/Type=oneshoot/' "$unit" >"$SX_TMP/broken.service"
check "systemd-analyze verify catches a broken copy (the check can fail)" \
	bash -c '! systemd-analyze verify --man=no "$1" >/dev/null 2>"$2" || [[ -s $2 ]]' _ \
	"$SX_TMP/broken.service" "$SX_TMP/verify.out"
check "the unit is a oneshot that stays active, with no ExecStop (stopping keeps the dataplane)" \
	bash -c 'grep -q "^Type=oneshot" "$1" && grep -q "^RemainAfterExit=yes" "$1" && ! grep -q "^ExecStop" "$1"' _ "$unit"
check "the unit runs before the container runtime and kubelet" \
	bash -c 'grep -E "^Before=" "$1" | grep -q containerd.service && grep -E "^Before=" "$1" | grep -q kubelet.service' _ "$unit"

# ExecStartPre and ExecStart, as systemd would run them: the settings file's
# variables, ${VAR} as one word, $VAR split on spaces.
unit_exec() { sed -n "s/^$1=//p" "$unit"; }
# shellcheck disable=SC2034 # read by the eval below
SOCKVX_PIN_DIR="$SX_PIN-unit" SOCKVX_LOAD_ARGS="--cgroup $SX_CG"
eval "set -- $(unit_exec ExecStartPre)"
check "ExecStartPre (bpffs mount if needed) succeeds" "$@"
start=$(unit_exec ExecStart)
eval "set -- ${start//\$\{SOCKVX_PIN_DIR\}/\"\$SOCKVX_PIN_DIR\"}"
check "ExecStart loads sockvx with the settings file's arguments" "$@"
check "... and the load it made is healthy (status: loaded)" \
	bash -c '[[ $("$1" status --json --pin-dir "$2" | jq -r .loaded) == true ]]' _ "$SOCKVXCTL" "$SX_PIN-unit"
"$SOCKVXCTL" unload --pin-dir "$SX_PIN-unit" >/dev/null

# ---- chained installation ----------------------------------------------------
conf="$SX_TMP/net.d"
mkdir -p "$conf"
cat >"$conf/10-flannel.conflist" <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "disableCheck": false,
  "plugins": [
    { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
echo '{"cniVersion":"0.4.0","name":"other","type":"bridge"}' >"$conf/99-other.conf"
before=$(sha256sum "$conf/10-flannel.conflist")
chain() { "$SOCKVXCTL" cni chain --cni-conf-dir "$conf" --pin-dir "$SX_PIN"; }
# refuses PATTERN cmd...: the command fails with a message matching PATTERN.
refuses() {
	local pattern=$1
	shift
	! "$@" >/dev/null 2>"$SX_TMP/err" && grep -q "$pattern" "$SX_TMP/err"
}
chain >"$SX_TMP/chain.out" 2>&1
out="$conf/00-sockvx.conflist"
check "chain: writes 00-sockvx.conflist" test -f "$out"
check "chain: the cluster's plugins, then sockvx with this pin dir" \
	test "$(jq -c '[.plugins[].type], .plugins[-1].pinDir' "$out" | paste -sd' ')" = "[\"flannel\",\"portmap\",\"sockvx\"] \"$SX_PIN\""
check "chain: the network keeps its name, version and other fields" \
	test "$(jq -c '[.name, .cniVersion, .disableCheck, .plugins[0].delegate.hairpinMode]' "$out")" = '["cbr0","1.0.0",false,true]'
check "chain: the cluster's file is untouched" test "$before" = "$(sha256sum "$conf/10-flannel.conflist")"
sum1=$(sha256sum "$out")
mtime1=$(stat -c %Y.%y "$out")
sleep 1.1
chain >"$SX_TMP/chain2.out" 2>&1
check "chain again (as after a reboot): the same file, not rewritten" \
	bash -c '[[ $1 == "$(sha256sum "$3")" && $2 == "$(stat -c %Y.%y "$3")" ]] && grep -q unchanged "$4"' _ \
	"$sum1" "$mtime1" "$out" "$SX_TMP/chain2.out"
check "chain again: sockvx appears once (it never wraps its own file)" \
	test "$(jq '[.plugins[] | select(.type == "sockvx")] | length' "$out")" -eq 1
check "chain: the first file in the directory is now sockvx's" \
	test "$(find "$conf" -maxdepth 1 -name '*.conf*' -printf '%f\n' | LC_ALL=C sort | head -1)" = 00-sockvx.conflist
check "chain: no temporary file left" test "$(find "$conf" -name '.*' | wc -l)" -eq 0
sed -i 's/"portmap"/"bandwidth"/' "$conf/10-flannel.conflist"
chain >/dev/null 2>&1
check "chain after the cluster changed its file: follows it" \
	test "$(jq -c '[.plugins[].type]' "$out")" = '["flannel","bandwidth","sockvx"]'
mv "$conf/10-flannel.conflist" "$SX_TMP/"
chain >/dev/null 2>&1
check "chain: a single-plugin .conf becomes a list" \
	test "$(jq -c '[.name, .cniVersion, [.plugins[].type]]' "$out")" = '["other","0.4.0",["bridge","sockvx"]]'
echo '{"cniVersion":"1.0.0","name":"early","type":"bridge"}' >"$conf/00-early.conf"
sum1=$(sha256sum "$out")
check "chain: refuses when another file would still sort first, and writes nothing" \
	refuses "sorts before" chain
check "... and the earlier file is unchanged" test "$sum1" = "$(sha256sum "$out")"
rm "$conf/00-early.conf" "$conf/99-other.conf"
cp "$SX_ROOT/cni/examples/10-sockvx.conflist" "$conf/"
check "chain: refuses a directory whose network already is sockvx (main mode)" \
	refuses "main plugin" chain
rm "$conf/10-sockvx.conflist"
check "chain: refuses an empty directory with a message" \
	refuses "network plugin first" chain
check "unchain: removes sockvx's file" \
	bash -c '"$1" cni unchain --cni-conf-dir "$2" >/dev/null && [[ ! -e $2/00-sockvx.conflist ]]' _ "$SOCKVXCTL" "$conf"
check "unchain again: nothing to do, success" "$SOCKVXCTL" cni unchain --cni-conf-dir "$conf"

# ---- Prometheus textfile metrics -----------------------------------------------
# Some accelerated traffic first, so the counters have something to say.
sx_pod_bg b "$SX_TOOLS/sxtorture" server "$(sx_pod_ip 3)" 9300 >/dev/null 2>&1
sx_wait_listen b 9300 || true
sx_pod a "$SX_TOOLS/sxtorture" client "$(sx_pod_ip 3)" 9300 --conns 20 --concurrency 4 \
	--seed 3 --json >"$SX_TMP/torture.json" 2>/dev/null || true
prom="$SX_TMP/textfile"
mkdir -p "$prom"
sx_ctl stats --prometheus "$prom/sockvx.prom" >/dev/null 2>&1
check "stats --prometheus FILE writes the file, mode 0644, no temporary left" \
	bash -c '[[ $(stat -c %a "$1/sockvx.prom") == 644 && $(ls "$1") == sockvx.prom ]]' _ "$prom"
# The text format, strictly: HELP and TYPE before each metric's samples, one
# family's samples together, integer values, label values from [a-z0-9_].
prom_valid() {
	awk '
	/^# HELP sockvx_[a-z0-9_]+ [^ ].*$/ { help[$3] = 1; next }
	/^# TYPE sockvx_[a-z0-9_]+ (counter|gauge)$/ {
		if (!help[$3] || type[$3]) { print "TYPE without HELP or twice: " $0; bad = 1 }
		type[$3] = $4; cur = $3; next
	}
	/^sockvx_[a-z0-9_]+(\{[a-z_]+="[a-z0-9_]+"\})? [0-9]+$/ {
		name = $1; sub(/\{.*/, "", name)
		if (name != cur) { print "sample outside its family: " $0; bad = 1 }
		if (type[name] == "counter" && name !~ /_total$/) { print "counter without _total: " $0; bad = 1 }
		if (seen[$1]++) { print "duplicate sample: " $0; bad = 1 }
		n++; next
	}
	{ print "bad line: " $0; bad = 1 }
	END { if (!n) { print "no samples"; bad = 1 }; exit bad }' "$1"
}
if prom_valid "$prom/sockvx.prom" >"$SX_TMP/prom.err"; then
	ok "the metrics parse ($(grep -vc '^#' "$prom/sockvx.prom") samples)"
else
	fail "the metrics parse: $(head -3 "$SX_TMP/prom.err")"
fi
metric() { awk -v m="$1" '$1 == m { print $2 }' "$prom/sockvx.prom"; }
check "sockvx_up is 1" test "$(metric sockvx_up)" = 1
check "one drop counter per reason (10 reasons)" \
	test "$(grep -c '^sockvx_drops_total{reason="[a-z_]*"}' "$prom/sockvx.prom")" -eq 10
check "redirected bytes and messages are counted (and equal stats --json)" \
	bash -c '(( $1 > 0 && $1 == $2 && $3 > 0 ))' _ "$(metric sockvx_bytes_redirected_total)" \
	"$(sx_stat bytes_redirected)" "$(metric sockvx_messages_redirected_total)"
check "map fill: 4 endpoints of 16384" \
	test "$(metric 'sockvx_map_entries{map="endpoints"}') $(metric 'sockvx_map_capacity{map="endpoints"}')" = "4 16384"
check "map capacity for every map, fill for every hash and trie" \
	test "$(grep -c '^sockvx_map_capacity' "$prom/sockvx.prom") $(grep -c '^sockvx_map_entries' "$prom/sockvx.prom")" = "10 7"
if command -v promtool >/dev/null; then
	check "promtool check metrics accepts it" bash -c 'promtool check metrics <"$1"' _ "$prom/sockvx.prom"
fi
check "stats --prometheus without a file writes to stdout" \
	bash -c '"$@" | grep -qx "sockvx_up 1"' _ "$SOCKVXCTL" stats --prometheus --pin-dir "$SX_PIN"
"$SOCKVXCTL" stats --prometheus "$prom/absent.prom" --pin-dir "$SX_PIN-absent" >/dev/null 2>&1 && rc=0 || rc=$?
check "not loaded: exit 1 and a file saying sockvx_up 0" \
	bash -c '[[ $1 -eq 1 ]] && grep -qx "sockvx_up 0" "$2"' _ "$rc" "$prom/absent.prom"
check "--json and --prometheus together are a usage error" \
	bash -c '"$@" >/dev/null 2>&1; [[ $? -eq 2 ]]' _ "$SOCKVXCTL" stats --json --prometheus

# ---- the maps as bpftool shows them --------------------------------------------
# The kernel takes no BTF for socket maps: libbpf creates the sockhash without.
no_btf=""
for m in $(sx_ctl status --json | jq -r '.maps[].name | select(. != "sx_sockhash_v1")'); do
	[[ $(bpftool -j map show pinned "$SX_PIN/$m" | jq '.btf_id // 0') -gt 0 ]] || no_btf+=" $m"
done
check "every pinned map but the sockhash carries BTF${no_btf:+ (missing:$no_btf)}" test -z "$no_btf"
check "bpftool map dump pretty-prints an endpoint with its field names" \
	test "$(bpftool -j map dump pinned "$SX_PIN/sx_endpoints_v1" | jq -c '[(.[0].formatted.key | keys), (.[0].formatted.value | keys)]')" = \
	'[["family","ip","pad"],["flags","host_mac","ifindex","pod_mac"]]'

# ---- doctor ------------------------------------------------------------------
bin="$SX_TMP/cni-bin"
mkdir -p "$bin" "$conf"
install -m 0755 "$OUTPUT/sockvx" "$bin/sockvx"
cp "$SX_TMP/10-flannel.conflist" "$conf/"
chain >/dev/null 2>&1
doctor() { sx_ctl doctor --cni-conf-dir "$conf" --cni-bin-dir "$bin" "$@"; }
doctor --json >"$SX_TMP/doctor.json" 2>&1 && rc=0 || rc=$?
check "doctor on a healthy node: exit 0, every check ok ($(jq '.checks | length' "$SX_TMP/doctor.json") checks)" \
	bash -c '[[ $1 -eq 0 ]] && jq -e ".ok and ([.checks[] | select(.status != \"ok\")] | length == 0)" "$2" >/dev/null' \
	_ "$rc" "$SX_TMP/doctor.json"
check "doctor checks kernel, features, bpffs, cgroup2, pins, attachments, VXLAN and CNI" \
	test "$(jq -c '[.checks[].check]' "$SX_TMP/doctor.json")" = \
	'["kernel","btf","features","bpffs","cgroup2","pins","attachments","acceleration","vxlan","cni-binary","cni-conf"]'
check "doctor's human form ends with the tally" test "$(doctor | tail -1)" = "0 failed, 0 warning(s)"
rm "$SX_PIN/sx_tunnel_v1"
doctor --json >"$SX_TMP/doctor.json" 2>&1 && rc=0 || rc=$?
check "doctor with a pin missing: exit 1, names the pin and the fix" \
	bash -c '[[ $1 -eq 1 ]] && jq -e "[.checks[] | select(.check == \"pins\" and .status == \"FAIL\" and (.detail | contains(\"sx_tunnel_v1\")) and (.fix | contains(\"sockvxctl load\")))] | length == 1" "$2" >/dev/null' \
	_ "$rc" "$SX_TMP/doctor.json"
sx_load
check "... and the fix it names repairs it" doctor -v --json >/dev/null
sx_ctl accel off >/dev/null
check "doctor: acceleration off is a warning with the command to fix it, not a failure" \
	jq -e '.ok and ([.checks[] | select(.status == "warn") | .fix] == ["sockvxctl accel on"])' \
	<(doctor --json)
sx_ctl accel on >/dev/null
"$SOCKVXCTL" cni unchain --cni-conf-dir "$conf" >/dev/null
doctor >"$SX_TMP/doctor.txt" 2>&1 && rc=0 || rc=$?
check "doctor without sockvx in the CNI configuration: exit 1, says to chain" \
	bash -c '[[ $1 -eq 1 ]] && grep -q "^FAIL  cni-conf .*does not call sockvx" "$2" && grep -q "fix: sockvxctl cni chain" "$2"' \
	_ "$rc" "$SX_TMP/doctor.txt"
rm "$bin/sockvx"
check "doctor without the plugin binary: the cni-binary check fails" \
	jq -e '[.checks[] | select(.check == "cni-binary")][0].status == "FAIL"' <(doctor --json)
check "doctor on a pin dir never loaded: exit 1, says to load" \
	bash -c '! "$1" doctor --pin-dir "$2" --json >"$3" 2>&1 && jq -e "[.checks[] | select(.check == \"pins\")][0].fix | contains(\"sockvxctl load\")" "$3" >/dev/null' \
	_ "$SOCKVXCTL" "$SX_PIN-never" "$SX_TMP/d.json"
sx_done
