#!/usr/bin/env bash
# Installs tsnet on a node: the built tree under /opt/tsnet, the CNI plugins into the runtime's plugin dir,
# and the systemd unit. Run from a checkout after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/opt/tsnet}
CNI_BIN_DIR=${CNI_BIN_DIR:-/opt/cni/bin}
[[ -x dist/bin/tsnet-agent || -f dist/bin/tsnet-agent ]] || { echo "install: run npm run build first" >&2; exit 1; }
mkdir -p "$PREFIX"
cp -r dist package.json README.md "$PREFIX/"
npm run --silent install-cni -- "$CNI_BIN_DIR"
install -m 0644 deploy/systemd/tsnet-agent.service /etc/systemd/system/tsnet-agent.service
[[ -f /etc/default/tsnet-agent ]] || install -m 0644 deploy/systemd/tsnet-agent.default /etc/default/tsnet-agent
mkdir -p /etc/iproute2/rt_protos.d && echo '116 tsnet' > /etc/iproute2/rt_protos.d/tsnet.conf
echo "installed: $PREFIX, plugins in $CNI_BIN_DIR; set TSNET_PUBLIC_IP in /etc/default/tsnet-agent, then systemctl enable --now tsnet-agent"
