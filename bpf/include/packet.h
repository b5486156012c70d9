/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frame parsing for the tc programs. One pass fills a struct sx_pkt with what
 * the decisions need (the L3 kind, both addresses as endpoint keys, the
 * source MAC); every header is bounds-checked before it is read. Forwarding
 * depends on the addresses alone, so IPv4 options, IPv6 extension headers
 * and fragments need no special case there. The TCP or UDP ports are read
 * too, where the transport header follows the IP header whole (not a
 * fragment, no IPv6 extension header): they key the host-routed flows.
 */
#ifndef SOCKVX_PACKET_H
#define SOCKVX_PACKET_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sockvx_abi.h"

/* vmlinux.h carries types, not the uapi #defines. */
#define SX_ETH_ALEN    6
#define SX_ETH_HLEN    14
#define SX_ETH_P_IP    0x0800
#define SX_ETH_P_ARP   0x0806
#define SX_ETH_P_IPV6  0x86DD
#define SX_ARPHRD_ETHER 1
#define SX_ARPOP_REQUEST 1
#define SX_ARPOP_REPLY   2
#define SX_TC_ACT_UNSPEC (-1) /* no verdict: the hook's next filter decides */
#define SX_TC_ACT_SHOT 2
#define SX_PACKET_HOST 0

#define SX_IPPROTO_TCP 6
#define SX_IPPROTO_UDP 17
#define SX_TCP_FLAG_SYN 0x02
#define SX_TCP_FLAG_ACK 0x10
/* The TCP header up to its flags byte; UDP's ports fit in it too. */
#define SX_L4_PARSE_LEN 14

/*
 * Headers parsed: Ethernet, the longest IPv4 header (60; it covers IPv6's 40
 * and ARP's 28), then the start of the transport header.
 */
#define SX_PARSE_LEN (SX_ETH_HLEN + 60 + SX_L4_PARSE_LEN)

enum sx_l3 {
	SX_L3_OTHER = 0,
	SX_L3_IPV4,
	SX_L3_IPV6,
	SX_L3_ARP, /* Ethernet/IPv4 ARP; src is the sender's address */
};

struct sx_pkt {
	__u32 l3; /* enum sx_l3 */
	struct sx_endpoint_key src;
	struct sx_endpoint_key dst;
	__u8 src_mac[SX_ETH_ALEN];
	__u8 arp_sha[SX_ETH_ALEN]; /* ARP: the sender hardware address */
	__u16 arp_op;              /* ARP: request or reply, host byte order */
	__u8 l4proto;              /* SX_IPPROTO_TCP or _UDP when the ports were read, else 0 */
	__u8 tcp_flags;            /* TCP: the flags byte */
	__be16 sport, dport;       /* network byte order */
};

/* The ARP payload for Ethernet and IPv4 (struct arphdr stops before it). */
struct sx_arp_eth_ip4 {
	__u8 sha[SX_ETH_ALEN];
	__u8 spa[4];
	__u8 tha[SX_ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

/*
 * skb->data and skb->data_end read as single loads. clang may otherwise keep
 * &skb->data_end in a register as ctx + 80 across a helper call, and the
 * verifier refuses a load through a modified context pointer.
 */
#define sx_skb_ptr(skb, field)                                                        \
	({                                                                          \
		__u64 __v; /* a u32 load zero-extends: no cast code */          \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                               \
			     : "=r"(__v)                                            \
			     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, field))); \
		(void *)__v;                                                        \
	})

/*
 * Makes the headers sx_parse reads linear. Frames from a veth are, but a
 * decapsulated or GRO-built skb may keep its inner headers in fragments.
 */
static __always_inline void sx_pull_headers(struct __sk_buff *skb)
{
	__u32 linear = sx_skb_ptr(skb, data_end) - sx_skb_ptr(skb, data);
	__u32 want = skb->len < SX_PARSE_LEN ? skb->len : SX_PARSE_LEN;

	if (linear < want)
		bpf_skb_pull_data(skb, want);
}

/*
 * Reads the ports (and TCP's flags) of the transport header at l4. A header
 * cut short leaves p->l4proto 0: the frame is still forwarded by address.
 */
static __always_inline void sx_parse_ports(void *l4, void *data_end, __u8 proto,
					   struct sx_pkt *p)
{
	__u8 *b = l4;

	if (proto != SX_IPPROTO_TCP && proto != SX_IPPROTO_UDP)
		return;
	if (proto == SX_IPPROTO_TCP ? (void *)(b + SX_L4_PARSE_LEN) > data_end :
				      (void *)(b + 4) > data_end)
		return;
	__builtin_memcpy(&p->sport, b, 2);
	__builtin_memcpy(&p->dport, b + 2, 2);
	if (proto == SX_IPPROTO_TCP)
		p->tcp_flags = b[13];
	p->l4proto = proto;
}

static __always_inline int sx_parse_ipv4(void *l3, void *data_end, struct sx_pkt *p)
{
	struct iphdr *ip = l3;
	__u32 hlen;

	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return -1;
	hlen = ip->ihl * 4;
	/* The options are part of the header: a frame that cuts them is truncated. */
	if (l3 + hlen > data_end || bpf_ntohs(ip->tot_len) < hlen)
		return -1;
	p->l3 = SX_L3_IPV4;
	p->src.family = SX_AF_INET;
	p->src.ip.addr[0] = ip->saddr;
	p->dst.family = SX_AF_INET;
	p->dst.ip.addr[0] = ip->daddr;
	/* Only an unfragmented datagram starts with its transport header whole. */
	if (!(ip->frag_off & bpf_htons(0x3fff)))
		sx_parse_ports(l3 + hlen, data_end, ip->protocol, p);
	return 0;
}

static __always_inline int sx_parse_ipv6(void *l3, void *data_end, struct sx_pkt *p)
{
	struct ipv6hdr *ip6 = l3;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return -1;
	p->l3 = SX_L3_IPV6;
	p->src.family = SX_AF_INET6;
	__builtin_memcpy(p->src.ip.addr, &ip6->saddr, 16);
	p->dst.family = SX_AF_INET6;
	__builtin_memcpy(p->dst.ip.addr, &ip6->daddr, 16);
	sx_parse_ports(ip6 + 1, data_end, ip6->nexthdr, p);
	return 0;
}

static __always_inline int sx_parse_arp(void *l3, void *data_end, struct sx_pkt *p)
{
	struct arphdr *arp = l3;
	struct sx_arp_eth_ip4 *body = (void *)(arp + 1);

	if ((void *)(body + 1) > data_end)
		return -1;
	if (arp->ar_hrd != bpf_htons(SX_ARPHRD_ETHER) || arp->ar_pro != bpf_htons(SX_ETH_P_IP) ||
	    arp->ar_hln != SX_ETH_ALEN || arp->ar_pln != 4)
		return -1;
	p->l3 = SX_L3_ARP;
	p->src.family = SX_AF_INET;
	__builtin_memcpy(&p->src.ip.addr[0], body->spa, 4);
	p->dst.family = SX_AF_INET;
	__builtin_memcpy(&p->dst.ip.addr[0], body->tpa, 4);
	__builtin_memcpy(p->arp_sha, body->sha, SX_ETH_ALEN);
	p->arp_op = bpf_ntohs(arp->ar_op);
	return 0;
}

/*
 * Fills p from the frame at the skb's data. Returns 0 (p->l3 says what was
 * found; SX_L3_OTHER for an ethertype sockvx does not route) or -1 for a
 * truncated or invalid header.
 */
static __always_inline int sx_parse(struct __sk_buff *skb, struct sx_pkt *p)
{
	void *data, *data_end;
	struct ethhdr *eth;

	sx_pull_headers(skb);
	data = sx_skb_ptr(skb, data);
	data_end = sx_skb_ptr(skb, data_end);
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(p->src_mac, eth->h_source, SX_ETH_ALEN);
	switch (eth->h_proto) {
	case bpf_htons(SX_ETH_P_IP):
		return sx_parse_ipv4(eth + 1, data_end, p);
	case bpf_htons(SX_ETH_P_IPV6):
		return sx_parse_ipv6(eth + 1, data_end, p);
	case bpf_htons(SX_ETH_P_ARP):
		return sx_parse_arp(eth + 1, data_end, p);
	}
	p->l3 = SX_L3_OTHER;
	return 0;
}

/* Rewrites the Ethernet addresses; a zero dst leaves the destination as it is. */
static __always_inline int sx_set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	void *data = sx_skb_ptr(skb, data);
	void *data_end = sx_skb_ptr(skb, data_end);
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (dst[0] | dst[1] | dst[2] | dst[3] | dst[4] | dst[5])
		__builtin_memcpy(eth->h_dest, dst, SX_ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, SX_ETH_ALEN);
	return 0;
}

/*
 * Turns an ARP request into the reply "target is at mac", in place, addressed
 * back to the requester. 0, or -1 if the frame is not the request sx_parse saw.
 */
static __always_inline int sx_arp_make_reply(struct __sk_buff *skb, const __u8 *mac)
{
	void *data = sx_skb_ptr(skb, data);
	void *data_end = sx_skb_ptr(skb, data_end);
	struct ethhdr *eth = data;
	struct arphdr *arp = (void *)(eth + 1);
	struct sx_arp_eth_ip4 *body = (void *)(arp + 1);
	__u8 target_ip[4];

	if ((void *)(body + 1) > data_end)
		return -1;
	__builtin_memcpy(target_ip, body->tpa, 4);
	__builtin_memcpy(eth->h_dest, eth->h_source, SX_ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, SX_ETH_ALEN);
	arp->ar_op = bpf_htons(SX_ARPOP_REPLY);
	__builtin_memcpy(body->tha, body->sha, SX_ETH_ALEN);
	__builtin_memcpy(body->tpa, body->spa, 4);
	__builtin_memcpy(body->sha, mac, SX_ETH_ALEN);
	__builtin_memcpy(body->spa, target_ip, 4);
	return 0;
}

static __always_inline int sx_mac_is_zero(const __u8 *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

static __always_inline int sx_mac_equal(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		 (a[5] ^ b[5]));
}

/* fe80::/10 and :: : link-scope sources (neighbour discovery, DAD) that never leave the link. */
static __always_inline int sx_ipv6_link_scope_source(const struct sx_endpoint_key *k)
{
	__u32 first = bpf_ntohl(k->ip.addr[0]);

	if ((first & 0xffc00000) == 0xfe800000)
		return 1;
	return !(k->ip.addr[0] | k->ip.addr[1] | k->ip.addr[2] | k->ip.addr[3]);
}

#endif /* SOCKVX_PACKET_H */
