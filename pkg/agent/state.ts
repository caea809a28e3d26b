// The agent's local state: the subnet it held, so a restart (or a reboot) takes the same one back.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

export function writeLocalState(dataDir: string, state: LocalState): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function removeLocalState(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}
