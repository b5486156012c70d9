#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data integrity under acceleration: thousands of connections between two pods
# with random sizes (1 B to 8 MiB), directions, I/O styles and close patterns,
# every byte stream checked by sha256 (test/tools/sxtorture.c). Also while
# sockvx is reloaded and unloaded mid-stream.
#   TORTURE_CONNS (default 10000) and TORTURE_CONCURRENCY (default 200) scale
#   it; TORTURE_RELOADS (20) reloads and TORTURE_UNLOADS (5) unload/load
#   cycles run during each mid-stream run (`make soak` raises them).
source "$(dirname "$0")/lib.sh"
sx_two_pod_node
TORTURE="$SX_TOOLS/sxtorture"
CONNS=${TORTURE_CONNS:-10000}
CONC=${TORTURE_CONCURRENCY:-200}
RELOADS=${TORTURE_RELOADS:-20}
UNLOADS=${TORTURE_UNLOADS:-5}
PORT=9100

# torture NAME ADDR [client options]: one run; its JSON summary in $SX_TMP/NAME.json.
torture() {
	local name=$1 addr=$2 spid
	shift 2
	PORT=$((PORT + 1))
	sx_pod b "$TORTURE" server "$addr" "$PORT" --log-lines 0 >/dev/null 2>"$SX_TMP/$name.server.err" &
	spid=$!
	sx_wait_listen b "$PORT" || true
	echo "$CONNS" >"$SX_TMP/$name.expect"
	sx_pod a "$TORTURE" client "$addr" "$PORT" --conns "$CONNS" --concurrency "$CONC" \
		--seed 7 --json --log-lines 0 "$@" >"$SX_TMP/$name.json" 2>"$SX_TMP/$name.err" || true
	wait "$spid" || true
	[[ -s $SX_TMP/$name.json ]] || echo '{}' >"$SX_TMP/$name.json"
}

# counter NAME FIELD
counter() { jq -r ".$2 // \"missing\"" "$SX_TMP/$1.json"; }
summary() {
	jq -r '"\(.conns) conns, \(.bytes_verified) bytes verified, mismatches \(.mismatches), premature EOF \(.premature_eof), hangs \(.hangs), spurious EAGAIN \(.spurious_eagain), unexpected errors \(.unexpected_errors), resets \(.resets), \(.seconds) s"' \
		"$SX_TMP/$1.json"
}
# conn_ids NAME PATTERN: connections whose failure line (client or server)
# matches. Both sides log every failure (--log-lines 0), so a consequence on
# one side always finds its cause on the other.
conn_ids() {
	cat "$SX_TMP/$1.err" "$SX_TMP/$1.server.err" 2>/dev/null |
		grep -E "$2" | grep -oE 'conn [0-9]+' | sort -u
}
# intact NAME: every connection ran; no byte lost, reordered or corrupted, no
# hang, nothing cut short. When one side of a connection saw a spurious EAGAIN,
# sxtorture shuts that connection down, and its peer then sees an early EOF or
# waits: those are consequences of the EAGAIN (counted separately), not loss.
intact() {
	local cut
	cut=$(comm -23 <(conn_ids "$1" 'EOF after|EOF inside|no progress') \
		<(conn_ids "$1" 'EAGAIN on a blocking socket'))
	[[ $(counter "$1" conns) == "$(cat "$SX_TMP/$1.expect")" &&
		$(counter "$1" mismatches) == 0 && -z $cut && $(counter "$1" bytes_verified) -gt 0 ]]
}
# clean NAME: intact, and the application saw exactly what plain TCP shows.
clean() {
	intact "$1" && [[ $(counter "$1" spurious_eagain) == 0 && $(counter "$1" unexpected_errors) == 0 ]]
}

# verdict WHAT TEST NAME: check TEST (intact or clean) on run NAME; a failure
# carries the run's figures and its first failure lines, for the CI log.
verdict() {
	local what=$1 test=$2 name=$3
	if "$test" "$name"; then
		ok "$what"
	else
		fail "$what [$(summary "$name"); $(cat "$SX_TMP/$name.err" "$SX_TMP/$name.server.err" 2>/dev/null |
			grep -v PASS | head -n 3 | tr '\n' ' ')]"
	fi
}

r0=$(sx_stat messages_redirected)
torture all "$(sx_pod_ip 3)"
redirected=$(($(sx_stat messages_redirected) - r0))
echo "# every style and close pattern: $(summary all)"
verdict "every style and close pattern: no byte lost, reordered or corrupted, no hang ($redirected messages redirected)" \
	intact all
check "the run was accelerated" test "$redirected" -gt 0

# Styles and patterns whose semantics sockvx keeps identical (docs/semantics.md).
torture safe "$(sx_pod_ip 3)" --io epoll,blocking,random-sizes --close fin,receiver-first
echo "# FIN and receiver-first closes, all I/O styles: $(summary safe)"
verdict "FIN and receiver-first closes, all styles: identical to plain TCP" clean safe
torture nonblocking "$(sx_pod_ip 3)" --io epoll
echo "# non-blocking epoll I/O, every close pattern: $(summary nonblocking)"
verdict "non-blocking epoll I/O, every close pattern: identical to plain TCP" clean nonblocking
# Chatty senders: blocking writes of 1 to 255 bytes under Nagle, read in full buffers.
CONNS=$((CONNS / 4)) torture small "$(sx_pod_ip 3)" --io small-writes --close fin,receiver-first
echo "# small writes, FIN and receiver-first closes: $(summary small)"
verdict "small writes, FIN and receiver-first closes: identical to plain TCP" clean small
CONNS=$((CONNS / 4)) torture ipv6 "$(sx_pod_ip6 3)"
echo "# IPv6: $(summary ipv6)"
verdict "IPv6: no byte lost, reordered or corrupted" intact ipv6

# Reloads, accel off/on and an unload while connections run: nothing may be
# lost. Until a socket leaves the sockhash (about 100 ms after redirects stop),
# it sends through TCP from inside it, and a blocking reader of a socket that
# also sends may see an EAGAIN (docs/semantics.md): with every I/O style the
# runs must be intact; with non-blocking epoll I/O, identical to plain TCP.
# torture_bg NAME IO: a run in the background; its pid in $bgpid.
torture_bg() {
	PORT=$((PORT + 1))
	sx_pod b "$TORTURE" server "$(sx_pod_ip 3)" "$PORT" --log-lines 0 >/dev/null 2>"$SX_TMP/$1.server.err" &
	sx_wait_listen b "$PORT" || true
	echo "$CONNS" >"$SX_TMP/$1.expect"
	sx_pod a "$TORTURE" client "$(sx_pod_ip 3)" "$PORT" --conns "$CONNS" --concurrency "$CONC" \
		--seed 11 --json --log-lines 0 --io "$2" --close fin,receiver-first \
		>"$SX_TMP/$1.json" 2>"$SX_TMP/$1.err" &
	bgpid=$!
}
# reload_storm: $RELOADS reloads, then accel off and on again.
reload_storm() {
	for _ in $(seq 1 "$RELOADS"); do
		sleep 0.2
		sx_load
	done
	sx_ctl accel off >/dev/null
	sleep 0.2
	sx_ctl accel on >/dev/null
}
for io in epoll,blocking,random-sizes epoll; do
	r0=$(sx_stat messages_redirected)
	torture_bg "reload-$io" "$io"
	reload_storm
	wait "$bgpid" || true
	echo "# $RELOADS reloads and an accel off/on mid-stream, I/O $io: $(summary "reload-$io")"
	verdict "$RELOADS reloads and an accel off/on mid-stream, I/O $io: nothing lost" intact "reload-$io"
	check "the reload run was accelerated" test "$(($(sx_stat messages_redirected) - r0))" -gt 0
done
verdict "... and with non-blocking I/O, identical to plain TCP" clean reload-epoll

# unload_cycles: $UNLOADS times, unload mid-stream, then load again; $ufail
# counts the unloads that failed.
unload_cycles() {
	local i
	ufail=0
	for i in $(seq 1 "$UNLOADS"); do
		sleep 0.5
		"$SOCKVXCTL" unload --pin-dir "$SX_PIN" --timeout 20 >"$SX_TMP/unload.out" 2>&1 ||
			ufail=$((ufail + 1))
		sx_load
		sx_ctl endpoint add "$(sx_pod_ip 2)" "$(sx_pod_ip 3)" >/dev/null
		((i == UNLOADS)) || sleep 0.5
	done
}
for io in epoll,blocking,random-sizes epoll; do
	torture_bg "unload-$io" "$io"
	unload_cycles
	wait "$bgpid" || true
	echo "# $UNLOADS unload/load cycle(s) mid-stream ($ufail unload(s) failed), I/O $io: $(summary "unload-$io")"
	verdict "$UNLOADS unload/load cycle(s) mid-stream, I/O $io: nothing lost" intact "unload-$io"
	check "every unload completed" test "$ufail" -eq 0
done
verdict "... and with non-blocking I/O, identical to plain TCP" clean unload-epoll
sx_done
