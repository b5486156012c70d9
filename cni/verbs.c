// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "netconf.h"
#include "netdev.h"
#include "endpoints.h"
#include "ipam.h"
#include "log.h"
#include "netns.h"
#include "parse.h"
#include "podlink.h"
#include "result.h"
#include "store.h"
#include "verbs.h"
#include "version.h"

/* The pod MTU when the node has no overlay: a plain Ethernet link. */
#define SX_MTU_NO_OVERLAY 1500

static int open_sandbox(const struct sx_cni_env *env, struct sx_cni_error *err)
{
	int fd = sx_netns_open(env->netns);

	if (fd == -ENOENT)
		sx_cni_fail(err, SX_CNI_E_CONTAINER, "the container's network namespace does not exist",
			    "CNI_NETNS=%s", env->netns);
	else if (fd == -EINVAL)
		sx_cni_fail(err, SX_CNI_E_ENV, "CNI_NETNS is not a network namespace",
			    "CNI_NETNS=%s", env->netns);
	else if (fd == -EEXIST)
		sx_cni_fail(err, SX_CNI_E_ENV,
			    "CNI_NETNS is the plugin's own network namespace, not a container's",
			    "CNI_NETNS=%s", env->netns);
	else if (fd < 0)
		sx_cni_fail(err, SX_CNI_E_IO, "cannot open the container's network namespace", "%s: %s",
			    env->netns, strerror(-fd));
	return fd;
}

static int lock_store(const struct sx_cni_conf *conf, bool exclusive, struct sx_cni_error *err)
{
	int fd = sx_store_lock(conf->data_dir, conf->name, exclusive);

	if (fd < 0)
		sx_cni_fail(err, SX_CNI_E_IO, "cannot use the data directory", "%s/%s: %s",
			    conf->data_dir, conf->name, strerror(-fd));
	return fd;
}

/* The pod MTU: configured, else the overlay's (underlay minus VXLAN), else Ethernet's. */
static unsigned int pod_mtu(const struct sx_cni_conf *conf)
{
	struct sx_netconf nc;
	struct sx_link vx;

	if (conf->mtu)
		return conf->mtu;
	if (!sx_netconf_read(conf->pin_dir, &nc) && nc.vxlan_ifindex &&
	    !sx_link_get(NULL, (int)nc.vxlan_ifindex, &vx))
		return vx.mtu;
	return SX_MTU_NO_OVERLAY;
}

static void ipam_release(struct sx_cni_run *run, const char *container_id, const char *ifname)
{
	struct sx_ipam_call call = { "DEL", container_id, ifname, NULL };
	struct sx_cni_error quiet = { 0 };

	/* Undoing an ADD: the ADD's own error is what the runtime must see. */
	if (sx_ipam_exec(&run->env, &run->conf, &call, NULL, &quiet))
		pr_warn("sockvx: releasing the addresses of %s/%s: %s: %s\n", container_id, ifname,
			quiet.msg, quiet.details);
}

static int parse_ipam_result(struct sx_cni_run *run, json_t *obj, unsigned int mtu,
			     struct sx_cni_result *ipam)
{
	char why[256];
	int i;

	if (sx_cni_result_parse(obj, ipam, why, sizeof(why)))
		return sx_cni_fail(&run->err, SX_CNI_E_IPAM, "the IPAM plugin's result is malformed",
				   "%s", why);
	if (!ipam->n_ips)
		return sx_cni_fail(&run->err, SX_CNI_E_IPAM, "the IPAM plugin returned no address",
				   "%s gave an empty \"ips\"", run->conf.ipam_type);
	for (i = 0; i < ipam->n_ips; i++)
		if (ipam->ips[i].addr.family == SX_AF_INET6 && mtu < SX_CNI_MTU_MIN_IPV6)
			return run->conf.mtu ?
				       sx_cni_fail(&run->err, SX_CNI_E_CONFIG, "invalid network configuration",
						   "field \"mtu\": IPv6 needs at least 1280") :
				       sx_cni_fail(&run->err, SX_CNI_E_CONFIG, "invalid network configuration",
						   "the overlay's MTU %u is below IPv6's minimum, 1280: "
						   "the underlay's MTU is too small for IPv6 pods", mtu);
	return 0;
}

static void record_ips(struct sx_attachment *rec, const struct sx_cni_result *res)
{
	int i;

	for (rec->n_ips = 0, i = 0; i < res->n_ips && i < SX_STORE_MAX_IPS; i++)
		rec->ips[rec->n_ips++] = res->ips[i].addr;
}

/*
 * Fails with code (try again, or not ready for STATUS) when sockvx is not
 * loaded; with an I/O error when the caller lacks the privileges to tell.
 */
static int node_ready(struct sx_cni_run *run, bool main_mode, int code)
{
	char why[512];
	int r = sx_cni_node_ready(run->conf.pin_dir, main_mode, why, sizeof(why));

	if (r == -EACCES)
		return sx_cni_fail(&run->err, SX_CNI_E_IO, "permission denied", "%s", why);
	if (r)
		return sx_cni_fail(&run->err, code, "sockvx is not loaded on this node", "%s", why);
	return 0;
}

/* Writes the attachment's record; code 5 when it cannot. */
static int record(struct sx_cni_run *run, const struct sx_attachment *rec)
{
	int r = sx_store_put(run->conf.data_dir, run->conf.name, rec);

	if (r)
		return sx_cni_fail(&run->err, SX_CNI_E_IO, "cannot record the attachment", "%s: %s",
				   run->conf.data_dir, strerror(-r));
	return 0;
}

/* nsfd: the pod's namespace, opened by the caller. */
static int add_main(struct sx_cni_run *run, int nsfd)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_cni_env *env = &run->env;
	struct sx_ipam_call call = { "ADD", env->container_id, env->ifname, env->netns };
	struct sx_cni_result ipam = { 0 }, res = { 0 };
	struct sx_endpoint ep = { .flags = SX_EP_F_LOCAL };
	struct sx_podlink_spec spec;
	struct sx_attachment rec = { 0 };
	char host_name[IF_NAMESIZE];
	struct sx_link host, pod;
	json_t *ipam_json = NULL;
	unsigned int mtu = pod_mtu(conf);

	sx_podlink_host_name(env->container_id, env->ifname, host_name);
	snprintf(rec.container_id, sizeof(rec.container_id), "%s", env->container_id);
	snprintf(rec.ifname, sizeof(rec.ifname), "%s", env->ifname);
	snprintf(rec.host_name, sizeof(rec.host_name), "%s", host_name);
	rec.main_mode = true;
	/*
	 * Written ahead, with no veth index yet: an ADD killed at any later point
	 * leaves this record, so the DEL or GC that follows undoes a lease and a
	 * veth it could not otherwise find.
	 */
	if (record(run, &rec))
		goto out;
	/*
	 * A failed IPAM ADD is undone with an IPAM DEL too, as the spec asks of
	 * a plugin that delegates: a plugin that exits 0 with output sockvx
	 * cannot read may have allocated a lease, and DEL of nothing is harmless.
	 */
	if (sx_ipam_exec(env, conf, &call, &ipam_json, &run->err))
		goto release;
	if (parse_ipam_result(run, ipam_json, mtu, &ipam))
		goto release;
	spec = (struct sx_podlink_spec){ host_name, env->ifname, nsfd, env->netns, mtu };
	if (sx_podlink_create(&spec, &ipam, &host, &pod, &res, &run->err))
		goto release;
	if (!res.dns && conf->dns)
		res.dns = json_incref(conf->dns);
	ep.ifindex = (__u32)host.ifindex;
	memcpy(ep.pod_mac, pod.mac, sizeof(ep.pod_mac));
	memcpy(ep.host_mac, host.mac, sizeof(ep.host_mac));
	rec.host_ifindex = ep.ifindex;
	record_ips(&rec, &res);
	/*
	 * Recorded whole before the endpoints are: an ADD killed while wiring
	 * them leaves a record that names them, so a DEL finds them even once
	 * the pod, and with it the veth, is gone.
	 */
	if (record(run, &rec))
		goto unlink;
	if (sx_cni_endpoints_add(conf->pin_dir, rec.ips, rec.n_ips, &ep, &run->err))
		goto unlink;
	run->out = sx_cni_result_build(&res, conf->version, conf->cni_version);
	if (run->out)
		goto out;
	sx_cni_fail(&run->err, SX_CNI_E_IO, "out of memory", NULL);
	sx_cni_endpoints_del(conf->pin_dir, rec.ips, rec.n_ips, ep.ifindex);
unlink:
	sx_podlink_delete(host_name);
release:
	ipam_release(run, env->container_id, env->ifname);
	sx_store_del(conf->data_dir, conf->name, env->container_id, env->ifname);
out:
	sx_cni_result_free(&res);
	sx_cni_result_free(&ipam);
	json_decref(ipam_json);
	return run->err.code;
}

static int parse_prev_result(struct sx_cni_run *run, struct sx_cni_result *prev)
{
	char why[256];

	if (sx_cni_result_parse(run->conf.prev_result, prev, why, sizeof(why)))
		return sx_cni_fail(&run->err, SX_CNI_E_DECODE, "cannot decode prevResult", "%s", why);
	return 0;
}

/* Chained mode: the container's addresses in prevResult (n), or -1 with the error set. */
static int prev_sandbox_addrs(struct sx_cni_run *run, struct sx_endpoint_key *keys)
{
	char why[256];
	int n = sx_cni_result_sandbox_addrs(run->conf.prev_result, keys, SX_STORE_MAX_IPS, why,
					    sizeof(why));

	if (n < 0)
		sx_cni_fail(&run->err, SX_CNI_E_DECODE, "cannot decode prevResult", "%s", why);
	return n < 0 ? -1 : n;
}

static int add_chained(struct sx_cni_run *run)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_endpoint ep = { .flags = SX_EP_F_LOCAL }; /* socket-only: ifindex 0 */
	struct sx_attachment rec = { 0 };

	rec.n_ips = prev_sandbox_addrs(run, rec.ips);
	if (rec.n_ips < 0)
		return run->err.code;
	snprintf(rec.container_id, sizeof(rec.container_id), "%s", run->env.container_id);
	snprintf(rec.ifname, sizeof(rec.ifname), "%s", run->env.ifname);
	if (!rec.n_ips)
		pr_info("sockvx: prevResult has no container address; nothing to accelerate\n");
	/* The record first: an ADD killed midway leaves what DEL and GC need. */
	if (record(run, &rec))
		return run->err.code;
	if (sx_cni_endpoints_add(conf->pin_dir, rec.ips, rec.n_ips, &ep, &run->err)) {
		sx_store_del(conf->data_dir, conf->name, rec.container_id, rec.ifname);
		return run->err.code;
	}
	/* The previous plugin's result is the chain's result: passed on as it came. */
	run->out = json_incref(conf->prev_result);
	return 0;
}

int sx_cni_add(struct sx_cni_run *run)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_attachment rec;
	int main_mode = sx_cni_conf_is_main(conf), lock, nsfd;

	/* Nothing is touched on a node where sockvx is not (yet) loaded. */
	if (node_ready(run, main_mode, SX_CNI_E_TRY_AGAIN))
		return run->err.code;
	/* A namespace that is not there fails before anything is allocated. */
	nsfd = open_sandbox(&run->env, &run->err);
	if (nsfd < 0)
		return run->err.code;
	lock = lock_store(conf, false, &run->err);
	if (lock < 0) {
		close(nsfd);
		return run->err.code;
	}
	if (!sx_store_get(conf->data_dir, conf->name, run->env.container_id, run->env.ifname, &rec))
		sx_cni_fail(&run->err, SX_CNI_E_EXISTS, "the container is attached to this network already",
			    "container %s, interface %s: a second ADD needs a DEL first",
			    run->env.container_id, run->env.ifname);
	else if (main_mode)
		add_main(run, nsfd);
	else
		add_chained(run);
	close(nsfd);
	close(lock);
	return run->err.code;
}

struct veth_deletion {
	const char *host_name;
	int r;
};

static void *delete_veth(void *arg)
{
	struct veth_deletion *d = arg;

	d->r = sx_podlink_delete(d->host_name);
	return NULL;
}

/*
 * Deletes the pod's veth and releases its IPAM lease at the same time: the
 * kernel spends most of a veth deletion waiting for RCU grace periods, long
 * enough to run the IPAM plugin in. Reusing a released address early is safe,
 * as a new pod's host route replaces the old one. Both are done before DEL
 * returns; the first failure is the one reported, the other is logged.
 */
static int release_link_and_lease(struct sx_cni_run *run, const char *host_name,
				  const char *container_id, const char *ifname)
{
	struct sx_ipam_call call = { "DEL", container_id, ifname, NULL };
	struct veth_deletion veth = { host_name, 0 };
	/* This attachment's own outcome: GC goes on after another one failed. */
	struct sx_cni_error ipam = { 0 };
	struct sx_cni_conf *conf = &run->conf;
	bool threaded;
	pthread_t t;

	threaded = !pthread_create(&t, NULL, delete_veth, &veth);
	if (!threaded)
		delete_veth(&veth);
	if (!conf->ipam)
		pr_warn("sockvx: %s/%s was attached in main mode, but this configuration has no "
			"ipam section to release its addresses with\n", container_id, ifname);
	else
		sx_ipam_exec(&run->env, conf, &call, NULL, &ipam);
	if (threaded)
		pthread_join(t, NULL);
	if (ipam.code)
		sx_cni_fail(&run->err, ipam.code, ipam.msg, "%s", ipam.details);
	if (veth.r)
		sx_cni_fail(&run->err, SX_CNI_E_LINK, "cannot delete the pod's veth", "%s: %s",
			    host_name, strerror(-veth.r));
	return ipam.code ? ipam.code : veth.r ? SX_CNI_E_LINK : 0;
}

/* Addresses to unregister, less those another attachment (not self) holds. */
struct unclaimed {
	struct sx_endpoint_key *keys;
	int n;
	const char *self_id, *self_ifname;
};

static int drop_claimed(const struct sx_attachment *a, void *arg)
{
	struct unclaimed *u = arg;

	if (u->self_id && !strcmp(a->container_id, u->self_id) && !strcmp(a->ifname, u->self_ifname))
		return 0;
	for (int i = 0; i < u->n; i++)
		for (int j = 0; j < a->n_ips; j++)
			if (!memcmp(&u->keys[i], &a->ips[j], sizeof(u->keys[i]))) {
				u->keys[i--] = u->keys[--u->n];
				break;
			}
	return 0;
}

/*
 * Unregisters socket-only endpoints, all but the addresses another attachment
 * records by now: chained entries name no veth to tell whose they are, and an
 * address may have gone to a newer pod (this DEL comes late, or again). The
 * caller holds the records' lock alone, so no ADD records a claim meanwhile.
 */
static void endpoints_del_unclaimed(const struct sx_cni_conf *conf, struct sx_endpoint_key *keys,
				    int n, const char *container_id, const char *ifname)
{
	struct unclaimed u = { keys, n, container_id, ifname };

	sx_store_foreach(conf->data_dir, conf->name, drop_claimed, &u);
	sx_cni_endpoints_del(conf->pin_dir, keys, u.n, 0);
}

/* Undoes an attachment: endpoints, then the veth and the IPAM lease, then the record. */
static int detach(struct sx_cni_run *run, const struct sx_attachment *rec, bool have_rec,
		  const char *container_id, const char *ifname)
{
	struct sx_cni_conf *conf = &run->conf;
	/* The record knows what ADD did; without one, the configuration says. */
	bool main_mode = have_rec ? rec->main_mode : sx_cni_conf_is_main(conf);
	char host_name[IF_NAMESIZE];
	struct sx_link host;
	int r;

	sx_podlink_host_name(container_id, ifname, host_name);
	/* A main-mode record without a veth index is an ADD that never finished. */
	if (have_rec && rec->main_mode && rec->host_ifindex) {
		sx_cni_endpoints_del(conf->pin_dir, rec->ips, rec->n_ips, rec->host_ifindex);
	} else if (main_mode && !sx_link_get(host_name, 0, &host)) {
		/* An ADD that died midway: whatever is wired to our veth. */
		sx_cni_endpoints_del_wired(conf->pin_dir, (__u32)host.ifindex);
	} else if (!main_mode) {
		/* The addresses the record names, or without one those of prevResult. */
		struct sx_endpoint_key keys[SX_STORE_MAX_IPS];
		char why[256];
		int n = 0;

		if (have_rec) {
			n = rec->n_ips;
			memcpy(keys, rec->ips, sizeof(keys[0]) * (size_t)n);
		} else if (conf->prev_result) {
			n = sx_cni_result_sandbox_addrs(conf->prev_result, keys, SX_STORE_MAX_IPS, why,
							sizeof(why));
		}
		if (n > 0)
			endpoints_del_unclaimed(conf, keys, n, container_id, ifname);
	}
	if (main_mode && release_link_and_lease(run, host_name, container_id, ifname))
		return run->err.code;
	r = sx_store_del(conf->data_dir, conf->name, container_id, ifname);
	if (r)
		return sx_cni_fail(&run->err, SX_CNI_E_IO, "cannot remove the attachment's record",
				   "%s: %s", conf->data_dir, strerror(-r));
	return 0;
}

int sx_cni_del(struct sx_cni_run *run)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_attachment rec;
	int lock, have_rec;

	lock = lock_store(conf, false, &run->err);
	if (lock < 0)
		return run->err.code;
	have_rec = !sx_store_get(conf->data_dir, conf->name, run->env.container_id, run->env.ifname,
				 &rec);
	/*
	 * A chained DEL spares the addresses other records claim: an ADD (which
	 * holds the lock shared) must not write one between that scan and the
	 * deletion, so the lock is taken alone from here.
	 */
	if (have_rec ? !rec.main_mode : !sx_cni_conf_is_main(conf)) {
		close(lock);
		lock = lock_store(conf, true, &run->err);
		if (lock < 0)
			return run->err.code;
		have_rec = !sx_store_get(conf->data_dir, conf->name, run->env.container_id,
					 run->env.ifname, &rec);
	}
	detach(run, &rec, have_rec, run->env.container_id, run->env.ifname);
	close(lock);
	return run->err.code;
}

static int drift(struct sx_cni_run *run, const char *fmt, const char *a, const char *b)
{
	return sx_cni_fail(&run->err, SX_CNI_E_DRIFT, "the pod's networking differs from its ADD result",
			   fmt, a, b);
}

/* The MAC prevResult gives for the container interface; zero if none. */
static void prev_mac(const struct sx_cni_result *prev, const char *ifname, __u8 mac[6])
{
	int i;

	memset(mac, 0, 6);
	for (i = 0; i < prev->n_ifaces; i++)
		if (*prev->ifaces[i].sandbox && !strcmp(prev->ifaces[i].name, ifname))
			sx_parse_mac(prev->ifaces[i].mac, mac);
}

static int check_main(struct sx_cni_run *run, const struct sx_attachment *rec,
		      const struct sx_cni_result *prev, int nsfd)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_ipam_call call = { "CHECK", run->env.container_id, run->env.ifname, run->env.netns };
	struct sx_podlink_spec spec = { rec->host_name, run->env.ifname, nsfd, run->env.netns, conf->mtu };
	struct sx_endpoint ep = { .flags = SX_EP_F_LOCAL };
	struct sx_endpoint_key keys[SX_STORE_MAX_IPS];
	struct sx_link host;
	int n;

	if (sx_ipam_exec(&run->env, conf, &call, NULL, &run->err))
		return run->err.code;
	if (sx_link_get(rec->host_name, 0, &host) || (__u32)host.ifindex != rec->host_ifindex)
		return drift(run, "the host veth %s of %s is gone", rec->host_name, run->env.ifname);
	if (sx_podlink_check(&spec, prev, &run->err))
		return run->err.code;
	ep.ifindex = rec->host_ifindex;
	prev_mac(prev, run->env.ifname, ep.pod_mac);
	n = prev_sandbox_addrs(run, keys);
	if (n < 0)
		return run->err.code;
	return sx_cni_endpoints_check(conf->pin_dir, keys, n, &ep, &run->err);
}

int sx_cni_check(struct sx_cni_run *run)
{
	struct sx_cni_conf *conf = &run->conf;
	struct sx_endpoint ep = { .flags = SX_EP_F_LOCAL };
	struct sx_endpoint_key keys[SX_STORE_MAX_IPS];
	struct sx_cni_result prev;
	struct sx_attachment rec;
	int nsfd, n = 0;

	if (!conf->prev_result)
		return sx_cni_fail(&run->err, SX_CNI_E_CONFIG, "invalid network configuration",
				   "field \"prevResult\": CHECK needs the result of the ADD");
	if (node_ready(run, sx_cni_conf_is_main(conf), SX_CNI_E_TRY_AGAIN))
		return run->err.code;
	if (sx_store_get(conf->data_dir, conf->name, run->env.container_id, run->env.ifname, &rec))
		return drift(run, "no sockvx attachment for container %s, interface %s",
			     run->env.container_id, run->env.ifname);
	if (rec.main_mode) {
		if (parse_prev_result(run, &prev))
			return run->err.code;
	} else if ((n = prev_sandbox_addrs(run, keys)) < 0) {
		return run->err.code;
	}
	nsfd = open_sandbox(&run->env, &run->err);
	if (nsfd >= 0) {
		if (rec.main_mode)
			check_main(run, &rec, &prev, nsfd);
		else
			sx_cni_endpoints_check(conf->pin_dir, keys, n, &ep, &run->err);
		close(nsfd);
	}
	if (rec.main_mode)
		sx_cni_result_free(&prev);
	return run->err.code;
}

/* GC and STATUS go on to the IPAM plugin too, as the spec asks of a plugin that delegates. */
static int ipam_forward(struct sx_cni_run *run, const char *command)
{
	struct sx_ipam_call call = { command, NULL, NULL, NULL };

	if (!sx_cni_conf_is_main(&run->conf) || !run->conf.ipam)
		return 0;
	return sx_ipam_exec(&run->env, &run->conf, &call, NULL, &run->err);
}

int sx_cni_status(struct sx_cni_run *run)
{
	if (node_ready(run, sx_cni_conf_is_main(&run->conf), SX_CNI_E_NOT_READY))
		return run->err.code;
	return ipam_forward(run, "STATUS");
}

struct gc_walk {
	struct sx_cni_run *run;
	int released;
};

static int gc_one(const struct sx_attachment *rec, void *arg)
{
	struct gc_walk *w = arg;
	json_t *a;
	size_t i;

	json_array_foreach(w->run->conf.valid_attachments, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "containerID")), rec->container_id) &&
		    !strcmp(json_string_value(json_object_get(a, "ifname")), rec->ifname))
			return 0;
	pr_info("sockvx: GC: releasing container %s, interface %s\n", rec->container_id, rec->ifname);
	/* One stale attachment failing must not keep the others: the first error is reported. */
	detach(w->run, rec, true, rec->container_id, rec->ifname);
	w->released++;
	return 0;
}

int sx_cni_gc(struct sx_cni_run *run)
{
	struct gc_walk w = { run, 0 };
	int lock = lock_store(&run->conf, true, &run->err), r;

	if (lock < 0)
		return run->err.code;
	r = sx_store_foreach(run->conf.data_dir, run->conf.name, gc_one, &w);
	if (!r)
		r = sx_store_prune(run->conf.data_dir, run->conf.name);
	if (r)
		sx_cni_fail(&run->err, SX_CNI_E_IO, "cannot read the attachment records", "%s: %s",
			    run->conf.data_dir, strerror(-r));
	pr_info("sockvx: GC released %d attachment(s)\n", w.released);
	/*
	 * Then the IPAM plugin's own GC, with the same valid attachments: it also
	 * frees leases whose record is gone or unreadable. The first error is
	 * the one reported.
	 */
	ipam_forward(run, "GC");
	close(lock);
	return run->err.code;
}

int sx_cni_version(struct sx_cni_run *run)
{
	json_t *list = json_array();
	int i;

	for (i = 0; sx_cni_versions[i]; i++)
		json_array_append_new(list, json_string(sx_cni_versions[i]));
	run->out = json_pack("{s:s, s:o}", "cniVersion", SX_CNI_VERSION_LATEST, "supportedVersions",
			     list);
	return run->out ? 0 : sx_cni_fail(&run->err, SX_CNI_E_IO, "out of memory", NULL);
}
