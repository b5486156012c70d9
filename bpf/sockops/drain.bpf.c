// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sx_drain_one: returns one socket of sx_sockhash_v1 to plain TCP, if that
 * loses nothing. `sockvxctl unload` and `accel off` run it after redirects
 * have stopped, once per key, through BPF_PROG_RUN with a struct
 * sx_drain_request as the packet (loader/drain.c walks the keys).
 *
 * It is a tc program rather than an iter/sockmap one because some kernels
 * refuse every tracing program, iterators included; a tc program may look a
 * socket up in a sockhash, read its psock and delete it, which is all this
 * needs, and it runs wherever the TC dataplane does.
 *
 * Removing a socket from the sockhash frees its psock, and with it any
 * redirected bytes the application has not read yet, or that a sender is
 * still queueing: a redirect is decided under the sender's lock and queued
 * just after it, holding a psock reference from just before it takes the
 * receiver's lock until it is done. So a socket leaves the map only once its
 * redirect queue is empty and either
 *  - nothing else holds its psock (no sender in the middle of queueing, no
 *    reader waiting) and no redirect toward it was decided for SX_QUIET_NS, or
 *  - no redirect toward it was decided for SX_QUIET_LONG_NS (a reader waiting
 *    on an idle connection holds the psock as long as it waits).
 * The verdict (enum sx_drain_verdict) is the program's return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sockvx_maps.h"
#include "sock_key.h"
#include "psock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * A sendmsg takes microseconds between deciding and queueing a redirect. The
 * short wait keeps the window in which a socket sends through TCP from inside
 * the sockhash brief (docs/semantics.md); the long one is for sockets whose
 * psock is held by a waiting reader, where a sender's reference would not show.
 */
#define SX_QUIET_NS 100000000ULL
#define SX_QUIET_LONG_NS 2000000000ULL

/* Nanoseconds since a redirect toward this socket was last attempted (~0: never). */
static __always_inline __u64 sx_quiet_for(const struct sx_sock_key *key)
{
	struct sx_dir_state *in;
	struct sx_sock_key peer;
	__u64 last, now;

	sx_sock_key_reverse(key, &peer);
	in = bpf_map_lookup_elem(&sx_dirstate_v1, &peer);
	if (!in || !in->attempts)
		return ~0ULL;
	/* The stamp first, then the clock: a sender stamping in between is "now", not ages ago. */
	last = __sync_fetch_and_add(&in->last_redirect_ns, 0);
	now = bpf_ktime_get_ns();
	return now > last ? now - last : 0;
}

static __always_inline int sx_psock_shared(struct sk_psock *psock)
{
	return BPF_CORE_READ(psock, refcnt.refs.counter) > 1;
}

/* Whether the socket must stay for now, and why; SX_DRAIN_REMOVED if not. */
static __always_inline int sx_drain_hold(struct bpf_sock *sk, const struct sx_sock_key *key)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct sk_psock *psock;
	__u64 quiet;

	if (!tp)
		return SX_DRAIN_REMOVED;
	psock = sx_psock_from_user_data((unsigned long)tp->inet_conn.icsk_inet.sk.sk_user_data);
	if (!psock)
		return SX_DRAIN_REMOVED;
	if (sx_psock_has_unread(psock))
		return SX_DRAIN_UNREAD;
	quiet = sx_quiet_for(key);
	if (quiet < SX_QUIET_NS || (quiet < SX_QUIET_LONG_NS && sx_psock_shared(psock)))
		return SX_DRAIN_RECENT;
	return SX_DRAIN_REMOVED;
}

/* Run by BPF_PROG_RUN only; never attached. */
SEC("tc")
int sx_drain_one(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct sx_drain_request req;
	struct bpf_sock *sk;
	int verdict;

	if (data + sizeof(req) > data_end)
		return SX_DRAIN_FAILED;
	__builtin_memcpy(&req, data, sizeof(req));
	sk = bpf_map_lookup_elem(&sx_sockhash_v1, &req.key);
	if (!sk)
		return SX_DRAIN_GONE;
	verdict = req.force ? SX_DRAIN_REMOVED : sx_drain_hold(sk, &req.key);
	bpf_sk_release(sk);
	if (verdict != SX_DRAIN_REMOVED)
		return verdict;
	return bpf_map_delete_elem(&sx_sockhash_v1, &req.key) ? SX_DRAIN_FAILED : SX_DRAIN_REMOVED;
}
