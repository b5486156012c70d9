// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Same-node socket acceleration.
 *
 * sx_sockops (cgroup/sock_ops, on the cgroup v2 root through a bpf_link):
 * a TCP connection between two pods of this node enters sx_sockhash_v1 when
 * it becomes established, one entry per socket, each with a direction state.
 *
 * sx_sk_msg (sk_msg, on sx_sockhash_v1): each sendmsg is moved straight into
 * the peer socket's receive queue, skipping TCP/IP, the veth pair and tc.
 *
 * sx_setsockopt (cgroup/setsockopt, next to sx_sockops): notices options
 * whose meaning only TCP's receive path implements.
 *
 * The kernel's receive path for sockets in a sockhash (tcp_bpf_recvmsg)
 * differs from tcp_recvmsg in a few places; docs/semantics.md lists them and
 * what sockvx does about each. In short:
 *  - each direction uses one path for its whole life (struct sx_dir_state);
 *  - the first message waits for the peer's handshake rather than starting
 *    its direction on TCP;
 *  - a socket that half-closes moves the direction feeding it to TCP, and
 *    leaves the sockhash when nothing was ever redirected to it, so its
 *    reader waits in tcp_recvmsg;
 *  - SO_RCVLOWAT and ULPs (kTLS) move the directions they affect to TCP.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "sockvx_maps.h"
#include "sock_key.h"
#include "psock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* How long a first message waits for the passive side's handshake (ns): the
 * passive side needs microseconds; the bound only matters on a starved CPU. */
#define SX_HANDSHAKE_WAIT_NS 1000000
#define SX_TCP_FIN_WAIT1 4
#define SX_TCP_CLOSE 7

/* ---- tuples ------------------------------------------------------------ */

/*
 * bpf_sock_ops and sk_msg_md name and encode the tuple fields alike; one
 * filler serves both. Context fields must be read directly (no pointer
 * arithmetic on them), hence a macro rather than a function.
 */
#define sx_tuple_from_ctx(ctx, t)                                     \
	do {                                                          \
		(t)->family = (ctx)->family;                          \
		(t)->local_ip4 = (ctx)->local_ip4;                    \
		(t)->remote_ip4 = (ctx)->remote_ip4;                  \
		(t)->local_ip6[0] = (ctx)->local_ip6[0];              \
		(t)->local_ip6[1] = (ctx)->local_ip6[1];              \
		(t)->local_ip6[2] = (ctx)->local_ip6[2];              \
		(t)->local_ip6[3] = (ctx)->local_ip6[3];              \
		(t)->remote_ip6[0] = (ctx)->remote_ip6[0];            \
		(t)->remote_ip6[1] = (ctx)->remote_ip6[1];            \
		(t)->remote_ip6[2] = (ctx)->remote_ip6[2];            \
		(t)->remote_ip6[3] = (ctx)->remote_ip6[3];            \
		(t)->local_port = (ctx)->local_port;                  \
		(t)->remote_port = (ctx)->remote_port;                \
	} while (0)

static __always_inline void sx_tuple_from_bpf_sock(const struct bpf_sock *sk,
						   struct sx_raw_tuple *t)
{
	t->family = sk->family;
	t->local_ip4 = sk->src_ip4;
	t->remote_ip4 = sk->dst_ip4;
	t->local_ip6[0] = sk->src_ip6[0];
	t->local_ip6[1] = sk->src_ip6[1];
	t->local_ip6[2] = sk->src_ip6[2];
	t->local_ip6[3] = sk->src_ip6[3];
	t->remote_ip6[0] = sk->dst_ip6[0];
	t->remote_ip6[1] = sk->dst_ip6[1];
	t->remote_ip6[2] = sk->dst_ip6[2];
	t->remote_ip6[3] = sk->dst_ip6[3];
	t->local_port = sk->src_port;
	t->remote_port = sx_remote_port_from_be16(sk->dst_port);
}

/* ---- direction state --------------------------------------------------- */

/* Moves a direction to TCP for good. Returns 1 if this call did it. */
static __always_inline int sx_dir_bind_tcp(struct sx_dir_state *d)
{
	return __sync_lock_test_and_set(&d->path, SX_TX_TCP) != SX_TX_TCP;
}

/* Moves the direction sent by the socket with this key to TCP; counts why. */
static __always_inline void sx_dir_key_bind_tcp(const struct sx_sock_key *sender, __u32 counter)
{
	struct sx_dir_state *d = bpf_map_lookup_elem(&sx_dirstate_v1, sender);

	if (d && sx_dir_bind_tcp(d))
		sx_count(counter, 1);
}

/* ---- sockops: which sockets enter the sockhash ------------------------- */

static __always_inline int sx_is_endpoint(__u8 family, const struct sx_ip *ip)
{
	struct sx_endpoint_key ek;

	sx_endpoint_key_set(&ek, family, ip);
	return bpf_map_lookup_elem(&sx_endpoints_v1, &ek) != NULL;
}

static __always_inline int sx_port_excluded(__u16 port)
{
	return bpf_map_lookup_elem(&sx_exclport_v1, &port) != NULL;
}

static __always_inline void sx_gather_facts(const struct sx_sock_key *key,
					    struct sx_insert_facts *f)
{
	f->accel_enabled = sx_accel_enabled();
	f->loopback = sx_ip_is_loopback(key->family, &key->local_ip) ||
		      sx_ip_is_loopback(key->family, &key->remote_ip);
	f->local_is_endpoint = sx_is_endpoint(key->family, &key->local_ip);
	f->remote_is_endpoint = sx_is_endpoint(key->family, &key->remote_ip);
	f->port_excluded = sx_port_excluded(key->local_port) ||
			   sx_port_excluded(key->remote_port);
}

static __always_inline void sx_count_skip(enum sx_insert_verdict v)
{
	if (v == SX_SKIP_DISABLED)
		sx_count(SX_CNT_SOCK_SKIP_DISABLED, 1);
	else if (v == SX_SKIP_EXCLUDED)
		sx_count(SX_CNT_SOCK_SKIP_EXCLUDED, 1);
	else
		sx_count(SX_CNT_SOCK_SKIP_NOT_EP, 1);
}

/*
 * A passive (server-side) socket is worth accelerating only if its peer is:
 * the active side entered the map when it saw the SYN-ACK, before it sent
 * the ACK that established this socket. If the peer is absent (its address
 * was translated on the way, as with a Service's DNAT, or it was skipped),
 * every message would miss, so the socket stays plain TCP.
 */
static __always_inline __u8 *sx_active_peer(const struct sx_sock_key *key,
					      struct sx_sock_key *rev)
{
	sx_sock_key_reverse(key, rev);
	return bpf_map_lookup_elem(&sx_active_v1, rev);
}

/* Values of sx_active_v1 entries. */
#define SX_ACTIVE_PLAIN 1
#define SX_ACTIVE_RCVLOWAT 2

static __always_inline int sx_rcvlowat(struct bpf_sock_ops *skops)
{
	struct bpf_sock *bsk = skops->sk;
	struct tcp_sock *tp;

	if (!bsk)
		return 0;
	tp = bpf_skc_to_tcp_sock(bsk);
	return tp ? tp->inet_conn.icsk_inet.sk.sk_rcvlowat : 0;
}

static __always_inline void sx_handle_established(struct bpf_sock_ops *skops, int passive)
{
	struct sx_dir_state fresh = { .path = SX_TX_UNDECIDED };
	__u8 active_mark = SX_ACTIVE_PLAIN, *active;
	struct sx_insert_facts facts = {};
	enum sx_insert_verdict verdict;
	struct sx_sock_key key, peer;
	struct sx_raw_tuple tuple;

	sx_tuple_from_ctx(skops, &tuple);
	if (sx_sock_key_from_raw(&tuple, &key))
		return;
	sx_gather_facts(&key, &facts);
	verdict = sx_insert_decide(&facts);
	if (verdict != SX_INSERT) {
		sx_count_skip(verdict);
		return;
	}
	if (passive) {
		active = sx_active_peer(&key, &peer);
		if (!active) {
			sx_count(SX_CNT_SOCK_SKIP_NO_PEER, 1);
			return;
		}
		/* The active side set SO_RCVLOWAT before connecting: feed it through TCP. */
		if (*active == SX_ACTIVE_RCVLOWAT)
			fresh.path = SX_TX_TCP;
	}
	/*
	 * TCP Fast Open: bytes sent in the SYN went through TCP before either
	 * socket was established, so that direction stays on TCP for good. (The
	 * passive side of such a connection is established at the SYN, before its
	 * peer, and is never inserted: see sx_active_peer.)
	 */
	if (!passive && skops->data_segs_out)
		fresh.path = SX_TX_TCP;
	/* SO_RCVLOWAT set before the connection (or inherited from a listener). */
	if (sx_rcvlowat(skops) > 1) {
		if (passive) /* peer: the reversed key, from sx_active_peer */
			sx_dir_key_bind_tcp(&peer, SX_CNT_DIR_API_TCP);
		else
			active_mark = SX_ACTIVE_RCVLOWAT;
	}
	/*
	 * BPF_NOEXIST on both maps: an entry under this key is never
	 * overwritten, so a direction bound to TCP is never reset. The sockhash
	 * comes first: it may still hold an older socket with this very key, one
	 * whose connection has closed but whose application has not closed it
	 * yet (this connection reuses its ports). The direction state is then
	 * never created, and a peer waits for it before its first redirect
	 * (sx_try_redirect), so it never sends into that older socket.
	 */
	if (bpf_sock_hash_update(skops, &sx_sockhash_v1, &key, BPF_NOEXIST)) {
		sx_count(SX_CNT_SOCK_INSERT_ERR, 1);
		goto out;
	}
	if (bpf_map_update_elem(&sx_dirstate_v1, &key, &fresh, BPF_NOEXIST)) {
		bpf_map_delete_elem(&sx_sockhash_v1, &key);
		sx_count(SX_CNT_SOCK_INSERT_ERR, 1);
		goto out;
	}
	sx_count(SX_CNT_SOCK_INSERTED, 1);
	/* State changes: half-close (eject) and close (forget the direction). */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
						 BPF_SOCK_OPS_STATE_CB_FLAG);
	if (!passive)
		bpf_map_update_elem(&sx_active_v1, &key, &active_mark, BPF_ANY);
out:
	/*
	 * Only now, with this socket in the map (or given up), may the active
	 * side's first message stop waiting for it (sx_wait_for_peer).
	 */
	if (passive)
		bpf_map_delete_elem(&sx_active_v1, &peer);
}

/*
 * Takes this socket out of the sockhash if the direction feeding it is on
 * TCP and no redirect toward it ever succeeded or is under way. It then reads
 * through tcp_recvmsg (and its ioctl, poll and wake-ups) like any TCP socket.
 * The feeder counts an attempt before it re-reads the path, and the path was
 * moved to TCP with an atomic exchange before this check: so either the
 * feeder sees TCP, or this check sees its attempt. A socket that might hold
 * or receive redirected bytes never leaves, since leaving would drop them.
 */
static __always_inline void sx_eject_if_fed_by_tcp(const struct sx_sock_key *key,
						   struct sx_dir_state *in)
{
	if (__sync_fetch_and_add(&in->path, 0) != SX_TX_TCP)
		return;
	if (__sync_fetch_and_add(&in->attempts, 0)) {
		sx_count(SX_CNT_EJECT_DEFERRED, 1);
		return;
	}
	if (!bpf_map_delete_elem(&sx_sockhash_v1, key))
		sx_count(SX_CNT_SOCK_EJECTED, 1);
}

/* The psock of a socket in a sockhash; NULL once it left (e.g. in close()). */
static __always_inline struct sk_psock *sx_psock_of(struct bpf_sock_ops *skops)
{
	struct bpf_sock *bsk = skops->sk;
	struct tcp_sock *tp;

	if (!bsk)
		return NULL;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return NULL;
	return sx_psock_from_user_data((unsigned long)tp->inet_conn.icsk_inet.sk.sk_user_data);
}

/* The state of the direction that feeds the socket with this key. */
static __always_inline struct sx_dir_state *sx_feeder(const struct sx_sock_key *key)
{
	struct sx_sock_key peer;

	sx_sock_key_reverse(key, &peer);
	return bpf_map_lookup_elem(&sx_dirstate_v1, &peer);
}

/*
 * The socket is half-closing (shutdown(SHUT_WR), in the caller's context and
 * under its socket lock). The kernel wakes the socket's waiters again when the
 * peer acknowledges the FIN; a reader waiting in tcp_bpf_recvmsg would take
 * that wake-up for data and return EAGAIN on a blocking socket. So the
 * direction feeding the socket moves to TCP (the peer's next bytes then carry
 * the acknowledgement), and the socket leaves the sockhash now, before its
 * reader waits, if nothing was ever redirected to it.
 */
static __always_inline void sx_handle_half_close(struct bpf_sock_ops *skops)
{
	struct sk_psock *psock = sx_psock_of(skops);
	struct sx_raw_tuple tuple;
	struct sx_dir_state *in;
	struct sx_sock_key key;

	if (!psock)
		return; /* close(): the socket already left the sockhash */
	sx_tuple_from_ctx(skops, &tuple);
	if (sx_sock_key_from_raw(&tuple, &key))
		return;
	in = sx_feeder(&key);
	if (in) {
		if (sx_dir_bind_tcp(in))
			sx_count(SX_CNT_DIR_FALLBACK, 1);
		sx_eject_if_fed_by_tcp(&key, in);
		return;
	}
	/*
	 * No direction state for the peer: it never entered the sockhash (a
	 * server outside sockvx's cgroup, a Fast Open passive side) or has
	 * closed, so nothing more can be redirected here. Leave once the bytes
	 * already redirected are read; they would be lost otherwise.
	 */
	if (sx_psock_has_unread(psock)) {
		sx_count(SX_CNT_EJECT_DEFERRED, 1);
		return;
	}
	if (!bpf_map_delete_elem(&sx_sockhash_v1, &key))
		sx_count(SX_CNT_SOCK_EJECTED, 1);
}

static __always_inline void sx_handle_state(struct bpf_sock_ops *skops)
{
	struct sx_raw_tuple tuple;
	struct sx_sock_key key;

	if (skops->args[1] == SX_TCP_FIN_WAIT1) {
		sx_handle_half_close(skops);
	} else if (skops->args[1] == SX_TCP_CLOSE) {
		sx_tuple_from_ctx(skops, &tuple);
		if (!sx_sock_key_from_raw(&tuple, &key)) {
			bpf_map_delete_elem(&sx_dirstate_v1, &key);
			bpf_map_delete_elem(&sx_active_v1, &key);
		}
	}
}

/* Attach: cgroup/sock_ops on the cgroup v2 root, through a pinned bpf_link. */
SEC("sockops")
int sx_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		sx_handle_established(skops, 0);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		sx_handle_established(skops, 1);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		sx_handle_state(skops);
		break;
	}
	return 1;
}

/* ---- sk_msg: where each message goes ------------------------------------ */

struct sx_wait_ctx {
	struct sx_sock_key *key;
	__u64 deadline;
};

static long sx_handshake_pending(__u64 index, struct sx_wait_ctx *w)
{
	if (!bpf_map_lookup_elem(&sx_active_v1, w->key))
		return 1; /* the passive side is in the sockhash (or gave up): stop */
	return bpf_ktime_get_ns() > w->deadline;
}

/*
 * An active socket can send before the passive side has processed the ACK
 * that establishes it (on another CPU, a few microseconds away). Starting the
 * direction on TCP then would give up acceleration for the connection's life;
 * a bounded wait for the peer's sockops to consume our sx_active_v1 entry
 * avoids that.
 */
static __always_inline void sx_wait_for_peer(struct sx_sock_key *key)
{
	struct sx_wait_ctx w = { .key = key };

	if (!bpf_map_lookup_elem(&sx_active_v1, key))
		return;
	sx_count(SX_CNT_HANDSHAKE_WAIT, 1);
	w.deadline = bpf_ktime_get_ns() + SX_HANDSHAKE_WAIT_NS;
	bpf_loop(1 << 16, sx_handshake_pending, &w, 0);
	bpf_map_delete_elem(&sx_active_v1, key);
}

/*
 * Redirects msg into the socket under the peer's key (rev). Until a first
 * redirect succeeds, that socket is the peer only if the peer's direction
 * state exists too: a socket inserted for this connection creates it right
 * after entering the sockhash, and an older socket with the same key (see
 * sx_handle_established) lost it when its connection closed. Once a redirect
 * succeeded, the key holds the peer until this connection ends.
 */
static __always_inline int sx_redirect_to_peer(struct sk_msg_md *msg, struct sx_sock_key *rev,
					       __u32 path)
{
	if (path == SX_TX_UNDECIDED && !bpf_map_lookup_elem(&sx_dirstate_v1, rev))
		return 0;
	return bpf_msg_redirect_hash(msg, &sx_sockhash_v1, rev, BPF_F_INGRESS) == SK_PASS;
}

static __always_inline int sx_try_redirect(struct sk_msg_md *msg, struct sx_sock_key *key,
					   struct sx_dir_state *d)
{
	struct sx_sock_key rev;
	__u32 path;

	/*
	 * Stamp, then count the attempt, before deciding anything: unload's drain
	 * that sees the attempt also sees when it began, so it never takes an
	 * attempt under way for one long past. The count comes before re-reading
	 * the path (see sx_eject_if_fed_by_tcp).
	 */
	d->last_redirect_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&d->attempts, 1);
	path = __sync_fetch_and_add(&d->path, 0);
	if (path == SX_TX_TCP)
		goto failed;
	sx_sock_key_reverse(key, &rev);
	if (sx_redirect_to_peer(msg, &rev, path))
		goto redirected;
	/* Re-read: a receiver's half-close may have moved the direction to TCP meanwhile. */
	if (__sync_fetch_and_add(&d->path, 0) == SX_TX_UNDECIDED) {
		sx_wait_for_peer(key);
		if (sx_redirect_to_peer(msg, &rev, SX_TX_UNDECIDED))
			goto redirected;
	}
failed:
	/* Nothing was redirected: the attempt need not hold the peer in the map. */
	__sync_fetch_and_add(&d->attempts, -1);
	return 0;
redirected:
	/* The attempt stays counted: bytes may be queued at the peer. */
	return 1;
}

/* Attach: sk_msg verdict on sx_sockhash_v1. */
SEC("sk_msg")
int sx_sk_msg(struct sk_msg_md *msg)
{
	struct sx_dir_state *d = NULL;
	struct sx_raw_tuple tuple;
	struct sx_sock_key key;
	__u64 len = msg->size;
	__u32 path, next;
	int redirected = 0;

	sx_tuple_from_ctx(msg, &tuple);
	if (!sx_sock_key_from_raw(&tuple, &key))
		d = bpf_map_lookup_elem(&sx_dirstate_v1, &key);
	if (!d) {
		sx_count(SX_CNT_MSG_ERR, 1);
		return SK_PASS;
	}
	path = d->path;
	if (sx_msg_may_redirect(path, sx_accel_enabled())) {
		redirected = sx_try_redirect(msg, &key, d);
		if (!redirected)
			sx_count(SX_CNT_MSG_MISS, 1);
	}
	next = path;
	sx_msg_record(&next, redirected);
	/* Compare-and-swap: a concurrent move to TCP by the receiver always wins. */
	if (next != path && __sync_val_compare_and_swap(&d->path, path, next) == path &&
	    next == SX_TX_TCP)
		sx_count(SX_CNT_DIR_FALLBACK, 1);
	if (redirected) {
		sx_count(SX_CNT_MSG_REDIRECTED, 1);
		sx_count(SX_CNT_BYTES_REDIRECTED, len);
	} else {
		sx_count(SX_CNT_MSG_TCP, 1);
		sx_count(SX_CNT_BYTES_TCP, len);
	}
	return SK_PASS;
}

/* ---- setsockopt: options only TCP's receive path implements ---------- */

#define SX_SOL_SOCKET 1
#define SX_SOL_TCP 6
#define SX_SO_RCVLOWAT 18
#define SX_TCP_ULP 31

/*
 * SO_RCVLOWAT above 1: tcp_bpf_recvmsg and poll ignore the low-water mark
 * for redirected bytes, so the direction feeding this socket moves to TCP.
 * TCP_ULP (kTLS): the ULP works on TCP's queues; both directions move.
 * Moving to TCP is safe at any time; bytes already redirected are read first.
 */
static __always_inline int sx_option_needs_tcp(struct bpf_sockopt *ctx, int *both)
{
	int *val = ctx->optval;

	*both = 0;
	if (ctx->level == SX_SOL_SOCKET && ctx->optname == SX_SO_RCVLOWAT) {
		if ((void *)(val + 1) > ctx->optval_end)
			return 0;
		return *val > 1;
	}
	if (ctx->level == SX_SOL_TCP && ctx->optname == SX_TCP_ULP) {
		*both = 1;
		return 1;
	}
	return 0;
}

/* Attach: cgroup/setsockopt on the same cgroup as sx_sockops (bpf_link). */
SEC("cgroup/setsockopt")
int sx_setsockopt(struct bpf_sockopt *ctx)
{
	struct sx_sock_key key, peer;
	struct sx_raw_tuple tuple;
	struct bpf_sock *sk = ctx->sk;
	int both;

	if (sk && sk->protocol == IPPROTO_TCP && sx_option_needs_tcp(ctx, &both)) {
		sx_tuple_from_bpf_sock(sk, &tuple);
		if (!sx_sock_key_from_raw(&tuple, &key)) {
			sx_sock_key_reverse(&key, &peer);
			sx_dir_key_bind_tcp(&peer, SX_CNT_DIR_API_TCP);
			if (both)
				sx_dir_key_bind_tcp(&key, SX_CNT_DIR_API_TCP);
		}
	}
	/* optlen is left alone: the kernel then applies the caller's own value. */
	return 1;
}
