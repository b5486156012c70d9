// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "nodelist.h"
#include "parse.h"

/* One pod CIDR claimed by one node (this one included), for the duplicate check. */
struct claim {
	struct sx_cidr_key cidr;
	size_t item;	  /* index in items */
	size_t idx;	  /* index in spec.podCIDRs */
	int list;	  /* from spec.podCIDRs (else spec.podCIDR) */
	const char *name; /* metadata.name, or NULL; owned by the cJSON tree */
};

struct parse_ctx {
	char *err;
	size_t errlen;
	const char *node; /* name of the node being parsed, for messages */
	struct sx_node_route *routes;
	size_t n_routes, cap_routes;
	struct claim *claims;
	size_t n_claims, cap_claims;
};

/*
 * Copies untrusted text for display: non-printable bytes become '?' (no
 * terminal escapes from a hostile document), and text that does not fit
 * ends in "...". len >= 4. Returns buf.
 */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i])
		memcpy(buf + len - 4, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *c, const char *fmt, ...)
{
	char name[64];
	va_list ap;
	int w;

	if (!c->err || !c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	w = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	/* With 5000 nodes, "items[2817]" alone is hard to find: name the node. */
	if (c->node && w >= 0 && (size_t)w < c->errlen)
		snprintf(c->err + w, c->errlen - (size_t)w, " (node %s)",
			 shown(c->node, name, sizeof(name)));
	return -EINVAL;
}

static const char *type_name(const cJSON *j)
{
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	return "something else";
}

static int is_type(const cJSON *j, int type)
{
	return (j->type & 0xff) == type;
}

/*
 * Member name of obj, which must be of the given cJSON type: *out is NULL
 * when it is absent or null (Kubernetes' encoding omits or nulls empty
 * fields alike). path names obj in messages.
 */
static int member(struct parse_ctx *c, const cJSON *obj, const char *path, const char *name,
		  int type, const cJSON **out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
	const char *want = type == cJSON_Object	 ? "an object"
			   : type == cJSON_Array ? "an array"
						 : "a string";

	*out = NULL;
	if (!m || cJSON_IsNull(m))
		return 0;
	if (is_type(m, type)) {
		*out = m;
		return 0;
	}
	return fail(c, "%s%s%s: expected %s, got %s", path, *path ? "." : "", name, want,
		    type_name(m));
}

/* Makes room for one more element in *v (of *cap elements of size each). */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	if (want > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*v, want * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

static int add_claim(struct parse_ctx *c, const struct claim *cl)
{
	void *v = c->claims;
	int r = grow(&v, &c->cap_claims, c->n_claims, sizeof(*cl));

	c->claims = v;
	if (r)
		return r;
	c->claims[c->n_claims++] = *cl;
	return 0;
}

static int add_route(struct parse_ctx *c, const struct sx_cidr_key *cidr, __u32 node_ip4,
		     const char *name)
{
	void *v = c->routes;
	struct sx_node_route *rt;
	int r = grow(&v, &c->cap_routes, c->n_routes, sizeof(*rt));

	c->routes = v;
	if (r)
		return r;
	rt = &c->routes[c->n_routes++];
	memset(rt, 0, sizeof(*rt));
	rt->cidr = *cidr;
	rt->node_ip4 = node_ip4;
	if (name)
		shown(name, rt->node, sizeof(rt->node));
	return 0;
}

static int cidr_of(struct parse_ctx *c, const cJSON *s, const char *path, struct sx_cidr_key *cidr)
{
	char text[48];

	if (!cJSON_IsString(s))
		return fail(c, "%s: expected a string, got %s", path, type_name(s));
	if (sx_parse_cidr(s->valuestring, cidr))
		return fail(c, "%s: '%s' is not a CIDR", path,
			    shown(s->valuestring, text, sizeof(text)));
	return 0;
}

/* The node's pod CIDRs (spec.podCIDRs, else spec.podCIDR), as claims in c. */
static int node_cidrs(struct parse_ctx *c, const cJSON *item, size_t i, const char *name,
		      size_t *count)
{
	const cJSON *spec, *list, *single, *e;
	struct claim cl = {.item = i, .name = name};
	struct sx_cidr_key first;
	char path[64], text[48];
	int r;

	*count = 0;
	snprintf(path, sizeof(path), "items[%zu]", i);
	r = member(c, item, path, "spec", cJSON_Object, &spec);
	if (r || !spec)
		return r;
	snprintf(path, sizeof(path), "items[%zu].spec", i);
	r = member(c, spec, path, "podCIDRs", cJSON_Array, &list);
	if (!r)
		r = member(c, spec, path, "podCIDR", cJSON_String, &single);
	if (r)
		return r;
	if (single) {
		snprintf(path, sizeof(path), "items[%zu].spec.podCIDR", i);
		r = cidr_of(c, single, path, &first);
		if (r)
			return r;
	}
	cl.list = list && cJSON_GetArraySize(list) > 0;
	if (!cl.list) {
		if (!single)
			return 0;
		cl.cidr = first;
		*count = 1;
		return add_claim(c, &cl);
	}
	cJSON_ArrayForEach (e, list) {
		snprintf(path, sizeof(path), "items[%zu].spec.podCIDRs[%zu]", i, cl.idx);
		r = cidr_of(c, e, path, &cl.cidr);
		if (r)
			return r;
		/* The API server keeps podCIDR equal to podCIDRs[0]: anything else is hand-made. */
		if (cl.idx == 0 && single && memcmp(&first, &cl.cidr, sizeof(first)))
			return fail(c,
				    "items[%zu].spec.podCIDR: '%s' differs from spec.podCIDRs[0]",
				    i, shown(single->valuestring, text, sizeof(text)));
		r = add_claim(c, &cl);
		if (r)
			return r;
		cl.idx++;
		(*count)++;
	}
	return 0;
}

/*
 * The node's first IPv4 InternalIP in *ip4 (0: none); *self set if any IPv4
 * InternalIP is self_ip4. Every InternalIP must be an address.
 */
static int node_address(struct parse_ctx *c, const cJSON *item, size_t i, __u32 self_ip4,
			__u32 *ip4, int *self)
{
	const cJSON *status, *list, *e, *type, *addr;
	char path[80], text[48];
	struct in6_addr a6;
	struct in_addr a4;
	size_t j = 0;
	int r;

	*ip4 = 0;
	snprintf(path, sizeof(path), "items[%zu]", i);
	r = member(c, item, path, "status", cJSON_Object, &status);
	if (r || !status)
		return r;
	snprintf(path, sizeof(path), "items[%zu].status", i);
	r = member(c, status, path, "addresses", cJSON_Array, &list);
	if (r || !list)
		return r;
	cJSON_ArrayForEach (e, list) {
		snprintf(path, sizeof(path), "items[%zu].status.addresses[%zu]", i, j++);
		if (!cJSON_IsObject(e))
			return fail(c, "%s: expected an object, got %s", path, type_name(e));
		r = member(c, e, path, "type", cJSON_String, &type);
		if (!r)
			r = member(c, e, path, "address", cJSON_String, &addr);
		if (r)
			return r;
		if (!type || !addr)
			return fail(c, "%s.%s: missing", path, type ? "address" : "type");
		if (strcmp(type->valuestring, "InternalIP"))
			continue;
		if (inet_pton(AF_INET, addr->valuestring, &a4) == 1) {
			if (!*ip4)
				*ip4 = a4.s_addr;
			if (self_ip4 && a4.s_addr == self_ip4)
				*self = 1;
		} else if (inet_pton(AF_INET6, addr->valuestring, &a6) != 1) {
			return fail(c, "%s.address: '%s' is not an IP address", path,
				    shown(addr->valuestring, text, sizeof(text)));
		}
	}
	return 0;
}

static int parse_node(struct parse_ctx *c, const cJSON *item, size_t i, const char *self_name,
		      __u32 self_ip4, size_t *skipped)
{
	const cJSON *kind, *meta, *name = NULL;
	size_t first = c->n_claims, count, k;
	char path[64], text[48];
	int self = 0, r;
	__u32 ip4;

	c->node = NULL;
	if (!cJSON_IsObject(item))
		return fail(c, "items[%zu]: expected an object, got %s", i, type_name(item));
	snprintf(path, sizeof(path), "items[%zu]", i);
	r = member(c, item, path, "metadata", cJSON_Object, &meta);
	if (!r && meta) {
		snprintf(path, sizeof(path), "items[%zu].metadata", i);
		r = member(c, meta, path, "name", cJSON_String, &name);
		snprintf(path, sizeof(path), "items[%zu]", i);
	}
	if (r)
		return r;
	if (name && *name->valuestring)
		c->node = name->valuestring;
	r = member(c, item, path, "kind", cJSON_String, &kind);
	if (r)
		return r;
	if (kind && strcmp(kind->valuestring, "Node"))
		return fail(c, "items[%zu].kind: '%s' is not a Node", i,
			    shown(kind->valuestring, text, sizeof(text)));
	if (c->node && self_name && *self_name && !strcmp(c->node, self_name))
		self = 1;
	r = node_cidrs(c, item, i, c->node, &count);
	if (!r)
		r = node_address(c, item, i, self_ip4, &ip4, &self);
	if (r)
		return r;
	/* This node's CIDRs stay in the claims: another node claiming one is a conflict. */
	if (self)
		return 0;
	if (!count || !ip4) {
		(*skipped)++;
		return 0;
	}
	for (k = first; !r && k < c->n_claims; k++)
		r = add_route(c, &c->claims[k].cidr, ip4, c->node);
	return r;
}

static int cmp_cidr_key(const struct sx_cidr_key *a, const struct sx_cidr_key *b);

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = cmp_cidr_key(&x->cidr, &y->cidr);

	if (r)
		return r;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void claim_path(const struct claim *cl, char *buf, size_t len)
{
	if (cl->list)
		snprintf(buf, len, "items[%zu].spec.podCIDRs[%zu]", cl->item, cl->idx);
	else
		snprintf(buf, len, "items[%zu].spec.podCIDR", cl->item);
}

/* Refuses a CIDR claimed twice, naming the claim that comes last in the document. */
static int check_duplicates(struct parse_ctx *c)
{
	const struct claim *dup = NULL, *orig = NULL;
	char here[64], there[64], cidr[64], name[64];
	size_t k;

	if (c->n_claims < 2)
		return 0;
	qsort(c->claims, c->n_claims, sizeof(*c->claims), cmp_claim);
	for (k = 1; k < c->n_claims; k++) {
		const struct claim *a = &c->claims[k - 1], *b = &c->claims[k];

		if (cmp_cidr_key(&a->cidr, &b->cidr))
			continue;
		if (!dup || b->item < dup->item || (b->item == dup->item && b->idx < dup->idx)) {
			dup = b;
			orig = a;
		}
	}
	if (!dup)
		return 0;
	/* orig: the claim just before dup in document order, of the same CIDR. */
	claim_path(dup, here, sizeof(here));
	claim_path(orig, there, sizeof(there));
	sx_format_cidr(&dup->cidr, cidr, sizeof(cidr));
	c->node = dup->name;
	if (orig->item == dup->item)
		return fail(c, "%s: %s is listed twice (also %s)", here, cidr, there);
	return fail(c, "%s: %s is already claimed by %s%s%s", here, cidr, there,
		    orig->name ? " of node " : "",
		    orig->name ? shown(orig->name, name, sizeof(name)) : "");
}

/* Line and column (from 1) of a byte offset, for syntax errors. */
static void line_col(const char *json, size_t off, size_t *line, size_t *col)
{
	size_t k;

	*line = 1;
	*col = 1;
	for (k = 0; k < off && json[k]; k++) {
		if (json[k] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int parse_root(struct parse_ctx *c, const cJSON *root, const char *self_name, __u32 self_ip4,
		      size_t *skipped)
{
	const cJSON *kind, *items, *item;
	char text[48];
	size_t i = 0;
	int r;

	if (!cJSON_IsObject(root))
		return fail(c, "expected a JSON object (a NodeList), got %s", type_name(root));
	r = member(c, root, "", "kind", cJSON_String, &kind);
	if (r)
		return r;
	if (kind && !strcmp(kind->valuestring, "Node"))
		return fail(
		    c, "kind: a single Node, not a list of nodes (use kubectl get nodes -o json)");
	if (kind && strcmp(kind->valuestring, "List") && strcmp(kind->valuestring, "NodeList"))
		return fail(c, "kind: '%s' is not a NodeList or List",
			    shown(kind->valuestring, text, sizeof(text)));
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!items || cJSON_IsNull(items))
		return fail(c, "items: missing (not a NodeList?)");
	if (!cJSON_IsArray(items))
		return fail(c, "items: expected an array, got %s", type_name(items));
	cJSON_ArrayForEach (item, items) {
		r = parse_node(c, item, i++, self_name, self_ip4, skipped);
		if (r)
			return r;
	}
	c->node = NULL;
	return check_duplicates(c);
}

int sx_nodelist_parse(const char *json, const char *self_name, __u32 self_ip4,
		      struct sx_node_route **routes, size_t *n, size_t *skipped, char *err,
		      size_t errlen)
{
	struct parse_ctx c;
	const char *end = NULL;
	size_t line, col;
	cJSON *root;
	int r;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	*routes = NULL;
	*n = 0;
	*skipped = 0;
	if (!json)
		return fail(&c, "no input");
	/* Require the end of the text: trailing garbage is a truncated or mixed stream. */
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root) {
		line_col(json, end && end >= json ? (size_t)(end - json) : 0, &line, &col);
		return fail(&c, "not JSON (syntax error at line %zu, column %zu)", line, col);
	}
	r = parse_root(&c, root, self_name, self_ip4, skipped);
	cJSON_Delete(root); /* claims' names point into it: no message uses them after */
	free(c.claims);
	if (r) {
		free(c.routes);
		*skipped = 0;
		return r;
	}
	if (!c.n_routes) {
		free(c.routes);
		c.routes = NULL;
	}
	*routes = c.routes;
	*n = c.n_routes;
	return 0;
}

/* ---- diff ---------------------------------------------------------------- */

/*
 * Orders keys as the trie tells them apart: by the prefix bits of the
 * address (numeric order), then by prefix length. Host bits do not count.
 */
static int cmp_cidr_key(const struct sx_cidr_key *a, const struct sx_cidr_key *b)
{
	__u32 i, bits, mask, x, y;

	for (i = 0; i < 4; i++) {
		bits = a->prefixlen > i * 32 ? a->prefixlen - i * 32 : 0;
		mask = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;
		x = ntohl(a->ip.addr[i]) & mask;
		bits = b->prefixlen > i * 32 ? b->prefixlen - i * 32 : 0;
		mask = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;
		y = ntohl(b->ip.addr[i]) & mask;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return a->prefixlen < b->prefixlen ? -1 : a->prefixlen > b->prefixlen;
}

/* A route in a sorted view of an array. */
struct ref {
	const struct sx_node_route *r;
};

/* Equal keys keep their input order (pointers into one array), so the last one is known. */
static int cmp_ref(const void *a, const void *b)
{
	const struct sx_node_route *x = ((const struct ref *)a)->r;
	const struct sx_node_route *y = ((const struct ref *)b)->r;
	int r = cmp_cidr_key(&x->cidr, &y->cidr);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

/* v's elements, sorted; NULL if n is 0 or memory ran out (*r = -ENOMEM). */
static struct ref *sorted(const struct sx_node_route *v, size_t n, int *r)
{
	struct ref *out;
	size_t i;

	if (!n)
		return NULL;
	out = calloc(n, sizeof(*out));
	if (!out) {
		*r = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		out[i].r = &v[i];
	qsort(out, n, sizeof(*out), cmp_ref);
	return out;
}

/* Moves *i to the last of a run of equal keys. */
static void last_of_run(const struct ref *v, size_t n, size_t *i)
{
	while (*i + 1 < n && !cmp_cidr_key(&v[*i].r->cidr, &v[*i + 1].r->cidr))
		(*i)++;
}

int sx_node_diff(const struct sx_node_route *cur, size_t n_cur, const struct sx_node_route *want,
		 size_t n_want, struct sx_node_diff *d)
{
	struct ref *pc, *pw;
	size_t i = 0, j = 0;
	int r = 0, c;

	memset(d, 0, sizeof(*d));
	pc = sorted(cur, n_cur, &r);
	pw = sorted(want, n_want, &r);
	/* One spare element each: never NULL here, emptied below. */
	d->upsert = calloc(n_want + 1, sizeof(*d->upsert));
	d->del = calloc(n_cur + 1, sizeof(*d->del));
	if (!d->upsert || !d->del)
		r = -ENOMEM;
	if (r)
		goto out;
	while ((pc && i < n_cur) || (pw && j < n_want)) {
		if (pc && i < n_cur)
			last_of_run(pc, n_cur, &i);
		if (pw && j < n_want)
			last_of_run(pw, n_want, &j);
		if (!pw || j == n_want)
			c = -1;
		else if (!pc || i == n_cur)
			c = 1;
		else
			c = cmp_cidr_key(&pc[i].r->cidr, &pw[j].r->cidr);
		if (c < 0) {
			d->del[d->n_del++] = pc[i++].r->cidr;
			continue;
		}
		if (c > 0) {
			d->upsert[d->n_upsert++] = *pw[j++].r;
			continue;
		}
		/* In both: only a change of node matters. */
		if (pc[i].r->node_ip4 == pw[j].r->node_ip4)
			d->unchanged++;
		else
			d->upsert[d->n_upsert++] = *pw[j].r;
		i++;
		j++;
	}
out:
	free(pc);
	free(pw);
	if (r) {
		sx_node_diff_free(d);
		return r;
	}
	if (!d->n_upsert) {
		free(d->upsert);
		d->upsert = NULL;
	}
	if (!d->n_del) {
		free(d->del);
		d->del = NULL;
	}
	return 0;
}

void sx_node_diff_free(struct sx_node_diff *d)
{
	if (!d)
		return;
	free(d->upsert);
	free(d->del);
	memset(d, 0, sizeof(*d));
}
