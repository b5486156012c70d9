/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket keys and acceleration decisions as pure functions over plain
 * structs. The BPF programs fill a struct sx_raw_tuple from their hook
 * context once and decide from it; the unit tests call the very same
 * functions from user space, since BPF_PROG_RUN cannot run sockops or sk_msg.
 */
#ifndef SOCKVX_SOCK_KEY_H
#define SOCKVX_SOCK_KEY_H

#include "sockvx_abi.h"

#ifndef SX_INLINE
#define SX_INLINE static inline __attribute__((always_inline))
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define sx_be32_to_cpu(x) __builtin_bswap32(x)
#define sx_cpu_to_be32(x) __builtin_bswap32(x)
#else
#define sx_be32_to_cpu(x) (x)
#define sx_cpu_to_be32(x) (x)
#endif

/*
 * The connection as a sockops or sk_msg hook reports it. Both hooks encode
 * ports the same way: local_port in host byte order, remote_port as a
 * network-order 16-bit value in the upper half of a big-endian word, so
 * that sx_be32_to_cpu(remote_port) is the port number.
 */
struct sx_raw_tuple {
	__u32 family;
	__u32 local_ip4;
	__u32 remote_ip4;
	__u32 local_ip6[4];
	__u32 remote_ip6[4];
	__u32 local_port;
	__u32 remote_port;
};

SX_INLINE int sx_ip6_is_v4mapped(const __u32 a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == sx_cpu_to_be32(0x0000ffff);
}

/*
 * Fill one side of a key. An IPv4-mapped IPv6 address (a dual-stack socket
 * talking IPv4) becomes plain IPv4, so that both ends of one IPv4 connection
 * produce matching keys whatever socket family each end uses.
 */
SX_INLINE void sx_ip_set(struct sx_ip *ip, __u8 *family, __u32 raw_family,
			 __u32 ip4, const __u32 ip6[4])
{
	if (raw_family == SX_AF_INET6 && !sx_ip6_is_v4mapped(ip6)) {
		ip->addr[0] = ip6[0];
		ip->addr[1] = ip6[1];
		ip->addr[2] = ip6[2];
		ip->addr[3] = ip6[3];
		*family = SX_AF_INET6;
		return;
	}
	ip->addr[0] = raw_family == SX_AF_INET6 ? ip6[3] : ip4;
	ip->addr[1] = 0;
	ip->addr[2] = 0;
	ip->addr[3] = 0;
	*family = SX_AF_INET;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define sx_be16_to_cpu(x) __builtin_bswap16(x)
#else
#define sx_be16_to_cpu(x) (x)
#endif

/*
 * struct bpf_sock (cgroup/setsockopt) gives the remote port as a bare
 * network-order 16-bit value; this is the same port in the encoding of the
 * sockops and sk_msg hooks (see struct sx_raw_tuple).
 */
SX_INLINE __u32 sx_remote_port_from_be16(__u16 be_port)
{
	return sx_cpu_to_be32((__u32)sx_be16_to_cpu(be_port));
}

/* Returns 0, or -1 for a family sockvx does not accelerate. */
SX_INLINE int sx_sock_key_from_raw(const struct sx_raw_tuple *t,
				   struct sx_sock_key *key)
{
	__u8 lfam = 0, rfam = 0;

	if (t->family != SX_AF_INET && t->family != SX_AF_INET6)
		return -1;
	sx_ip_set(&key->local_ip, &lfam, t->family, t->local_ip4, t->local_ip6);
	sx_ip_set(&key->remote_ip, &rfam, t->family, t->remote_ip4, t->remote_ip6);
	if (lfam != rfam)
		return -1; /* a mapped and a native IPv6 address: not a pod pair */
	key->local_port = (__u16)t->local_port;
	key->remote_port = (__u16)sx_be32_to_cpu(t->remote_port);
	key->family = lfam;
	key->pad[0] = 0;
	key->pad[1] = 0;
	key->pad[2] = 0;
	return 0;
}

/* The key under which the peer socket of the same connection is stored. */
SX_INLINE void sx_sock_key_reverse(const struct sx_sock_key *key,
				   struct sx_sock_key *rev)
{
	rev->local_ip = key->remote_ip;
	rev->remote_ip = key->local_ip;
	rev->local_port = key->remote_port;
	rev->remote_port = key->local_port;
	rev->family = key->family;
	rev->pad[0] = 0;
	rev->pad[1] = 0;
	rev->pad[2] = 0;
}

SX_INLINE void sx_endpoint_key_set(struct sx_endpoint_key *ek, __u8 family,
				   const struct sx_ip *ip)
{
	ek->family = family;
	ek->pad[0] = 0;
	ek->pad[1] = 0;
	ek->pad[2] = 0;
	ek->ip = *ip;
}

/* 127.0.0.0/8 and ::1: host-internal traffic, never a pod address. */
SX_INLINE int sx_ip_is_loopback(__u8 family, const struct sx_ip *ip)
{
	if (family == SX_AF_INET)
		return (sx_be32_to_cpu(ip->addr[0]) >> 24) == 127;
	return ip->addr[0] == 0 && ip->addr[1] == 0 && ip->addr[2] == 0 &&
	       ip->addr[3] == sx_cpu_to_be32(1);
}

/* What the sockops program does with a newly established socket. */
enum sx_insert_verdict {
	SX_INSERT = 0,
	SX_SKIP_DISABLED,
	SX_SKIP_NOT_ENDPOINT,
	SX_SKIP_EXCLUDED,
};

struct sx_insert_facts {
	int accel_enabled;
	int local_is_endpoint;
	int remote_is_endpoint;
	int port_excluded;    /* local or remote port is on the excluded list */
	int loopback;         /* either address is a loopback address */
};

SX_INLINE enum sx_insert_verdict sx_insert_decide(const struct sx_insert_facts *f)
{
	if (!f->accel_enabled)
		return SX_SKIP_DISABLED;
	if (f->loopback || !f->local_is_endpoint || !f->remote_is_endpoint)
		return SX_SKIP_NOT_ENDPOINT;
	if (f->port_excluded)
		return SX_SKIP_EXCLUDED;
	return SX_INSERT;
}

/*
 * The path of one message, given its direction's state. Redirect only while
 * the direction has never carried a byte through TCP. Moving from the
 * redirect path to TCP is always safe (the receiver drains redirected bytes
 * before its TCP queue); the other way round never is.
 */
SX_INLINE int sx_msg_may_redirect(__u32 path, int accel_enabled)
{
	return accel_enabled && path != SX_TX_TCP;
}

/*
 * Record where a message went. Returns 1 when this message binds the
 * direction to TCP for the rest of the connection's life.
 */
SX_INLINE int sx_msg_record(__u32 *path, int redirected)
{
	if (*path == SX_TX_TCP)
		return 0;
	if (redirected) {
		*path = SX_TX_REDIRECT;
		return 0;
	}
	*path = SX_TX_TCP;
	return 1;
}

#endif /* SOCKVX_SOCK_KEY_H */
