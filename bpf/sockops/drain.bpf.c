// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sx_drain (iter/sockmap over sx_sockhash_v1), run by `sockvxctl unload`
 * after redirects have stopped. Removing a socket from the sockhash frees
 * its psock, and with it any redirected bytes the application has not read
 * yet, or that a sender is still queueing (a redirect is decided under the
 * sender's lock and queued just after it). So a socket leaves the map only
 * once its redirect queue is empty and no redirect toward it was decided in
 * the last SX_DRAIN_GRACE_NS; the others are counted and retried.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sockvx_maps.h"
#include "sock_key.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* sk_user_data carries flag bits below the psock pointer (SK_USER_DATA_*). */
#define SX_SK_USER_DATA_PTRMASK (~7UL)
/* Far longer than any sendmsg takes between deciding and queueing a redirect. */
#define SX_DRAIN_GRACE_NS 1000000000ULL

__u64 removed;
__u64 unread;   /* sockets holding redirected bytes not read yet */
__u64 recent;   /* sockets a redirect was decided for within the grace period */
__u64 failed;   /* deletes that failed */
__u32 force;    /* set by unload --force: remove every socket, unread bytes or not */

static __always_inline int sx_psock_unread(struct sk_psock *psock)
{
	if (bpf_core_field_exists(psock->msg_tot_len) && BPF_CORE_READ(psock, msg_tot_len))
		return 1;
	return BPF_CORE_READ(psock, ingress_msg.next) != &psock->ingress_msg;
}

static __always_inline int sx_fed_recently(const struct sx_sock_key *key)
{
	struct sx_dir_state *in;
	struct sx_sock_key peer;

	sx_sock_key_reverse(key, &peer);
	in = bpf_map_lookup_elem(&sx_dirstate_v1, &peer);
	return in && in->attempts &&
	       bpf_ktime_get_ns() - in->last_redirect_ns < SX_DRAIN_GRACE_NS;
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
	psock = (struct sk_psock *)((unsigned long)BPF_CORE_READ(sk, sk_user_data) &
				    SX_SK_USER_DATA_PTRMASK);
	if (!force) {
		if (psock && sx_psock_unread(psock)) {
			unread++;
			return 0;
		}
		if (sx_fed_recently(&k)) {
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
