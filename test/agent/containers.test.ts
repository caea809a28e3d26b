// The container engine end to end: a real tsnet-agent in a test namespace with a busybox image loaded from a
// docker-archive, driven through the raw Containers gRPC client. Lifecycle and exit codes, stop escalation,
// kill -s, pause, rm -f leaving nothing, bad input, the restart policy, and the agent SIGKILLed while
// containers run (same PID after its restart; one that exited meanwhile shows its code).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { MISSING_IMAGE_METADATA } from '../../pkg/api/errors.ts';
import type { ContainersClient } from '../../pkg/api/generated/tsnet/v1/Containers.ts';
import { api } from '../../pkg/api/proto.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { startTestAgent, type TestAgent } from '../helpers/agent.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { withNetnses } from '../helpers/netns.ts';
import { startRegistry, writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`container engine end to end (${skip})`, () => undefined);

type Call<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown;

/** The raw generated client, promisified per call. */
function containers(socket: string) {
  const client = new (api().Containers)(
    `unix://${socket}`,
    grpc.credentials.createInsecure(),
  ) as ContainersClient;
  const call =
    <Req, Res>(method: keyof ContainersClient) =>
    (req: Req): Promise<Res> =>
      new Promise((resolve, reject) =>
        (client[method] as unknown as Call<Req, Res>).call(client, req, (err, res) =>
          err ? reject(err) : resolve(res as Res),
        ),
      );
  return {
    client,
    create: (spec: Record<string, unknown>, name = '') =>
      call<object, { id: string; warnings: string[] }>('Create')({ specJson: JSON.stringify(spec), name }),
    start: (container: string) => call<object, { id: string }>('Start')({ container }),
    stop: (container: string, timeoutSeconds: number) =>
      call<object, { id: string }>('Stop')({ container, timeoutSeconds }),
    kill: (container: string, signal: string) => call<object, { id: string }>('Kill')({ container, signal }),
    pause: (container: string) => call<object, { id: string }>('Pause')({ container }),
    unpause: (container: string) => call<object, { id: string }>('Unpause')({ container }),
    remove: (container: string, force = false) =>
      call<object, { id: string }>('Remove')({ container, force }),
    rename: (container: string, newName: string) =>
      call<object, { id: string }>('Rename')({ container, newName }),
    list: (all = true) =>
      call<object, { containers: { id: string; names: string[]; state: string; status: string }[] }>('List')({
        all,
      }),
    wait: (container: string, condition = '') =>
      call<object, { exitCode: number; oomKilled: boolean }>('Wait')({ container, condition }),
    inspect: async (container: string) =>
      JSON.parse((await call<object, { json: string }>('Inspect')({ container })).json) as Inspect,
  };
}

interface Inspect {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Pid: number;
    ExitCode: number;
    OOMKilled: boolean;
  };
  RestartCount: number;
  Config: { Cmd: string[] | null; Env: string[]; Image: string };
  HostConfig: { Memory: number; RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

type Api = ReturnType<typeof containers>;

const IMAGE = 'tsnet-test/busybox:latest';

/** Loads the busybox test image into the agent through Images.Load (a docker-archive made by skopeo). */
async function loadImage(agent: TestAgent, dir: string): Promise<void> {
  const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
  const archive = join(dir, 'busybox.tar');
  execFileSync('skopeo', ['copy', '--quiet', `oci:${image.layout}:v1`, `docker-archive:${archive}:${IMAGE}`]);
  const client = await agent.connect();
  try {
    const load = client.load();
    const done = new Promise<void>((resolve, reject) => {
      load.on('data', () => undefined);
      load.on('end', resolve);
      load.on('error', reject);
    });
    load.write({ data: readFileSync(archive) });
    load.end();
    await done;
  } finally {
    client.close();
  }
}

/** Whatever a failed test left: every container removed through the API, then anything under `dir`. */
async function removeAll(c: Api, dir: string): Promise<void> {
  const { containers: list } = await c.list(true).catch(() => ({ containers: [] }));
  for (const ctr of list) await c.remove(ctr.id, true).catch(() => undefined);
  // a removal that failed: its monitor and container, mounts and cgroups by hand
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  const ids = existsSync(join(dir, 'run', 'containers')) ? readdirSync(join(dir, 'run', 'containers')) : [];
  for (const id of ids) quietly('runc', '--root', join(dir, 'run', 'runc'), 'delete', '-f', id);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const target = line.split(' ')[4];
    if (target?.startsWith(`${dir}/`)) quietly('umount', '-l', target);
  }
  for (const id of ids)
    for (const h of readdirSync('/sys/fs/cgroup'))
      if (existsSync(`/sys/fs/cgroup/${h}/tsnet/${id}`)) quietly('rmdir', `/sys/fs/cgroup/${h}/tsnet/${id}`);
}

function quietly(cmd: string, ...args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: the leftover check reports what stays
  }
}

async function withAgent(
  t: ExecutionContext,
  fn: (
    c: Api,
    agent: TestAgent,
    dir: string,
    restart: () => Promise<{ c: Api; agent: TestAgent }>,
  ) => Promise<void>,
  /** run the agent in this namespace (a registry's) instead of a new one */
  netnsPath?: string,
): Promise<void> {
  t.timeout(180_000);
  const inNetns = (body: (path: string) => Promise<void>) =>
    netnsPath ? body(netnsPath) : withNetnses('ctr', 1, ([ns]) => body(ns!.path));
  await inNetns((nsPath) =>
    withTempDir(async (dir) => {
      let agent = startTestAgent(nsPath, dir);
      let c: Api | undefined;
      try {
        await loadImage(agent, dir);
        c = containers(agent.socket);
        const restart = async () => {
          await agent.exited;
          c?.client.close();
          agent = startTestAgent(nsPath, dir);
          (await agent.connect()).close();
          c = containers(agent.socket);
          return { c, agent };
        };
        await fn(c, agent, dir, restart);
      } catch (err) {
        t.log(agent.log().slice(-3000));
        throw err;
      } finally {
        if (c) await removeAll(c, dir);
        c?.client.close();
        await agent.stop();
      }
    }, 'tsnt-'),
  );
}

const sh = (script: string) => ({ Cmd: ['/bin/sh', '-c', script] });
const none = (extra: Record<string, unknown> = {}) => ({ NetworkMode: 'none', ...extra });

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  return pollUntil(what, () => fn().catch(() => undefined), { timeoutMs: 30_000 });
}

e2e('create, start, wait: the exit code; inspect has Docker shape; ps shows Exited (3)', async (t) => {
  await withAgent(t, async (c) => {
    const { id } = await c.create(
      { Image: IMAGE, ...sh('exit 3'), Labels: { a: 'b' }, HostConfig: none() },
      'three',
    );
    t.regex(id, /^[0-9a-f]{64}$/);
    const created = await c.inspect('three');
    t.is(created.Name, '/three');
    t.is(created.State.Status, 'created');
    t.deepEqual(created.Config.Cmd, ['/bin/sh', '-c', 'exit 3']);
    t.true(created.Config.Env.includes('PATH=/bin'), 'the image env is kept');
    await c.start(id.slice(0, 12));
    t.is((await c.wait(id)).exitCode, 3);
    const done = await c.inspect(id);
    t.like(done.State, { Status: 'exited', Running: false, ExitCode: 3, Pid: 0 });
    const row = (await c.list(true)).containers.find((x) => x.id === id);
    t.regex(row?.status ?? '', /^Exited \(3\) .* ago$/);
    t.deepEqual(
      (await c.list(false)).containers.map((x) => x.id),
      [],
      'ps without -a hides exited ones',
    );
  });
});

e2e(
  'stop -t escalates to SIGKILL for a PID 1 that ignores SIGTERM; kill -s; pause and unpause',
  async (t) => {
    await withAgent(t, async (c) => {
      const { id } = await c.create(
        { Image: IMAGE, ...sh('exec /bin/busybox sleep 1000'), HostConfig: none() },
        'sleeper',
      );
      await c.start(id);
      const running = await c.inspect(id);
      t.is(running.State.Status, 'running');
      t.true(running.State.Pid > 0);
      t.regex(readFileSync(`/proc/${running.State.Pid}/cmdline`, 'utf8'), /sleep/);

      await c.pause(id);
      t.like((await c.inspect(id)).State, { Status: 'paused', Paused: true });
      const pausedRow = (await c.list(false)).containers.find((x) => x.id === id);
      t.regex(pausedRow?.status ?? '', /\(Paused\)$/);
      const err = await t.throwsAsync(c.pause(id));
      t.is((err as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
      await c.unpause(id);
      t.is((await c.inspect(id)).State.Status, 'running');

      // sleep as PID 1 has no SIGTERM handler: the kernel drops the signal, the stop must escalate
      await c.stop(id, 1);
      t.like((await c.inspect(id)).State, { Status: 'exited', ExitCode: 137 });
      t.false(existsSync(`/proc/${running.State.Pid}`));

      await c.start(id);
      const bad = await t.throwsAsync(c.kill(id, 'SIGNOPE'));
      t.is((bad as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      // PID 1 without a handler: the kernel drops SIGUSR1, the container goes on
      await c.kill(id, 'USR1');
      t.is((await c.inspect(id)).State.Status, 'running');
      await c.kill(id, 'KILL');
      t.is((await c.wait(id)).exitCode, 137);
      const stopped = await t.throwsAsync(c.kill(id, 'KILL'));
      t.is((stopped as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
      t.regex((stopped as grpc.ServiceError).details, /Container sleeper is not running|is not running/);
    });
  },
);

e2e('rm -f of a running container leaves no netns, mount, cgroup, conmon, bundle or record', async (t) => {
  await withAgent(t, async (c, _agent, dir) => {
    const { id } = await c.create({
      Image: IMAGE,
      ...sh('exec /bin/busybox sleep 1000'),
      HostConfig: none({ Memory: 64 << 20 }),
    });
    await c.start(id);
    const pid = (await c.inspect(id)).State.Pid;
    const conmonPid = Number(readFileSync(join(dir, 'run', 'containers', id, 'conmon.pid'), 'utf8'));
    const netns = join(dir, 'run', 'netns', id);
    t.true(existsSync(netns));
    const memoryCgroup = `/sys/fs/cgroup/memory/tsnet/${id}`;
    t.is(readFileSync(join(memoryCgroup, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
    t.true(
      readFileSync('/proc/self/mountinfo', 'utf8').includes(join(dir, 'run', 'containers', id, 'rootfs')),
    );

    const running = await t.throwsAsync(c.remove(id));
    t.is((running as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
    await c.remove(id, true);

    t.false(existsSync(netns), 'netns');
    t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'mounts');
    t.false(existsSync(memoryCgroup), 'cgroup');
    t.false(existsSync(`/proc/${pid}`), 'container process');
    t.false(
      existsSync(`/proc/${conmonPid}`) &&
        readFileSync(`/proc/${conmonPid}/cmdline`, 'utf8').includes('conmon'),
      'conmon',
    );
    t.false(existsSync(join(dir, 'run', 'containers', id)), 'bundle');
    t.false(existsSync(join(dir, 'data', 'containers', id)), 'record');
    t.deepEqual(readdirSync(join(dir, 'run', 'runc')), [], 'runc state');
    const gone = await t.throwsAsync(c.inspect(id));
    t.is((gone as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    t.is((gone as grpc.ServiceError).details, `No such container: ${id}`);
  });
});

e2e(
  'bad input: a taken name, a bad memory value, an unknown image, a bad restart policy; nothing half-created',
  async (t) => {
    await withAgent(t, async (c, _agent, dir) => {
      const { id } = await c.create({ Image: IMAGE, ...sh('true'), HostConfig: none() }, 'taken');
      const taken = await t.throwsAsync(c.create({ Image: IMAGE, HostConfig: none() }, 'taken'));
      t.is((taken as grpc.ServiceError).code, grpc.status.ALREADY_EXISTS);
      t.is(
        (taken as grpc.ServiceError).details,
        `Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
      const badType = await t.throwsAsync(c.create({ Image: IMAGE, HostConfig: none({ Memory: '12x' }) }));
      t.is((badType as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      t.regex((badType as grpc.ServiceError).details, /HostConfig\.Memory must be an integer/);
      const tooSmall = await t.throwsAsync(c.create({ Image: IMAGE, HostConfig: none({ Memory: 1024 }) }));
      t.is((tooSmall as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      t.regex((tooSmall as grpc.ServiceError).details, /minimum is 6 MiB/);
      const unknown = await t.throwsAsync(c.create({ Image: 'no/such-image:1', HostConfig: none() }));
      t.is((unknown as grpc.ServiceError).code, grpc.status.NOT_FOUND);
      t.regex((unknown as grpc.ServiceError).details, /No such image: no\/such-image:1/);
      const noNetwork = await t.throwsAsync(
        c.create({ Image: IMAGE, HostConfig: { NetworkMode: 'no-such-network' } }),
      );
      t.is((noNetwork as grpc.ServiceError).code, grpc.status.NOT_FOUND);
      t.regex((noNetwork as grpc.ServiceError).details, /no-such-network/);
      const missingBind = await t.throwsAsync(
        c.create({ Image: IMAGE, HostConfig: none({ Binds: [`${dir}/nope:/data`] }) }),
      );
      t.regex((missingBind as grpc.ServiceError).details, /bind source path does not exist/);
      const badName = await t.throwsAsync(c.create({ Image: IMAGE, HostConfig: none() }, '-x'));
      t.is((badName as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      // only the first container exists: no record, snapshot or mount of the refused ones
      t.deepEqual(readdirSync(join(dir, 'data', 'containers')), [id]);
      const snapshots = JSON.parse(readFileSync(join(dir, 'data', 'snapshots', 'metadata.json'), 'utf8')) as {
        snapshots: { key: string }[];
      };
      t.deepEqual(
        snapshots.snapshots.map((s) => s.key).filter((k) => k.startsWith('container-')),
        [`container-${id}`],
      );
      await c.rename('taken', 'renamed');
      t.is((await c.inspect(id)).Name, '/renamed');
      await c.create({ Image: IMAGE, HostConfig: none() }, 'taken'); // the old name is free again
    });
  },
);

e2e('restart policy on-failure:2 restarts twice, then stays exited', async (t) => {
  await withAgent(t, async (c) => {
    const { id } = await c.create({
      Image: IMAGE,
      ...sh('exit 1'),
      HostConfig: none({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } }),
    });
    await c.start(id);
    const final = await until('two restarts', async () => {
      const i = await c.inspect(id);
      return i.State.Status === 'exited' && i.RestartCount === 2 ? i : undefined;
    });
    t.is(final.State.ExitCode, 1);
    t.deepEqual(final.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  });
});

e2e(
  'the agent SIGKILLed: a running container keeps its PID, one that exited meanwhile shows its code',
  async (t) => {
    await withAgent(t, async (c0, agent, _dir, restart) => {
      const a = await c0.create(
        { Image: IMAGE, ...sh('exec /bin/busybox sleep 1000'), HostConfig: none() },
        'stays',
      );
      const b = await c0.create(
        { Image: IMAGE, ...sh('exec /bin/busybox sleep 1000'), HostConfig: none() },
        'dies',
      );
      await c0.start(a.id);
      await c0.start(b.id);
      const pidA = (await c0.inspect(a.id)).State.Pid;
      const pidB = (await c0.inspect(b.id)).State.Pid;
      agent.child.kill('SIGKILL');
      await agent.exited;
      process.kill(pidB, 'SIGKILL'); // exits while no agent watches: conmon records it
      await until('conmon to record the exit', async () => (existsSync(`/proc/${pidB}`) ? undefined : true));
      const { c } = await restart();
      const stays = await c.inspect('stays');
      t.like(stays.State, { Status: 'running', Pid: pidA });
      t.true(existsSync(`/proc/${pidA}`));
      const dies = await until('the exit to be reconciled', async () => {
        const i = await c.inspect('dies');
        return i.State.Status === 'exited' ? i : undefined;
      });
      t.is(dies.State.ExitCode, 137);
      // the reconciled container is watched again: its exit is seen by the new agent
      await c.kill('stays', 'KILL');
      t.is((await c.wait('stays')).exitCode, 137);
    });
  },
);

e2e('--init runs tini as PID 1; the events stream has create, start, die and destroy', async (t) => {
  await withAgent(t, async (c, agent) => {
    const client = await agent.connect();
    const events: string[] = [];
    const stream = client.events({ filters: ['type=container'], sinceUnixNano: 0 });
    stream.on('data', (e: { action: string }) => events.push(e.action));
    stream.on('error', () => undefined);
    try {
      const { id } = await c.create({
        Image: IMAGE,
        ...sh('exec /bin/busybox sleep 1000'),
        HostConfig: none({ Init: true }),
      });
      await c.start(id);
      const pid = (await c.inspect(id)).State.Pid;
      t.is(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], '/sbin/docker-init');
      // tini forwards SIGTERM to its child, which dies of it: no escalation needed
      await c.stop(id, 30);
      t.is((await c.inspect(id)).State.ExitCode, 143);
      await c.remove(id);
      await until('the destroy event', async () => (events.includes('destroy') ? true : undefined));
      t.deepEqual(
        events.filter((e) => ['create', 'start', 'die', 'stop', 'destroy'].includes(e)),
        ['create', 'start', 'die', 'stop', 'destroy'],
      );
    } finally {
      stream.cancel();
      client.close();
    }
  });
});

e2e(
  'after a node reboot: always and unless-stopped come back, a user-stopped one stays stopped, an unwatched run reads 255',
  async (t) => {
    await withAgent(t, async (c0, agent, dir, restart) => {
      const make = async (name: string, policy: string) => {
        const { id } = await c0.create(
          {
            Image: IMAGE,
            ...sh('exec /bin/busybox sleep 1000'),
            HostConfig: none({ RestartPolicy: { Name: policy } }),
          },
          name,
        );
        await c0.start(id);
        return id;
      };
      await make('always', 'always');
      await make('unless', 'unless-stopped');
      await make('stopped', 'unless-stopped');
      await make('plain', 'no');
      await c0.stop('stopped', 0);
      t.is((await c0.inspect('stopped')).State.Status, 'exited');
      const pids = await Promise.all(
        ['always', 'unless', 'plain'].map(async (n) => (await c0.inspect(n)).State.Pid),
      );
      await agent.stop();
      // the reboot: monitors first (no exit file is written then), then the containers, then the run dir
      const run = join(dir, 'run');
      for (const id of readdirSync(join(run, 'containers')).filter((d) => /^[0-9a-f]{64}$/.test(d))) {
        const conmon = join(run, 'containers', id, 'conmon.pid');
        if (existsSync(conmon)) process.kill(Number(readFileSync(conmon, 'utf8')), 'SIGKILL');
      }
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await until('the containers to die', async () =>
        pids.some((p) => existsSync(`/proc/${p}`)) ? undefined : true,
      );
      removeAllButRecords(dir);
      const { c } = await restart();
      t.is((await c.inspect('always')).State.Status, 'running');
      t.is((await c.inspect('unless')).State.Status, 'running');
      t.like((await c.inspect('stopped')).State, { Status: 'exited', ExitCode: 137 });
      t.like((await c.inspect('plain')).State, { Status: 'exited', ExitCode: 255 });
      t.true(existsSync(`/proc/${(await c.inspect('always')).State.Pid}`));
    });
  },
);

/** What a reboot takes away: runc's state, the mounts and the namespaces under the run dir, the run dir. */
function removeAllButRecords(dir: string): void {
  const run = join(dir, 'run');
  const ids = readdirSync(join(run, 'containers')).filter((d) => /^[0-9a-f]{64}$/.test(d));
  for (const id of ids) quietly('runc', '--root', join(run, 'runc'), 'delete', '-f', id);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const target = line.split(' ')[4];
    if (target?.startsWith(`${run}/`)) quietly('umount', '-l', target);
  }
  quietly('rm', '-rf', run);
}

e2e('create pulls a missing image when asked (docker run --pull=missing), else NOT_FOUND', async (t) => {
  const registry = await startRegistry();
  try {
    await withAgent(
      t,
      async (c, _agent, dir) => {
        const image = await writeBusyboxLayout(join(dir, 'pulled'), 'v1', ['linux/amd64']);
        await registry.skopeo(
          'copy',
          '--dest-tls-verify=false',
          `oci:${image.layout}:v1`,
          `docker://${registry.host}/engine/busybox:v1`,
        );
        const ref = `${registry.host}/engine/busybox:v1`;
        const missing = await t.throwsAsync(c.create({ Image: ref, HostConfig: none() }));
        t.is((missing as grpc.ServiceError).code, grpc.status.NOT_FOUND);
        // what tsnetctl run pulls (with its progress) before it creates again
        t.deepEqual((missing as grpc.ServiceError).metadata.get(MISSING_IMAGE_METADATA), [ref]);
        const { id } = await new Promise<{ id: string }>((resolve, reject) =>
          c.client.Create(
            {
              specJson: JSON.stringify({ Image: ref, ...sh('exit 5'), HostConfig: none() }),
              pullMissing: true,
            },
            (err, res) => (err ? reject(err) : resolve(res!)),
          ),
        );
        t.is((await c.inspect(id)).Config.Image, ref);
        await c.start(id);
        t.is((await c.wait(id)).exitCode, 5);
      },
      registry.netnsPath,
    );
  } finally {
    await registry.stop();
  }
});

e2e(
  'a monitor killed under a running agent ends the run: exited, 255, the reason, nothing left running',
  async (t) => {
    await withAgent(t, async (c, _agent, dir) => {
      const { id } = await c.create({
        Image: IMAGE,
        ...sh('exec /bin/busybox sleep 1000'),
        HostConfig: none(),
      });
      await c.start(id);
      const pid = (await c.inspect(id)).State.Pid;
      process.kill(Number(readFileSync(join(dir, 'run', 'containers', id, 'conmon.pid'), 'utf8')), 'SIGKILL');
      const ended = await until('the lost monitor to be noticed', async () => {
        const i = await c.inspect(id);
        return i.State.Status === 'exited' ? i : undefined;
      });
      t.like(ended.State, { ExitCode: 255, Pid: 0 });
      t.regex((ended.State as unknown as { Error: string }).Error, /monitor \(conmon\) is gone/);
      await until('the orphaned process to be killed', async () =>
        existsSync(`/proc/${pid}`) ? undefined : true,
      );
      t.false(existsSync(join(dir, 'run', 'netns', id)));
    });
  },
);
