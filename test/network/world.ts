// A node for the network tests: a test namespace playing the node (the plugins are forked inside it), a
// conf dir, data dir and cache dir in a temp dir (never /etc/cni/net.d), and the store, executor and
// ContainerNetworking over them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_SOCKET_ENV } from '../../pkg/cni/socket-protocol.ts';
import { withNetns } from '../../pkg/netns/index.ts';
import { CniExecutor } from '../../pkg/network/cni-exec.ts';
import { pluginDirsUnder } from '../../pkg/network/conflist.ts';
import { CniNetworking } from '../../pkg/network/networking.ts';
import { NetworkStore } from '../../pkg/network/store.ts';
import { ip, type TestNetns, withNetnses } from '../helpers/netns.ts';
import { DIST_CNI } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

export interface NodeWorld {
  readonly node: TestNetns;
  /** Namespaces for containers and for "another host". */
  readonly others: TestNetns[];
  readonly dir: string;
  readonly confDir: string;
  readonly cacheDir: string;
  readonly store: NetworkStore;
  readonly executor: CniExecutor;
  readonly networking: CniNetworking;
}

export interface WorldOptions {
  /** Plugin directories before dist/cni (test plugins). */
  readonly extraPluginDirs?: string[];
}

export async function withNodeWorld(
  others: number,
  fn: (w: NodeWorld) => Promise<void>,
  opts: WorldOptions = {},
): Promise<void> {
  await withTempDir(
    (dir) =>
      withNetnses('net', others + 1, async ([node, ...rest]) => {
        ip(node!.path, 'link', 'set', 'lo', 'up');
        const confDir = join(dir, 'net.d');
        const cacheDir = join(dir, 'data', 'cni', 'cache');
        mkdirSync(join(dir, 'run'), { recursive: true });
        const store = new NetworkStore({
          confDir,
          pluginDirs: pluginDirsUnder(join(dir, 'data'), join(dir, 'run', 'subnet.env')),
        });
        const executor = new CniExecutor({
          pluginDirs: [...(opts.extraPluginDirs ?? []), DIST_CNI],
          cacheDir,
          // No agent serves these plugins: they run in their own process, in the node namespace.
          env: { [CNI_SOCKET_ENV]: join(dir, 'run', 'no-agent.sock') },
          inNamespace: (spawn) => withNetns(node!.path, spawn),
        });
        const networking = new CniNetworking({ store, executor, nodeNetns: node!.path });
        await store.ensureBuiltins();
        await fn({ node: node!, others: rest, dir, confDir, cacheDir, store, executor, networking });
      }),
    'tsnet-network-',
  );
}

/** An underlay link node <-> host (198.18.0.1/24 on the node, 198.18.0.2/24 on the other host). */
export function linkOtherHost(node: TestNetns, host: TestNetns): void {
  ip(node.path, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1', 'netns', host.name);
  ip(node.path, 'addr', 'add', '198.18.0.1/24', 'dev', 'ul0');
  ip(node.path, 'link', 'set', 'ul0', 'up');
  ip(host.path, 'addr', 'add', '198.18.0.2/24', 'dev', 'ul1');
  ip(host.path, 'link', 'set', 'ul1', 'up');
  ip(host.path, 'link', 'set', 'lo', 'up');
}
