// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sx_drain (iter/sockmap over sx_sockhash_v1), run by `sockvxctl unload`
 * after redirects have stopped. Removing a socket from the sockhash frees
 * its psock, and with it any redirected bytes the application has not read
 * yet. So a socket leaves the map only once its redirect queue is empty;
 * the others are counted and retried, and nothing is ever lost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sockvx_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* sk_user_data carries flag bits below the psock pointer (SK_USER_DATA_*). */
#define SX_SK_USER_DATA_PTRMASK (~7UL)

__u64 removed;
__u64 remaining;

SEC("iter/sockmap")
int sx_drain(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;
	void *key = ctx->key;
	struct sx_sock_key k;
	struct sk_psock *psock;
	struct list_head *head;

	if (!sk || !key)
		return 0;
	psock = (struct sk_psock *)((unsigned long)BPF_CORE_READ(sk, sk_user_data) &
				    SX_SK_USER_DATA_PTRMASK);
	if (psock) {
		head = &psock->ingress_msg;
		if (BPF_CORE_READ(psock, msg_tot_len) ||
		    BPF_CORE_READ(psock, ingress_msg.next) != head) {
			remaining++;
			return 0;
		}
	}
	/* The iterator's key is a read-only buffer; the helper wants our own copy. */
	__builtin_memcpy(&k, key, sizeof(k));
	if (bpf_map_delete_elem(&sx_sockhash_v1, &k))
		remaining++;
	else
		removed++;
	return 0;
}
