// Platforms (`os/architecture[/variant]`) and the choice of one manifest from an index, as containerd's
// platforms matcher does it: the node's own platform by default, arm64's implicit variant v8 normalised.
import type { ImageIndex, IndexEntry } from './manifest.ts';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
}

// Node's process.arch → the GOARCH names image indexes use.
const ARCHITECTURES: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le', // Node on Linux only runs little-endian POWER
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of this node. */
export function hostPlatform(): Platform {
  const architecture = ARCHITECTURES[process.arch] ?? process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  if (architecture === 'arm') {
    const version = (process.config.variables as { arm_version?: string }).arm_version;
    return { os, architecture, variant: `v${version ?? '7'}` };
  }
  return { os, architecture };
}

/** Parses `linux/arm64`, `linux/arm/v7`, `arm64` (the os defaults to linux). */
export function parsePlatform(text: string): Platform {
  const parts = text.toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)) || parts.length > 3) {
    throw new PlatformError(`invalid platform ${JSON.stringify(text)}: expected os/architecture[/variant]`);
  }
  const [os, architecture, variant] = parts.length === 1 ? ['linux', parts[0]!] : parts;
  return normalisePlatform({
    os: os!,
    architecture: architecture!,
    ...(variant !== undefined && { variant }),
  });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normalisePlatform(p: Platform): Platform {
  const architecture =
    p.architecture === 'x86_64' ? 'amd64' : p.architecture === 'aarch64' ? 'arm64' : p.architecture;
  // arm64 without a variant means v8; compare them as equal.
  const variant = architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant;
  return { os: p.os, architecture, ...(variant !== undefined && { variant }) };
}

function matches(want: Platform, have: Platform): boolean {
  const w = normalisePlatform(want);
  const h = normalisePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return (
    w.variant === undefined ||
    w.variant === h.variant ||
    (h.variant === undefined && w.architecture !== 'arm')
  );
}

/** The index entry for `platform`; a clear error naming the platforms the index has when none fits. */
export function selectPlatformManifest(index: ImageIndex, platform: Platform, what: string): IndexEntry {
  const candidates = index.manifests.filter((m) => m.platform && matches(platform, m.platform));
  // An exact variant beats a variant-less entry.
  const exact = candidates.find((m) => m.platform?.variant === normalisePlatform(platform).variant);
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const available = index.manifests
    .map((m) => m.platform)
    .filter((p): p is Platform => p !== undefined && p.os !== 'unknown') // attestation manifests
    .map(formatPlatform);
  throw new PlatformError(
    `${what} has no image for platform ${formatPlatform(platform)} (it has: ${available.length ? [...new Set(available)].join(', ') : 'none'})`,
  );
}
