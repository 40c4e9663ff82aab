#!/usr/bin/env bash
# End-to-end on real containers: builds the image offline, brings up the
# default lab with Docker Compose (plus docker-compose.offline.yml: vnet's own
# trace receiver in place of Jaeger, which cannot be pulled offline), drives
# it with `vnet --compose`, checks one request's trace across the devices,
# kills and restarts a router (also in the middle of a 5 MiB download), runs
# a generated 16-router chain, and always tears everything down. Prints
# "N passed, M failed" last.
#
#   deploy/docker/e2e.sh            (needs Docker; skips with a reason otherwise)
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
project=vnet-e2e
chain_project=vnet-e2e-chain
# Scratch space: the web root with the big file, the e2e override, the chain.
work="$(mktemp -d)"
chain_file="$work/chain.yml"
chain_offline="$work/chain.offline.yml"
fetch_pid=""
# The default lab with HTTPS (`vnet gen compose --tls-ca`: the committed
# file plus certificates), the offline trace receiver, web serving $work/www.
lab=(-p "$project" -f "$work/lab-tls.yml" -f docker-compose.offline.yml -f "$work/e2e.yml")
chain=(-p "$chain_project" -f "$chain_file" -f "$chain_offline")

skip() { # reason: skips, except under CI=true where Docker must be there
  echo "SKIP docker e2e: $1"
  rm -rf "$work"
  if [ "${CI:-}" = "true" ]; then
    echo "0 passed, 1 failed (CI=true: this machine must have what the test needs)"
    exit 1
  fi
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
}

if ! docker info >/dev/null 2>&1; then
  skip "the Docker daemon is not reachable"
fi
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  skip "neither 'docker compose' nor 'docker-compose' is installed"
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
  [ -n "$fetch_pid" ] && kill "$fetch_pid" 2>/dev/null
  "${compose[@]}" "${lab[@]}" down --remove-orphans -t 2 >/dev/null 2>&1
  if [ -f "$chain_file" ] && [ -f "$chain_offline" ]; then
    "${compose[@]}" "${chain[@]}" down --remove-orphans -t 2 >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap teardown EXIT

# The web root of this run: the default content plus big.bin (5 MiB,
# deterministic, not in the image), mounted read-only over the image's /www.
# Devices run as uid 65534: everything must be world-readable.
cp -r configs/www "$work/www"
seq -w 1 1000000 | head -c 5242880 >"$work/www/big.bin"
chmod -R a+rX "$work"
big_sha256="$(sha256sum "$work/www/big.bin" | cut -d ' ' -f 1)"
cat >"$work/e2e.yml" <<YAML
# e2e only: web serves configs/www plus big.bin from $work/www.
services:
  web:
    volumes:
      - "$work/www:/www:ro"
YAML

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
check "committed docker-compose.offline.yml equals a fresh 'vnet gen compose configs/lab.toml --offline-override'" \
  diff -u docker-compose.offline.yml <("$vnet" gen compose configs/lab.toml --offline-override)
offline_merges() {
  local out
  out="$("${compose[@]}" "${lab[@]}" config)" && grep -q -- '- /vnet-collector' <<<"$out"
}
check "vnet gen compose configs/lab.toml --tls-ca: the lab with a CA and web's certificate" \
  "$vnet" gen compose configs/lab.toml --tls-ca "$work/lab-ca.pem" -o "$work/lab-tls.yml"
check "the offline override merges: the jaeger service runs /vnet-collector" offline_merges
check "compose up" "${compose[@]}" "${lab[@]}" up -d
check "every device healthy" wait_healthy docker-compose.yml
no_admin_published() { # only the trace receiver publishes a port; admin APIs stay in the containers
  local ports
  ports="$(docker ps --filter "label=com.docker.compose.project=$project" --filter label=vnet.device --format '{{.Ports}}')"
  printf '%s\n' "$ports"
  ! grep -q -- '->7000' <<<"$ports"
}
check "no admin API is published on the host (reached by docker exec)" no_admin_published
idle_rss() { # a figure, not a check: memory of each idle device (release, static)
  # RSS counts the binary's code pages that every device shares; PSS divides
  # shared pages among the processes mapping them (what a device costs).
  local c pid kb anon pss total=0 total_pss=0 n=0
  for c in $(docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=vnet.device); do
    pid="$(docker inspect -f '{{.State.Pid}}' "$c")"
    kb="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)" || continue
    anon="$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
    pss="$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null)"
    [ -n "$kb" ] && [ -n "$pss" ] || continue
    printf '  %-24s %6d KiB resident (%d KiB anonymous), %d KiB proportional\n' \
      "$(docker inspect -f '{{index .Config.Labels "vnet.device"}}' "$c")" "$kb" "$anon" "$pss"
    total=$((total + kb)); total_pss=$((total_pss + pss)); n=$((n + 1))
  done
  [ "$n" -gt 0 ] && echo "  idle device memory: average RSS $((total / n)) KiB, PSS $((total_pss / n)) KiB over $n devices (goal <= 6144 KiB)"
}
check "idle device memory (release images)" idle_rss

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
https_ok() { # the lab CA from --tls-ca, web's certificate for www.example.com
  local out
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- browse https://www.example.com/ || true)"
  printf '%s\n' "$out"
  grep -q '5 requests, 5 ok' <<<"$out" && grep -q 'TLS handshake in .*TLS 1.3' <<<"$out"
}
check "browse https://: TLS 1.3 with the lab CA, page + 4 resources over one TLS connection" https_ok

trace_ok() { # browse --trace; the receiver must hold that trace with spans from >= 7 devices
  local out id services="" n=0
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- browse http://www.example.com/ --trace || true)"
  id="$(sed -n 's/^trace \([0-9a-f]\{32\}\)$/\1/p' <<<"$out" | head -n 1)"
  if [ -z "$id" ]; then printf '%s\n' "$out"; return 1; fi
  # Devices export in 200 ms batches: give the last ones time to arrive.
  for _ in $(seq 1 20); do
    services="$("$vnet" --compose --compose-file docker-compose.yml trace list 2>/dev/null |
      awk -v id="$id" '$1 == id { print $5 }')"
    n="$(tr ',' '\n' <<<"$services" | grep -c .)"
    [ "$n" -ge 7 ] && break
    sleep 0.5
  done
  echo "trace $id: $n services: $services"
  [ "$n" -ge 7 ]
}
check "browse --trace: the receiver holds the trace, with spans from >= 7 devices" trace_ok

check "vnet --compose link down cuts r2:eth1" "$vnet" --compose --compose-file docker-compose.yml link down r2:eth1
lost() { # ping exits 1 when nothing comes back: that is the expected outcome here
  local out
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- ping -c 2 -i 0.2 -W 1 10.0.3.10 || true)"
  grep -q '100% packet loss' <<<"$out"
}
check "pings are lost while the link is down" lost
check "vnet --compose link up restores it" "$vnet" --compose --compose-file docker-compose.yml link up r2:eth1
check "pings pass again" ping_ok docker-compose.yml

check "docker compose stop r2 (a router dies)" "${compose[@]}" "${lab[@]}" stop -t 2 r2
check "pings are lost while r2 is stopped" lost
check "docker compose start r2" "${compose[@]}" "${lab[@]}" start r2
check "lab healthy again" wait_healthy docker-compose.yml
check "pings pass after r2 restarts" ping_ok docker-compose.yml

echo "--- 5 MiB download across a router restart"
# r3 sends towards r2 at 8 Mbit/s, so the download takes over 5 s and is
# certainly under way when r2 stops (unshaped it could finish first).
check "vnet --compose link impair r3:eth0 --rate 8mbit" \
  "$vnet" --compose --compose-file docker-compose.yml link impair r3:eth0 --rate 8mbit
timeout 90 "$vnet" --compose --compose-file docker-compose.yml exec client -- \
  fetch http://www.example.com/big.bin --sha256 >"$work/fetch.out" 2>"$work/fetch.err" &
fetch_pid=$!
started=$SECONDS
sleep 1.5
under_way() { # fetch still runs, its connection to web is open
  local out
  kill -0 "$fetch_pid" 2>/dev/null || return 1
  out="$("$vnet" --compose --compose-file docker-compose.yml exec client -- ss || true)"
  printf '%s\n' "$out"
  grep -q 'ESTABLISHED .* 10\.0\.3\.10:80 ' <<<"$out"
}
check "the download is under way when r2 stops" under_way
check "docker compose stop r2" "${compose[@]}" "${lab[@]}" stop -t 2 r2
sleep 5
check "the download is still waiting after 5 s without r2" under_way
check "docker compose start r2" "${compose[@]}" "${lab[@]}" start r2
fetched() {
  local rc=0
  wait "$fetch_pid" || rc=$?
  fetch_pid=""
  echo "fetch exited $rc after $((SECONDS - started)) s:"
  cat "$work/fetch.out" "$work/fetch.err"
  [ "$rc" -eq 0 ] && [ "$(cat "$work/fetch.out")" = "200 5242880 bytes sha256 $big_sha256" ]
}
check "the download completes with big.bin's SHA-256 ($big_sha256)" fetched
check "vnet --compose link impair r3:eth0 --clear" \
  "$vnet" --compose --compose-file docker-compose.yml link impair r3:eth0 --clear

check "compose down" "${compose[@]}" "${lab[@]}" down -t 2
leftovers() { test -z "$(docker ps -aq --filter "label=com.docker.compose.project=$project")" && ! docker network ls --format '{{.Name}}' | grep -q "^${project}_"; }
check "no container or network left behind" leftovers

echo "--- chain of 16 routers"
gen_chain() {
  "$vnet" gen compose --chain 16 --subnet 172.29.1 -o "$chain_file" &&
    "$vnet" gen compose --chain 16 --subnet 172.29.1 --offline-override -o "$chain_offline"
}
check "vnet gen compose --chain 16 (and its offline override)" gen_chain
check "chain up" "${compose[@]}" "${chain[@]}" up -d
check "chain healthy" wait_healthy "$chain_file"
check "traceroute: 16 router hops, then web" test "$(hops "$chain_file")" -eq 17
check "ping across the chain" ping_ok "$chain_file"
check "chain down" "${compose[@]}" "${chain[@]}" down -t 2

echo "docker e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
