// The /etc/hosts, /etc/resolv.conf and /etc/hostname of one container run, made once its first network
// is attached (its address and gateway are known then) and bind-mounted over the image's. On the host
// network the container sees the node's own files, as Docker gives them.
import { readFile } from 'node:fs/promises';
import { hostname as nodeHostname } from 'node:os';
import type { ContainerCreateSpec } from '../container/create-spec.ts';
import {
  type EtcWrite,
  hostsContent,
  parseExtraHost,
  writeEtcFiles,
  writeEtcMounts,
} from '../container/etc-files.ts';
import type { NetworkAttachment } from '../container/networking.ts';
import type { ResolvedConfig } from '../container/record.ts';
import type { MountOption } from '../runtime/spec.ts';

const NODE_HOSTS = '/etc/hosts';

/**
 * Where the etc files are bind-mounted, relative to the rootfs: runc makes an empty file there when the image
 * has none, which a commit or a build step leaves out of its layer.
 */
export const ETC_MOUNT_POINTS: ReadonlySet<string> = new Set([
  'etc/hosts',
  'etc/resolv.conf',
  'etc/hostname',
]);
const NODE_RESOLV_CONF = '/etc/resolv.conf';

export interface ContainerEtcRequest {
  /** where the files are written (the container's directory) */
  readonly dir: string;
  readonly spec: ContainerCreateSpec;
  readonly config: ResolvedConfig;
  /** what its mounts put in the container (a user's /etc/hosts wins over the generated one) */
  readonly userTargets: readonly string[];
  /** 'host': the node's network; else its first network's attachment (none: undefined) */
  readonly network: 'host' | NetworkAttachment | undefined;
  /** the node's cluster DNS for this network (its gateway), used unless --dns is given */
  readonly clusterDns?: { readonly nameserver: string; readonly search: readonly string[] };
}

async function readOr(path: string, fallback: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => fallback);
}

/** `--add-host` entries refused at create, as Docker does; host-gateway is resolved at start. */
export function validateExtraHosts(spec: ContainerCreateSpec): void {
  for (const entry of spec.HostConfig?.ExtraHosts ?? []) parseExtraHost(entry, '127.0.0.1');
}

/**
 * Writes the container's etc files and answers the bind mounts that put them in place; 'in place' fills the
 * files reserveEtcFiles made (a container on a network that was attached while it was created).
 */
export async function containerEtcMounts(
  req: ContainerEtcRequest,
  how: EtcWrite = 'replace',
): Promise<MountOption[]> {
  const hc = req.spec.HostConfig ?? {};
  const hostResolvConf = await readOr(NODE_RESOLV_CONF, '');
  if (req.network === 'host') return nodeEtcMounts(req, hostResolvConf);
  const attachment = req.network;
  return writeEtcFiles(
    req.dir,
    {
      hostname: req.config.hostname,
      ...(req.config.domainname && { domainname: req.config.domainname }),
      ...(attachment?.ipAddress && { ip: attachment.ipAddress }),
      extraHosts: hc.ExtraHosts ?? [],
      ...(attachment?.gateway && { hostGatewayIp: attachment.gateway }),
      // Docker's embedded DNS role: the cluster DNS unless the user names resolvers
      dns: hc.Dns?.length ? hc.Dns : req.clusterDns ? [req.clusterDns.nameserver] : [],
      dnsSearch: hc.DnsSearch ?? (hc.Dns?.length ? [] : [...(req.clusterDns?.search ?? [])]),
      dnsOptions: hc.DnsOptions ?? [],
      hostResolvConf,
      userTargets: req.userTargets,
    },
    how,
  );
}

/**
 * The host network: the node's hosts (plus --add-host) and resolv.conf as they are (its loopback resolver
 * is reachable there) and its hostname.
 */
async function nodeEtcMounts(req: ContainerEtcRequest, hostResolvConf: string): Promise<MountOption[]> {
  const extra = req.spec.HostConfig?.ExtraHosts ?? [];
  const nodeHosts = await readOr(NODE_HOSTS, hostsContent({ hostname: 'localhost', hostResolvConf: '' }));
  const files = [
    {
      file: 'hosts',
      target: '/etc/hosts',
      text: `${nodeHosts.trimEnd()}\n${extra.map((e) => `${parseExtraHost(e, '127.0.0.1')}\n`).join('')}`,
    },
    { file: 'resolv.conf', target: '/etc/resolv.conf', text: hostResolvConf },
    // the node's UTS namespace is shared with the node's network
    { file: 'hostname', target: '/etc/hostname', text: `${nodeHostname()}\n` },
  ].filter((f) => !req.userTargets.includes(f.target));
  return writeEtcMounts(req.dir, files);
}
