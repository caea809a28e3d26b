// Adversarial gRPC requests to a real agent (test/helpers/engine.ts: busybox loaded): container creates whose
// spec has one field replaced by a hostile value (wrong types, negative and huge sizes, bad flag values,
// traversal in names and paths, unknown networks, image references that are not references) or is not JSON,
// under hostile names; and volume and network creates with hostile names and options. Each answer is a result
// or an error the agent classifies (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION; never
// INTERNAL or UNKNOWN) in one line; and nothing is half-created: after a refused create (or a successful
// one, removed again) no record directory, no container snapshot, no run directory, no mount below the
// agent's directories and no anonymous volume remain.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import fc from 'fast-check';
import { type AgentClient, ApiCallError } from '../../pkg/api/client.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';
import { leafPaths, mutated } from './mutate.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`API requests against a real agent (${skip})`, () => undefined);

const CLASSIFIED = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION,
]);

const HOSTILE: unknown[] = [
  null,
  true,
  -1,
  0,
  2 ** 53 + 2,
  1e300,
  1.5,
  '',
  ' ',
  '../../etc',
  '/etc/passwd',
  'x'.repeat(300),
  'a\nb',
  '-1',
  '1g',
  'abc',
  'busybox:',
  'UPPER/case:tag',
  'sha256:123',
  `${TEST_IMAGE}@sha256:${'0'.repeat(64)}`,
  'nosuch-network',
  'container:nosuch',
  'host',
  'none',
  [],
  ['a', 1],
  [{}],
  {},
  { Name: 'bogus' },
  { '80/tcp': [{ HostPort: 'abc' }] },
  { '/x': 'size=abc' },
  ['../x:/data'],
  ['vol:/data:zz'],
  ['/etc:relative'],
  ['NOPE'],
  ['seccomp=/nonexistent'],
  ['nofile=10:5'],
  ['bad host entry'],
];

/** A spec the agent accepts: every field below is a place for a hostile value. */
const BASE = {
  Image: TEST_IMAGE,
  Cmd: ['true'],
  Env: ['A=1'],
  User: '0:0',
  WorkingDir: '/',
  Labels: { a: 'b' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/anon': {} },
  StopSignal: 'SIGTERM',
  HostConfig: {
    NetworkMode: 'none',
    Memory: 64 * 1024 * 1024,
    MemorySwap: -1,
    CpuShares: 512,
    NanoCpus: 500_000_000,
    PidsLimit: 50,
    CpusetCpus: '0',
    Binds: [],
    Tmpfs: { '/run': 'size=1m' },
    CapAdd: [],
    CapDrop: [],
    SecurityOpt: [],
    Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    ExtraHosts: [],
    LogConfig: { Type: 'k8s-file', Config: {} },
    ShmSize: 0,
  },
};

const specJson = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...leafPaths(BASE)), fc.option(fc.constantFrom(...HOSTILE), { nil: undefined }))
      .map(([path, value]) => JSON.stringify(mutated(BASE, path, value))),
  },
  { weight: 1, arbitrary: fc.constant(JSON.stringify(BASE)) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '{"Image":1}', '{"Image":""}') },
);
const hostileName = fc.constantFrom(
  '',
  '',
  'ok-name',
  '../x',
  '/a/b',
  'a b',
  '-x',
  'x'.repeat(300),
  'é',
  '.',
  '/ok',
);

/** The refusal is a classified gRPC status with one line of details; a result is fine. */
function assertClassified(what: string, err: unknown): void {
  if (!(err instanceof ApiCallError)) throw err;
  if (!CLASSIFIED.has(err.code) || err.message.includes('\n') || err.message === '')
    throw new Error(`${what}: ${grpc.status[err.code]} ${JSON.stringify(err.message)}`);
}

/** Entries of a directory (none when it does not exist). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => target.startsWith(`${dir}/`));
}

interface Footprint {
  records: string[];
  snapshots: string[];
  runDirs: string[];
  mounts: string[];
  anonymousVolumes: string[];
}

async function footprint(client: AgentClient, dir: string): Promise<Footprint> {
  const volumes = await client.volumes();
  return {
    records: entries(join(dir, 'data', 'containers')),
    snapshots: entries(join(dir, 'data', 'snapshots', 'snapshots')),
    runDirs: entries(join(dir, 'run', 'containers')),
    mounts: mountsUnder(dir),
    anonymousVolumes: volumes.volumes.map((v) => v.name).filter((n) => /^[0-9a-f]{64}$/.test(n)),
  };
}

e2e('hostile container creates: a classified error or a container; nothing half-created', async (t) => {
  await withEngine(t, async (e) => {
    const client = await e.agent.connect();
    try {
      // A loaded image's layers are unpacked by its first create: one valid create makes them, then the baseline.
      const first = await client.createContainer({
        specJson: JSON.stringify(BASE),
        name: '',
        pullMissing: false,
      });
      await client.removeContainer({ container: first.id, force: true, volumes: true });
      const baseline = JSON.stringify(await footprint(client, e.dir));
      const outcomes = { created: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(specJson, hostileName, async (spec, name) => {
          const created = await client.createContainer({ specJson: spec, name, pullMissing: false }).then(
            (r) => r.id,
            (err: unknown) => {
              assertClassified(`create ${name} ${spec}`, err);
              return undefined;
            },
          );
          if (created) {
            outcomes.created++;
            await client.removeContainer({ container: created, force: true, volumes: true });
          } else outcomes.refused++;
          const now = JSON.stringify(await footprint(client, e.dir));
          if (now !== baseline) throw new Error(`create ${name} ${spec} left ${now} (before: ${baseline})`);
        }),
        { numRuns: 60, includeErrorInReport: true },
      );
      t.log(outcomes);
      t.true(outcomes.created > 0 && outcomes.refused > 0, 'both outcomes were exercised');
    } finally {
      client.close();
    }
  });
});

e2e('hostile volume and network creates and lookups: a classified error or a result', async (t) => {
  await withEngine(t, async (e) => {
    const client = await e.agent.connect();
    try {
      const option = fc.constantFrom(...HOSTILE.filter((v): v is string => typeof v === 'string'));
      await fc.assert(
        fc.asyncProperty(hostileName, option, option, async (name, a, b) => {
          const classified = (what: string) => (err: unknown) => assertClassified(`${what} ${name}`, err);
          const volume = await client
            .createVolume({ name, driver: 'local', options: { type: a, device: b }, labels: {} })
            .catch(classified('volume create'));
          await client.inspectVolume(name).catch(classified('volume inspect'));
          if (volume) await client.removeVolume(volume.name, true);
          const network = await client
            .createNetwork({ name, driver: a, pools: [{ subnet: b }], options: { mtu: a }, labels: {} })
            .catch(classified('network create'));
          await client.inspectNetwork(name).catch(classified('network inspect'));
          if (network) await client.removeNetwork(name).catch(classified('network rm'));
          await client.inspectContainer(name).catch(classified('container inspect'));
          await client.removeContainer({ container: name, force: true }).catch(classified('container rm'));
        }),
        { numRuns: 40, includeErrorInReport: true },
      );
      t.deepEqual(
        entries(join(e.dir, 'data', 'volumes')).filter((n) => !n.startsWith('.')),
        [],
        'every volume made was removed',
      );
    } finally {
      client.close();
    }
  });
});
