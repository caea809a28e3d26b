// Shared test helpers: a temp data dir per test and network configs in host-local's dialect.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IpamConfig, loadIpamConfig } from '../../pkg/ipam/index.ts';

export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-ipam-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh temp dir, removed afterwards whatever happens. */
export async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = makeTempDir();
  try {
    await fn(dir);
  } finally {
    cleanup();
  }
}

/** The CNI_* environment of one invocation (no CNI_NETNS needed: IPAM never enters the namespace). */
export function cniEnv(command: string, containerID: string, cniArgs = ''): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerID,
    CNI_NETNS: '/var/run/netns/unused',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/usr/lib/cni',
    CNI_ARGS: cniArgs,
  };
}

export function netconf(dataDir: string, ipam: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.1.0',
    name: 'testnet',
    type: 'tsnet-bridge',
    ipam: { type: 'tsnet-ipam', dataDir, ...ipam },
    ...extra,
  };
}

export function config(
  dataDir: string,
  ipam: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): IpamConfig {
  return loadIpamConfig(netconf(dataDir, ipam, extra));
}

/** Allocation files of a network: file name (the IP) -> content. */
export function allocationFiles(dataDir: string, network = 'testnet'): Map<string, string> {
  const dir = join(dataDir, network);
  const files = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    if (name === 'lock' || name.startsWith('last_reserved_ip.')) continue;
    files.set(name, readFileSync(join(dir, name), 'utf8'));
  }
  return files;
}

export function addressOf(cidr: string | undefined): string {
  return (cidr ?? '').split('/')[0] ?? '';
}
