#!/usr/bin/env bash
# Builds the vnet image without any registry: statically linked binaries
# (glibc, crt-static) copied into a FROM-scratch image.
#
#   deploy/docker/build-image.sh            # tags vnet:latest
#   IMAGE=vnet:dev deploy/docker/build-image.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

target=x86_64-unknown-linux-gnu
image="${IMAGE:-vnet:latest}"
target_dir="${CARGO_TARGET_DIR:-target}"
binaries=(vnet vnet-host vnet-switch vnet-router vnet-dns vnet-web vnet-collector)

echo "--- building static binaries ($target)"
# --target keeps RUSTFLAGS away from build scripts and proc macros, and keeps
# these artifacts apart from the normal (dynamic) build. The `image` profile
# is `release` with whole-program LTO and one codegen unit: smaller code, so
# less resident memory per device (Cargo.toml, docs/design.md).
RUSTFLAGS="-C target-feature=+crt-static" \
  cargo build --profile image --locked --target "$target" --bins

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
for b in "${binaries[@]}"; do
  cp "$target_dir/$target/image/$b" "$context/"
  if command -v strip >/dev/null 2>&1; then strip --strip-debug "$context/$b"; fi
  # A scratch image has no loader: the binary must be static.
  if command -v file >/dev/null 2>&1 && ! file "$context/$b" | grep -Eq 'static(-pie)? linked'; then
    echo "error: $b is not statically linked" >&2
    exit 1
  fi
done

cp -r configs/www "$context/www"
echo "--- docker build $image"
docker build --quiet -t "$image" -f deploy/docker/Dockerfile "$context"
docker image ls "$image"
