#!/usr/bin/env bash
# End-to-end on a real Docker Swarm (one node here; the same stack spans
# many): deploys the default lab as a stack with the offline override
# (vnet's own trace receiver in place of Jaeger), drives it with
# `vnet --swarm`, follows one browse as a trace across >= 7 services, kills
# a middle router's container during a 5 MiB download (Swarm starts a new
# task at a new address; the cables re-resolve and the download completes
# byte-exact), runs a generated 16-router chain, checks that an emulated
# MTU-1500 link carries full-size frames over the 1450-byte overlay, and
# always removes what it deployed. Prints "N passed, M failed" last.
#
#   deploy/swarm/e2e.sh    (needs Docker; fails without it when CI=true)
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
stack=vnete2e
chain_stack=vnete2echain
work="$(mktemp -d)"
fetch_pid=""
we_initialised_swarm=""

skip() {
  echo "SKIP swarm e2e: $1"
  rm -rf "$work"
  if [ "${CI:-}" = "true" ]; then
    echo "0 passed, 1 failed (CI=true: this machine must have what the test needs)"
    exit 1
  fi
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
}

docker info >/dev/null 2>&1 || skip "the Docker daemon is not reachable"

target_dir="${CARGO_TARGET_DIR:-target}"
vnet="$target_dir/debug/vnet"
[ -x "$vnet" ] || cargo build --bin vnet
sw() { "$vnet" --swarm "$1" "${@:2}"; }

check() { # name, command...
  local name="$1"; shift
  local t0=$SECONDS
  if "$@"; then
    echo "ok   $name ($((SECONDS - t0)) s)"; passed=$((passed + 1))
  else
    echo "FAIL $name ($((SECONDS - t0)) s)"; failed=$((failed + 1))
  fi
}

remove_stack() { # waits until no container or network of the stack is left
  docker stack rm "$1" >/dev/null 2>&1
  # Up to 120 s: on 2 busy cores Swarm took over 30 s to remove the 20
  # containers and the overlay network of the chain.
  for _ in $(seq 1 240); do
    if [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$1")" ] &&
      ! docker network ls --format '{{.Name}}' | grep -q "^$1_"; then
      return 0
    fi
    sleep 0.5
  done
  echo "left of stack $1 after 120 s:"
  docker ps -a --filter "label=com.docker.stack.namespace=$1" --format '  {{.Names}} {{.Status}}'
  docker network ls --format '  {{.Name}}' | grep "^  $1_"
  return 1
}

teardown() {
  [ -n "$fetch_pid" ] && kill "$fetch_pid" 2>/dev/null
  remove_stack "$stack"
  remove_stack "$chain_stack"
  if [ -n "$we_initialised_swarm" ]; then docker swarm leave --force >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap teardown EXIT

echo "--- swarm"
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  # Loopback advertise address: a one-node swarm that talks to nobody. The
  # address pool keeps overlay subnets apart from the labs' emulated 10.x.
  if docker swarm init --advertise-addr 127.0.0.1 \
    --default-addr-pool 172.31.0.0/16 --default-addr-pool-mask-length 24 >/dev/null; then
    we_initialised_swarm=1
    echo "initialised a one-node swarm (left again at the end)"
  else
    skip "docker swarm init failed"
  fi
fi

check "image builds offline (FROM scratch, static binaries)" deploy/docker/build-image.sh

# The web root: the default content plus big.bin (5 MiB), bind-mounted over
# the image's /www (one node: the path exists where the task runs).
cp -r configs/www "$work/www"
seq -w 1 1000000 | head -c 5242880 >"$work/www/big.bin"
chmod -R a+rX "$work"
big_sha256="$(sha256sum "$work/www/big.bin" | cut -d ' ' -f 1)"
cat >"$work/e2e.yml" <<YAML
version: "3.8"
services:
  web:
    volumes:
      - type: bind
        source: $work/www
        target: /www
        read_only: true
YAML

echo "--- default lab as a stack"
check "committed deploy/swarm/lab-stack.yml equals a fresh 'vnet gen swarm configs/lab.toml'" \
  diff -u deploy/swarm/lab-stack.yml <("$vnet" gen swarm configs/lab.toml)
check "committed deploy/swarm/lab-stack.offline.yml equals a fresh '--offline-override'" \
  diff -u deploy/swarm/lab-stack.offline.yml <("$vnet" gen swarm configs/lab.toml --offline-override)
check "vnet gen swarm configs/lab.toml --tls-ca: the stack with a CA and web's certificate" \
  "$vnet" gen swarm configs/lab.toml --tls-ca "$work/lab-ca.pem" -o "$work/lab-stack-tls.yml"
check "docker stack deploy" docker stack deploy --prune \
  -c "$work/lab-stack-tls.yml" -c deploy/swarm/lab-stack.offline.yml -c "$work/e2e.yml" "$stack"

wait_healthy() { # stack; until `vnet --swarm` sees every device ready
  for _ in $(seq 1 180); do
    if sw "$1" status >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  sw "$1" status
  return 1
}
check "vnet --swarm status: every device healthy" wait_healthy "$stack"
sw "$stack" status

ping_ok() { # stack, target, extra ping args...
  local out
  out="$(sw "$1" exec client -- ping -c 3 -i 0.2 -W 2 "${@:3}" "$2" || true)"
  printf '%s\n' "$out"
  grep -q ' 0% packet loss' <<<"$out"
}
check "client pings web through sw1, r1, r2, r3, sw2 over overlay cables" ping_ok "$stack" 10.0.3.10
# 1472 bytes of ICMP data with DF: a full 1500-byte IP packet in a 1518-byte
# frame, in a carrier datagram larger than the overlay's 1450-byte MTU.
check "MTU 1500 across the 1450-byte overlay: ping -M do -s 1472 to r1" \
  ping_ok "$stack" 10.0.1.1 -M do -s 1472
overlay_mtu() {
  local mtu
  mtu="$(docker network inspect "${stack}_cables" --format '{{index .Options "com.docker.network.driver.mtu"}}')"
  echo "overlay driver MTU option: '${mtu:-default (1450 for VXLAN)}'"
}
overlay_mtu

browse_ok() {
  local out
  out="$(sw "$stack" exec client -- browse http://www.example.com/ || true)"
  printf '%s\n' "$out"
  grep -q '5 requests, 5 ok' <<<"$out" && grep -q 'over 1 TCP connection' <<<"$out"
}
check "browse: DHCP, DNS, page + 4 resources over one connection" browse_ok
https_ok() { # the lab CA from --tls-ca, web's certificate for www.example.com
  local out
  out="$(sw "$stack" exec client -- browse https://www.example.com/ || true)"
  printf '%s\n' "$out"
  grep -q '5 requests, 5 ok' <<<"$out" && grep -q 'TLS handshake in .*TLS 1.3' <<<"$out"
}
check "browse https://: TLS 1.3 with the lab CA over overlay cables" https_ok

trace_ok() { # browse --trace; the receiver holds it with spans from >= 7 services
  local out id services="" n=0
  out="$(sw "$stack" exec client -- browse http://www.example.com/ --trace || true)"
  id="$(sed -n 's/^trace \([0-9a-f]\{32\}\)$/\1/p' <<<"$out" | head -n 1)"
  if [ -z "$id" ]; then printf '%s\n' "$out"; return 1; fi
  for _ in $(seq 1 20); do
    services="$(sw "$stack" trace list 2>/dev/null | awk -v id="$id" '$1 == id { print $5 }')"
    n="$(tr ',' '\n' <<<"$services" | grep -c .)"
    [ "$n" -ge 7 ] && break
    sleep 0.5
  done
  echo "trace $id: $n services: $services"
  [ "$n" -ge 7 ]
}
check "browse --trace: one trace with spans from >= 7 services" trace_ok
shown() {
  local out
  out="$(sw "$stack" trace show last || true)"
  printf '%s\n' "$out" | head -n 20
  grep -q 'r2' <<<"$out"
}
check "vnet --swarm trace show last: the timeline names r2" shown

check "vnet --swarm link down r2:eth1" sw "$stack" link down r2:eth1
lost() {
  local out
  out="$(sw "$stack" exec client -- ping -c 2 -i 0.2 -W 1 10.0.3.10 || true)"
  grep -q '100% packet loss' <<<"$out"
}
check "pings are lost while the link is down" lost
check "vnet --swarm link up r2:eth1" sw "$stack" link up r2:eth1
check "pings pass again" ping_ok "$stack" 10.0.3.10
show_ok() { sw "$stack" show r1 leases | grep -q '10.0.1.100'; }
check "vnet --swarm show r1 leases: the client's DHCP lease" show_ok
capture_ok() {
  sw "$stack" capture r2:eth1 -w "$work/r2.pcapng" -c 4 --seconds 10 &
  local cap=$!
  sleep 1
  sw "$stack" exec client -- ping -c 3 -i 0.2 10.0.3.10 >/dev/null
  wait "$cap" && [ "$(od -An -tx1 -N4 "$work/r2.pcapng" | tr -d ' ')" = "0a0d0d0a" ]
}
check "vnet --swarm capture r2:eth1 streams pcapng back" capture_ok

echo "--- 5 MiB download while a middle router's container is killed"
task_ip() { # the current task address of device $1 on the cable network
  local id
  id="$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_$1" | head -n 1)"
  [ -n "$id" ] && docker inspect "$id" --format "{{(index .NetworkSettings.Networks \"${stack}_cables\").IPAddress}}"
}
check "vnet --swarm link impair r3:eth0 --rate 8mbit" sw "$stack" link impair r3:eth0 --rate 8mbit
old_ip="$(task_ip r2)"
timeout 150 "$vnet" --swarm "$stack" exec client -- fetch http://www.example.com/big.bin --sha256 \
  >"$work/fetch.out" 2>"$work/fetch.err" &
fetch_pid=$!
started=$SECONDS
sleep 1.5
under_way() {
  local out
  kill -0 "$fetch_pid" 2>/dev/null || return 1
  out="$(sw "$stack" exec client -- ss || true)"
  grep -q 'ESTABLISHED .* 10\.0\.3\.10:80 ' <<<"$out"
}
check "the download is under way" under_way
r2_container="$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_r2" | head -n 1)"
check "docker kill r2's container ($old_ip)" docker kill "$r2_container"
new_task() { # Swarm replaces the task; wait for its new container's address
  for _ in $(seq 1 90); do
    local ip
    ip="$(task_ip r2 || true)"
    if [ -n "$ip" ] && [ "$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_r2" | head -n 1)" != "$r2_container" ]; then
      echo "r2: old task $old_ip, new task $ip"
      return 0
    fi
    sleep 1
  done
  return 1
}
check "Swarm starts a new r2 task" new_task
fetched() {
  local rc=0
  wait "$fetch_pid" || rc=$?
  fetch_pid=""
  echo "fetch exited $rc after $((SECONDS - started)) s:"
  cat "$work/fetch.out" "$work/fetch.err"
  [ "$rc" -eq 0 ] && [ "$(cat "$work/fetch.out")" = "200 5242880 bytes sha256 $big_sha256" ]
}
check "the download completes byte-exact (cables re-resolved r2)" fetched
moved() { # r1's cable to r2 followed it (or r2 came back at the same address)
  local moves
  moves="$(sw "$stack" status --json | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    if d["name"] == "r1":
        print(sum(i["counters"].get("peer_moves", 0) for i in d["status"]["interfaces"]))')"
  echo "r1 peer_moves: $moves (old $old_ip, new $(task_ip r2))"
  [ "${moves:-0}" -ge 1 ] || [ "$old_ip" = "$(task_ip r2)" ]
}
check "r1's cable end followed r2 to its new address" moved
check "vnet --swarm link impair r3:eth0 --clear" sw "$stack" link impair r3:eth0 --clear

echo "--- device lifecycle through the orchestrator"
check "vnet --swarm stop r2 (scaled to 0)" sw "$stack" stop r2
check "pings are lost while r2 is stopped" lost
check "vnet --swarm start r2 (scaled to 1)" sw "$stack" start r2
check "lab healthy again" wait_healthy "$stack"
check "pings pass after r2 is back" ping_ok "$stack" 10.0.3.10
check "vnet --swarm restart r1 (a forced update: new task, new address)" sw "$stack" restart r1
check "lab healthy after the restart" wait_healthy "$stack"
check "pings pass after r1's restart" ping_ok "$stack" 10.0.3.10

check "docker stack rm leaves no service, container or network" remove_stack "$stack"

echo "--- chain of 16 routers as a stack"
gen_chain() {
  "$vnet" gen swarm --chain 16 -o "$work/chain.yml" &&
    "$vnet" gen swarm --chain 16 --offline-override -o "$work/chain.offline.yml"
}
check "vnet gen swarm --chain 16" gen_chain
check "docker stack deploy the chain" docker stack deploy -c "$work/chain.yml" -c "$work/chain.offline.yml" "$chain_stack"
check "chain healthy" wait_healthy "$chain_stack"
hops() {
  local out
  out="$(sw "$chain_stack" exec client -- traceroute -w 2 10.0.3.10 || true)"
  printf '%s\n' "$out" >&2
  tail -n +2 <<<"$out" | wc -l
}
check "traceroute: 16 router hops, then web" test "$(hops)" -eq 17
check "docker stack rm the chain" remove_stack "$chain_stack"

echo "swarm e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
