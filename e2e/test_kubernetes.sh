#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/kubernetes without a cluster: the manifests parse and ask for what
# the DaemonSet needs (and no more), and the node agent keeps a simulated
# node's tunnel table in step with a NodeList served by a stand-in API
# server, surviving API errors. No Kubernetes cluster runs here.
source "$(dirname "$0")/lib.sh"
sx_setup
sx_underlay_create
sx_cluster_node 1
K8S="$SX_ROOT/deploy/kubernetes"
AGENT="$K8S/sockvx-node-agent.sh"

# --- manifests ----------------------------------------------------------------------
# manifest PYTHON_EXPR: true when the expression holds for the parsed documents (docs).
manifest() {
	python3 - "$K8S/sockvx.yaml" "$1" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kind = {d["kind"]: d for d in docs}
ds = kind.get("DaemonSet", {}).get("spec", {}).get("template", {}).get("spec", {})
mounts = {v["hostPath"]["path"] for v in ds.get("volumes", []) if "hostPath" in v}
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
check "the manifests parse: ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet" \
	manifest 'sorted(kind) == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "ServiceAccount"]'
check "RBAC: read Nodes, nothing else" \
	manifest 'kind["ClusterRole"]["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]'
check "the DaemonSet runs privileged on the host network, on every node" \
	manifest 'ds["hostNetwork"] and all(c["securityContext"]["privileged"] for c in ds["containers"] + ds["initContainers"]) and ds["tolerations"] == [{"operator": "Exists"}]'
check "... with bpffs, cgroup2, /opt/cni/bin and /etc/cni/net.d from the host" \
	manifest 'mounts == {"/sys/fs/bpf", "/sys/fs/cgroup", "/opt/cni/bin", "/etc/cni/net.d"}'
check "... an init step that installs and loads, and the node agent" \
	manifest '[c["command"][0] for c in ds["initContainers"] + ds["containers"]] == ["/usr/local/sbin/sockvx-install.sh", "/usr/local/sbin/sockvx-node-agent.sh"]'
check "the image carries both scripts (Dockerfile)" \
	grep -q 'COPY deploy/kubernetes/sockvx-install.sh deploy/kubernetes/sockvx-node-agent.sh /usr/local/sbin/' "$K8S/Dockerfile"

# --- the node agent against a stand-in API server ---------------------------------
# It serves API/api/v1/nodes from inside node 1's namespace, where the agent runs.
API="$SX_TMP/api"
mkdir -p "$API/api/v1"
cp "$SX_ROOT/test/data/nodelist-3nodes.json" "$API/api/v1/nodes"
APORT=18443
# spawn PIDFILE CMD...: CMD in node 1's namespace and cgroup (the clean-up
# kills what is left there), in the background; its own pid in PIDFILE.
spawn() {
	local pidfile=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	sx_on_cg 1 sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" &
	sx_eventually test -s "$pidfile"
}
stop() { kill -TERM "$(cat "$1")" 2>/dev/null || true; }
api_up() {
	rm -f "$SX_TMP/api.pid"
	spawn "$SX_TMP/api.pid" python3 -m http.server "$APORT" --bind 127.0.0.1 --directory "$API" \
		>/dev/null 2>&1
	sx_eventually sx_on 1 curl -sf -o /dev/null "http://127.0.0.1:$APORT/api/v1/nodes"
}
api_down() {
	stop "$SX_TMP/api.pid"
	sx_eventually eval '! sx_on 1 curl -sf -o /dev/null "http://127.0.0.1:$APORT/api/v1/nodes"'
}
AGENT_ENV=(SOCKVX_API="http://127.0.0.1:$APORT" SOCKVX_SA_DIR="$SX_TMP/no-sa"
	SOCKVX_PIN_DIR="$(sx_node_pin 1)" SOCKVXCTL="$SOCKVXCTL")
agent() { sx_on 1 env "${AGENT_ENV[@]}" "$@" "$AGENT"; }
table() { sx_nctl 1 node list --json | jq -r '.[] | "\(.podCIDR)=\(.nodeIP)"' | sort | tr '\n' ' '; }
# shellcheck disable=SC2034 # read by the checks' eval
want="10.244.2.0/24=10.99.0.2 10.244.3.0/24=10.99.0.3 fd00:244:2::/64=10.99.0.2 fd00:244:3::/64=10.99.0.3 "

check "the agent's script is POSIX sh" sh -n "$AGENT"
api_up
check "one round: the node table follows the API's Nodes, this node skipped" \
	eval 'agent SOCKVX_ONCE=1 2>"$SX_TMP/agent.log" && [[ $(table) == "$want" ]]'
api_down
agent SOCKVX_ONCE=1 2>"$SX_TMP/agent.log" && rc=0 || rc=$?
check "API down: the round fails, says why, and the table is left as it is" \
	eval '[[ $rc -ne 0 && $(table) == "$want" ]] && grep -q "cannot list Nodes" "$SX_TMP/agent.log"'
# A NodeList where node 3 left and node 4 joined, served once the API is back.
jq '.items |= map(select(.metadata.name != "node-3"))' "$SX_ROOT/test/data/nodelist-3nodes.json" >"$API/api/v1/nodes"
spawn "$SX_TMP/agent.pid" env "${AGENT_ENV[@]}" SOCKVX_SYNC_SECONDS=1 SOCKVX_MAX_BACKOFF_SECONDS=2 \
	"$AGENT" 2>"$SX_TMP/agent-loop.log"
sleep 2.5
check "running, it backs off while the API is down" grep -q "next attempt in 2s" "$SX_TMP/agent-loop.log"
api_up
synced() { [[ $(table) == "10.244.2.0/24=10.99.0.2 fd00:244:2::/64=10.99.0.2 " ]]; }
check "... and catches up once it is back (a node left)" eval 'for _ in $(seq 1 50); do synced && break; sleep 0.2; done; synced'
# shellcheck disable=SC2034 # read by the check's eval
agent_pid=$(cat "$SX_TMP/agent.pid")
stop "$SX_TMP/agent.pid"
check "it stops on SIGTERM" sx_eventually eval '! kill -0 "$agent_pid" 2>/dev/null'
api_down
sx_done
