// SPDX-License-Identifier: Apache-2.0
/*
 * BPF_PROG_RUN tests of the TC dataplane (bpf/tc/): every verdict of
 * sx_from_pod, sx_to_pod, sx_from_overlay and sx_to_overlay, one table row
 * per case.
 *
 * A row is a frame built from a short description, the program it runs
 * through, and what must come out: the verdict, the bytes (unchanged, or the
 * Ethernet addresses a redirect rewrites, or a whole ARP reply), the change
 * of every counter in sx_stats_v1 (counters a row does not name must not
 * move), the host-routed flow a row names (recorded or forgotten) and, for
 * the harness programs, the tunnel metadata and pkt_type left
 * on the skb. The maps are reset to one fixture (below) before each row.
 *
 * Both objects are opened with a private pin_root_path, so the dataplane and
 * the harness (test/bpf/overlay_harness.bpf.c) share their pinned maps. The
 * harness runs the same decision functions as the real entry points and
 * stands in where BPF_PROG_RUN falls short: it cannot attach VXLAN metadata
 * to a packet (sx_test_from_overlay takes it from skb->cb), it cannot show
 * what a program left on the skb (the harness writes that into skb->cb,
 * which comes back in ctx_out), and current kernels refuse (EINVAL) IPv4
 * and IPv6 frames shorter than their IP header: the harness cuts such frames
 * with bpf_skb_change_tail before the decisions run (row .trim).
 *
 * Not observable: the ifindex a redirect goes to. bpf_redirect and
 * bpf_redirect_peer only record it and return TC_ACT_REDIRECT; BPF_PROG_RUN
 * never performs the redirect, so whether it is the peer or the plain
 * variant is not visible either. The counters tell which branch redirected,
 * and the rewritten MACs (or the tunnel metadata) which endpoint (or node)
 * it was for.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "sockvx_abi.h"
#include "pins.h"
#include "sysenv.h"
#include "dataplane.skel.h"
#include "overlay_harness.skel.h"
#include "unit_helpers.h"

/* ---- the fixture: this node, its pods, the other nodes ----------------- */

/* Tables and the shorthands for their rows are aligned by hand, up to the cases. */
/* clang-format off */

/*
 * Every program runs with ctx ifindex 1 (lo): it is the host veth of the
 * sending pod A for from_pod, and stands in for the VXLAN device otherwise.
 * Destination endpoints name ifindexes that need not exist: a test run never
 * performs the redirect.
 */
#define CTX_IFINDEX 1

#define VNI       42
#define NODE_SELF "192.168.0.1"
#define ROUTER4   "10.1.1.1"
#define ROUTER6   "fd00:1:1::1"

/* Pod A, the sender: its host veth is CTX_IFINDEX. */
#define POD_A4      "10.1.1.10"
#define POD_A6      "fd00:1:1::10"
#define POD_A_MAC   "02:aa:00:00:00:0a"
#define POD_A_HMAC  "02:ee:00:00:00:0a" /* its host veth: where pod A sends every frame */
/* Pod B: another pod of this node. */
#define POD_B4      "10.1.1.11"
#define POD_B6      "fd00:1:1::11"
#define POD_B_MAC   "02:aa:00:00:00:0b"
#define POD_B_HMAC  "02:ee:00:00:00:0b"
#define POD_B_IFX   11
/* Pod C: registered without its MAC (all zero: "any"). */
#define POD_C4      "10.1.1.12"
#define POD_C_HMAC  "02:ee:00:00:00:0c"
#define POD_C_IFX   12
/* Pod N: a second address on pod A's veth, registered without a MAC. */
#define POD_N4      "10.1.1.13"
#define POD_N_HMAC  "02:ee:00:00:00:0d"
/* Pod S: known to socket acceleration only (ifindex 0). */
#define POD_S4      "10.1.1.14"
#define POD_S_MAC   "02:aa:00:00:00:0e"
/* Not an endpoint of this node. */
#define STRANGER4   "10.1.1.99"
#define STRANGER6   "fd00:1:1::99"
#define OTHER_MAC   "02:66:66:66:66:66"
#define BCAST       "ff:ff:ff:ff:ff:ff"

/* Node B owns 10.1.2.0/24 and fd00:1:2::/64. */
#define NODE_B     "192.168.0.2"
#define NODE_B_POD4 "10.1.2.5"
#define NODE_B_POD6 "fd00:1:2::5"
#define NODE_B6     "fd00:99::2" /* node B's own IPv6 address, in no pod CIDR */
/* Node C owns 10.2.0.0/16 and fd00:2::/32; node D the longer 10.2.5.0/24 and fd00:2:5::/48. */
#define NODE_C     "192.168.0.3"
#define NODE_D     "192.168.0.4"
#define NODE_C_POD4 "10.2.6.9"
#define NODE_D_POD4 "10.2.5.9"
#define NODE_C_POD6 "fd00:2:6::9"
#define NODE_D_POD6 "fd00:2:5::9"
/* Not a node. */
#define NODE_X     "192.168.0.99"
#define NOWHERE4   "10.9.9.9"
#define WORLD4     "8.8.8.8"
#define WORLD6     "2001:db8::1"

struct ep_fixture {
	const char *ip;
	const char *pod_mac; /* NULL: all zero */
	const char *host_mac;
	__u32 ifindex;
};

static const struct ep_fixture fixture_endpoints[] = {
	{ POD_A4, POD_A_MAC, POD_A_HMAC, CTX_IFINDEX },
	{ POD_A6, POD_A_MAC, POD_A_HMAC, CTX_IFINDEX },
	{ POD_B4, POD_B_MAC, POD_B_HMAC, POD_B_IFX },
	{ POD_B6, POD_B_MAC, POD_B_HMAC, POD_B_IFX },
	{ POD_C4, NULL, POD_C_HMAC, POD_C_IFX },
	{ POD_N4, NULL, POD_N_HMAC, CTX_IFINDEX },
	{ POD_S4, POD_S_MAC, "02:ee:00:00:00:0e", 0 },
};

struct tunnel_fixture {
	const char *cidr;
	unsigned int len;
	const char *node;
};

static const struct tunnel_fixture fixture_tunnels[] = {
	{ "10.1.2.0", 24, NODE_B },   { "fd00:1:2::", 64, NODE_B }, { "10.2.0.0", 16, NODE_C },
	{ "fd00:2::", 32, NODE_C },   { "10.2.5.0", 24, NODE_D },   { "fd00:2:5::", 48, NODE_D },
};

static const char *const fixture_nodes[] = { NODE_B, NODE_C, NODE_D };

/* ---- the table's vocabulary ------------------------------------------- */

enum prog {
	/* The real entry points (dataplane.bpf.c). */
	FROM_POD,
	TO_POD,
	FROM_OVERLAY,
	TO_OVERLAY,
	/* The harness (overlay_harness.bpf.c). */
	H_FROM_OVERLAY, /* sx_overlay_ingress with the row's tunnel metadata, then reports */
	H_FROM_POD,     /* sx_pod_ingress, then reports the skb's tunnel metadata and type */
	H_TO_OVERLAY,   /* sx_host_to_overlay on the row's metadata, then reports */
	PROG_COUNT,
};

static const char *const prog_names[PROG_COUNT] = {
	[FROM_POD] = "sx_from_pod",
	[TO_POD] = "sx_to_pod",
	[FROM_OVERLAY] = "sx_from_overlay",
	[TO_OVERLAY] = "sx_to_overlay",
	[H_FROM_OVERLAY] = "sx_test_from_overlay",
	[H_FROM_POD] = "sx_test_from_pod",
	[H_TO_OVERLAY] = "sx_test_to_overlay",
};

/* The harness's cb words (overlay_harness.bpf.c). */
enum { CB_VNI, CB_REMOTE, CB_TTL, CB_PRESENT, CB_TRIM, CB_WORDS };
#define CB_PKT_TYPE CB_TRIM /* out: pkt_type at entry | at exit << 8 */
#define PACKET_HOST_TYPE 0  /* PACKET_HOST of <linux/if_packet.h> */

/* TUNNEL_CSUM and TUNNEL_KEY as bpf_skb_get_tunnel_key reports them (BPF_F_TUNINFO_FLAGS). */
#define TUN_F_CSUM 0x0001
#define TUN_F_KEY  0x0004

enum pkt_kind { PKT_IPV4 = 1, PKT_IPV6, PKT_ARP, PKT_ETH };

#define IPV4_MF     0x2000
#define FRAG_OFF(o) ((o) / 8) /* an IPv4 fragment offset in bytes, as frag_off holds it */
#define PAYLOAD_LEN 16
#define FRAME_MAX   256

/* The kernel's internal ENOTSUPP, which BPF_PROG_RUN returns for unsupported program types. */
#define KERNEL_ENOTSUPP 524

/* A byte changed after the frame is built (a bad version, hardware type ...). */
struct poke {
	__u16 at;
	__u8 val;
	__u8 set;
};

/*
 * A frame. The defaults are pod A's: from POD_A_MAC to POD_A_HMAC. IPv4 and
 * IPv6 carry PAYLOAD_LEN bytes after their header.
 */
struct pkt {
	enum pkt_kind kind;
	const char *dmac, *smac;
	const char *src, *dst; /* ARP: the sender and target protocol addresses */
	__u16 proto;           /* PKT_ETH: the ethertype; PAYLOAD_LEN bytes follow */
	__u8 ihl;              /* IPv4 header length in words (0: 5); options are NOPs */
	__u16 frag;            /* IPv4 frag_off, host order: IPV4_MF | FRAG_OFF(bytes) */
	__u16 tot_len;         /* IPv4 total length (0: the real one) */
	__u16 op;              /* ARP opcode */
	const char *sha, *tha; /* ARP hardware addresses (NULL: smac, zero) */
	__u32 cut;             /* keep only the first cut bytes (0: all) */
	struct poke poke[3];
	/* A transport header at the payload's start (0: UDP-numbered, not a header). */
	__u8 l4;               /* TCP or UDP */
	__u16 sport, dport;
	__u8 tcp_flags;
};

/* A host-routed flow (struct sx_flow_key): put in before a row, or looked for after it. */
struct flow {
	const char *src, *dst;
	__u16 sport, dport;
	__u8 proto;
};

/* Tunnel metadata: given to a harness program, or expected from one. */
struct tun {
	int present;
	__u32 vni;
	const char *remote;
	__u8 ttl;
	int csum; /* expected: TUNNEL_CSUM set (the outer UDP checksum is computed) */
};

struct delta {
	enum sx_counter id;
	int n; /* 0: unused slot */
};

struct tc_case {
	const char *name;
	enum prog prog;
	struct pkt in;
	struct tun tun_in;    /* harness: metadata on the skb (H_FROM_OVERLAY: the VXLAN meta) */
	__u32 trim;           /* harness: cut the frame to this length inside the program */
	void (*setup)(void);  /* changes to the fixture for this row */
	int verdict;
	const char *out_dmac; /* redirects: the rewritten Ethernet addresses (NULL: unchanged) */
	const char *out_smac;
	const struct pkt *out; /* the whole frame expected instead */
	struct delta cnt[2];  /* counters that move; every other one must not */
	struct tun tun_out;   /* harness: the metadata on the skb afterwards */
	int pkt_host;         /* harness: pkt_type becomes PACKET_HOST (else unchanged) */
	const struct flow *flow_in;  /* recorded before the row */
	const struct flow *flow_out; /* afterwards: recorded if flow_kept, else absent */
	int flow_kept;
};

#define CNT(c)         { { (c), 1 } }
#define TUN_META(n, v) { .present = 1, .vni = (v), .remote = (n) }
#define ENCAP_TO(n)    { .present = 1, .vni = VNI, .remote = (n), .ttl = 64 }

/* Shorthands for the common frames. */
#define IP4(s, d)       { .kind = PKT_IPV4, .src = (s), .dst = (d) }
#define IP6(s, d)       { .kind = PKT_IPV6, .src = (s), .dst = (d) }
#define IP4M(sm, s, d)  { .kind = PKT_IPV4, .smac = (sm), .src = (s), .dst = (d) }
#define ARP(op_, s, d)  { .kind = PKT_ARP, .op = (op_), .src = (s), .dst = (d) }
#define ARPREQ(s, d)    { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .src = (s), .dst = (d) }
#define ETH(p)          { .kind = PKT_ETH, .proto = (p) }
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP4(s, sp, d, dp, fl) \
	{ .kind = PKT_IPV4, .src = (s), .dst = (d), .l4 = 6, .sport = (sp), .dport = (dp), \
	  .tcp_flags = (fl) }
#define TCP6(s, sp, d, dp, fl) \
	{ .kind = PKT_IPV6, .src = (s), .dst = (d), .l4 = 6, .sport = (sp), .dport = (dp), \
	  .tcp_flags = (fl) }
#define UDP4(s, sp, d, dp) \
	{ .kind = PKT_IPV4, .src = (s), .dst = (d), .l4 = 17, .sport = (sp), .dport = (dp) }
/*
 * IPv6 next header 0 (hop-by-hop, 8 bytes, next: routing 43, 8 bytes) at the
 * payload's start; the routing header's next header is last.
 */
#define IP6_EXT_CHAIN(last) { { 20, 0, 1 }, { 54, 43, 1 }, { 62, (last), 1 } }

/* The reply sx_from_pod makes of pod A's request for ip: "ip is at POD_A_HMAC". */
static const struct pkt arp_reply_router = {
	.kind = PKT_ARP,
	.dmac = POD_A_MAC,
	.smac = POD_A_HMAC,
	.op = 2,
	.src = ROUTER4,
	.dst = POD_A4,
	.tha = POD_A_MAC,
};

static const struct pkt arp_reply_pod_b = {
	.kind = PKT_ARP,
	.dmac = POD_A_MAC,
	.smac = POD_A_HMAC,
	.op = 2,
	.src = POD_B4,
	.dst = POD_A4,
	.tha = POD_A_MAC,
};

static const struct pkt arp_reply_router_to_n = {
	.kind = PKT_ARP,
	.dmac = OTHER_MAC,
	.smac = POD_N_HMAC,
	.op = 2,
	.src = ROUTER4,
	.dst = POD_N4,
	.tha = OTHER_MAC,
};

static void netconf_no_vxlan(void);
static void netconf_no_router(void);

/*
 * Host-routed flows: pod A's connection to a Service, translated by the host
 * to pod B's port 8080 (or to a pod of node B), is recorded under its reply
 * direction, from the backend to pod A's port 40000.
 */
static const struct flow reply_b_to_a = { POD_B4, POD_A4, 8080, 40000, 6 };
static const struct flow reply_b6_to_a6 = { POD_B6, POD_A6, 8080, 40000, 6 };
static const struct flow reply_remote_to_a = { NODE_B_POD4, POD_A4, 8080, 40000, 6 };
static const struct flow dns_reply_b_to_remote = { POD_B4, NODE_B_POD4, 53, 5353, 17 };
static const struct flow reply_router_to_b = { POD_B4, ROUTER4, 80, 40000, 6 };
/* Pod A is the backend: its replies to pod B's (or node B's pod's) port 40000. */
static const struct flow reply_a_to_b = { POD_A4, POD_B4, 8080, 40000, 6 };
static const struct flow reply_a_to_remote = { POD_A4, NODE_B_POD4, 8080, 40000, 6 };

static const struct tc_case cases[] = {
	/* ---- from_pod: to a pod of this node ---- */
	{ "from_pod: IPv4 to a local pod is redirected with its MACs", FROM_POD,
	  IP4(POD_A4, POD_B4), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv6 to a local pod is redirected with its MACs", FROM_POD,
	  IP6(POD_A6, POD_B6), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: to a local pod without MAC keeps the destination MAC", FROM_POD,
	  IP4(POD_A4, POD_C4), .verdict = TC_ACT_REDIRECT,
	  .out_smac = POD_C_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: to its own address is redirected back into the pod", FROM_POD,
	  IP4(POD_A4, POD_A4), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_A_MAC, .out_smac = POD_A_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: local delivery makes the packet PACKET_HOST, no tunnel metadata", H_FROM_POD,
	  IP4(POD_A4, POD_B4), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL),
	  .pkt_host = 1 },

	/* ---- from_pod: to a pod of another node ---- */
	{ "from_pod: IPv4 to a remote pod CIDR is encapsulated", FROM_POD,
	  IP4(POD_A4, NODE_B_POD4), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP) },
	{ "from_pod: IPv6 to a remote pod CIDR is encapsulated", FROM_POD,
	  IP6(POD_A6, NODE_B_POD6), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP) },
	{ "from_pod: IPv4 encapsulation carries VNI, node, TTL 64, no outer checksum", H_FROM_POD,
	  IP4(POD_A4, NODE_B_POD4), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_B) },
	{ "from_pod: IPv6 encapsulation carries VNI, node, TTL 64, no outer checksum", H_FROM_POD,
	  IP6(POD_A6, NODE_B_POD6), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_B) },
	{ "from_pod: IPv4 longest prefix wins (/24 inside /16)", H_FROM_POD,
	  IP4(POD_A4, NODE_D_POD4), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_D) },
	{ "from_pod: IPv4 outside the /24 goes to the /16's node", H_FROM_POD,
	  IP4(POD_A4, NODE_C_POD4), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_C) },
	{ "from_pod: IPv6 longest prefix wins (/48 inside /32)", H_FROM_POD,
	  IP6(POD_A6, NODE_D_POD6), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_D) },
	{ "from_pod: IPv6 outside the /48 goes to the /32's node", H_FROM_POD,
	  IP6(POD_A6, NODE_C_POD6), .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP),
	  .tun_out = ENCAP_TO(NODE_C) },
	{ "from_pod: remote CIDR without a VXLAN device goes to the host", H_FROM_POD,
	  IP4(POD_A4, NODE_B_POD4), .setup = netconf_no_vxlan, .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_TO_HOST) },

	/* ---- from_pod: replies of host-routed flows ---- */
	{ "from_pod: a reply of a host-routed TCP flow goes to the host", FROM_POD,
	  TCP4(POD_A4, 8080, POD_B4, 40000, TCP_ACK), .flow_in = &reply_a_to_b,
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_HOST_FLOW),
	  .flow_out = &reply_a_to_b, .flow_kept = 1 },
	{ "from_pod: a reply of a host-routed flow to a remote pod goes to the host", H_FROM_POD,
	  TCP4(POD_A4, 8080, NODE_B_POD4, 40000, TCP_ACK), .flow_in = &reply_a_to_remote,
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_HOST_FLOW), .pkt_host = 1 },
	{ "from_pod: another port of the same two pods is delivered", FROM_POD,
	  TCP4(POD_A4, 8080, POD_B4, 40001, TCP_ACK), .flow_in = &reply_a_to_b,
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL), .flow_out = &reply_a_to_b, .flow_kept = 1 },
	{ "from_pod: UDP with a TCP flow's ports is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .l4 = 17, .sport = 8080,
	    .dport = 40000 },
	  .flow_in = &reply_a_to_b, .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC,
	  .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: pod A's SYN to pod B forgets the record of its replies", FROM_POD,
	  TCP4(POD_A4, 40000, POD_B4, 8080, TCP_SYN), .flow_in = &reply_b_to_a,
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL), .flow_out = &reply_b_to_a, .flow_kept = 0 },
	{ "from_pod: a SYN-ACK keeps the record", FROM_POD,
	  TCP4(POD_A4, 40000, POD_B4, 8080, TCP_SYN | TCP_ACK), .flow_in = &reply_b_to_a,
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL), .flow_out = &reply_b_to_a, .flow_kept = 1 },
	{ "from_pod: an IPv4 fragment of a reply is delivered: it has no ports", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .l4 = 6, .sport = 8080,
	    .dport = 40000, .frag = IPV4_MF },
	  .flow_in = &reply_a_to_b, .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC,
	  .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },

	/* ---- to_pod: what the host routes into a pod (it gives no verdict) ---- */
	{ "to_pod: a local pod's TCP flow is recorded under its reply", TO_POD,
	  TCP4(POD_A4, 40000, POD_B4, 8080, TCP_SYN), .verdict = TC_ACT_UNSPEC,
	  .flow_out = &reply_b_to_a, .flow_kept = 1 },
	{ "to_pod: a local pod's IPv6 TCP flow is recorded", TO_POD,
	  TCP6(POD_A6, 40000, POD_B6, 8080, TCP_ACK), .verdict = TC_ACT_UNSPEC,
	  .flow_out = &reply_b6_to_a6, .flow_kept = 1 },
	{ "to_pod: a remote pod's UDP flow is recorded", TO_POD,
	  UDP4(NODE_B_POD4, 5353, POD_B4, 53), .verdict = TC_ACT_UNSPEC,
	  .flow_out = &dns_reply_b_to_remote, .flow_kept = 1 },
	{ "to_pod: the node's own flow is not recorded", TO_POD,
	  TCP4(ROUTER4, 40000, POD_B4, 80, TCP_SYN), .verdict = TC_ACT_UNSPEC,
	  .flow_out = &reply_router_to_b, .flow_kept = 0 },
	{ "to_pod: a TCP header cut before its flags goes on, not recorded", TO_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .l4 = 6, .sport = 40000,
	    .dport = 8080, .cut = 14 + 20 + 13 },
	  .verdict = TC_ACT_UNSPEC, .flow_out = &reply_b_to_a, .flow_kept = 0 },

	/* ---- from_pod: to the host ---- */
	{ "from_pod: to the node's router address goes to the host", FROM_POD,
	  IP4(POD_A4, ROUTER4), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: IPv4 to the outside world goes to the host", FROM_POD,
	  IP4(POD_A4, WORLD4), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: IPv6 to the outside world goes to the host", FROM_POD,
	  IP6(POD_A6, WORLD6), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: IPv6 to an IPv4-mapped address never matches an IPv4 CIDR", FROM_POD,
	  IP6(POD_A6, "::ffff:" NODE_B_POD4), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: to a socket-only endpoint (ifindex 0) goes to the host", FROM_POD,
	  IP4(POD_A4, POD_S4), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: IPv6 link-local source goes to the host unchecked", FROM_POD,
	  { .kind = PKT_IPV6, .smac = OTHER_MAC, .src = "fe80::1", .dst = POD_B6 },
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: IPv6 unspecified source (DAD) goes to the host unchecked", FROM_POD,
	  { .kind = PKT_IPV6, .smac = OTHER_MAC, .src = "::", .dst = "ff02::1:ff00:10" },
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },

	/* ---- from_pod: source checks ---- */
	{ "from_pod: spoofed IPv4 source is dropped", FROM_POD,
	  IP4(STRANGER4, POD_B4), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	{ "from_pod: spoofed IPv6 source is dropped", FROM_POD,
	  IP6(STRANGER6, POD_B6), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	{ "from_pod: source of a pod on another veth is dropped", FROM_POD,
	  IP4M(POD_B_MAC, POD_B4, POD_C4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	{ "from_pod: source of a socket-only endpoint is dropped", FROM_POD,
	  IP4M(POD_S_MAC, POD_S4, POD_B4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	{ "from_pod: IPv4 right address, wrong MAC is dropped", FROM_POD,
	  IP4M(OTHER_MAC, POD_A4, POD_B4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_SPOOF_MAC) },
	{ "from_pod: IPv6 right address, wrong MAC is dropped", FROM_POD,
	  { .kind = PKT_IPV6, .smac = OTHER_MAC, .src = POD_A6, .dst = WORLD6 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_MAC) },
	{ "from_pod: endpoint without MAC accepts any source MAC", FROM_POD,
	  IP4M(OTHER_MAC, POD_N4, POD_B4), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: spoofed source to a remote pod is dropped, not encapsulated", H_FROM_POD,
	  IP4(STRANGER4, NODE_B_POD4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },

	/* ---- from_pod: ARP ---- */
	{ "from_pod: ARP request for the gateway is answered with the veth MAC", FROM_POD,
	  ARPREQ(POD_A4, ROUTER4), .verdict = TC_ACT_REDIRECT, .out = &arp_reply_router,
	  .cnt = CNT(SX_CNT_TC_ARP_REPLIED) },
	{ "from_pod: ARP request for another pod is answered with the veth MAC", FROM_POD,
	  ARPREQ(POD_A4, POD_B4), .verdict = TC_ACT_REDIRECT, .out = &arp_reply_pod_b,
	  .cnt = CNT(SX_CNT_TC_ARP_REPLIED) },
	{ "from_pod: ARP request of an endpoint without MAC is answered", FROM_POD,
	  { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .smac = OTHER_MAC, .src = POD_N4,
	    .dst = ROUTER4 },
	  .verdict = TC_ACT_REDIRECT, .out = &arp_reply_router_to_n,
	  .cnt = CNT(SX_CNT_TC_ARP_REPLIED) },
	{ "from_pod: gratuitous ARP request goes to the host", FROM_POD,
	  ARPREQ(POD_A4, POD_A4), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: ARP reply goes to the host", FROM_POD,
	  ARP(2, POD_A4, ROUTER4), .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST) },
	{ "from_pod: ARP with a spoofed sender address is dropped", FROM_POD,
	  ARPREQ(STRANGER4, ROUTER4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	{ "from_pod: ARP with another sender hardware address is dropped", FROM_POD,
	  { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .sha = OTHER_MAC, .src = POD_A4,
	    .dst = ROUTER4 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_MAC) },
	{ "from_pod: ARP from another Ethernet source is dropped", FROM_POD,
	  { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .smac = OTHER_MAC, .sha = POD_A_MAC,
	    .src = POD_A4, .dst = ROUTER4 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_MAC) },
	{ "from_pod: ARP for another hardware type is malformed", FROM_POD,
	  { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .src = POD_A4, .dst = ROUTER4,
	    .poke = { { 15, 6, 1 } } },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: truncated ARP is malformed", FROM_POD,
	  { .kind = PKT_ARP, .op = 1, .dmac = BCAST, .src = POD_A4, .dst = ROUTER4,
	    .cut = 14 + 27 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },

	/* ---- from_pod: header parsing ---- */
	{ "from_pod: Ethernet header alone (IPv4 ethertype) is malformed", H_FROM_POD,
	  IP4(POD_A4, POD_B4), .trim = 14, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: truncated IPv4 header is malformed", H_FROM_POD,
	  IP4(POD_A4, POD_B4), .trim = 14 + 19, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv4 ihl 4 is malformed", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .poke = { { 14, 0x44, 1 } } },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv4 ethertype with IP version 6 is malformed", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .poke = { { 14, 0x65, 1 } } },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv4 total length below the header length is malformed", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .tot_len = 19 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv4 with options (ihl 6) is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .ihl = 6 },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 with 40 bytes of options (ihl 15) is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .ihl = 15 },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 ihl 15 with nothing after the header is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .ihl = 15, .cut = 14 + 60 },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 options cut by the end of the frame are malformed", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .ihl = 15, .cut = 14 + 59 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv4 option byte cut (ihl 6) is malformed", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .ihl = 6, .cut = 14 + 23 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: Ethernet header alone (IPv6 ethertype) is malformed", H_FROM_POD,
	  IP6(POD_A6, POD_B6), .trim = 14, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: truncated IPv6 header is malformed", H_FROM_POD,
	  IP6(POD_A6, POD_B6), .trim = 14 + 39, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv6 ethertype with IP version 4 is malformed", FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = POD_B6, .poke = { { 14, 0x40, 1 } } },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_pod: IPv6 header without payload is delivered", FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = POD_B6, .cut = 14 + 40 },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	/*
	 * IPv6 extension headers: routing needs only the fixed header, so a
	 * chain, however long or cut, is never read; the pod's own stack
	 * validates it, as it would behind any router. The payload holds a
	 * hop-by-hop header (next: routing) at 54 and a routing header at 62.
	 */
	{ "from_pod: IPv6 hop-by-hop then routing header to a local pod is delivered", FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = POD_B6, .poke = IP6_EXT_CHAIN(59) },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv6 extension chain to a remote pod is encapsulated", H_FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = NODE_B_POD6, .poke = IP6_EXT_CHAIN(59) },
	  .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP), .tun_out = ENCAP_TO(NODE_B) },
	{ "from_pod: IPv6 extension chain cut by the end of the frame is delivered", FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = POD_B6, .poke = IP6_EXT_CHAIN(44) },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: spoofed IPv6 source behind an extension chain is dropped", FROM_POD,
	  { .kind = PKT_IPV6, .src = STRANGER6, .dst = POD_B6, .poke = IP6_EXT_CHAIN(59) },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_SPOOF_IP) },
	/* Bogus lengths beyond the frame: the receiving stack drops what is short. */
	{ "from_pod: IPv6 payload length beyond the frame is delivered", FROM_POD,
	  { .kind = PKT_IPV6, .src = POD_A6, .dst = POD_B6,
	    .poke = { { 18, 0xff, 1 }, { 19, 0xff, 1 } } },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 total length beyond the frame is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .tot_len = 1500 },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 first fragment (MF) is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .frag = IPV4_MF },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 middle fragment (MF, offset) is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .frag = IPV4_MF | FRAG_OFF(1480) },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 last fragment (offset) is delivered", FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = POD_B4, .frag = FRAG_OFF(2960) },
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC,
	  .cnt = CNT(SX_CNT_TC_LOCAL) },
	{ "from_pod: IPv4 non-first fragment to a remote pod is encapsulated", H_FROM_POD,
	  { .kind = PKT_IPV4, .src = POD_A4, .dst = NODE_B_POD4, .frag = FRAG_OFF(1480) },
	  .verdict = TC_ACT_REDIRECT, .cnt = CNT(SX_CNT_TC_ENCAP), .tun_out = ENCAP_TO(NODE_B) },
	{ "from_pod: LLDP is an unsupported protocol", FROM_POD,
	  ETH(0x88cc), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_PROTO) },
	{ "from_pod: VLAN-tagged frame is an unsupported protocol", FROM_POD,
	  ETH(0x8100), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_PROTO) },
	{ "from_pod: Ethernet header alone (unknown ethertype) is an unsupported protocol",
	  FROM_POD, { .kind = PKT_ETH, .proto = 0x88b5, .cut = 14 },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_PROTO) },

	/* ---- from_overlay ---- */
	{ "from_overlay: frame without tunnel metadata (real entry) is a tunnel error",
	  FROM_OVERLAY, IP4(NODE_B_POD4, POD_A4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_TUNNEL_ERR) },
	{ "from_overlay: another VNI is dropped", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_A4), .tun_in = TUN_META(NODE_B, VNI + 1),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_VNI) },
	{ "from_overlay: VNI 0 is dropped", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_A4), .tun_in = TUN_META(NODE_B, 0),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_VNI) },
	{ "from_overlay: unknown outer source node is dropped", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_A4), .tun_in = TUN_META(NODE_X, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_UNKNOWN_NODE) },
	{ "from_overlay: inner source in no pod CIDR (what the node forwards) goes to the host",
	  H_FROM_OVERLAY, IP4(NOWHERE4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST), .pkt_host = 1 },
	{ "from_overlay: the node's IPv6 address as inner source goes to the host", H_FROM_OVERLAY,
	  IP6(NODE_B6, POD_A6), .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_TO_HOST), .pkt_host = 1 },
	{ "from_overlay: this node's pod-network address as inner source is dropped",
	  H_FROM_OVERLAY, IP4(ROUTER4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: this node's socket-only endpoint as inner source is dropped",
	  H_FROM_OVERLAY, IP4(POD_S4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: inner source owned by another node is dropped", H_FROM_OVERLAY,
	  IP4(NODE_C_POD4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: inner source of this node's pod is dropped", H_FROM_OVERLAY,
	  IP4(POD_B4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: IPv4-mapped IPv6 inner source is not the node's IPv4 CIDR",
	  H_FROM_OVERLAY, IP6("::ffff:" NODE_B_POD4, POD_A6), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: IPv6 inner source owned by another node is dropped", H_FROM_OVERLAY,
	  IP6(NODE_C_POD6, POD_A6), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: source in the /24 is not the /16's node's", H_FROM_OVERLAY,
	  IP4(NODE_D_POD4, POD_A4), .tun_in = TUN_META(NODE_C, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: source in the /24 from its node is delivered", H_FROM_OVERLAY,
	  IP4(NODE_D_POD4, POD_A4), .tun_in = TUN_META(NODE_D, VNI),
	  .verdict = TC_ACT_REDIRECT, .out_dmac = POD_A_MAC, .out_smac = POD_A_HMAC,
	  .cnt = CNT(SX_CNT_TC_DECAP), .pkt_host = 1 },
	{ "from_overlay: IPv4 to a local pod is redirected with its MACs", H_FROM_OVERLAY,
	  { .kind = PKT_IPV4, .dmac = "02:00:00:00:00:01", .smac = "02:00:00:00:00:02",
	    .src = NODE_B_POD4, .dst = POD_A4 },
	  .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_A_MAC, .out_smac = POD_A_HMAC, .cnt = CNT(SX_CNT_TC_DECAP),
	  .pkt_host = 1 },
	{ "from_overlay: IPv6 to a local pod is redirected with its MACs", H_FROM_OVERLAY,
	  { .kind = PKT_IPV6, .dmac = "02:00:00:00:00:01", .smac = "02:00:00:00:00:02",
	    .src = NODE_B_POD6, .dst = POD_B6 },
	  .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_B_MAC, .out_smac = POD_B_HMAC, .cnt = CNT(SX_CNT_TC_DECAP),
	  .pkt_host = 1 },
	{ "from_overlay: to a local pod without MAC keeps the destination MAC", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_C4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_REDIRECT, .out_smac = POD_C_HMAC, .cnt = CNT(SX_CNT_TC_DECAP),
	  .pkt_host = 1 },
	{ "from_overlay: IPv4 with options to a local pod is delivered", H_FROM_OVERLAY,
	  { .kind = PKT_IPV4, .src = NODE_B_POD4, .dst = POD_A4, .ihl = 15 },
	  .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_A_MAC, .out_smac = POD_A_HMAC, .cnt = CNT(SX_CNT_TC_DECAP),
	  .pkt_host = 1 },
	{ "from_overlay: IPv4 non-first fragment to a local pod is delivered", H_FROM_OVERLAY,
	  { .kind = PKT_IPV4, .src = NODE_B_POD4, .dst = POD_A4, .frag = FRAG_OFF(1480) },
	  .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_REDIRECT,
	  .out_dmac = POD_A_MAC, .out_smac = POD_A_HMAC, .cnt = CNT(SX_CNT_TC_DECAP),
	  .pkt_host = 1 },
	{ "from_overlay: a reply of a host-routed flow goes to the host", H_FROM_OVERLAY,
	  TCP4(NODE_B_POD4, 8080, POD_A4, 40000, TCP_ACK), .flow_in = &reply_remote_to_a,
	  .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_FLOW), .pkt_host = 1 },
	{ "from_overlay: a node answering as itself goes to the host (its conntrack)",
	  H_FROM_OVERLAY, IP4(NODE_B, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST), .pkt_host = 1 },
	{ "from_overlay: another node's address as source is dropped", H_FROM_OVERLAY,
	  IP4(NODE_C, POD_A4), .tun_in = TUN_META(NODE_B, VNI), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_NODE_SPOOF) },
	{ "from_overlay: destination without endpoint is dropped", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, STRANGER4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NO_ENDPOINT) },
	{ "from_overlay: IPv6 destination without endpoint is dropped", H_FROM_OVERLAY,
	  IP6(NODE_B_POD6, STRANGER6), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NO_ENDPOINT) },
	{ "from_overlay: socket-only endpoint (ifindex 0) is not a destination", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_S4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NO_ENDPOINT) },
	{ "from_overlay: to the router IPv4 address goes to the host", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, ROUTER4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST), .pkt_host = 1 },
	{ "from_overlay: to the router IPv6 address goes to the host", H_FROM_OVERLAY,
	  IP6(NODE_B_POD6, ROUTER6), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_UNSPEC, .cnt = CNT(SX_CNT_TC_TO_HOST), .pkt_host = 1 },
	{ "from_overlay: no router IPv4 address: 0.0.0.0 is not the host's", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, "0.0.0.0"), .tun_in = TUN_META(NODE_B, VNI),
	  .setup = netconf_no_router, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_NO_ENDPOINT) },
	{ "from_overlay: no router IPv6 address: :: is not the host's", H_FROM_OVERLAY,
	  IP6(NODE_B_POD6, "::"), .tun_in = TUN_META(NODE_B, VNI),
	  .setup = netconf_no_router, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_NO_ENDPOINT) },
	{ "from_overlay: truncated inner IPv4 is malformed", H_FROM_OVERLAY,
	  IP4(NODE_B_POD4, POD_A4), .trim = 14 + 12, .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_overlay: inner Ethernet header alone is malformed", H_FROM_OVERLAY,
	  IP6(NODE_B_POD6, POD_A6), .trim = 14, .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "from_overlay: ARP inside VXLAN is an unsupported protocol", H_FROM_OVERLAY,
	  ARPREQ(NODE_B_POD4, POD_A4), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_PROTO) },
	{ "from_overlay: LLDP inside VXLAN is an unsupported protocol", H_FROM_OVERLAY,
	  ETH(0x88cc), .tun_in = TUN_META(NODE_B, VNI),
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_PROTO) },

	/* ---- to_overlay ---- */
	{ "to_overlay: host IPv4 to a remote pod gets tunnel metadata", TO_OVERLAY,
	  IP4(ROUTER4, NODE_B_POD4), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_ENCAP) },
	{ "to_overlay: host IPv4 metadata carries VNI, node, TTL 64, no checksum", H_TO_OVERLAY,
	  IP4(ROUTER4, NODE_B_POD4), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_ENCAP), .tun_out = ENCAP_TO(NODE_B) },
	{ "to_overlay: host IPv6 to a remote pod gets tunnel metadata", H_TO_OVERLAY,
	  IP6(ROUTER6, NODE_B_POD6), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_ENCAP), .tun_out = ENCAP_TO(NODE_B) },
	{ "to_overlay: longest prefix wins", H_TO_OVERLAY,
	  IP4(NODE_SELF, NODE_D_POD4), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_ENCAP), .tun_out = ENCAP_TO(NODE_D) },
	{ "to_overlay: frame from_pod tunnelled keeps its metadata", H_TO_OVERLAY,
	  IP4(POD_A4, NODE_B_POD4), .tun_in = { .present = 1, .vni = VNI, .remote = NODE_C,
						.ttl = 5 },
	  .verdict = TC_ACT_UNSPEC,
	  .tun_out = { .present = 1, .vni = VNI, .remote = NODE_C, .ttl = 5, .csum = 1 } },
	{ "to_overlay: a local pod's flow the host routes to a remote pod is recorded",
	  H_TO_OVERLAY, TCP4(POD_A4, 40000, NODE_B_POD4, 8080, TCP_SYN), .verdict = TC_ACT_UNSPEC,
	  .cnt = CNT(SX_CNT_TC_HOST_ENCAP), .tun_out = ENCAP_TO(NODE_B),
	  .flow_out = &reply_remote_to_a, .flow_kept = 1 },
	{ "to_overlay: a frame from_pod tunnelled is not recorded", H_TO_OVERLAY,
	  TCP4(POD_A4, 40000, NODE_B_POD4, 8080, TCP_SYN),
	  .tun_in = { .present = 1, .vni = VNI, .remote = NODE_B, .ttl = 64 },
	  .verdict = TC_ACT_UNSPEC,
	  .tun_out = { .present = 1, .vni = VNI, .remote = NODE_B, .ttl = 64, .csum = 1 },
	  .flow_out = &reply_remote_to_a, .flow_kept = 0 },
	{ "to_overlay: destination no node owns is dropped", TO_OVERLAY,
	  IP4(ROUTER4, NOWHERE4), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NO_ROUTE) },
	{ "to_overlay: IPv6 destination no node owns is dropped", TO_OVERLAY,
	  IP6(ROUTER6, WORLD6), .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_NO_ROUTE) },
	{ "to_overlay: truncated IPv4 is malformed", H_TO_OVERLAY,
	  IP4(ROUTER4, NODE_B_POD4), .trim = 14 + 19, .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "to_overlay: IPv4 ihl 4 is malformed", TO_OVERLAY,
	  { .kind = PKT_IPV4, .src = ROUTER4, .dst = NODE_B_POD4, .poke = { { 14, 0x44, 1 } } },
	  .verdict = TC_ACT_SHOT, .cnt = CNT(SX_CNT_DROP_MALFORMED) },
	{ "to_overlay: ARP is an unsupported protocol", TO_OVERLAY,
	  ARPREQ(ROUTER4, NODE_B_POD4), .verdict = TC_ACT_SHOT,
	  .cnt = CNT(SX_CNT_DROP_PROTO) },
};
/* clang-format on */

/* ---- addresses and frames ---------------------------------------------- */

static void parse_mac(const char *text, __u8 mac[6])
{
	if (!text) {
		memset(mac, 0, 6);
		return;
	}
	if (sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5]) != 6)
		fail_msg("bad MAC in the test: %s", text);
}

static __u32 ip4(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		fail_msg("bad IPv4 address in the test: %s", text);
	return a.s_addr;
}

/* An address of either family as an endpoint key (IPv6 if it has a colon). */
static struct sx_endpoint_key ep_key(const char *text)
{
	struct sx_endpoint_key k;

	memset(&k, 0, sizeof(k));
	if (strchr(text, ':')) {
		k.family = SX_AF_INET6;
		if (inet_pton(AF_INET6, text, k.ip.addr) != 1)
			fail_msg("bad IPv6 address in the test: %s", text);
	} else {
		k.family = SX_AF_INET;
		k.ip.addr[0] = ip4(text);
	}
	return k;
}

struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
};

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 ipv4_csum(const __u8 *h, unsigned int len)
{
	__u32 sum = 0;
	unsigned int i;

	for (i = 0; i < len; i += 2)
		sum += (h[i] << 8) | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static unsigned int put_ipv4(const struct pkt *p, __u8 *h)
{
	unsigned int ihl = p->ihl ? p->ihl : 5, hlen = ihl * 4;
	__u32 a;

	h[0] = 0x40 | ihl;
	put16(h + 2, p->tot_len ? p->tot_len : hlen + PAYLOAD_LEN);
	put16(h + 4, 0x1234);
	put16(h + 6, p->frag);
	h[8] = 64;
	h[9] = p->l4 ? p->l4 : 17; /* UDP-numbered: a header only with .l4 */
	a = ip4(p->src);
	memcpy(h + 12, &a, 4);
	a = ip4(p->dst);
	memcpy(h + 16, &a, 4);
	memset(h + 20, 1, hlen - 20); /* IPOPT_NOOP */
	put16(h + 10, ipv4_csum(h, hlen));
	return hlen;
}

static unsigned int put_ipv6(const struct pkt *p, __u8 *h)
{
	struct sx_endpoint_key s = ep_key(p->src), d = ep_key(p->dst);

	h[0] = 0x60;
	put16(h + 4, PAYLOAD_LEN);
	h[6] = p->l4 ? p->l4 : 17;
	h[7] = 64;
	memcpy(h + 8, s.ip.addr, 16);
	memcpy(h + 24, d.ip.addr, 16);
	return 40;
}

static unsigned int put_arp(const struct pkt *p, __u8 *h)
{
	__u32 a;

	put16(h, 1); /* ARPHRD_ETHER */
	put16(h + 2, 0x0800);
	h[4] = 6;
	h[5] = 4;
	put16(h + 6, p->op);
	parse_mac(p->sha ? p->sha : (p->smac ? p->smac : POD_A_MAC), h + 8);
	a = ip4(p->src);
	memcpy(h + 14, &a, 4);
	parse_mac(p->tha, h + 18);
	a = ip4(p->dst);
	memcpy(h + 24, &a, 4);
	return 28;
}

static void build(const struct pkt *p, struct frame *f)
{
	unsigned int i, n = 0;
	__u16 proto = p->proto;
	__u8 *l3 = f->b + 14;

	memset(f, 0, sizeof(*f));
	parse_mac(p->dmac ? p->dmac : POD_A_HMAC, f->b);
	parse_mac(p->smac ? p->smac : POD_A_MAC, f->b + 6);
	switch (p->kind) {
	case PKT_IPV4:
		proto = 0x0800;
		n = put_ipv4(p, l3);
		break;
	case PKT_IPV6:
		proto = 0x86dd;
		n = put_ipv6(p, l3);
		break;
	case PKT_ARP:
		proto = 0x0806;
		n = put_arp(p, l3);
		break;
	case PKT_ETH:
		break;
	}
	put16(f->b + 12, proto);
	if (p->kind != PKT_ARP) {
		for (i = 0; i < PAYLOAD_LEN; i++)
			l3[n + i] = 0xa0 + i;
		/* TCP's flags are at byte 13: PAYLOAD_LEN holds them. */
		if (p->l4) {
			put16(l3 + n, p->sport);
			put16(l3 + n + 2, p->dport);
			l3[n + 13] = p->tcp_flags;
		}
		n += PAYLOAD_LEN;
	}
	f->len = 14 + n;
	for (i = 0; i < ARRAY_LEN(p->poke); i++) {
		if (p->poke[i].set)
			f->b[p->poke[i].at] = p->poke[i].val;
	}
	if (p->cut) {
		if (p->cut > f->len)
			fail_msg("cut %u beyond the %u-byte frame", p->cut, f->len);
		f->len = p->cut;
	}
}

/* ---- the pinned maps: one private pin directory ------------------------ */

static char pin_dir[64];
static volatile sig_atomic_t pin_dir_made;
static struct dataplane_bpf *dp;
static struct overlay_harness_bpf *harness;
static int prog_fd[PROG_COUNT];
static int endpoints_fd, tunnel_fd, nodes_fd, netconf_fd, stats_fd, hostflow_fd;
static int ncpus;
static char setup_error[256];

/*
 * The pins libbpf makes, as paths, ready before any exists: the signal
 * handler may only unlink them (opendir and printf are not async-signal-safe).
 */
static char pin_paths[16][sizeof(pin_dir) + 32];
static volatile sig_atomic_t pin_path_count;

static int note_pin_paths(void)
{
	size_t i;

	if (sx_map_count > ARRAY_LEN(pin_paths))
		return -E2BIG;
	for (i = 0; i < sx_map_count; i++) {
		if (sx_pin_path(pin_paths[i], sizeof(pin_paths[i]), pin_dir, sx_map_names[i]))
			return -ENAMETOOLONG;
	}
	pin_path_count = (sig_atomic_t)sx_map_count;
	return 0;
}

/* Removes every pin in our directory and the directory; nothing outside it. */
static void remove_pins(void)
{
	char path[sizeof(pin_dir) + 256];
	struct dirent *de;
	DIR *d;

	if (!pin_dir_made)
		return;
	pin_dir_made = 0;
	d = opendir(pin_dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name) <
			    (int)sizeof(path))
				unlink(path);
		}
		closedir(d);
	}
	if (rmdir(pin_dir))
		fprintf(stderr, "test_tc_dataplane: cannot remove %s: %s\n", pin_dir,
			strerror(errno));
}

/* Interrupted: the known pins and the directory go, then the signal takes its course. */
static void on_signal(int sig)
{
	int i;

	if (pin_dir_made) {
		for (i = 0; i < pin_path_count; i++)
			unlink(pin_paths[i]);
		rmdir(pin_dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int fail_setup(const char *what, int err)
{
	snprintf(setup_error, sizeof(setup_error), "%s: %s", what, strerror(err < 0 ? -err : err));
	return 0;
}

static int map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? -1 : (int)info.id;
}

/*
 * Why the tests cannot run here, or NULL. Missing privileges or kernel
 * support are a skip; anything else that goes wrong later is a failure.
 */
static const char *skip_reason(void)
{
	static const __u8 frame[14];
	struct bpf_insn insns[2];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	int fd, r;

	if (geteuid() != 0)
		return "BPF_PROG_RUN needs root";
	/* r0 = 0; exit: the smallest tc program, to see whether BPF_PROG_RUN runs one. */
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[1].code = BPF_JMP | BPF_EXIT;
	if (sx_ensure_bpffs(SX_BPFFS_ROOT "/sxtest", 1))
		return "no bpffs on " SX_BPFFS_ROOT;
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sx_probe", "GPL", insns, ARRAY_LEN(insns),
			   NULL);
	if (fd < 0)
		return "this kernel does not load tc programs";
	r = bpf_prog_test_run_opts(fd, &opts);
	close(fd);
	if (r && (errno == EOPNOTSUPP || errno == KERNEL_ENOTSUPP))
		return "BPF_PROG_RUN is not available for tc programs";
	return NULL;
}

static int group_setup(void **state)
{
	char tmpl[sizeof(pin_dir)];
	int r;

	(void)state;
	/* A unique name: pins of any other process stay untouched. */
	snprintf(tmpl, sizeof(tmpl), "%s/sxtest-%d-XXXXXX", SX_BPFFS_ROOT, (int)getpid());
	if (!mkdtemp(tmpl))
		return fail_setup("mkdtemp under " SX_BPFFS_ROOT, errno);
	snprintf(pin_dir, sizeof(pin_dir), "%s", tmpl);
	pin_dir_made = 1;
	r = note_pin_paths();
	if (r)
		return fail_setup("pin paths", r);

	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);

		dp = dataplane_bpf__open_opts(&oo);
		if (!dp)
			return fail_setup("opening dataplane.bpf.o", errno);
		r = dataplane_bpf__load(dp);
		if (r)
			return fail_setup("loading dataplane.bpf.o", r);
		harness = overlay_harness_bpf__open_opts(&oo);
		if (!harness)
			return fail_setup("opening overlay_harness.bpf.o", errno);
		r = overlay_harness_bpf__load(harness);
		if (r)
			return fail_setup("loading overlay_harness.bpf.o", r);
	}
	prog_fd[FROM_POD] = bpf_program__fd(dp->progs.sx_from_pod);
	prog_fd[TO_POD] = bpf_program__fd(dp->progs.sx_to_pod);
	prog_fd[FROM_OVERLAY] = bpf_program__fd(dp->progs.sx_from_overlay);
	prog_fd[TO_OVERLAY] = bpf_program__fd(dp->progs.sx_to_overlay);
	prog_fd[H_FROM_OVERLAY] = bpf_program__fd(harness->progs.sx_test_from_overlay);
	prog_fd[H_FROM_POD] = bpf_program__fd(harness->progs.sx_test_from_pod);
	prog_fd[H_TO_OVERLAY] = bpf_program__fd(harness->progs.sx_test_to_overlay);
	endpoints_fd = bpf_map__fd(dp->maps.sx_endpoints_v1);
	tunnel_fd = bpf_map__fd(dp->maps.sx_tunnel_v1);
	nodes_fd = bpf_map__fd(dp->maps.sx_nodes_v1);
	netconf_fd = bpf_map__fd(dp->maps.sx_netconf_v1);
	stats_fd = bpf_map__fd(dp->maps.sx_stats_v1);
	hostflow_fd = bpf_map__fd(dp->maps.sx_hostflow_v1);

	/* The harness must see the dataplane's maps, not copies. */
	if (map_id(stats_fd) != map_id(bpf_map__fd(harness->maps.sx_stats_v1)) ||
	    map_id(endpoints_fd) != map_id(bpf_map__fd(harness->maps.sx_endpoints_v1)) ||
	    map_id(tunnel_fd) != map_id(bpf_map__fd(harness->maps.sx_tunnel_v1)) ||
	    map_id(nodes_fd) != map_id(bpf_map__fd(harness->maps.sx_nodes_v1)) ||
	    map_id(netconf_fd) != map_id(bpf_map__fd(harness->maps.sx_netconf_v1)) ||
	    map_id(hostflow_fd) != map_id(bpf_map__fd(harness->maps.sx_hostflow_v1)))
		return fail_setup("the harness does not share the pinned maps", EINVAL);

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return fail_setup("libbpf_num_possible_cpus", ncpus);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	overlay_harness_bpf__destroy(harness);
	harness = NULL;
	dataplane_bpf__destroy(dp);
	dp = NULL;
	remove_pins();
	return 0;
}

/* ---- the fixture in the maps ------------------------------------------- */

static void clear_map(int fd, void *key)
{
	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key))
			fail_msg("clearing a map: %s", strerror(errno));
	}
}

static struct sx_netconf fixture_netconf(void)
{
	struct sx_netconf nc;
	struct sx_endpoint_key r6 = ep_key(ROUTER6);

	memset(&nc, 0, sizeof(nc));
	nc.vxlan_ifindex = CTX_IFINDEX;
	nc.vni = VNI;
	nc.router_ip4 = ip4(ROUTER4);
	nc.underlay_ip4 = ip4(NODE_SELF);
	nc.router_ip6 = r6.ip;
	nc.vxlan_port = SX_DEFAULT_VXLAN_PORT;
	return nc;
}

static void put_netconf(const struct sx_netconf *nc)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(netconf_fd, &zero, nc, BPF_ANY))
		fail_msg("writing sx_netconf_v1: %s", strerror(errno));
}

static void netconf_no_vxlan(void)
{
	struct sx_netconf nc = fixture_netconf();

	nc.vxlan_ifindex = 0;
	put_netconf(&nc);
}

static void netconf_no_router(void)
{
	struct sx_netconf nc = fixture_netconf();

	nc.router_ip4 = 0;
	memset(&nc.router_ip6, 0, sizeof(nc.router_ip6));
	put_netconf(&nc);
}

static struct sx_flow_key flow_key(const struct flow *f)
{
	struct sx_flow_key k;

	memset(&k, 0, sizeof(k));
	k.src = ep_key(f->src);
	k.dst = ep_key(f->dst);
	k.sport = htons(f->sport);
	k.dport = htons(f->dport);
	k.proto = f->proto;
	return k;
}

static void reset_fixture(void)
{
	struct sx_endpoint_key ek;
	struct sx_flow_key fk;
	struct sx_cidr_key ck;
	struct sx_netconf nc = fixture_netconf();
	__u32 node, count;
	unsigned int i, j;

	clear_map(endpoints_fd, &ek);
	clear_map(tunnel_fd, &ck);
	clear_map(nodes_fd, &node);
	clear_map(hostflow_fd, &fk);

	for (i = 0; i < ARRAY_LEN(fixture_endpoints); i++) {
		const struct ep_fixture *f = &fixture_endpoints[i];
		struct sx_endpoint ep;

		memset(&ep, 0, sizeof(ep));
		ek = ep_key(f->ip);
		ep.ifindex = f->ifindex;
		parse_mac(f->pod_mac, ep.pod_mac);
		parse_mac(f->host_mac, ep.host_mac);
		ep.flags = SX_EP_F_LOCAL;
		if (bpf_map_update_elem(endpoints_fd, &ek, &ep, BPF_NOEXIST))
			fail_msg("adding endpoint %s: %s", f->ip, strerror(errno));
	}
	for (i = 0; i < ARRAY_LEN(fixture_tunnels); i++) {
		const struct tunnel_fixture *f = &fixture_tunnels[i];
		struct sx_endpoint_key a = ep_key(f->cidr);
		struct sx_tunnel t;

		memset(&t, 0, sizeof(t));
		t.node_ip4 = ip4(f->node);
		memset(&ck, 0, sizeof(ck));
		if (a.family == SX_AF_INET) {
			ck.prefixlen = 96 + f->len;
			ck.ip.addr[2] = htonl(0xffff);
			ck.ip.addr[3] = a.ip.addr[0];
		} else {
			ck.prefixlen = f->len;
			ck.ip = a.ip;
		}
		if (bpf_map_update_elem(tunnel_fd, &ck, &t, BPF_NOEXIST))
			fail_msg("adding tunnel %s/%u: %s", f->cidr, f->len, strerror(errno));
	}
	for (i = 0; i < ARRAY_LEN(fixture_nodes); i++) {
		node = ip4(fixture_nodes[i]);
		count = 0;
		for (j = 0; j < ARRAY_LEN(fixture_tunnels); j++)
			count += !strcmp(fixture_tunnels[j].node, fixture_nodes[i]);
		if (bpf_map_update_elem(nodes_fd, &node, &count, BPF_NOEXIST))
			fail_msg("adding node %s: %s", fixture_nodes[i], strerror(errno));
	}
	put_netconf(&nc);
}

/* Every counter, summed over the CPUs. */
static void read_counters(__u64 sums[SX_CNT_MAX])
{
	__u64 *per_cpu = calloc(ncpus, sizeof(*per_cpu));
	__u32 id;
	int c;

	assert_non_null(per_cpu);
	for (id = 0; id < SX_CNT_MAX; id++) {
		if (bpf_map_lookup_elem(stats_fd, &id, per_cpu))
			fail_msg("reading sx_stats_v1[%u]: %s", id, strerror(errno));
		sums[id] = 0;
		for (c = 0; c < ncpus; c++)
			sums[id] += per_cpu[c];
	}
	free(per_cpu);
}

/* ---- one row ------------------------------------------------------------ */

static const char *const counter_names[] = SX_COUNTER_NAMES;

static void hex(const __u8 *b, __u32 len, char *out, size_t size)
{
	size_t n = 0;
	__u32 i;

	out[0] = '\0';
	for (i = 0; i < len && n + 4 < size; i++)
		n += snprintf(out + n, size - n, "%s%02x", i && !(i % 16) ? "\n    " : " ", b[i]);
}

static void expect_bytes(const char *name, const struct frame *want, const __u8 *got, __u32 got_len)
{
	char w[1024], g[1024];
	__u32 i;

	if (want->len == got_len && !memcmp(want->b, got, got_len))
		return;
	for (i = 0; i < want->len && i < got_len && want->b[i] == got[i]; i++)
		;
	hex(want->b, want->len, w, sizeof(w));
	hex(got, got_len, g, sizeof(g));
	fail_msg("case \"%s\": output frame differs at byte %u (length %u, expected %u)\n"
		 "  expected:%s\n  got:     %s",
		 name, i, got_len, want->len, w, g);
}

/* What the harness reported in cb: the skb's tunnel metadata and pkt_type. */
static void expect_harness(const struct tc_case *c, const __u32 cb[CB_WORDS])
{
	const struct tun *t = &c->tun_out;
	__u32 ttl = cb[CB_TTL] & 0xff, flags = cb[CB_TTL] >> 16;
	__u32 type_in = cb[CB_PKT_TYPE] & 0xff, type_out = (cb[CB_PKT_TYPE] >> 8) & 0xff;

	if (c->pkt_host && type_out != PACKET_HOST_TYPE)
		fail_msg("case \"%s\": pkt_type %u, expected PACKET_HOST", c->name, type_out);
	if (!c->pkt_host && type_out != type_in)
		fail_msg("case \"%s\": pkt_type changed from %u to %u", c->name, type_in, type_out);
	if (!!cb[CB_PRESENT] != t->present)
		fail_msg("case \"%s\": tunnel metadata %s, expected %s", c->name,
			 cb[CB_PRESENT] ? "set" : "absent", t->present ? "set" : "none");
	if (!t->present)
		return;
	expect_int(c->name, t->vni, cb[CB_VNI]);
	if (cb[CB_REMOTE] != ip4(t->remote)) {
		char got[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cb[CB_REMOTE], got, sizeof(got));
		fail_msg("case \"%s\": tunnel to %s, expected %s", c->name, got, t->remote);
	}
	expect_int(c->name, t->ttl, ttl);
	if (!(flags & TUN_F_KEY))
		fail_msg("case \"%s\": tunnel metadata without TUNNEL_KEY (flags %#x)", c->name,
			 flags);
	if (!!(flags & TUN_F_CSUM) != t->csum)
		fail_msg("case \"%s\": outer UDP checksum %s, expected %s (flags %#x)", c->name,
			 flags & TUN_F_CSUM ? "on" : "off", t->csum ? "on" : "off", flags);
}

static void run_case(void **state)
{
	const struct tc_case *c = *state;
	struct frame in, want;
	struct __sk_buff ctx, ctx_out;
	__u64 before[SX_CNT_MAX], after[SX_CNT_MAX];
	__u8 out[FRAME_MAX];
	unsigned int i;
	int harness_prog = c->prog >= H_FROM_OVERLAY;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (setup_error[0])
		fail_msg("setup failed: %s", setup_error);

	reset_fixture();
	if (c->setup)
		c->setup();
	if (c->flow_in) {
		struct sx_flow_key k = flow_key(c->flow_in);
		__u8 one = 1;

		if (bpf_map_update_elem(hostflow_fd, &k, &one, BPF_ANY))
			fail_msg("case \"%s\": recording a flow: %s", c->name, strerror(errno));
	}
	build(&c->in, &in);
	if (c->out) {
		build(c->out, &want);
	} else {
		want = in;
		if (c->trim)
			want.len = c->trim;
		if (c->out_dmac)
			parse_mac(c->out_dmac, want.b);
		if (c->out_smac)
			parse_mac(c->out_smac, want.b + 6);
	}

	memset(&ctx, 0, sizeof(ctx));
	memset(&ctx_out, 0, sizeof(ctx_out));
	ctx.ifindex = CTX_IFINDEX;
	if (c->tun_in.present) {
		ctx.cb[CB_VNI] = c->tun_in.vni;
		ctx.cb[CB_REMOTE] = ip4(c->tun_in.remote);
		ctx.cb[CB_TTL] = c->tun_in.ttl;
		ctx.cb[CB_PRESENT] = 1;
	}
	ctx.cb[CB_TRIM] = c->trim;
	opts.data_in = in.b;
	opts.data_size_in = in.len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	opts.ctx_out = &ctx_out;
	opts.ctx_size_out = sizeof(ctx_out);
	opts.repeat = 1;

	read_counters(before);
	if (bpf_prog_test_run_opts(prog_fd[c->prog], &opts))
		fail_msg("case \"%s\": BPF_PROG_RUN of %s: %s", c->name, prog_names[c->prog],
			 strerror(errno));
	read_counters(after);

	if ((int)opts.retval != c->verdict)
		fail_msg("case \"%s\": %s returned %d, expected %d", c->name, prog_names[c->prog],
			 (int)opts.retval, c->verdict);
	expect_bytes(c->name, &want, out, opts.data_size_out);
	for (i = 0; i < SX_CNT_MAX; i++) {
		long long want_delta = 0, got = (long long)(after[i] - before[i]);
		unsigned int j;

		for (j = 0; j < ARRAY_LEN(c->cnt); j++) {
			if (c->cnt[j].n && c->cnt[j].id == i)
				want_delta += c->cnt[j].n;
		}
		if (got != want_delta)
			fail_msg("case \"%s\": counter %s moved by %lld, expected %lld", c->name,
				 counter_names[i], got, want_delta);
	}
	if (c->flow_out) {
		struct sx_flow_key k = flow_key(c->flow_out);
		__u8 v;
		int kept = !bpf_map_lookup_elem(hostflow_fd, &k, &v);

		if (kept != c->flow_kept)
			fail_msg("case \"%s\": the flow %s:%u -> %s:%u is %s, expected %s", c->name,
				 c->flow_out->src, c->flow_out->sport, c->flow_out->dst,
				 c->flow_out->dport, kept ? "recorded" : "not recorded",
				 c->flow_kept ? "recorded" : "not");
	}
	if (harness_prog)
		expect_harness(c, ctx_out.cb);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_LEN(cases)];
	const char *tap = getenv("CMOCKA_MESSAGE_OUTPUT");
	const char *why = skip_reason();
	unsigned int i;

	/*
	 * Skips are printed here: cmocka 1.1 reports a skipped test as "not ok
	 * ... # SKIP" in TAP, which test/run.sh (rightly) counts as a failure.
	 */
	if (why) {
		if (tap && !strcasecmp(tap, "TAP")) {
			printf("1..%zu\n", ARRAY_LEN(cases));
			for (i = 0; i < ARRAY_LEN(cases); i++)
				printf("ok %u - %s # SKIP %s\n", i + 1, cases[i].name, why);
		} else {
			printf("[  SKIPPED ] tc_dataplane: %zu tests: %s\n", ARRAY_LEN(cases), why);
		}
		return 0;
	}
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	atexit(remove_pins);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal); /* output piped into a reader that quits early (| head) */
	return cmocka_run_group_tests_name("tc_dataplane", tests, group_setup, group_teardown);
}
