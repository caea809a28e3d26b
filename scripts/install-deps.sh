#!/usr/bin/env bash
# Installs what tsnet's build and tests need on a fresh Debian 12 machine: system packages (root), then the
# npm dependencies from the lock file. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(iproute2 iputils-ping netcat-openbsd openssl nftables etcd-server etcd-client containernetworking-plugins runc busybox-static iperf3 util-linux procps iptables curl docker-registry skopeo gcc libc6-dev libseccomp-dev podman conmon tini tmux buildah)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  # Packages with a daemon (docker-registry listens on every interface by default) must not start one:
  # tests run their own, on loopback inside their namespaces. policy-rc.d 101 = "action forbidden".
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n $made_policy ]]; then rm -f "$policy"; fi
fi

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
