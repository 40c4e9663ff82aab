#!/usr/bin/env bash
# End-to-end on real containers: builds the image offline, brings up the
# default lab with Docker Compose, drives it with `vnet --compose`, kills and
# restarts a router, runs a generated 16-router chain, and always tears
# everything down. Prints "N passed, M failed" last.
#
#   deploy/docker/e2e.sh            (needs Docker; skips with a reason otherwise)
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
project=vnet-e2e
chain_project=vnet-e2e-chain
chain_file="$(mktemp --suffix=.yml)"

if ! docker info >/dev/null 2>&1; then
  echo "SKIP docker e2e: the Docker daemon is not reachable"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "SKIP docker e2e: neither 'docker compose' nor 'docker-compose' is installed"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi

target_dir="${CARGO_TARGET_DIR:-target}"
vnet="$target_dir/debug/vnet"
[ -x "$vnet" ] || cargo build --bin vnet

check() { # name, command...
  local name="$1"; shift
  if "$@"; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; failed=$((failed + 1))
  fi
}

teardown() {
  "${compose[@]}" -p "$project" -f docker-compose.yml down --remove-orphans -t 2 >/dev/null 2>&1
  "${compose[@]}" -p "$chain_project" -f "$chain_file" down --remove-orphans -t 2 >/dev/null 2>&1
  rm -f "$chain_file"
}
trap teardown EXIT

wait_healthy() { # compose file; waits until every device answers
  local file="$1"
  for _ in $(seq 1 120); do
    if "$vnet" --compose --compose-file "$file" status >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  "$vnet" --compose --compose-file "$file" status
  return 1
}

echo "--- image"
check "image builds offline (FROM scratch, static binaries)" deploy/docker/build-image.sh

echo "--- default lab"
check "committed docker-compose.yml equals a fresh 'vnet gen compose configs/lab.toml'" \
  diff -u docker-compose.yml <("$vnet" gen compose configs/lab.toml)
check "compose up" "${compose[@]}" -p "$project" -f docker-compose.yml up -d
check "every device healthy" wait_healthy docker-compose.yml

# Output is captured and echoed, never `tee /dev/stderr`: reopening stderr
# would truncate a log file the caller redirected it to.
ping_ok() {
  local out
  out="$("$vnet" --compose --compose-file "$1" exec client -- ping -c 3 -i 0.2 -W 2 10.0.3.10 || true)"
  printf '%s\n' "$out"
  grep -q ' 0% packet loss' <<<"$out"
}
check "client pings web through sw1, r1, r2, r3, sw2" ping_ok docker-compose.yml

hops() {
  local out
  out="$("$vnet" --compose --compose-file "$1" exec client -- traceroute -w 2 10.0.3.10 || true)"
  printf '%s\n' "$out" >&2
  tail -n +2 <<<"$out" | wc -l
}
check "traceroute: three routers, then web" test "$(hops docker-compose.yml)" -eq 4

browse_ok() {
  local out
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- browse http://www.example.com/ || true)"
  printf '%s\n' "$out"
  grep -q '5 requests, 5 ok' <<<"$out" && grep -q 'over 1 TCP connection' <<<"$out"
}
check "browse: DHCP, DNS via the resolver, page + 4 resources over one connection" browse_ok

check "vnet --compose link down cuts r2:eth1" "$vnet" --compose --compose-file docker-compose.yml link down r2:eth1
lost() { # ping exits 1 when nothing comes back: that is the expected outcome here
  local out
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- ping -c 2 -i 0.2 -W 1 10.0.3.10 || true)"
  grep -q '100% packet loss' <<<"$out"
}
check "pings are lost while the link is down" lost
check "vnet --compose link up restores it" "$vnet" --compose --compose-file docker-compose.yml link up r2:eth1
check "pings pass again" ping_ok docker-compose.yml

check "docker compose stop r2 (a router dies)" "${compose[@]}" -p "$project" -f docker-compose.yml stop -t 2 r2
check "pings are lost while r2 is stopped" lost
check "docker compose start r2" "${compose[@]}" -p "$project" -f docker-compose.yml start r2
check "lab healthy again" wait_healthy docker-compose.yml
check "pings pass after r2 restarts" ping_ok docker-compose.yml

check "compose down" "${compose[@]}" -p "$project" -f docker-compose.yml down -t 2
leftovers() { test -z "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" && ! docker network ls --format '{{.Name}}' | grep -q "^${project}_"; }
check "no container or network left behind" leftovers

echo "--- chain of 16 routers"
check "vnet gen compose --chain 16" "$vnet" gen compose --chain 16 --subnet 172.29.1 --admin-port-base 18000 -o "$chain_file"
check "chain up" "${compose[@]}" -p "$chain_project" -f "$chain_file" up -d
check "chain healthy" wait_healthy "$chain_file"
check "traceroute: 16 router hops, then web" test "$(hops "$chain_file")" -eq 17
check "ping across the chain" ping_ok "$chain_file"
check "chain down" "${compose[@]}" -p "$chain_project" -f "$chain_file" down -t 2

echo "docker e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
