#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The semantics gate: every scenario of test/tools/sxsem.c (blocking and
# non-blocking I/O, epoll, each close pattern, RST, MSG_PEEK, FIONREAD,
# splice/sendfile, data before accept, ...) runs between two pods with socket
# acceleration off and on. The application-visible transcripts must be
# identical. The few behaviours this kernel's sk_msg receive path cannot
# reproduce are listed in docs/semantics.md; for those, the difference must be
# exactly the one recorded in test/semantics/SCENARIO.diff, so any other change
# (better or worse) fails here and the documentation is updated with it.
source "$(dirname "$0")/lib.sh"
sx_two_pod_node
# TCP Fast Open without cookies (client 0x1|0x4, server 0x2|0x200), so the
# fastopen scenario's first write travels in the SYN.
for pod in a b; do sx_pod "$pod" sysctl -qw net.ipv4.tcp_fastopen=0x207; done
SXSEM="$SX_TOOLS/sxsem"
KNOWN="$SX_ROOT/test/semantics"
export SXSEM_TIMEOUT=8 # a scenario that hangs (urgent data, documented) fails faster
# A blocking reader waiting after its own socket half-closed, on a connection
# whose peer had redirected to it, may see one EAGAIN when the peer
# acknowledges the FIN without closing (docs/semantics.md, residual 2): a
# reader thread blocked before the half-close, or a client that half-closes
# after its reply and waits for a server that closes later. Everything else
# must stay identical.
RESIDUAL_EAGAIN="bidirectional_bulk reply_then_half_close"
# Scenarios that must stay on TCP, by design: data in the SYN (Fast Open),
# and a receiver that set SO_RCVLOWAT. Every other one must be redirected.
NOT_REDIRECTED="fastopen rcvlowat"
PORT=7000

# play MODE SCENARIO ADDR: one run; transcripts in $SX_TMP/SCENARIO.MODE.{server,client}.
play() {
	local mode=$1 sc=$2 addr=$3 out="$SX_TMP/$2.$1" spid rc
	sx_ctl accel "$mode" >/dev/null
	PORT=$((PORT + 1))
	sx_pod b "$SXSEM" server "$addr" "$PORT" "$sc" >"$out.server" 2>"$out.server.err" &
	spid=$!
	sx_wait_listen b "$PORT" || true
	# Exit statuses are part of the transcript: a side that failed never matches.
	sx_pod a "$SXSEM" client "$addr" "$PORT" "$sc" >"$out.client" 2>"$out.client.err" &&
		rc=0 || rc=$?
	echo "exit $rc" >>"$out.client"
	wait "$spid" && rc=0 || rc=$?
	echo "exit $rc" >>"$out.server"
}

# transcript_diff SCENARIO: the difference acceleration makes, per side.
transcript_diff() {
	local sc=$1 side
	for side in server client; do
		if [[ " $RESIDUAL_EAGAIN " == *" $sc "* ]]; then
			grep -c 'EAGAIN on a blocking socket' "$SX_TMP/$sc.on.$side" >>"$SX_TMP/$sc.eagain" || true
			sed -i '/EAGAIN on a blocking socket/d' "$SX_TMP/$sc.on.$side"
		fi
		diff "$SX_TMP/$sc.off.$side" "$SX_TMP/$sc.on.$side" | sed "s/^/$side: /" || true
	done
}

# Scenarios over IPv4, and a few over IPv6.
runs=()
for sc in $("$SXSEM" list); do runs+=("$sc $(sx_pod_ip 3)"); done
for sc in echo_blocking half_close bidirectional_bulk; do runs+=("$sc $(sx_pod_ip6 3)"); done

for run in "${runs[@]}"; do
	read -r sc addr <<<"$run"
	family=IPv4
	[[ $addr == *:* ]] && family=IPv6
	play off "$sc" "$addr"
	r0=$(sx_stat messages_redirected)
	play on "$sc" "$addr"
	redirected=$(($(sx_stat messages_redirected) - r0))
	transcript_diff "$sc" >"$SX_TMP/$sc.diff"
	if [[ $family == IPv4 && -f $KNOWN/$sc.diff ]]; then
		if cmp -s "$KNOWN/$sc.diff" "$SX_TMP/$sc.diff"; then
			ok "$sc ($family): differs exactly as documented in docs/semantics.md"
		else
			fail "$sc ($family): differs from the documented difference"
			diff "$KNOWN/$sc.diff" "$SX_TMP/$sc.diff" | sed 's/^/#   /' | head -20 || true
		fi
	elif [[ ! -s $SX_TMP/$sc.diff && -s $SX_TMP/$sc.eagain ]]; then
		ok "$sc ($family): same bytes and results ($redirected messages redirected; blocking-reader EAGAIN lines: $(awk '{ n += $1 } END { print n }' "$SX_TMP/$sc.eagain"), a documented residual)"
		rm -f "$SX_TMP/$sc.eagain"
	elif [[ ! -s $SX_TMP/$sc.diff && $redirected -eq 0 && " $NOT_REDIRECTED " != *" $sc "* ]]; then
		fail "$sc ($family): identical, but nothing was redirected: acceleration did not engage"
	elif [[ ! -s $SX_TMP/$sc.diff ]]; then
		ok "$sc ($family): identical with and without acceleration ($redirected messages redirected)"
	else
		fail "$sc ($family): the application sees a difference with acceleration"
		sed 's/^/#   /' "$SX_TMP/$sc.diff" | head -20
	fi
done
sx_done
