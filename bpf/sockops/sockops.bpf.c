// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Same-node socket acceleration.
 *
 * sx_sockops (cgroup/sock_ops, attached to the cgroup v2 root): when a TCP
 * connection between two pods of this node becomes established, the socket
 * enters sx_sockhash_v1 under its own 4-tuple key.
 *
 * sx_sk_msg (sk_msg, attached to sx_sockhash_v1): each sendmsg on such a
 * socket is moved straight into the peer socket's receive queue, skipping
 * TCP/IP, the veth pair and tc. Each direction of a connection uses exactly
 * one path for its whole life (see sock_key.h), which keeps byte order and
 * the receiver's wake-ups identical to plain TCP.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sockvx_maps.h"
#include "sock_key.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void sx_tuple_from_sockops(const struct bpf_sock_ops *skops,
						  struct sx_raw_tuple *t)
{
	t->family = skops->family;
	t->local_ip4 = skops->local_ip4;
	t->remote_ip4 = skops->remote_ip4;
	t->local_ip6[0] = skops->local_ip6[0];
	t->local_ip6[1] = skops->local_ip6[1];
	t->local_ip6[2] = skops->local_ip6[2];
	t->local_ip6[3] = skops->local_ip6[3];
	t->remote_ip6[0] = skops->remote_ip6[0];
	t->remote_ip6[1] = skops->remote_ip6[1];
	t->remote_ip6[2] = skops->remote_ip6[2];
	t->remote_ip6[3] = skops->remote_ip6[3];
	t->local_port = skops->local_port;
	t->remote_port = skops->remote_port;
}

static __always_inline void sx_tuple_from_msg(const struct sk_msg_md *msg,
					      struct sx_raw_tuple *t)
{
	t->family = msg->family;
	t->local_ip4 = msg->local_ip4;
	t->remote_ip4 = msg->remote_ip4;
	t->local_ip6[0] = msg->local_ip6[0];
	t->local_ip6[1] = msg->local_ip6[1];
	t->local_ip6[2] = msg->local_ip6[2];
	t->local_ip6[3] = msg->local_ip6[3];
	t->remote_ip6[0] = msg->remote_ip6[0];
	t->remote_ip6[1] = msg->remote_ip6[1];
	t->remote_ip6[2] = msg->remote_ip6[2];
	t->remote_ip6[3] = msg->remote_ip6[3];
	t->local_port = msg->local_port;
	t->remote_port = msg->remote_port;
}

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
static __always_inline int sx_take_active_peer(const struct sx_sock_key *key)
{
	struct sx_sock_key rev;

	sx_sock_key_reverse(key, &rev);
	return bpf_map_delete_elem(&sx_active_v1, &rev) == 0;
}

static __always_inline void sx_handle_established(struct bpf_sock_ops *skops,
						  int passive)
{
	struct sx_insert_facts facts = {};
	enum sx_insert_verdict verdict;
	struct sx_raw_tuple tuple;
	struct sx_sock_key key;

	sx_tuple_from_sockops(skops, &tuple);
	if (sx_sock_key_from_raw(&tuple, &key))
		return;
	sx_gather_facts(&key, &facts);
	verdict = sx_insert_decide(&facts);
	if (verdict != SX_INSERT) {
		sx_count_skip(verdict);
		return;
	}
	if (passive && !sx_take_active_peer(&key)) {
		sx_count(SX_CNT_SOCK_SKIP_NO_PEER, 1);
		return;
	}
	/* BPF_NOEXIST: a stale entry under this key is never overwritten. */
	if (bpf_sock_hash_update(skops, &sx_sockhash_v1, &key, BPF_NOEXIST)) {
		sx_count(SX_CNT_SOCK_INSERT_ERR, 1);
		return;
	}
	sx_count(SX_CNT_SOCK_INSERTED, 1);
	if (!passive) {
		__u8 one = 1;

		bpf_map_update_elem(&sx_active_v1, &key, &one, BPF_ANY);
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
	}
	return 1;
}

/* Attach: sk_msg verdict on sx_sockhash_v1. */
SEC("sk_msg")
int sx_sk_msg(struct sk_msg_md *msg)
{
	struct sx_sock_state *st;
	struct sx_raw_tuple tuple;
	struct sx_sock_key key, rev;
	__u64 len = msg->size;
	int redirected = 0;

	if (!msg->sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&sx_sockstate_v1, msg->sk, 0,
				BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		sx_count(SX_CNT_MSG_ERR, 1);
		return SK_PASS;
	}
	if (sx_msg_may_redirect(st->tx_path, sx_accel_enabled())) {
		sx_tuple_from_msg(msg, &tuple);
		if (!sx_sock_key_from_raw(&tuple, &key)) {
			sx_sock_key_reverse(&key, &rev);
			redirected = bpf_msg_redirect_hash(msg, &sx_sockhash_v1, &rev,
							   BPF_F_INGRESS) == SK_PASS;
		}
		if (!redirected)
			sx_count(SX_CNT_MSG_MISS, 1);
	}
	if (sx_msg_record(&st->tx_path, redirected))
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
