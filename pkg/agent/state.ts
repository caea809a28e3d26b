// The agent's local state: the subnet it held, so a restart (or a reboot) takes the same one back.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeOrphanedTemps, writeFileAtomicSync } from '../fsutil/atomic.ts';
import { makeDirectorySync } from '../fsutil/mkdir.ts';

export interface LocalState {
  readonly subnet: string;
  readonly publicIp: string;
  readonly vtepMac: string;
}

const FILE = 'agent-state.json';

export function readLocalState(dataDir: string): LocalState | undefined {
  try {
    const raw = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Partial<LocalState>;
    if (
      typeof raw.subnet !== 'string' ||
      typeof raw.publicIp !== 'string' ||
      typeof raw.vtepMac !== 'string'
    ) {
      return undefined;
    }
    return { subnet: raw.subnet, publicIp: raw.publicIp, vtepMac: raw.vtepMac };
  } catch {
    return undefined;
  }
}

/** Writes the state atomically; first clears what a previous agent killed mid-write left (its first write). */
export function writeLocalState(dataDir: string, state: LocalState): void {
  makeDirectorySync(dataDir, 0o700);
  removeOrphanedTemps(dataDir, { targets: [FILE] });
  writeFileAtomicSync(join(dataDir, FILE), `${JSON.stringify(state)}\n`, { mode: 0o600 });
}

export function removeLocalState(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}
