import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { managerContract } from './manager-contract.ts';

// Each handle is a separate EmbeddedStore on the same file: the same as separate processes, locked by flock.
managerContract(test, 'embedded', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnt-subnet-'));
  return {
    handle: () => EmbeddedStore.open({ dataDir, tickMs: 100 }),
    ttl: 1,
    close: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});
