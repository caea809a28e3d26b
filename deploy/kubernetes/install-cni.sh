#!/bin/sh
# The DaemonSet's init step: copies the built CNI plugins, with the native module directory beside them
# (tsnet-native: without it every plugin fails with code 999), into the host's CNI bin dir, then writes the
# network config list from $CONFLIST. Each file lands under a temporary name and is renamed into place, so a
# runtime calling a plugin meanwhile runs the old one or the new one, never half a file.
#   ROOT  prefix of every path below (empty in the pod; a temporary root in the tests)
set -eu
root=${ROOT:-}
src=$root/opt/tsnet/dist/cni
bin=$root/host/opt/cni/bin
conf=$root/host/etc/cni/net.d
: "${CONFLIST:?CONFLIST (the CNI network config list) is not set}"
[ -d "$src/tsnet-native" ] || { echo "install-cni: $src/tsnet-native is missing: the image is incomplete" >&2; exit 1; }
mkdir -p "$bin" "$conf"

# The native module directory first, so the new plugins find it as soon as they are there.
# Dot files too: the native forwarders execute the Node plugins kept beside them as .<type>-node.
for entry in "$src"/* "$src"/.[!.]*; do
  [ -e "$entry" ] || continue
  name=${entry##*/}
  # the plugins' code caches: each host makes its own
  [ "$name" != .tsnet-cache ] || continue
  if [ -d "$entry" ]; then
    rm -rf "$bin/.$name.new" "$bin/.$name.old"
    cp -r "$entry" "$bin/.$name.new"
    [ ! -e "$bin/$name" ] || mv "$bin/$name" "$bin/.$name.old"
    mv "$bin/.$name.new" "$bin/$name"
    rm -rf "$bin/.$name.old"
  fi
done
# The bundles (.<type>.cjs) before the launchers that read them, so a new launcher never misses its bundle.
for entry in "$src"/.[!.]*.cjs "$src"/* "$src"/.[!.]*; do
  [ -e "$entry" ] || continue
  name=${entry##*/}
  if [ -f "$entry" ]; then
    cp "$entry" "$bin/.$name.new"
    chmod 0755 "$bin/.$name.new"
    mv -f "$bin/.$name.new" "$bin/$name"
  fi
done
chmod 0644 "$bin/package.json" 2>/dev/null || true

printf '%s\n' "$CONFLIST" > "$conf/.10-tsnet.conflist.new"
mv -f "$conf/.10-tsnet.conflist.new" "$conf/10-tsnet.conflist"
echo "install-cni: plugins in ${bin#"$root"}, network config ${conf#"$root"}/10-tsnet.conflist"
