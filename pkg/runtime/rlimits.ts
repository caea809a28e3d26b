// `--ulimit name=soft[:hard]` → OCI rlimits, kept within what this host can grant: without CAP_SYS_RESOURCE
// nobody may raise a hard limit above the current one (runc would fail late, with "operation not permitted").
import { readFileSync } from 'node:fs';
import type { OciRlimit } from './oci.ts';

export class UlimitError extends Error {
  override name = 'UlimitError';
}

/** Docker's ulimit names → the RLIMIT type and the label /proc/self/limits uses. */
const ULIMITS: Record<string, { type: string; label: string }> = {
  as: { type: 'RLIMIT_AS', label: 'Max address space' },
  core: { type: 'RLIMIT_CORE', label: 'Max core file size' },
  cpu: { type: 'RLIMIT_CPU', label: 'Max cpu time' },
  data: { type: 'RLIMIT_DATA', label: 'Max data size' },
  fsize: { type: 'RLIMIT_FSIZE', label: 'Max file size' },
  locks: { type: 'RLIMIT_LOCKS', label: 'Max file locks' },
  memlock: { type: 'RLIMIT_MEMLOCK', label: 'Max locked memory' },
  msgqueue: { type: 'RLIMIT_MSGQUEUE', label: 'Max msgqueue size' },
  nice: { type: 'RLIMIT_NICE', label: 'Max nice priority' },
  nofile: { type: 'RLIMIT_NOFILE', label: 'Max open files' },
  nproc: { type: 'RLIMIT_NPROC', label: 'Max processes' },
  rss: { type: 'RLIMIT_RSS', label: 'Max resident set' },
  rtprio: { type: 'RLIMIT_RTPRIO', label: 'Max realtime priority' },
  rttime: { type: 'RLIMIT_RTTIME', label: 'Max realtime timeout' },
  sigpending: { type: 'RLIMIT_SIGPENDING', label: 'Max pending signals' },
  stack: { type: 'RLIMIT_STACK', label: 'Max stack size' },
};

/** "unlimited" in an rlimit: Infinity here, written as 2^64-1 (which a JS number cannot hold) in config.json */
export const RLIM_INFINITY = Number.POSITIVE_INFINITY;

export interface Ulimit {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

/** Parses Docker's "nofile=1024:2048" (hard defaults to soft; -1 or "unlimited" is infinity). */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=([^:]+)(?::(.+))?$/.exec(text.trim());
  if (!m) throw new UlimitError(`invalid ulimit ${JSON.stringify(text)}: use name=soft[:hard]`);
  const [, name = '', softText = '', hardText] = m;
  if (!(name in ULIMITS)) {
    throw new UlimitError(
      `invalid ulimit ${JSON.stringify(text)}: unknown name ${name} (known: ${Object.keys(ULIMITS).join(', ')})`,
    );
  }
  const value = (v: string): number => {
    if (v === '-1' || v === 'unlimited') return RLIM_INFINITY;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw new UlimitError(`invalid ulimit ${JSON.stringify(text)}: ${JSON.stringify(v)} is not a number`);
    }
    return Number(v);
  };
  const soft = value(softText);
  const hard = hardText === undefined ? soft : value(hardText);
  if (soft > hard)
    throw new UlimitError(`invalid ulimit ${JSON.stringify(text)}: soft ${soft} exceeds hard ${hard}`);
  return { name, soft, hard };
}

/** The current hard limits by RLIMIT type, from /proc/self/limits (no prlimit needed). */
export function currentHardLimits(
  limitsText = readFileSync('/proc/self/limits', 'utf8'),
): Map<string, number> {
  const out = new Map<string, number>();
  for (const { type, label } of Object.values(ULIMITS)) {
    const line = limitsText.split('\n').find((l) => l.startsWith(label));
    const hard = line?.slice(label.length).trim().split(/\s+/)[1];
    if (hard !== undefined) out.set(type, hard === 'unlimited' ? RLIM_INFINITY : Number(hard));
  }
  return out;
}

/** Whether this process holds CAP_SYS_RESOURCE (bit 24 of CapEff). */
export function hasSysResource(statusText = readFileSync('/proc/self/status', 'utf8')): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText)?.[1];
  return eff !== undefined && (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

export interface RlimitPolicy {
  /** lower a too-high limit to the host's hard limit (with a warning) instead of refusing */
  readonly clamp?: boolean;
  readonly hardLimits?: ReadonlyMap<string, number>;
  readonly canRaise?: boolean;
}

export function toOciRlimits(
  ulimits: readonly Ulimit[],
  policy: RlimitPolicy = {},
): { rlimits: OciRlimit[]; warnings: string[] } {
  const canRaise = policy.canRaise ?? hasSysResource();
  const hardLimits = policy.hardLimits ?? currentHardLimits();
  const warnings: string[] = [];
  const byType = new Map<string, OciRlimit>();
  for (const u of ulimits) {
    const { type } = ULIMITS[u.name] ?? { type: '' };
    let { soft, hard } = u;
    const ceiling = hardLimits.get(type);
    if (!canRaise && ceiling !== undefined && hard > ceiling) {
      if (!policy.clamp) {
        throw new UlimitError(
          `ulimit ${u.name} hard limit ${hard === RLIM_INFINITY ? 'unlimited' : hard} exceeds this host's ${ceiling} and the agent lacks CAP_SYS_RESOURCE to raise it`,
        );
      }
      warnings.push(`ulimit ${u.name} lowered to the host's hard limit ${ceiling}`);
      hard = ceiling;
      soft = Math.min(soft, ceiling);
    }
    byType.set(type, { type, soft, hard }); // a later flag for the same name wins, as in Docker
  }
  return { rlimits: [...byType.values()], warnings };
}
