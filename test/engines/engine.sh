#!/usr/bin/env bash
# Extra Docker engines on this one machine, each a dockerd in a network namespace of its own: a
# host that can be restarted (or, for the swarm lab, a node) without touching the machine's own
# engine. Each engine has its own data-root, exec-root, socket and pidfile, and a veth pair to the
# machine: the machine is 10.250.N.1, the engine's namespace 10.250.N.2.
#
#   engine.sh up NAME N [IMAGE...]   start engine NAME (N: 1-250), load IMAGEs from the machine's
#                                    engine, print its DOCKER_HOST (ENGINE_DOCKERD_ARGS: more
#                                    dockerd arguments, e.g. --node-generic-resource;
#                                    ENGINE_HOSTNAME: the host name it sees, in a UTS namespace
#                                    of its own; ENGINE_ENV: NAME=VALUE words for its environment)
#   engine.sh restart NAME           stop dockerd (as a host shutdown does) and start it again
#   engine.sh down NAME              stop it and remove everything it made
#
# dockerd is started with nsenter --net (ip netns exec would hide the cgroup mounts from it), with
# the NVIDIA hook stand-in on its PATH as .ci/run puts it on the machine engine's.
set -euo pipefail

ROOT=/var/lib/sandman-test-engines
RUN=/run/sandman-test-engines
HOOK_DIR=/usr/local/lib/sandman-test/bin

usage() { sed -n '7,13p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1 name=$2
case "$name" in *[!a-z0-9]*|'') echo "engine name: lower-case letters and digits" >&2; exit 2 ;; esac
netns="sandman-$name"
socket="$RUN/$name.sock"
pidfile="$RUN/$name.pid"
log="$RUN/$name.log"
stopping="$RUN/$name.stopping"

start_dockerd() {
  mkdir -p "$RUN" "$ROOT/$name"
  # A host name of its own (a swarm node's name) needs a UTS namespace of its own.
  local uts=()
  [ -z "${ENGINE_HOSTNAME:-}" ] || uts=(unshare --uts sh -c 'hostname "$0" && exec "$@"' "$ENGINE_HOSTNAME")
  rm -f "$stopping"
  # As docker.service does (Restart=always, RestartSec=2): a dockerd that dies without being
  # stopped is started again. Debian's 20.10 has a swarmkit race (a nil task in
  # SetServiceTasksRemove, fixed upstream in swarmkit 8d571f3) that can crash a manager removing a
  # service; on a real host systemd brings it back, and so does this loop for the lab.
  env PATH="$HOOK_DIR:$PATH" STOPPING="$stopping" ${ENGINE_ENV:-} setsid "${uts[@]}" nsenter --net="/var/run/netns/$netns" \
    sh -c 'while [ ! -e "$STOPPING" ]; do "$@" || true; [ -e "$STOPPING" ] || { echo "engine.sh: dockerd exited; starting it again" >&2; sleep 2; }; done' \
    sh dockerd --data-root "$ROOT/$name" --exec-root "$RUN/$name.exec" -H "unix://$socket" \
    --pidfile "$pidfile" --bridge none --iptables=true ${ENGINE_DOCKERD_ARGS:-} >>"$log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    DOCKER_HOST="unix://$socket" docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "engine $name did not start:" >&2
  tail -n 30 "$log" >&2
  exit 1
}

stop_dockerd() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  : >"$stopping"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  rm -f "$pidfile"
}

case "$command" in
  up)
    [ $# -ge 3 ] || usage
    n=$3
    shift 3
    if ! ip netns list | grep -qx "$netns\( .*\)\?"; then
      ip netns add "$netns"
      ip link add "smv-$name" type veth peer name eth0 netns "$netns"
      ip addr add "10.250.$n.1/24" dev "smv-$name"
      ip link set "smv-$name" up
      ip -n "$netns" addr add "10.250.$n.2/24" dev eth0
      ip -n "$netns" link set eth0 up
      ip -n "$netns" link set lo up
      ip -n "$netns" route add default via "10.250.$n.1"
      # The host's reserved ports (.ci/run keeps the tests' ports out of the ephemeral range), here
      # too: a namespace starts with none, and its dockerd's outgoing connections could take a
      # port a session publishes on this node.
      reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
      [ -z "$reserved" ] ||
        nsenter --net="/var/run/netns/$netns" sh -c 'echo "$1" >/proc/sys/net/ipv4/ip_local_reserved_ports' sh "$reserved"
    fi
    DOCKER_HOST="unix://$socket" docker info >/dev/null 2>&1 || start_dockerd
    for image in "$@"; do
      if ! DOCKER_HOST="unix://$socket" docker image inspect "$image" >/dev/null 2>&1; then
        docker save "$image" | DOCKER_HOST="unix://$socket" docker load >/dev/null
      fi
    done
    echo "unix://$socket"
    ;;
  restart)
    stop_dockerd
    start_dockerd
    ;;
  down)
    if [ -S "$socket" ]; then
      ids=$(DOCKER_HOST="unix://$socket" docker ps -aq 2>/dev/null || true)
      [ -z "$ids" ] || DOCKER_HOST="unix://$socket" docker rm -f $ids >/dev/null 2>&1 || true
    fi
    stop_dockerd
    ip link del "smv-$name" 2>/dev/null || true
    ip netns del "$netns" 2>/dev/null || true
    # A dockerd that stopped with containers still mounted leaves mounts behind: rm would fail.
    awk -v data="$ROOT/$name" -v exec="$RUN/$name.exec" \
      'index($2, data "/") == 1 || $2 == data || index($2, exec "/") == 1 || $2 == exec { print $2 }' /proc/mounts |
      sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
    rm -rf "$ROOT/$name" "$RUN/$name.exec" "$socket" "$log" "$stopping"
    ;;
  *) usage ;;
esac
