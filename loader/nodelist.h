/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node table's input: a Kubernetes NodeList turned into tunnel-trie
 * routes, and the changes that bring the trie from its content to them.
 * Pure functions: no BPF, no privileges.
 */
#ifndef SOCKVX_NODELIST_H
#define SOCKVX_NODELIST_H

#include <stddef.h>
#include "sockvx_abi.h"

/* One remote pod CIDR and the node that owns it, as sx_tunnel_v1 stores it. */
struct sx_node_route {
	struct sx_cidr_key cidr;
	__u32 node_ip4; /* the node's underlay IPv4 address, network byte order */
	char node[64];	/* Kubernetes node name, for messages ("" if unknown) */
};

/*
 * Parses a Kubernetes NodeList (`kubectl get nodes -o json`, whose kind is
 * "List"; "NodeList" and no kind are accepted too): for every node but this
 * one, one route per entry of spec.podCIDRs (or spec.podCIDR when podCIDRs is
 * absent or empty) to the node's first IPv4 address of type InternalIP in
 * status.addresses, in document order. This node is the one named self_name
 * (if not NULL/empty), or any with an IPv4 InternalIP equal to self_ip4 (if
 * nonzero, network order): both are skipped, so no route ever leads back to
 * this node. Nodes with no pod CIDR yet, or with no IPv4 InternalIP, are
 * skipped (they are still joining; *skipped counts them).
 *
 * Anything malformed fails the whole parse with -EINVAL and a message in err
 * naming where ("items[2].spec.podCIDRs[0]: '10.0.0.1/33' is not a CIDR (node
 * node-3)"): not JSON, not an object, kind present but not a list of nodes (a
 * single Node object is refused with its own message), items missing or not
 * an array, an item whose kind is present and not "Node", a field of the
 * wrong type (null counts as absent, except for items), an unparsable CIDR or
 * InternalIP, spec.podCIDR differing from spec.podCIDRs[0], the same CIDR
 * claimed twice (by two nodes, this one included, or by one). -ENOMEM if
 * memory runs out. Node names longer than the field end in "..."; characters
 * that are not printable ASCII show as '?', here and in err.
 *
 * On success *routes is malloc'ed (free it) and *n set; when *n is 0,
 * *routes is NULL. On failure *routes is NULL and *n and *skipped are 0.
 * err may be NULL; it holds "" on success.
 */
int sx_nodelist_parse(const char *json, const char *self_name, __u32 self_ip4,
		      struct sx_node_route **routes, size_t *n, size_t *skipped, char *err,
		      size_t errlen);

/* What a sync must change in the trie to go from cur to want. */
struct sx_node_diff {
	struct sx_node_route *upsert; /* CIDRs to add, or whose node changed */
	size_t n_upsert;
	struct sx_cidr_key *del; /* CIDRs in cur that want no longer has */
	size_t n_del;
	size_t unchanged;
};

/*
 * Computes d (pure; cur/want in any order, cur entries' node names may be
 * empty: only the node address counts). Keys are compared on their prefix
 * bits, as the trie does. upsert and del come out sorted by address, then
 * prefix length; they are NULL when empty. Should a CIDR repeat in want, its
 * last occurrence wins. O((n_cur + n_want) log(n_cur + n_want)).
 * 0 or -ENOMEM (then d is empty).
 */
int sx_node_diff(const struct sx_node_route *cur, size_t n_cur, const struct sx_node_route *want,
		 size_t n_want, struct sx_node_diff *d);
/* Frees what sx_node_diff allocated and empties d. NULL-safe. */
void sx_node_diff_free(struct sx_node_diff *d);

#endif
