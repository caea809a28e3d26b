// tsnet-vxlan: the overlay network's CNI plugin. It reads the node's subnet.env (written by tsnet-agent) and
// runs tsnet-bridge + tsnet-ipam in-process with the node's subnet, the overlay MTU and a route to the
// cluster network, as flannel's plugin delegates to bridge. Without subnet.env it answers "try again later"
// (code 11) and STATUS 50, instead of failing hard.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BRIDGE } from '../bridge/config.ts';
import { tsnetBridge } from '../bridge/plugin.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { AttachmentArgs, CniPlugin, GcArgs, NetworkArgs } from '../cni/skel.ts';
import type { NetConf } from '../cni/types.ts';
import { removeOrphanedTemps, removeOrphanedTempsAsync, writeFileAtomic } from '../fsutil/atomic.ts';
import { makeDirectory } from '../fsutil/mkdir.ts';
import { stateLocationProblem } from '../fsutil/paths.ts';
import {
  DEFAULT_SUBNET_FILE,
  readSubnetEnvFile,
  type SubnetEnv,
  subnetFromGatewayForm,
} from '../subnet/env.ts';

const DEFAULT_DATA_DIR = '/var/lib/cni/tsnet-vxlan';

interface VxlanConf {
  readonly subnetFile: string;
  readonly dataDir: string;
  readonly bridge: string;
}

function vxlanConfOf(conf: NetConf): VxlanConf {
  const pick = (key: string, fallback: string): string => {
    const v = conf[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '' || (key !== 'bridge' && !v.startsWith('/'))) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `"${key}" must be ${key === 'bridge' ? 'a name' : 'an absolute path'}`,
      );
    }
    const misplaced = key === 'bridge' ? undefined : stateLocationProblem(v, `"${key}"`);
    if (misplaced) throw new CniError(ErrorCode.InvalidNetworkConfig, misplaced);
    return v;
  };
  return {
    subnetFile: pick('subnetFile', DEFAULT_SUBNET_FILE),
    dataDir: pick('dataDir', DEFAULT_DATA_DIR),
    bridge: pick('bridge', DEFAULT_BRIDGE),
  };
}

async function readNodeSubnet(vc: VxlanConf): Promise<SubnetEnv | undefined> {
  try {
    return await readSubnetEnvFile(vc.subnetFile);
  } catch (err) {
    throw new CniError(
      ErrorCode.TryAgainLater,
      `tsnet-agent's ${vc.subnetFile} is unreadable: ${(err as Error).message}`,
    );
  }
}

function notReady(vc: VxlanConf, code: number): CniError {
  return new CniError(
    code,
    `tsnet-agent is not ready: ${vc.subnetFile} does not exist yet`,
    'start tsnet-agent on this node; retry when it has written subnet.env',
  );
}

/** The tsnet-bridge network config for this node: its subnet, the overlay MTU, a route to the cluster. */
function bridgeConfFor(conf: NetConf, vc: VxlanConf, env: SubnetEnv): NetConf {
  const gateway = env.subnet.split('/')[0] ?? '';
  return {
    cniVersion: conf.cniVersion,
    name: conf.name,
    type: 'tsnet-bridge',
    bridge: vc.bridge,
    isGateway: true,
    isDefaultGateway: true,
    hairpinMode: true,
    mtu: env.mtu,
    // The agent masquerades traffic leaving the cluster network once per node; otherwise the bridge does.
    ipMasq: !env.ipMasq,
    // When the bridge masquerades (agent started with --no-masquerade), pod-to-pod traffic across nodes must not.
    ipMasqExcludes: [env.network],
    ipam: {
      type: 'tsnet-ipam',
      ranges: [[{ subnet: subnetFromGatewayForm(env.subnet), gateway }]],
      routes: [{ dst: env.network }],
      dataDir: join(vc.dataDir, 'ipam'),
      // `tsnet` and the user overlay networks on this node all draw from the node subnet: one pool.
      sharedPool: true,
    },
    ...(conf.runtimeConfig ? { runtimeConfig: conf.runtimeConfig } : {}),
    ...(conf.prevResult !== undefined ? { prevResult: conf.prevResult } : {}),
    ...(conf.dns ? { dns: conf.dns } : {}),
  };
}

// The delegate config used at ADD is kept, so DEL works with the same subnet even after subnet.env is gone
// (the agent left, or the node was re-leased). One file per attachment, named by a hash of the container ID
// (an ID may be longer than a file name can be) and the ifname: `<sha256(containerID)>.<ifname>.json`.
const delegatesDir = (vc: VxlanConf) => join(vc.dataDir, 'delegates');

interface AttachmentKey {
  readonly containerId: string;
  readonly ifname: string;
}

function delegateName(key: AttachmentKey): string {
  return `${createHash('sha256').update(key.containerId).digest('hex')}.${key.ifname}.json`;
}

/** The name tsnet before 0.2 used (`<containerID>:<ifname>.json`), read on upgrade; none when too long. */
function legacyDelegateName(key: AttachmentKey): string | undefined {
  const name = `${key.containerId}:${key.ifname}.json`;
  return Buffer.byteLength(name) <= 255 ? name : undefined;
}

const delegateFile = (vc: VxlanConf, key: AttachmentKey) => join(delegatesDir(vc), delegateName(key));

// Off the event loop: the agent serves other requests meanwhile.
async function saveDelegate(vc: VxlanConf, args: AttachmentArgs, conf: NetConf): Promise<void> {
  await makeDirectory(delegatesDir(vc));
  await removeOrphanedTempsAsync(delegatesDir(vc));
  await writeFileAtomic(delegateFile(vc, args), JSON.stringify(conf));
}

async function loadDelegate(vc: VxlanConf, args: AttachmentArgs): Promise<NetConf | undefined> {
  for (const name of [delegateName(args), legacyDelegateName(args)]) {
    if (name === undefined) continue;
    try {
      return JSON.parse(await readFile(join(delegatesDir(vc), name), 'utf8')) as NetConf;
    } catch {
      // missing or unreadable: try the next name, else there is no saved config
    }
  }
  return undefined;
}

/** The network a saved delegate belongs to; undefined when the file is unreadable. */
function delegateNetworkOf(path: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

async function removeDelegate(vc: VxlanConf, args: AttachmentArgs): Promise<void> {
  for (const name of [delegateName(args), legacyDelegateName(args)]) {
    if (name !== undefined) await rm(join(delegatesDir(vc), name), { force: true });
  }
}

function asBridgeArgs<T extends NetworkArgs>(args: T, conf: NetConf): T {
  return { ...args, config: conf, stdin: Buffer.from(JSON.stringify(conf)) };
}

export const tsnetVxlan: CniPlugin = {
  name: 'tsnet-vxlan',
  about:
    'tsnet-vxlan: pods on the tsnet VXLAN overlay (node subnet from tsnet-agent, bridge + IPAM in-process)',
  async add(args) {
    const vc = vxlanConfOf(args.config);
    const env = await readNodeSubnet(vc);
    if (!env) throw notReady(vc, ErrorCode.TryAgainLater);
    const conf = bridgeConfFor(args.config, vc, env);
    await saveDelegate(vc, args, conf);
    try {
      return await tsnetBridge.add(asBridgeArgs(args, conf));
    } catch (err) {
      await removeDelegate(vc, args);
      throw err;
    }
  },
  async del(args) {
    const vc = vxlanConfOf(args.config);
    const saved = await loadDelegate(vc, args);
    const env = saved ? undefined : await readNodeSubnet(vc);
    const conf = saved
      ? { ...saved, prevResult: args.config.prevResult }
      : env
        ? bridgeConfFor(args.config, vc, env)
        : undefined;
    // No saved config and no subnet.env: this attachment was never made here; nothing to release.
    if (conf) await tsnetBridge.del(asBridgeArgs(args, conf));
    await removeDelegate(vc, args);
  },
  async check(args) {
    const vc = vxlanConfOf(args.config);
    const saved = await loadDelegate(vc, args);
    if (!saved)
      throw new CniError(
        ErrorCode.UnknownContainer,
        `no attachment ${args.containerId}/${args.ifname} on this node`,
      );
    await tsnetBridge.check(asBridgeArgs(args, { ...saved, prevResult: args.config.prevResult }));
  },
  async status(args) {
    const vc = vxlanConfOf(args.config);
    const env = await readNodeSubnet(vc);
    if (!env) throw notReady(vc, ErrorCode.PluginNotAvailable);
    await tsnetBridge.status?.(asBridgeArgs(args, bridgeConfFor(args.config, vc, env)));
  },
  async gc(args: GcArgs) {
    const vc = vxlanConfOf(args.config);
    const env = await readNodeSubnet(vc);
    if (env) await tsnetBridge.gc?.(asBridgeArgs(args, bridgeConfFor(args.config, vc, env)));
    const valid = new Set(
      args.validAttachments.flatMap((a) => {
        const key = { containerId: a.containerID, ifname: a.ifname };
        return [delegateName(key), legacyDelegateName(key)];
      }),
    );
    let files: string[] = [];
    try {
      files = readdirSync(delegatesDir(vc));
    } catch {
      files = [];
    }
    // The delegates dir is shared by every network on this VXLAN data dir (`tsnet` and user overlays): a
    // network's GC removes only its own attachments' files (and unreadable ones, which no DEL can use).
    for (const f of files) {
      if (!f.endsWith('.json') || valid.has(f)) continue;
      const path = join(delegatesDir(vc), f);
      const owner = delegateNetworkOf(path);
      if (owner === undefined || owner === args.config.name) rmSync(path, { force: true });
    }
    removeOrphanedTemps(delegatesDir(vc));
  },
};
