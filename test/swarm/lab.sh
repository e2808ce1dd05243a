#!/usr/bin/env bash
# A Docker Swarm lab on one machine (docs/admin/swarm.md "Trying it on one machine: the Swarm lab"): N dockerd nodes, each in a network
# namespace of its own (test/engines/engine.sh), joined as one swarm with node 1 the manager. Each
# node runs the NVIDIA hook stand-in and advertises the GPUs of a replayed host as Swarm generic
# resources (one kind per MIG profile, NVIDIA-GPU for whole GPUs), from the real captures the
# nvidia-smi stand-in replays; the workspace image is loaded on each.
#
#   lab.sh up N [IMAGE]   make nodes lab1..labN (N: 1-9), print the manager's DOCKER_HOST
#   lab.sh down           remove every node and everything the lab made
#
# Nodes reach each other through the machine: node K is 10.250.(50+K).2, the machine's end of its
# veth 10.250.(50+K).1; traffic between the lab's veths is accepted in DOCKER-USER.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ENGINE="$HERE/../engines/engine.sh"
STAND_IN="$HERE/../stand-ins/nvidia-smi.mjs"
RUN=/run/sandman-test-engines
ROOT=/var/lib/sandman-test-engines
HOOK_DIR=/usr/local/lib/sandman-test/bin
# The hook stand-in's list of devices hosts have (test/stand-ins/nvidia-container-runtime-hook).
REGISTRY=/var/tmp/sandman-test-gpu-hosts
HOSTS=(a100-mig-r580 h100-mig-masked rtx-pro-6000-x8-no-mig)
RULE=(DOCKER-USER -i smv-lab+ -o smv-lab+ -j ACCEPT)

usage() { sed -n '8,9p' "$0" >&2; exit 2; }

# "--node-generic-resource KIND=UUID" for every GPU or MIG device the replayed host lists.
generic_resources() {
  SANDMAN_FAKE_GPU_HOST="$1" node "$STAND_IN" -L | node -e '
    const lines = require("fs").readFileSync(0, "utf8").split("\n");
    const args = [];
    let gpu;
    for (const raw of lines) {
      const line = raw.replace(/\r$/, "");
      const g = /^GPU \d+: .* \(UUID: (GPU-[^)]+)\)$/.exec(line);
      if (g) { if (gpu && !gpu.mig) args.push(`NVIDIA-GPU=${gpu.uuid}`); gpu = {uuid: g[1], mig: false}; continue; }
      const m = /^\s+MIG (\S+)\s+Device\s+\d+: \(UUID: (MIG-[^)]+)\)$/.exec(line);
      if (m && gpu) { gpu.mig = true; args.push(`NVIDIA-MIG-${m[1]}=${m[2]}`); }
    }
    if (gpu && !gpu.mig) args.push(`NVIDIA-GPU=${gpu.uuid}`);
    process.stdout.write(args.join(" "));
  '
}

# The runtime's config.toml for those resources: swarm-resource names each DOCKER_RESOURCE_<KIND>
# (Docker upper-cases the kind in that name).
runtime_config() {
  local kinds
  kinds=$(for resource in $1; do echo "DOCKER_RESOURCE_${resource%%=*}"; done | tr a-z A-Z | sort -u | paste -sd, -)
  printf '[nvidia-container-runtime]\nswarm-resource = "%s"\n' "$kinds"
}

case "${1:-}" in
  up)
    count=${2:-}
    image=${3:-${SANDMAN_TEST_IMAGE:-sandman-test/workspace:latest}}
    case "$count" in [1-9]) ;; *) usage ;; esac
    iptables -C "${RULE[@]}" 2>/dev/null || iptables -I "${RULE[@]}"
    for k in $(seq 1 "$count"); do
      host=${HOSTS[$(( (k - 1) % ${#HOSTS[@]} ))]}
      resources=$(generic_resources "$host")
      xdg="$ROOT/lab$k-config"
      mkdir -p "$xdg/nvidia-container-runtime"
      runtime_config "$resources" >"$xdg/nvidia-container-runtime/config.toml"
      args="--add-runtime nvidia=$HOOK_DIR/nvidia-container-runtime --default-runtime nvidia"
      for resource in $resources; do args="$args --node-generic-resource $resource"; done
      mkdir -p "$REGISTRY"
      for resource in $resources; do echo "${resource#*=}"; done >"$REGISTRY/lab$k"
      ENGINE_HOSTNAME="lab$k" ENGINE_ENV="XDG_CONFIG_HOME=$xdg DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1" \
        ENGINE_DOCKERD_ARGS="$args" bash "$ENGINE" up "lab$k" $((50 + k)) "$image" >/dev/null
    done
    manager="unix://$RUN/lab1.sock"
    if [ "$(DOCKER_HOST=$manager docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
      DOCKER_HOST=$manager docker swarm init --advertise-addr 10.250.51.2 >/dev/null
    fi
    token=$(DOCKER_HOST=$manager docker swarm join-token -q worker)
    for k in $(seq 2 "$count"); do
      node="unix://$RUN/lab$k.sock"
      if [ "$(DOCKER_HOST=$node docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
        DOCKER_HOST=$node docker swarm join --token "$token" --advertise-addr "10.250.$((50 + k)).2" 10.250.51.2:2377 >/dev/null
      fi
    done
    for _ in $(seq 1 60); do
      ready=$(DOCKER_HOST=$manager docker node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
      [ "$ready" -ge "$count" ] && break
      sleep 0.5
    done
    echo "DOCKER_HOST=$manager"
    ;;
  down)
    # Every node is taken down even when one of them fails to; the exit status says so.
    failed=0
    for socket in "$RUN"/lab*.sock; do
      [ -S "$socket" ] || continue
      name=$(basename "$socket" .sock)
      DOCKER_HOST="unix://$socket" docker swarm leave --force >/dev/null 2>&1 || true
      bash "$ENGINE" down "$name" || failed=1
      rm -rf "$ROOT/$name-config" "$REGISTRY/$name"
    done
    iptables -D "${RULE[@]}" 2>/dev/null || true
    exit "$failed"
    ;;
  *) usage ;;
esac
