#!/usr/bin/env bash
# Validates the committed Kubernetes manifests without a cluster: every
# document against the Kubernetes OpenAPI schemas (kubernetes-validate,
# strict: unknown fields are errors), and, when PyYAML is there, that the
# files parse as YAML and every ConfigMap's config.toml parses as TOML.
#
#   deploy/k8s/validate.sh                      # the committed files
#   deploy/k8s/validate.sh my-lab-k8s.yaml      # other files
#   K8S_VERSION=1.33.0 deploy/k8s/validate.sh   # another Kubernetes version
#
# Installs kubernetes-validate with pip when missing. Regenerate the
# committed files with `VNET_BLESS=1 cargo test -p vnet-topology k8s`.
set -euo pipefail
cd "$(dirname "$0")/../.."

tls_dir=""
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=(deploy/k8s/lab-k8s.yaml deploy/k8s/chain16-k8s.yaml)
  # The default lab with HTTPS (certificates and keys in its ConfigMaps),
  # rendered by the vnet binary the tests built, when there is one.
  vnet_bin="${CARGO_TARGET_DIR:-target}/debug/vnet"
  if [ -x "$vnet_bin" ]; then
    tls_dir="$(mktemp -d)"
    trap 'rm -rf "$tls_dir"' EXIT
    "$vnet_bin" gen k8s configs/lab.toml --tls-ca "$tls_dir/ca.pem" -o "$tls_dir/lab-k8s-tls.yaml"
    files+=("$tls_dir/lab-k8s-tls.yaml")
  fi
fi

if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "--- installing kubernetes-validate (pip)"
  if ! python3 -m pip install --quiet kubernetes-validate; then
    # PEP 668: a distribution's Python refuses user installs without this.
    python3 -m pip install --quiet --break-system-packages kubernetes-validate
  fi
  # pip may have put the script in ~/.local/bin.
  export PATH="$HOME/.local/bin:$PATH"
fi

failures=0

# No -k: the newest Kubernetes version the installed release knows.
version_args=()
if [ -n "${K8S_VERSION:-}" ]; then
  version_args=(--kubernetes-version "$K8S_VERSION")
fi
echo "--- kubernetes-validate $(kubernetes-validate --version 2>&1 | tail -n 1) --strict${version_args[*]:+ ${version_args[*]}} ${files[*]}"
if kubernetes-validate --strict --quiet "${version_args[@]}" "${files[@]}"; then
  echo "PASS schemas: ${#files[@]} file(s), every document valid"
else
  echo "FAIL schemas: see the errors above"
  failures=$((failures + 1))
fi

if python3 -c 'import yaml' 2>/dev/null; then
  for f in "${files[@]}"; do
    if python3 - "$f" <<'PY'
import sys, yaml
try:
    import tomllib
except ImportError:  # Python < 3.11: YAML only
    tomllib = None
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
for d in docs:
    if d.get("kind") == "ConfigMap" and tomllib is not None:
        config = tomllib.loads(d["data"]["config.toml"])
        assert d["metadata"]["name"] == config["name"] + "-config", d["metadata"]["name"]
print(f"{len(docs)} documents")
PY
    then
      echo "PASS yaml: $f"
    else
      echo "FAIL yaml: $f"
      failures=$((failures + 1))
    fi
  done
else
  echo "--- PyYAML missing: YAML parse check skipped"
fi

if [ "$failures" -eq 0 ]; then
  echo "PASS: ${files[*]}"
else
  echo "FAIL: $failures check(s) failed"
  exit 1
fi
