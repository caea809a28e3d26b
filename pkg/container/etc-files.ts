// The files Docker generates for each container and bind-mounts over the image's: /etc/hosts (localhost,
// --add-host entries, the container's own address and names), /etc/resolv.conf (the host's, minus loopback
// nameservers a container cannot reach, or --dns/--dns-search/--dns-option) and /etc/hostname. Each is
// written atomically in the container's directory, so a reader never sees half of one (or, before the
// container's process runs, in place into the mount sources its create reserved).
import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import type { MountOption } from '../runtime/spec.ts';

export class EtcFilesError extends Error {
  override name = 'EtcFilesError';
}

export interface EtcFilesOptions {
  readonly hostname: string;
  readonly domainname?: string;
  /** the container's address on its first network; none with --network none or host */
  readonly ip?: string;
  /** more names for the container's address (network aliases) */
  readonly aliases?: readonly string[];
  /** `--add-host name:ip` ("name=ip" too); ip may be "host-gateway" */
  readonly extraHosts?: readonly string[];
  /** what "host-gateway" stands for: the address of the host on the container's network */
  readonly hostGatewayIp?: string;
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  /** the host's /etc/resolv.conf content */
  readonly hostResolvConf: string;
  /** targets the user mounts something at: those files are neither written nor mounted */
  readonly userTargets?: readonly string[];
}

/** Docker's defaults when the host has no nameserver a container can use. */
export const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'] as const;

const HOSTS_HEADER = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** One `--add-host` entry as "ip\tname", with Docker's checks. */
export function parseExtraHost(entry: string, hostGatewayIp?: string): string {
  // name=ip, or name:ip where the ip may itself hold colons (IPv6)
  const sep = entry.includes('=') ? entry.indexOf('=') : entry.indexOf(':');
  const name = sep > 0 ? entry.slice(0, sep) : '';
  let ip = sep > 0 ? entry.slice(sep + 1) : '';
  if (name === '' || ip === '') throw new EtcFilesError(`bad format for add-host: ${JSON.stringify(entry)}`);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') {
    if (hostGatewayIp === undefined)
      throw new EtcFilesError('unable to derive the IP value for host-gateway');
    ip = hostGatewayIp;
  }
  if (isIP(ip) === 0) throw new EtcFilesError(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
  return `${ip}\t${name}`;
}

export function hostsContent(opts: EtcFilesOptions): string {
  const lines = [
    ...HOSTS_HEADER,
    ...(opts.extraHosts ?? []).map((e) => parseExtraHost(e, opts.hostGatewayIp)),
  ];
  if (opts.ip !== undefined) {
    const names = opts.domainname ? [`${opts.hostname}.${opts.domainname}`, opts.hostname] : [opts.hostname];
    for (const alias of opts.aliases ?? []) if (!names.includes(alias)) names.push(alias);
    lines.push(`${opts.ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A loopback nameserver is the host's own resolver: unreachable from the container's network namespace. */
function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1' || ip === '0:0:0:0:0:0:0:1';
}

interface ResolvConf {
  readonly nameservers: string[];
  readonly search: string[];
  readonly options: string[];
}

function parseResolvConf(content: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const line of content.split('\n')) {
    const [keyword, ...rest] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    // the last search (or domain) line wins, as in glibc
    else if (keyword === 'search' || keyword === 'domain') out.search.splice(0, out.search.length, ...rest);
    else if (keyword === 'options') out.options.push(...rest);
  }
  return out;
}

export function resolvConfContent(opts: EtcFilesOptions): string {
  const dns = opts.dns ?? [];
  const dnsSearch = opts.dnsSearch ?? [];
  const dnsOptions = opts.dnsOptions ?? [];
  for (const server of dns)
    if (isIP(server) === 0) throw new EtcFilesError(`${JSON.stringify(server)} is not an ip address`);
  if (dns.length === 0 && dnsSearch.length === 0 && dnsOptions.length === 0) {
    // the host's file as it is, minus the nameservers a container cannot reach
    const kept = opts.hostResolvConf
      .split('\n')
      .filter((line) => {
        const m = /^\s*nameserver\s+(\S+)/.exec(line);
        return !(m && isLoopback(m[1]!));
      })
      .join('\n')
      .trimEnd();
    const hasNameserver = parseResolvConf(kept).nameservers.length > 0;
    const defaults = hasNameserver ? [] : DEFAULT_NAMESERVERS.map((s) => `nameserver ${s}`);
    return `${[kept, ...defaults].filter((l) => l !== '').join('\n')}\n`;
  }
  const host = parseResolvConf(opts.hostResolvConf);
  const nameservers = dns.length > 0 ? [...dns] : host.nameservers.filter((s) => !isLoopback(s));
  if (nameservers.length === 0) nameservers.push(...DEFAULT_NAMESERVERS);
  // `--dns-search .` means no search domain
  const search = dnsSearch.length > 0 ? dnsSearch.filter((d) => d !== '.') : host.search;
  const options = dnsOptions.length > 0 ? dnsOptions : host.options;
  const lines = [
    ...(search.length > 0 ? [`search ${search.join(' ')}`] : []),
    ...nameservers.map((s) => `nameserver ${s}`),
    ...(options.length > 0 ? [`options ${options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

const ETC_FILES = [
  { file: 'hosts', target: '/etc/hosts', content: hostsContent },
  { file: 'resolv.conf', target: '/etc/resolv.conf', content: resolvConfContent },
  { file: 'hostname', target: '/etc/hostname', content: (o: EtcFilesOptions) => `${o.hostname}\n` },
] as const;

/** One generated etc file: its name in the container's directory, where it goes, its text. */
export interface EtcFile {
  readonly file: string;
  readonly target: string;
  readonly text: string;
}

/**
 * How the files are written: 'replace' (a new file renamed over the old one, so a reader never sees half of
 * one) or 'in place' (the same inode rewritten: the mount sources of a container created but not started
 * yet, which its bind mounts already hold).
 */
export type EtcWrite = 'replace' | 'in place';

/** Writes the files into `dir` and answers the bind mounts that put them in place. */
export function writeEtcMounts(
  dir: string,
  files: readonly EtcFile[],
  how: EtcWrite = 'replace',
): Promise<MountOption[]> {
  // Made anew at every start, so not fsynced (three fsyncs were a third of a start's preparation): what a
  // crash leaves stale or empty is written again before the container runs again.
  return Promise.all(
    files.map(async (f): Promise<MountOption> => {
      const source = join(dir, f.file);
      if (how === 'in place') await writeFile(source, f.text, { mode: 0o644 });
      else await writeFileAtomic(source, f.text, { mode: 0o644, syncData: false });
      return { type: 'bind', source, target: f.target, readonly: false, propagation: 'rprivate' };
    }),
  );
}

/** The generated files a container gets: those its own mounts do not put in place. */
function wantedEtcFiles(userTargets: readonly string[] | undefined) {
  return ETC_FILES.filter((f) => !(userTargets ?? []).includes(f.target));
}

/**
 * The mount sources of writeEtcFiles made empty, for a container created before its network is attached
 * (its address is not known yet); writeEtcFiles(..., 'in place') fills them before it starts.
 */
export function reserveEtcFiles(dir: string, userTargets: readonly string[]): Promise<MountOption[]> {
  return writeEtcMounts(
    dir,
    wantedEtcFiles(userTargets).map((f) => ({ file: f.file, target: f.target, text: '' })),
  );
}

/**
 * Writes hosts, resolv.conf and hostname into `dir` (the container's directory) and answers the bind
 * mounts that put them at /etc/hosts, /etc/resolv.conf and /etc/hostname. Every file's content is made
 * before any is written: a bad --add-host or --dns leaves nothing behind.
 */
export async function writeEtcFiles(
  dir: string,
  opts: EtcFilesOptions,
  how: EtcWrite = 'replace',
): Promise<MountOption[]> {
  const wanted = wantedEtcFiles(opts.userTargets).map((f) => ({ ...f, text: f.content(opts) }));
  return writeEtcMounts(dir, wanted, how);
}
