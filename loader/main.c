// SPDX-License-Identifier: Apache-2.0
/*
 * sockvxctl: loads sockvx's BPF programs at node boot and exits; manages the
 * pinned maps afterwards. Every command is a short-lived process: the state
 * lives in bpffs pins.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cnichain.h"
#include "control.h"
#include "dataplane.h"
#include "doctor.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"
#include "pins.h"
#include "parse.h"
#include "report.h"
#include "sysenv.h"

#define SX_VERSION "0.1.0"
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: sockvxctl [-v] COMMAND [ARGS] [--pin-dir DIR]\n"
	"\n"
	"  load [--cgroup PATH] [--underlay IFACE [--vni N] [--vxlan-port P]]\n"
	"       [--pod-cidr CIDR[,CIDR6]]  load, pin and attach (idempotent; upgrades in place)\n"
	"  unload [--timeout SEC] [--force] remove everything load created\n"
	"  endpoint add IP... [--dev HOST_VETH [--mac POD_MAC]]\n"
	"                                  register pod addresses (--dev: wire the TC dataplane)\n"
	"  endpoint del IP...              remove pod addresses\n"
	"  endpoint list [--json]          list pod addresses\n"
	"  node add POD_CIDR NODE_IP       route a remote node's pod CIDR through VXLAN\n"
	"  node del POD_CIDR...            remove remote pod CIDRs\n"
	"  node list [--json]              list the node table\n"
	"  node sync FILE|- [--node-name N] apply a NodeList (kubectl get nodes -o json)\n"
	"  accel on|off                    switch socket acceleration for new traffic\n"
	"  exclude-port add|del PORT...    never accelerate connections on these ports\n"
	"  exclude-port list [--json]\n"
	"  status [--json]                 kernel features, attachments, map fill\n"
	"  stats [--json]                  dataplane counters\n"
	"  stats --prometheus [FILE]       counters and map fill for node-exporter's textfile\n"
	"                                  collector (FILE written atomically; default stdout)\n"
	"  doctor [--json] [--cni-conf-dir DIR] [--cni-bin-dir DIR]\n"
	"                                  check this node and say how to fix what is wrong\n"
	"  cni-chain [--cni-conf-dir DIR]  chained install: write " SX_CNI_CHAIN_FILE " with the\n"
	"                                  cluster's plugins, then sockvx (safe to rerun)\n"
	"\n"
	"  --pin-dir DIR   pin directory (default " SX_DEFAULT_PIN_DIR ")\n"
	"  -v, --verbose   more output (twice: libbpf debug)\n"
	"  --version       print the version\n";

struct cli {
	const char *pin_dir;
	const char *cgroup;
	const char *dev, *mac, *node_name;
	struct sx_overlay_opts overlay;
	int json;
	int prometheus;
	const char *cni_conf_dir, *cni_bin_dir;
	int force;
	int timeout_ms;
	int argc;    /* positional arguments after the command */
	char **argv;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sockvxctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see sockvxctl --help)\n");
	return EXIT_USAGE;
}

enum {
	OPT_PIN_DIR = 256,
	OPT_CGROUP,
	OPT_JSON,
	OPT_FORCE,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_UNDERLAY,
	OPT_VNI,
	OPT_VXLAN_PORT,
	OPT_POD_CIDR,
	OPT_DEV,
	OPT_MAC,
	OPT_NODE_NAME,
	OPT_PROMETHEUS,
	OPT_CNI_CONF_DIR,
	OPT_CNI_BIN_DIR,
};

static const struct option long_opts[] = {
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "underlay", required_argument, NULL, OPT_UNDERLAY },
	{ "vni", required_argument, NULL, OPT_VNI },
	{ "vxlan-port", required_argument, NULL, OPT_VXLAN_PORT },
	{ "pod-cidr", required_argument, NULL, OPT_POD_CIDR },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR },
	{ "cni-bin-dir", required_argument, NULL, OPT_CNI_BIN_DIR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Which options each command accepts; anything else is a usage error. */
static int opt_allowed(const char *cmd, int opt)
{
	switch (opt) {
	case OPT_PIN_DIR:
	case 'v':
		return 1;
	case OPT_CGROUP:
	case OPT_UNDERLAY:
	case OPT_VNI:
	case OPT_VXLAN_PORT:
	case OPT_POD_CIDR:
		return !strcmp(cmd, "load");
	case OPT_DEV:
	case OPT_MAC:
		return !strcmp(cmd, "endpoint");
	case OPT_NODE_NAME:
		return !strcmp(cmd, "node");
	case OPT_FORCE:
	case OPT_TIMEOUT:
		return !strcmp(cmd, "unload");
	case OPT_PROMETHEUS:
		return !strcmp(cmd, "stats");
	case OPT_CNI_CONF_DIR:
		return !strcmp(cmd, "doctor") || !strcmp(cmd, "cni-chain");
	case OPT_CNI_BIN_DIR:
		return !strcmp(cmd, "doctor");
	case OPT_JSON:
		return !strcmp(cmd, "status") || !strcmp(cmd, "stats") || !strcmp(cmd, "doctor") ||
		       !strcmp(cmd, "endpoint") || !strcmp(cmd, "exclude-port") ||
		       !strcmp(cmd, "node");
	}
	return 0;
}

static int parse_cli(int argc, char **argv, const char *cmd, struct cli *c)
{
	char *end;
	long v;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		if (opt == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (opt == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (!opt_allowed(cmd, opt))
			return usage_error("option '%s' does not apply to this command",
					   argv[optind - 1]);
		switch (opt) {
		case OPT_PIN_DIR:
			if (optarg[0] != '/')
				return usage_error("--pin-dir must be an absolute path, not '%s'",
						   optarg);
			c->pin_dir = optarg;
			break;
		case OPT_CGROUP:
			c->cgroup = optarg;
			break;
		case OPT_UNDERLAY:
			c->overlay.underlay = optarg;
			break;
		case OPT_VNI:
			errno = 0;
			v = strtol(optarg, &end, 10);
			/* 24 bits on the wire. */
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' || v < 1 || v > 0xffffff)
				return usage_error("--vni takes 1-16777215, not '%s'", optarg);
			c->overlay.vni = (__u32)v;
			c->overlay.vni_set = true;
			break;
		case OPT_VXLAN_PORT:
			if (sx_parse_port(optarg, &c->overlay.port))
				return usage_error("--vxlan-port takes 1-65535, not '%s'", optarg);
			c->overlay.port_set = true;
			break;
		case OPT_POD_CIDR:
			if (sx_parse_pod_cidrs(optarg, &c->overlay.router4, &c->overlay.router6))
				return usage_error("--pod-cidr takes CIDR[,CIDR6] with at most one of each family, "
						   "host bits zero, room for the node's address (e.g. 10.244.1.0/24,fd00:244:1::/64), not '%s'",
						   optarg);
			break;
		case OPT_DEV:
			c->dev = optarg;
			break;
		case OPT_MAC:
			if (sx_parse_mac(optarg, (__u8[6]){ 0 }))
				return usage_error("--mac takes aa:bb:cc:dd:ee:ff, not '%s'", optarg);
			c->mac = optarg;
			break;
		case OPT_NODE_NAME:
			c->node_name = optarg;
			break;
		case OPT_JSON:
			c->json = 1;
			break;
		case OPT_FORCE:
			c->force = 1;
			break;
		case OPT_PROMETHEUS:
			c->prometheus = 1;
			break;
		case OPT_CNI_CONF_DIR:
			c->cni_conf_dir = optarg;
			break;
		case OPT_CNI_BIN_DIR:
			c->cni_bin_dir = optarg;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 3600)
				return usage_error("--timeout takes seconds (0-3600), not '%s'", optarg);
			c->timeout_ms = (int)v * 1000;
			break;
		case 'v':
			sx_log_level++;
			break;
		}
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

static int sub_command(struct cli *c, const char *cmd, const char **sub)
{
	if (c->argc < 1)
		return usage_error("%s: missing subcommand", cmd);
	*sub = c->argv[0];
	c->argc--;
	c->argv++;
	return 0;
}

static int run(const char *cmd, struct cli *c)
{
	const char *sub = NULL;
	int on, r;

	if (!strcmp(cmd, "doctor") || !strcmp(cmd, "cni-chain")) {
		if (c->argc)
			return usage_error("unexpected argument '%s'", c->argv[0]);
		if (!strcmp(cmd, "doctor")) {
			struct sx_doctor_opts o = { c->pin_dir, c->cni_conf_dir ? c->cni_conf_dir : SX_CNI_CONF_DIR,
						    c->cni_bin_dir ? c->cni_bin_dir : SX_CNI_BIN_DIR, c->json };

			return sx_doctor(&o);
		} else {
			struct sx_cni_chain_opts o = { c->cni_conf_dir ? c->cni_conf_dir : SX_CNI_CONF_DIR,
						       c->pin_dir };

			return sx_cni_chain(&o);
		}
	}
	if (!strcmp(cmd, "stats") && c->prometheus) {
		if (c->json)
			return usage_error("--json and --prometheus are two formats: pick one%s", "");
		if (c->argc > 1)
			return usage_error("unexpected argument '%s'", c->argv[1]);
		r = sx_stats_prometheus(c->pin_dir, c->argc ? c->argv[0] : NULL);
		if (r && r != -EPERM)
			pr_warn("sockvxctl: cannot write the metrics%s%s: %s\n", c->argc ? " to " : "",
			       c->argc ? c->argv[0] : "", strerror(-r));
		return r;
	}
	if (!strcmp(cmd, "load") || !strcmp(cmd, "unload") || !strcmp(cmd, "status") ||
	    !strcmp(cmd, "stats")) {
		if (c->argc)
			return usage_error("unexpected argument '%s'", c->argv[0]);
		if (!strcmp(cmd, "load")) {
			struct sx_load_opts o = { .pin_dir = c->pin_dir,
						  .cgroup = c->cgroup,
						  .overlay = c->overlay };

			if ((c->overlay.vni_set || c->overlay.port_set) && !c->overlay.underlay)
				return usage_error("--vni and --vxlan-port need --underlay%s", "");
			return sx_load(&o);
		}
		if (!strcmp(cmd, "unload")) {
			struct sx_unload_opts o = { .pin_dir = c->pin_dir,
						    .timeout_ms = c->timeout_ms,
						    .force = c->force };

			return sx_unload(&o);
		}
		return !strcmp(cmd, "status") ? sx_status(c->pin_dir, c->json) :
						sx_stats(c->pin_dir, c->json);
	}
	if (!strcmp(cmd, "endpoint")) {
		if ((r = sub_command(c, cmd, &sub)))
			return r;
		if (c->mac && !c->dev)
			return usage_error("endpoint: --mac needs --dev%s", "");
		if (c->dev && strcmp(sub, "add"))
			return usage_error("endpoint %s: --dev and --mac apply to add only", sub);
		if (!strcmp(sub, "add"))
			return sx_endpoint_add(c->pin_dir, c->argc, c->argv, c->dev, c->mac);
		if (!strcmp(sub, "del"))
			return sx_endpoint_del(c->pin_dir, c->argc, c->argv);
		if (!strcmp(sub, "list"))
			return c->argc ? usage_error("unexpected argument '%s'", c->argv[0]) :
					 sx_endpoint_list(c->pin_dir, c->json);
		return usage_error("endpoint: unknown subcommand '%s' (add, del, list)", sub);
	}
	if (!strcmp(cmd, "node")) {
		if ((r = sub_command(c, cmd, &sub)))
			return r;
		if (c->node_name && strcmp(sub, "sync"))
			return usage_error("node %s: --node-name applies to sync only", sub);
		if (!strcmp(sub, "add"))
			return c->argc != 2 ? usage_error("node add: expected POD_CIDR NODE_IP%s", "") :
					      sx_node_add(c->pin_dir, c->argv[0], c->argv[1]);
		if (!strcmp(sub, "del"))
			return sx_node_del(c->pin_dir, c->argc, c->argv);
		if (!strcmp(sub, "list"))
			return c->argc ? usage_error("unexpected argument '%s'", c->argv[0]) :
					 sx_node_list(c->pin_dir, c->json);
		if (!strcmp(sub, "sync"))
			return c->argc != 1 ? usage_error("node sync: expected FILE or -%s", "") :
					      sx_node_sync(c->pin_dir, c->argv[0], c->node_name);
		return usage_error("node: unknown subcommand '%s' (add, del, list, sync)", sub);
	}
	if (!strcmp(cmd, "accel")) {
		if (c->argc != 1 || sx_parse_onoff(c->argv[0], &on))
			return usage_error("accel: expected 'on' or 'off'%s", "");
		return sx_accel_set(c->pin_dir, on);
	}
	if (!strcmp(cmd, "exclude-port")) {
		if ((r = sub_command(c, cmd, &sub)))
			return r;
		if (!strcmp(sub, "add") || !strcmp(sub, "del"))
			return sx_exclude_port(c->pin_dir, !strcmp(sub, "add"), c->argc, c->argv);
		if (!strcmp(sub, "list"))
			return sx_exclude_port_list(c->pin_dir, c->json);
		return usage_error("exclude-port: unknown subcommand '%s' (add, del, list)", sub);
	}
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	struct cli c = { .pin_dir = SX_DEFAULT_PIN_DIR, .timeout_ms = 10000 };
	int i, r, lock_fd = -1;
	const char *cmd;

	/* Global flags may come before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("sockvxctl %s\n", SX_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			sx_log_level++;
		else
			return usage_error("unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return usage_error("missing command%s", "");
	cmd = argv[i];
	r = parse_cli(argc - i, argv + i, cmd, &c);
	if (r)
		return r;
	sx_log_setup_libbpf();
	/* Commands that change state run one at a time per pin directory's parent. */
	if (geteuid() == 0 && strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "doctor") &&
	    strcmp(cmd, "cni-chain") &&
	    !(c.argc && !strcmp(c.argv[0], "list")))
		lock_fd = sx_pins_lock(c.pin_dir, true);
	r = run(cmd, &c);
	if (lock_fd >= 0)
		close(lock_fd);
	return r == EXIT_USAGE ? EXIT_USAGE : r ? 1 : 0;
}
