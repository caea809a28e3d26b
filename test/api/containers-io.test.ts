// Containers.Exec and Containers.Attach through a real gRPC server on a unix socket, over real conmon +
// runc busybox containers (a ContainerLookup fixture stands in for the engine): frames keep stdout and
// stderr apart, the terminal size comes first, the last frame has the exit code, refusals are one line.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { attachHandler, execHandler } from '../../pkg/api/containers-io.ts';
import type { AttachInput } from '../../pkg/api/generated/tsnet/v1/AttachInput.ts';
import type { AttachOutput__Output } from '../../pkg/api/generated/tsnet/v1/AttachOutput.ts';
import type { ContainersClient } from '../../pkg/api/generated/tsnet/v1/Containers.ts';
import type { ExecInput } from '../../pkg/api/generated/tsnet/v1/ExecInput.ts';
import { api } from '../../pkg/api/proto.ts';
import { type ApiServer, startApiServer } from '../../pkg/api/server.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
  type ContainerStatus,
} from '../../pkg/container/handle.ts';
import { readExitStatus, waitForExit } from '../../pkg/runtime/conmon.ts';
import { type FixtureContainer, runFixtureContainer } from '../helpers/container.ts';
import { whyAttachCannotRun } from '../helpers/stdio.ts';

interface World {
  server: ApiServer;
  client: ContainersClient;
  containers: Map<
    string,
    { ctr: FixtureContainer; status: ContainerStatus; tty: boolean; openStdin: boolean }
  >;
  dir: string;
}
const test = anyTest as TestFn<World>;

const skipReason = whyAttachCannotRun();
const ioTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`containers io: ${skipReason}`, () => undefined);

function handleOf(entry: World['containers'] extends Map<string, infer V> ? V : never): ContainerHandle {
  const { ctr } = entry;
  return {
    id: ctr.id,
    name: ctr.id,
    status: entry.status,
    tty: entry.tty,
    openStdin: entry.openStdin,
    logPath: ctr.logPath,
    ctlPath: ctr.monitor.ctlPath,
    attachSocketPath: ctr.monitor.attachPath,
    bundleDir: ctr.bundleDir,
    rootfs: join(ctr.bundleDir, 'rootfs'),
    cgroupPath: ctr.cgroupPath,
    netnsPath: ctr.netnsPath,
    runtime: { binary: '/usr/sbin/runc', root: ctr.runc.root },
    spec: { Image: 'busybox' },
  };
}

test.before(async (t) => {
  if (skipReason) return;
  const containers: World['containers'] = new Map();
  const lookup: ContainerLookup = {
    // the fixture's monitor is up before its start (runc create done): a gate runs at once
    beforeNextStart: (_id, fn) => {
      void fn();
      return () => undefined;
    },
    get: async (ref) => {
      const entry = containers.get(ref);
      if (!entry) throw new ContainerNotFoundError(ref);
      return handleOf(entry);
    },
    waitExit: async (id) => {
      const entry = containers.get(id);
      if (!entry) throw new ContainerNotFoundError(id);
      await waitForExit(entry.ctr.exitDir, id);
      const status = await readExitStatus({
        id,
        persistDir: entry.ctr.persistDir,
        exitDir: entry.ctr.exitDir,
      });
      return { exitCode: status?.exitCode ?? -1, oomKilled: status?.oomKilled ?? false };
    },
  };
  const running = await runFixtureContainer({ args: ['sleep', '1000'] });
  containers.set(running.id, { ctr: running, status: 'running', tty: false, openStdin: false });
  const dir = running.root;
  writeFileSync(join(dir, 'group'), 'root:x:0:\n');
  const server = await startApiServer({
    path: join(dir, 'api.sock'),
    services: [[api().Containers.service, { Exec: execHandler(lookup), Attach: attachHandler(lookup) }]],
    groupFile: join(dir, 'group'),
  });
  const client = new (api().Containers)(`unix://${server.path}`, grpc.credentials.createInsecure());
  Object.assign(t.context, { server, client, containers, dir });
});

test.after.always(async (t) => {
  t.context.client?.close();
  await t.context.server?.close();
  for (const { ctr } of t.context.containers?.values() ?? []) await ctr.cleanup();
});

interface Transcript {
  frames: AttachOutput__Output[];
  stdout: string;
  stderr: string;
  exitCode?: number;
  error?: grpc.ServiceError;
}

/** Runs one Exec or Attach call: `inputs` are written in order, `onFrame` may answer output. */
function converse<In extends ExecInput | AttachInput>(
  call: grpc.ClientDuplexStream<In, AttachOutput__Output>,
  inputs: In[],
  onFrame?: (frame: AttachOutput__Output, call: grpc.ClientDuplexStream<In, AttachOutput__Output>) => void,
): Promise<Transcript> {
  return new Promise((resolve) => {
    const t: Transcript = { frames: [], stdout: '', stderr: '' };
    call.on('data', (frame: AttachOutput__Output) => {
      t.frames.push(frame);
      if (frame.output === 'stdout') t.stdout += frame.stdout?.toString('utf8');
      if (frame.output === 'stderr') t.stderr += frame.stderr?.toString('utf8');
      if (frame.output === 'exitCode') t.exitCode = frame.exitCode;
      onFrame?.(frame, call);
    });
    call.on('error', (error: grpc.ServiceError) => resolve({ ...t, error }));
    call.on('end', () => resolve(t));
    for (const input of inputs) call.write(input);
  });
}

function runningId(w: World): string {
  return [...w.containers.values()].find((c) => c.status === 'running')?.ctr.id ?? '';
}

ioTest('Exec streams stdout and stderr apart and ends with the exit code', async (t) => {
  const container = runningId(t.context);
  const out = await converse(t.context.client.Exec(), [
    { start: { container, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] } },
  ]);
  t.is(out.error, undefined);
  t.is(out.stdout, 'out\n');
  t.is(out.stderr, 'err\n');
  t.is(out.exitCode, 3);
  t.is(out.frames.at(-1)?.output, 'exitCode', 'the exit code is the last frame');
  const missing = await converse(t.context.client.Exec(), [
    { start: { container, cmd: ['no-such-command'] } },
  ]);
  t.is(missing.exitCode, 127);
});

ioTest('Exec with a terminal has the client size in its first output and passes stdin', async (t) => {
  const container = runningId(t.context);
  // typed only once the first output is there: a terminal echoes typeahead before anything else
  let typed = false;
  const out = await converse<ExecInput>(
    t.context.client.Exec(),
    [
      {
        start: {
          container,
          cmd: ['sh', '-c', 'stty size; read line; echo "got $line"'],
          tty: true,
          stdin: true,
          size: { rows: 30, cols: 100 },
        },
      },
    ],
    (frame, call) => {
      if (frame.output === 'stdout' && !typed) {
        typed = true;
        call.write({ stdin: Buffer.from('hi\r') });
      }
    },
  );
  t.is(out.error, undefined);
  t.is(out.frames[0]?.stdout?.toString('utf8'), '30 100\r\n');
  t.regex(out.stdout, /got hi\r\n$/);
  t.is(out.exitCode, 0);
});

ioTest('Exec in a stopped container, or in none, is refused in one line', async (t) => {
  const { client, containers } = t.context;
  const container = runningId(t.context);
  const entry = containers.get(container);
  if (!entry) throw new Error('no fixture');
  entry.status = 'exited';
  try {
    const out = await converse(client.Exec(), [{ start: { container, cmd: ['true'] } }]);
    t.is(out.error?.code, grpc.status.FAILED_PRECONDITION);
    t.is(out.error?.details, `Container ${container} is not running`);
  } finally {
    entry.status = 'running';
  }
  const none = await converse(client.Exec(), [{ start: { container: 'nope', cmd: ['true'] } }]);
  t.is(none.error?.code, grpc.status.NOT_FOUND);
  t.is(none.error?.details, 'No such container: nope');
  const noStart = await converse(client.Exec(), [{ stdin: Buffer.from('x') }]);
  t.is(noStart.error?.code, grpc.status.INVALID_ARGUMENT);
});

ioTest('Attach before start: output apart, stdin in, the exit code when the container ends', async (t) => {
  const ctr = await runFixtureContainer({
    args: ['sh', '-c', 'echo out; echo err >&2; read line; echo "got $line"; exit 4'],
    stdin: true,
    start: false,
  });
  t.context.containers.set(ctr.id, { ctr, status: 'created', tty: false, openStdin: true });
  let started = false;
  const out = await converse<AttachInput>(
    t.context.client.Attach(),
    [{ start: { container: ctr.id, stdin: true, stdout: true, stderr: true } }],
    (frame, call) => {
      // the empty first frame says the attach is up: start the container then, as `start -a` does
      if (!frame.output && !started) {
        started = true;
        void ctr.runc.start(ctr.id);
      }
      if (frame.output === 'stdout' && frame.stdout?.toString('utf8') === 'out\n')
        call.write({ stdin: Buffer.from('typed\n') });
    },
  );
  t.is(out.error, undefined);
  t.is(out.stdout, 'out\ngot typed\n');
  t.is(out.stderr, 'err\n');
  t.is(out.exitCode, 4);
});

ioTest('Attach with logs replays what the container wrote before, then goes on live', async (t) => {
  const ctr = await runFixtureContainer({
    args: ['sh', '-c', 'echo before; echo early >&2; read line; echo "after $line"'],
    stdin: true,
  });
  try {
    t.context.containers.set(ctr.id, { ctr, status: 'running', tty: false, openStdin: true });
    // written and logged before anyone attaches
    await pollUntil('the log', async () => {
      const text = existsSync(ctr.logPath) ? readFileSync(ctr.logPath, 'utf8') : '';
      return text.includes('before') && text.includes('early') ? true : undefined;
    });
    let typed = false;
    const out = await converse<AttachInput>(
      t.context.client.Attach(),
      [{ start: { container: ctr.id, stdin: true, stdout: true, stderr: true, logs: true } }],
      (frame, call) => {
        if (frame.output === 'stdout' && !typed) {
          typed = true;
          call.write({ stdin: Buffer.from('live\n') });
        }
      },
    );
    t.is(out.error, undefined);
    t.is(out.stdout, 'before\nafter live\n', 'the replay first, each line once');
    t.is(out.stderr, 'early\n');
    t.is(out.exitCode, 0);
  } finally {
    t.context.containers.delete(ctr.id);
    await ctr.cleanup();
  }
});
