#!/usr/bin/env bash
# Installs tsnet on a node from a checkout after `npm run build`: a self-contained tree under /opt/tsnet (the
# built commands and plugins, the production npm packages the commands load, package.json, README), the CNI
# plugins with their native module into the runtime's plugin dir, the systemd unit and its defaults file, and
# the name of the route protocol the overlay marks its routes with (116 tsnet).
#   deploy/install.sh [--root DIR]   or   DESTDIR=DIR deploy/install.sh
# installs under DIR instead of / (packaging, tests): nothing outside DIR is written.
# PREFIX (/opt/tsnet) and CNI_BIN_DIR (/opt/cni/bin) are paths inside the root.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: deploy/install.sh [--root DIR]   (or DESTDIR=DIR; default /)"; }
root=${DESTDIR:-}
while (($#)); do
  case $1 in
    --root) root=${2:?install: --root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -n $root ]]; then
  [[ $root == /* ]] || root=$PWD/$root
  root=${root%/}
fi
PREFIX=${PREFIX:-/opt/tsnet}
CNI_BIN_DIR=${CNI_BIN_DIR:-/opt/cni/bin}
[[ -f dist/bin/tsnet-agent && -d dist/cni/tsnet-native ]] || { echo "install: run npm run build first" >&2; exit 1; }

# Built beside the old tree and swapped in: a running agent never sees a half-installed one.
dest=$root$PREFIX
stage=$dest.new
rm -rf "$stage"
mkdir -p "$stage"
cp -r dist package.json README.md "$stage/"
npx --no-install tsx deploy/production-modules.ts "$stage/node_modules"
rm -rf "$dest.old"
[[ ! -e $dest ]] || mv "$dest" "$dest.old"
mv "$stage" "$dest"
rm -rf "$dest.old"

npm run --silent install-cni -- "$root$CNI_BIN_DIR"
mkdir -p "$root/etc/systemd/system" "$root/etc/default" "$root/etc/iproute2/rt_protos.d"
sed "s|/opt/tsnet|$PREFIX|g" deploy/systemd/tsnet-agent.service >"$root/etc/systemd/system/tsnet-agent.service"
chmod 0644 "$root/etc/systemd/system/tsnet-agent.service"
[[ -f $root/etc/default/tsnet-agent ]] || install -m 0644 deploy/systemd/tsnet-agent.default "$root/etc/default/tsnet-agent"
echo '116 tsnet' >"$root/etc/iproute2/rt_protos.d/tsnet.conf"
echo "installed under ${root:-/}: $PREFIX, plugins in $CNI_BIN_DIR; set TSNET_PUBLIC_IP in /etc/default/tsnet-agent, then systemctl enable --now tsnet-agent"
