// The agent's own state files go through pkg/fsutil: complete or absent, and the orphans a killed agent
// left beside them are cleared by the next run's first write (only its own files' orphans).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { readLocalState, writeLocalState } from '../../pkg/agent/state.ts';
import { readSubnetEnv, writeSubnetEnv } from '../../pkg/subnet/env.ts';
import { withTempDir } from '../helpers/tmp.ts';

function exitedPid(): string {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
}

test("agent-state.json: written whole, a killed writer's temporary removed, other files' temporaries kept", async (t) => {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'data');
    const state = { subnet: '10.244.3.0/24', publicIp: '198.18.0.1', vtepMac: '02:00:00:00:00:01' };
    writeLocalState(dataDir, state);
    const pid = exitedPid();
    const orphan = `.agent-state.json.tmp-${pid}-0badc0de`;
    const foreign = `.store.json.tmp-${pid}-0badc0de`;
    writeFileSync(join(dataDir, orphan), '{"subnet":');
    writeFileSync(join(dataDir, foreign), '');
    writeLocalState(dataDir, { ...state, subnet: '10.244.4.0/24' });
    t.deepEqual(readLocalState(dataDir), { ...state, subnet: '10.244.4.0/24' });
    t.deepEqual(readdirSync(dataDir).sort(), [foreign, 'agent-state.json'].sort());
  });
});

test("subnet.env: written whole, a killed writer's temporary removed, its directory created", async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'run', 'tsnet', 'subnet.env');
    const env = { network: '10.244.0.0/16', subnet: '10.244.3.1/24', mtu: 1450, ipMasq: true };
    writeSubnetEnv(file, env);
    const orphan = `.subnet.env.tmp-${exitedPid()}-0badc0de`;
    writeFileSync(join(dir, 'run', 'tsnet', orphan), 'TSNET_NETWORK=');
    writeSubnetEnv(file, { ...env, mtu: 1400 });
    t.deepEqual(readSubnetEnv(file), { ...env, mtu: 1400 });
    t.deepEqual(readdirSync(join(dir, 'run', 'tsnet')), ['subnet.env']);
    t.is(readFileSync(file, 'utf8').split('\n')[2], 'TSNET_MTU=1400');
  });
});
