#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What an operator runs on a node: make install and uninstall (into a
# private prefix), the systemd unit (systemd-analyze verify, and its commands
# run as systemd would run them), chained installation with cni-chain,
# Prometheus textfile metrics, and doctor.
source "$(dirname "$0")/lib.sh"

sx_two_pod_node
ROOT=$SX_ROOT
PREFIX_DIR="$SX_TMP/prefix"
MAKE_VARS=(-s -C "$ROOT" OUTPUT="$OUTPUT" PREFIX="$PREFIX_DIR" SYSCONFDIR="$PREFIX_DIR/etc"
	CNI_BIN_DIR="$PREFIX_DIR/opt/cni/bin")
UNIT="$PREFIX_DIR/lib/systemd/system/sockvx.service"

# --- install and uninstall ------------------------------------------------------
check "make install succeeds" eval 'make "${MAKE_VARS[@]}" install >/dev/null'
mode() { stat -c %a "$1" 2>/dev/null; }
check "sockvxctl is installed, mode 0755" test "$(mode "$PREFIX_DIR/sbin/sockvxctl")" = 755
check "the static CNI plugin is installed in the CNI directory, mode 0755" \
	test "$(mode "$PREFIX_DIR/opt/cni/bin/sockvx")" = 755
check "sockvx.service is installed, mode 0644, its paths filled in" \
	eval '[[ $(mode "$UNIT") == 644 ]] && ! grep -q @ "$UNIT" && grep -q "^ExecStart=$PREFIX_DIR/sbin/sockvxctl load" "$UNIT"'
check "the settings file and the example conflists are installed" \
	test -f "$PREFIX_DIR/etc/sockvx/sockvx.env" -a -f "$PREFIX_DIR/share/sockvx/examples/10-sockvx.conflist"
check "systemd-analyze verify accepts the unit" systemd-analyze verify "$UNIT"
check "the unit orders itself before the container runtimes and kubelet" \
	grep -qE '^Before=.*containerd\.service.*kubelet\.service' "$UNIT"
check "stopping the unit leaves the dataplane: no ExecStop" sh -c "! grep -q '^ExecStop' '$UNIT'"

# The unit's commands as systemd runs them: its environment, then the file's.
echo "SOCKVX_PIN_DIR=$SX_PIN-unit
SOCKVX_LOAD_ARGS=--cgroup $SX_CG" >"$SX_TMP/unit.env"
unit_run() {
	local key=$1 line l vars=()
	line=$(sed -n "s/^$key=//p" "$UNIT")
	# The unit's Environment= words, then the file's lines: the later wins, as in systemd.
	read -r -a vars <<<"$(sed -n 's/^Environment=//p' "$UNIT")"
	while IFS= read -r l; do [[ $l == [A-Z]*=* ]] && vars+=("$l"); done <"$SX_TMP/unit.env"
	env -i PATH="$PATH" "${vars[@]}" bash -c "exec $line" >/dev/null 2>&1
}
check "the unit's ExecStartPre (bpffs) runs" unit_run ExecStartPre
check "the unit's ExecStart loads sockvx with the settings file" \
	eval 'unit_run ExecStart && "$SOCKVXCTL" status --json --pin-dir "$SX_PIN-unit" | jq -e .loaded >/dev/null'
check "running it again (a restart) is harmless" \
	eval 'unit_run ExecStart && "$SOCKVXCTL" status --json --pin-dir "$SX_PIN-unit" | jq -e .loaded >/dev/null'
"$SOCKVXCTL" unload --pin-dir "$SX_PIN-unit" >/dev/null

echo "SOCKVX_LOAD_ARGS=--underlay eth1" >>"$PREFIX_DIR/etc/sockvx/sockvx.env"
check "make uninstall succeeds" eval 'make "${MAKE_VARS[@]}" uninstall >/dev/null'
check "... and leaves only the settings the operator changed" \
	test "$(find "$PREFIX_DIR" -type f)" = "$PREFIX_DIR/etc/sockvx/sockvx.env"
check "... which a new install keeps" \
	eval 'make "${MAKE_VARS[@]}" install >/dev/null && grep -q eth1 "$PREFIX_DIR/etc/sockvx/sockvx.env"'
make "${MAKE_VARS[@]}" uninstall >/dev/null
rm -f "$PREFIX_DIR/etc/sockvx/sockvx.env"

# --- chained installation -------------------------------------------------------
NETD="$SX_TMP/net.d"
mkdir -p "$NETD"
cat >"$NETD/10-flannel.conflist" <<'EOF'
{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"isDefaultGateway":true}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOF
cat >"$NETD/99-other.conf" <<'EOF'
{"name":"other","cniVersion":"0.4.0","type":"bridge"}
EOF
before=$(md5sum "$NETD/10-flannel.conflist")
chain() { "$SOCKVXCTL" cni-chain --pin-dir "$SX_PIN" --cni-conf-dir "$NETD" >/dev/null 2>&1; }
CHAIN="$NETD/00-sockvx.conflist"
check "cni-chain writes 00-sockvx.conflist" chain
check "... the cluster's name, version and plugins, then sockvx with the pin dir" \
	jq -e --arg pin "$SX_PIN" '.name == "cbr0" and .cniVersion == "0.3.1" and
		([.plugins[].type] == ["flannel", "portmap", "sockvx"]) and .plugins[2].pinDir == $pin
		and .plugins[0].delegate.isDefaultGateway' "$CHAIN" >/dev/null
check "... and never touches the cluster's file" test "$(md5sum "$NETD/10-flannel.conflist")" = "$before"
# shellcheck disable=SC2034 # read by the check's eval
first=$(md5sum <"$CHAIN")
check "running it again (after a reboot) gives the same file, sockvx once" \
	eval 'chain && [[ $(md5sum <"$CHAIN") == "$first" ]]'
check "no temporary file is left" test "$(find "$NETD" -name '.*' -type f | wc -l)" -eq 0
rm "$NETD/10-flannel.conflist"
check "a single .conf becomes the first plugin" \
	eval 'chain && jq -e ".name == \"other\" and [.plugins[].type] == [\"bridge\", \"sockvx\"] and (.plugins[0] | has(\"name\") | not)" "$CHAIN" >/dev/null'
rm "$NETD"/*
check "with no cluster configuration it fails and writes nothing" \
	eval '! chain && [[ -z $(ls -A "$NETD") ]]'

# --- Prometheus metrics ---------------------------------------------------------
# Some accelerated traffic first, so the counters are not all zero.
sx_pod b timeout 5 busybox nc -l -p 7500 >/dev/null &
server=$!
sx_wait_listen b 7500 || true
echo "metrics-$SX_ID" | sx_pod a busybox nc -w 2 "$(sx_pod_ip 3)" 7500 >/dev/null 2>&1 || true
wait "$server" 2>/dev/null || true
PROM="$SX_TMP/textfile/sockvx.prom"
mkdir -p "$(dirname "$PROM")"
check "stats --prometheus FILE writes the metrics" "$SOCKVXCTL" stats --prometheus "$PROM" --pin-dir "$SX_PIN"
# Every line is a HELP, a TYPE or a sample of the text format, names prefixed sockvx_.
bad_lines() {
	grep -cvE '^# (HELP|TYPE) sockvx_[a-z0-9_]+ .+$|^sockvx_[a-z0-9_]+(\{[a-z]+="[a-z0-9_]+"\})? [0-9]+$' "$PROM" || true
}
check "... in the Prometheus text format, every line" test "$(bad_lines)" -eq 0
check "... each metric with HELP and TYPE once" \
	test "$(grep -c '^# TYPE' "$PROM")" -eq "$(grep -c '^# HELP' "$PROM")" -a \
	"$(grep '^# TYPE' "$PROM" | sort | uniq -d | wc -l)" -eq 0
check "... sockvx_up 1" grep -qx 'sockvx_up 1' "$PROM"
inserted=$(sx_stat sockets_inserted)
check "... counters equal sockvxctl stats (sockets_inserted $inserted)" \
	grep -qx "sockvx_sockets_inserted_total $inserted" "$PROM"
reasons=$(sx_ctl stats --json | jq '[keys[] | select(startswith("drop_"))] | length')
check "... one drop counter per reason ($reasons), labelled" \
	test "$(grep -c '^sockvx_drops_total{reason="[a-z_]*"} ' "$PROM")" -eq "$reasons"
eps=$(sx_ctl endpoint list --json | jq length)
check "... map capacity and fill (endpoints: $eps of 16384)" \
	eval 'grep -qx "sockvx_map_capacity{map=\"sx_endpoints_v1\"} 16384" "$PROM" &&
		grep -qx "sockvx_map_entries{map=\"sx_endpoints_v1\"} $eps" "$PROM"'
check "... written atomically: no temporary file is left" test "$(ls "$(dirname "$PROM")")" = sockvx.prom
check "on a node without sockvx, sockvx_up 0" \
	eval '"$SOCKVXCTL" stats --prometheus --pin-dir "$SX_PIN-none" 2>/dev/null | grep -qx "sockvx_up 0"'

# --- maps for people ------------------------------------------------------------
check "the maps carry BTF: bpftool dump names the fields of an endpoint" \
	eval 'bpftool -j map dump pinned "$SX_PIN/sx_endpoints_v1" |
		jq -e "length > 0 and (.[0].formatted.key | has(\"family\")) and (.[0].formatted.value | has(\"pod_mac\"))" >/dev/null'
check "endpoint list and node list answer in JSON" \
	eval 'sx_ctl endpoint list --json | jq -e "length > 0" >/dev/null && sx_ctl node list --json | jq -e "type == \"array\"" >/dev/null'

# --- doctor ---------------------------------------------------------------------
BIN="$SX_TMP/cnibin"
mkdir -p "$BIN" "$NETD"
cp "$OUTPUT/sockvx" "$BIN/"
echo '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}' >"$NETD/10-bridge.conflist"
chain
doctor() { "$SOCKVXCTL" doctor --pin-dir "$1" --cni-conf-dir "$NETD" --cni-bin-dir "$BIN" "${@:2}"; }
check "doctor: a loaded node with a chained configuration is healthy (exit 0)" \
	eval 'doctor "$SX_PIN" >"$SX_TMP/doctor.out"'
check "... and says so, check by check" \
	eval 'grep -q "healthy on this node" "$SX_TMP/doctor.out" && ! grep -q "^FAIL" "$SX_TMP/doctor.out"'
doctor "$SX_PIN-none" --json >"$SX_TMP/doctor.json" && rc=0 || rc=$?
check "doctor: without sockvx loaded it fails (exit 1)" test "$rc" -eq 1
check "... naming the missing pins and attachments, each with its fix" \
	jq -e '(.healthy | not) and ([.findings[] | select(.level == "fail") | .check] | index("pins") and index("sockops"))
		and all(.findings[] | select(.level == "fail"); .fix | length > 0)' "$SX_TMP/doctor.json" >/dev/null
rm "$BIN/sockvx" "$NETD/00-sockvx.conflist"
doctor "$SX_PIN" >"$SX_TMP/doctor.out" && rc=0 || rc=$?
check "doctor: a missing plugin binary and a configuration without sockvx fail" \
	eval '[[ $rc -eq 1 ]] && grep -q "^FAIL  cni binary" "$SX_TMP/doctor.out" &&
		grep -q "^FAIL  cni config .*has no sockvx plugin" "$SX_TMP/doctor.out"'
sx_done
