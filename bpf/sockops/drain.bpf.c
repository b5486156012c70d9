// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sx_drain (iter/sockmap over sx_sockhash_v1), run by `sockvxctl unload` and
 * `accel off` after redirects have stopped. Removing a socket from the
 * sockhash frees its psock, and with it any redirected bytes the application
 * has not read yet, or that a sender is still queueing: a redirect is decided
 * under the sender's lock and queued just after it, holding a psock reference
 * from just before it takes the receiver's lock until it is done. So a
 * socket leaves the map only once its redirect queue is empty and either
 *  - nothing else holds its psock (no sender in the middle of queueing, no
 *    reader waiting) and no redirect toward it was decided for SX_QUIET_NS, or
 *  - no redirect toward it was decided for SX_QUIET_LONG_NS (a reader waiting
 *    on an idle connection holds the psock as long as it waits).
 * The others are counted and retried.
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

__u64 removed;
__u64 unread;   /* sockets holding redirected bytes not read yet */
__u64 recent;   /* sockets a redirect may still be on its way to */
__u64 failed;   /* deletes that failed */
__u32 force;    /* set by unload --force: remove every socket, unread bytes or not */

/* Nanoseconds since a redirect toward this socket was last decided (~0: never). */
static __always_inline __u64 sx_quiet_for(const struct sx_sock_key *key)
{
	struct sx_dir_state *in;
	struct sx_sock_key peer;

	sx_sock_key_reverse(key, &peer);
	in = bpf_map_lookup_elem(&sx_dirstate_v1, &peer);
	if (!in || !in->attempts)
		return ~0ULL;
	return bpf_ktime_get_ns() - in->last_redirect_ns;
}

static __always_inline int sx_psock_shared(struct sk_psock *psock)
{
	return BPF_CORE_READ(psock, refcnt.refs.counter) > 1;
}

SEC("iter/sockmap")
int sx_drain(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;
	void *key = ctx->key;
	struct sk_psock *psock;
	struct sx_sock_key k;

	if (!sk || !key)
		return 0;
	/* The iterator's key is a read-only buffer; the helpers want our own copy. */
	__builtin_memcpy(&k, key, sizeof(k));
	psock = sx_psock_from_user_data((unsigned long)BPF_CORE_READ(sk, sk_user_data));
	if (!force && psock) {
		__u64 quiet = sx_quiet_for(&k);

		if (sx_psock_has_unread(psock)) {
			unread++;
			return 0;
		}
		if (quiet < SX_QUIET_NS || (quiet < SX_QUIET_LONG_NS && sx_psock_shared(psock))) {
			recent++;
			return 0;
		}
	}
	if (bpf_map_delete_elem(&sx_sockhash_v1, &k))
		failed++;
	else
		removed++;
	return 0;
}
