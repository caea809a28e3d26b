// A fake runtime agent for tsnetctl's container, network and volume verbs: the real API server
// (startApiServer) on a temp socket with in-memory Containers, Networks and Volumes handlers. A container's
// "process" is a tiny script in its Cmd, so tests can choose what it prints and how it ends:
//   exit CODE [STDOUT [STDERR]]   writes the texts (one line each) to its streams and exits with CODE
//   sleep                         runs until stopped or killed
//   cat                           echoes stdin to stdout until stdin closes, then exits 0
// Every create body is kept (`created`) so tests can check what the CLI sent.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import tar from 'tar-stream';
import type { AttachOutput } from '../../pkg/api/generated/tsnet/v1/AttachOutput.ts';
import type { ContainersHandlers } from '../../pkg/api/generated/tsnet/v1/Containers.ts';
import type { NetworksHandlers } from '../../pkg/api/generated/tsnet/v1/Networks.ts';
import type { VolumesHandlers } from '../../pkg/api/generated/tsnet/v1/Volumes.ts';
import { api } from '../../pkg/api/proto.ts';
import { startApiServer } from '../../pkg/api/server.ts';
import type { ContainerCreateSpec } from '../../pkg/container/create-spec.ts';

interface LogLine {
  stream: 'stdout' | 'stderr';
  timeUnixNano: number;
  data: Buffer;
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerCreateSpec;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  created: number;
  log: LogLine[];
  /** its filesystem: path → content (directories: null) */
  files: Map<string, Buffer | null>;
  /** output and exit as they happen */
  events: EventEmitter;
  /** stdin not yet read by the process (null: closed) */
  stdin: (Buffer | null)[];
}

export interface FakeRuntime {
  readonly host: string;
  readonly containers: Map<string, FakeContainer>;
  readonly created: { spec: ContainerCreateSpec; name: string; pullMissing: boolean }[];
  readonly calls: string[];
  readonly networks: Map<string, { id: string; request: unknown }>;
  readonly volumes: Map<string, unknown>;
}

const fail = (code: grpc.status, details: string) => ({ code, details });

function resolve(rt: FakeRuntime, ref: string): FakeContainer | undefined {
  for (const c of rt.containers.values()) if (c.name === ref || c.id === ref) return c;
  const byPrefix = [...rt.containers.values()].filter((c) => c.id.startsWith(ref));
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

/** The container writes `text` (a line) to `stream`. */
export function output(c: FakeContainer, stream: 'stdout' | 'stderr', text: string) {
  const line = { stream, timeUnixNano: Date.now() * 1e6, data: Buffer.from(`${text}\n`) };
  c.log.push(line);
  c.events.emit('output', line);
}

/** The container's process ends with `code` (--rm: the container goes too). */
export function exit(c: FakeContainer, code: number, containers?: Map<string, FakeContainer>) {
  if (c.state !== 'running') return;
  c.state = 'exited';
  c.exitCode = code;
  c.events.emit('exit', code);
  if (c.spec.HostConfig?.AutoRemove && containers) {
    containers.delete(c.id);
    c.events.emit('removed');
  }
}

/** Runs the container's script (see the header). */
function runProcess(c: FakeContainer, containers: Map<string, FakeContainer>) {
  c.state = 'running';
  const [verb, ...args] = [...(c.spec.Cmd ?? [])];
  setTimeout(() => {
    if (verb === 'exit') {
      if (args[1]) output(c, 'stdout', args[1]);
      if (args[2]) output(c, 'stderr', args[2]);
      exit(c, Number(args[0] ?? 0), containers);
    } else if (verb === 'cat') {
      // What came before the process ran waited in its stdin, as in a pipe.
      const take = (data: Buffer | null) => {
        if (data === null) exit(c, 0, containers);
        else output(c, 'stdout', data.toString().trimEnd());
      };
      for (const data of c.stdin.splice(0)) take(data);
      c.events.on('stdin', take);
    }
  }, 20);
}

function summary(c: FakeContainer) {
  return {
    id: c.id,
    names: [`/${c.name}`],
    image: c.spec.Image,
    imageId: `sha256:${'1'.repeat(64)}`,
    command: (c.spec.Cmd ?? []).join(' '),
    createdUnix: c.created,
    state: c.state,
    status:
      c.state === 'running'
        ? 'Up 2 seconds'
        : c.state === 'exited'
          ? `Exited (${c.exitCode}) 1 second ago`
          : 'Created',
    ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    labels: { ...(c.spec.Labels ?? {}) },
    networks: ['bridge'],
    exitCode: c.exitCode,
  };
}

function inspectJson(c: FakeContainer): string {
  return JSON.stringify({
    Id: c.id,
    Name: `/${c.name}`,
    Image: `sha256:${'1'.repeat(64)}`,
    State: {
      Status: c.state,
      Running: c.state === 'running',
      ExitCode: c.exitCode,
      Pid: c.state === 'running' ? 4242 : 0,
    },
    Config: {
      Image: c.spec.Image,
      Cmd: c.spec.Cmd ?? null,
      Tty: c.spec.Tty ?? false,
      OpenStdin: c.spec.OpenStdin ?? false,
    },
    HostConfig: c.spec.HostConfig ?? {},
  });
}

/** A tar of `path` in the container's file map, rooted at its base name, as docker's archive is. */
async function archiveOf(c: FakeContainer, path: string): Promise<Buffer | undefined> {
  const norm = posix.normalize(path).replace(/\/$/, '') || '/';
  if (!c.files.has(norm)) return undefined;
  const pack = tar.pack();
  const base = posix.basename(norm);
  for (const [p, content] of [...c.files].sort(([a], [b]) => a.localeCompare(b))) {
    if (p !== norm && !p.startsWith(`${norm}/`)) continue;
    const name = posix.join(base, p.slice(norm.length));
    if (content === null) pack.entry({ name, type: 'directory', mode: 0o755 });
    else pack.entry({ name, type: 'file', mode: 0o644, size: content.length }, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function containersHandlers(rt: FakeRuntime): ContainersHandlers {
  const withContainer = <T>(
    ref: string,
    callback: grpc.sendUnaryData<T>,
    fn: (c: FakeContainer) => T | undefined,
  ) => {
    const c = resolve(rt, ref);
    if (!c) return callback(fail(grpc.status.NOT_FOUND, `No such container: ${ref}`));
    const answer = fn(c);
    if (answer !== undefined) callback(null, answer);
  };
  const attachFrames = (
    c: FakeContainer,
    call: grpc.ServerDuplexStream<unknown, AttachOutput>,
    end: () => void,
  ) => {
    const onOutput = (l: LogLine) =>
      call.write(l.stream === 'stdout' ? { stdout: l.data } : { stderr: l.data });
    const onExit = (code: number) => {
      call.write({ exitCode: code });
      end();
    };
    c.events.on('output', onOutput);
    c.events.once('exit', onExit);
    call.on('cancelled', () => {
      c.events.off('output', onOutput);
      c.events.off('exit', onExit);
    });
  };
  /** The container a server stream is about, or the stream failed NOT_FOUND. */
  const streamed = (call: grpc.ServerWritableStream<{ container: string }, unknown>) => {
    const c = resolve(rt, call.request.container);
    if (!c) call.emit('error', fail(grpc.status.NOT_FOUND, `No such container: ${call.request.container}`));
    return c;
  };
  return {
    Create(call, callback) {
      const spec = JSON.parse(call.request.specJson) as ContainerCreateSpec;
      rt.created.push({ spec, name: call.request.name, pullMissing: call.request.pullMissing });
      if (spec.Image === 'nosuch')
        return callback(fail(grpc.status.NOT_FOUND, 'No such image: nosuch:latest'));
      const name = call.request.name || `fake_${rt.containers.size}`;
      if ([...rt.containers.values()].some((c) => c.name === name))
        return callback(
          fail(grpc.status.ALREADY_EXISTS, `Conflict. The container name "/${name}" is already in use`),
        );
      const id = randomBytes(32).toString('hex');
      rt.containers.set(id, {
        id,
        name,
        spec,
        state: 'created',
        exitCode: 0,
        created: Math.floor(Date.now() / 1000),
        log: [],
        files: new Map([
          ['/', null],
          ['/etc', null],
          ['/etc/motd', Buffer.from('welcome\n')],
          ['/data', null],
          ['/data/a.txt', Buffer.from('alpha\n')],
          ['/data/sub', null],
          ['/data/sub/b.txt', Buffer.from('beta\n')],
        ]),
        events: new EventEmitter(),
        stdin: [],
      });
      callback(null, {
        id,
        warnings: spec.HostConfig?.BlkioWeight ? ['blkio weight has no effect here'] : [],
      });
    },
    Start(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        rt.calls.push(`Start ${c.name}`);
        if (c.state === 'running') return { id: c.id };
        runProcess(c, rt.containers);
        return { id: c.id, warnings: [] };
      });
    },
    Stop(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        rt.calls.push(`Stop ${c.name} ${call.request.timeoutSeconds}`);
        exit(c, 143);
        return { id: c.id };
      });
    },
    Restart(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        exit(c, 143);
        runProcess(c, rt.containers);
        return { id: c.id };
      });
    },
    Kill(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        rt.calls.push(`Kill ${c.name} ${call.request.signal}`);
        if (!/^(SIG)?(KILL|TERM|INT|HUP|USR1|QUIT)$|^\d+$/.test(call.request.signal))
          return void callback(fail(grpc.status.INVALID_ARGUMENT, `Invalid signal: ${call.request.signal}`));
        if (c.state !== 'running')
          return void callback(fail(grpc.status.FAILED_PRECONDITION, `Container ${c.id} is not running`));
        exit(c, 137);
        return { id: c.id };
      });
    },
    Pause(call, callback) {
      withContainer(call.request.container, callback, (c) => ({ id: c.id }));
    },
    Unpause(call, callback) {
      withContainer(call.request.container, callback, (c) => ({ id: c.id }));
    },
    Remove(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        if (c.state === 'running' && !call.request.force)
          return void callback(
            fail(
              grpc.status.FAILED_PRECONDITION,
              `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`,
            ),
          );
        exit(c, 137);
        rt.containers.delete(c.id);
        c.events.emit('removed');
        return { id: c.id };
      });
    },
    Rename(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        c.name = call.request.newName;
        return { id: c.id };
      });
    },
    List(call, callback) {
      const all = [...rt.containers.values()]
        .filter((c) => call.request.all || c.state === 'running')
        .sort((a, b) => b.created - a.created);
      callback(null, { containers: all.slice(0, call.request.last || undefined).map(summary) });
    },
    Inspect(call, callback) {
      withContainer(call.request.container, callback, (c) => ({ json: inspectJson(c) }));
    },
    Wait(call, callback) {
      withContainer(call.request.container, callback, (c) => {
        if (call.request.condition === 'removed') {
          if (!rt.containers.has(c.id)) return { exitCode: c.exitCode };
          c.events.once('removed', () => callback(null, { exitCode: c.exitCode }));
          return undefined;
        }
        if (c.state !== 'running') return { exitCode: c.exitCode };
        c.events.once('exit', (code: number) => callback(null, { exitCode: code }));
        return undefined;
      });
    },
    Attach(call) {
      call.once('data', (first: { start?: { container: string; logs: boolean; size?: unknown } }) => {
        const c = resolve(rt, first.start?.container ?? '');
        if (!c)
          return call.emit(
            'error',
            fail(grpc.status.NOT_FOUND, `No such container: ${first.start?.container}`),
          );
        rt.calls.push(
          `Attach ${c.name} logs=${first.start?.logs} size=${JSON.stringify(first.start?.size ?? null)}`,
        );
        if (first.start?.logs)
          for (const l of c.log) call.write(l.stream === 'stdout' ? { stdout: l.data } : { stderr: l.data });
        attachFrames(c, call, () => call.end());
        call.on('data', (m: { input?: string; stdin?: Buffer }) => {
          const data =
            m.input === 'stdin' ? (m.stdin ?? Buffer.alloc(0)) : m.input === 'closeStdin' ? null : undefined;
          if (data === undefined) return;
          if (c.events.listenerCount('stdin')) c.events.emit('stdin', data);
          else c.stdin.push(data);
        });
        call.sendMetadata(new grpc.Metadata());
      });
    },
    Exec(call) {
      call.once(
        'data',
        (first: { start?: { container: string; cmd: string[]; env: string[]; detach: boolean } }) => {
          const start = first.start;
          const c = resolve(rt, start?.container ?? '');
          if (!c)
            return call.emit('error', fail(grpc.status.NOT_FOUND, `No such container: ${start?.container}`));
          rt.calls.push(`Exec ${c.name} ${start?.cmd.join(' ')} env=${start?.env.join(',')}`);
          if (c.state !== 'running')
            return call.emit(
              'error',
              fail(grpc.status.FAILED_PRECONDITION, `Container ${c.id} is not running`),
            );
          const [verb, code = '0', out, err] = start?.cmd ?? [];
          if (start?.detach) {
            call.write({ execId: 'e'.repeat(64) });
            return call.end();
          }
          if (verb === 'exit') {
            if (out) call.write({ stdout: Buffer.from(`${out}\n`) });
            if (err) call.write({ stderr: Buffer.from(`${err}\n`) });
            call.write({ exitCode: Number(code) });
          } else {
            call.write({
              stderr: Buffer.from(`exec failed: "${verb}": executable file not found in $PATH\n`),
            });
            call.write({ exitCode: 127 });
          }
          call.end();
        },
      );
    },
    Logs(call) {
      const c = streamed(call);
      if (!c) return;
      rt.calls.push(
        `Logs tail=${call.request.tail} since=${call.request.sinceUnixNano > 0} follow=${call.request.follow}`,
      );
      const lines = call.request.tail >= 0 ? c.log.slice(-call.request.tail || c.log.length) : c.log;
      for (const l of call.request.tail === 0 ? [] : lines) call.write(l);
      if (!call.request.follow || c.state !== 'running') return call.end();
      const onOutput = (l: LogLine) => call.write(l);
      c.events.on('output', onOutput);
      c.events.once('exit', () => call.end());
      call.on('cancelled', () => c.events.off('output', onOutput));
    },
    Stats(call) {
      const c = streamed(call);
      if (!c) return;
      call.write({
        id: c.id,
        name: c.name,
        cpuPercent: 12.345,
        memoryUsage: 1.5 * 2 ** 20,
        memoryLimit: 2 ** 30,
        netRxBytes: 1200,
        netTxBytes: 648,
        blockReadBytes: 0,
        blockWriteBytes: 4096,
        pids: 3,
      });
      call.end();
    },
    Top(call, callback) {
      withContainer(call.request.container, callback, () => ({
        titles: ['UID', 'PID', 'CMD'],
        processes: [{ fields: ['root', '4242', 'sleep 1000'] }],
      }));
    },
    Port(call, callback) {
      withContainer(call.request.container, callback, (c) => ({ ports: summary(c).ports }));
    },
    CopyFrom(call) {
      const c = streamed(call);
      if (!c) return;
      archiveOf(c, call.request.path).then((data) => {
        if (!data)
          return call.emit(
            'error',
            fail(
              grpc.status.NOT_FOUND,
              `Could not find the file ${call.request.path} in container ${c.name}`,
            ),
          );
        call.write({ data });
        call.end();
      });
    },
    CopyTo(call, callback) {
      let into = '';
      let c: FakeContainer | undefined;
      const extract = tar.extract();
      call.on(
        'data',
        (chunk: { chunk?: string; options?: { container: string; path: string }; data?: Buffer }) => {
          if (chunk.chunk === 'options') {
            c = resolve(rt, chunk.options?.container ?? '');
            into = chunk.options?.path ?? '/';
          } else if (chunk.data) extract.write(chunk.data);
        },
      );
      call.on('end', () => (extract as unknown as Writable).end());
      (async () => {
        for await (const entry of extract) {
          const parts: Buffer[] = [];
          for await (const piece of entry as AsyncIterable<Buffer>) parts.push(piece);
          const path = posix.join(into, entry.header.name).replace(/\/$/, '');
          c?.files.set(path, entry.header.type === 'directory' ? null : Buffer.concat(parts));
        }
        if (!c) return callback(fail(grpc.status.NOT_FOUND, 'No such container'));
        callback(null, {});
      })().catch((err: Error) => callback(fail(grpc.status.INTERNAL, err.message)));
    },
    Export(call) {
      const c = streamed(call);
      if (!c) return;
      archiveOf(c, '/').then((data) => {
        call.write({ data });
        call.end();
      });
    },
    Prune(_call, callback) {
      const deleted = [...rt.containers.values()].filter((c) => c.state === 'exited').map((c) => c.id);
      for (const id of deleted) rt.containers.delete(id);
      callback(null, { deleted, spaceReclaimed: 2048 * deleted.length });
    },
  };
}

function networksHandlers(rt: FakeRuntime): NetworksHandlers {
  const inspect = (name: string) =>
    JSON.stringify({ Name: name, Id: rt.networks.get(name)?.id, Driver: 'bridge' });
  return {
    Create(call, callback) {
      if (rt.networks.has(call.request.name))
        return callback(
          fail(grpc.status.ALREADY_EXISTS, `network with name ${call.request.name} already exists`),
        );
      const id = randomBytes(32).toString('hex');
      rt.networks.set(call.request.name, { id, request: call.request });
      callback(null, { id });
    },
    List(_call, callback) {
      callback(null, {
        networks: [...rt.networks].map(([name, n]) => ({ id: n.id, name, driver: 'bridge', scope: 'local' })),
      });
    },
    Inspect(call, callback) {
      if (!rt.networks.has(call.request.network))
        return callback(fail(grpc.status.NOT_FOUND, `network ${call.request.network} not found`));
      callback(null, { json: inspect(call.request.network) });
    },
    Remove(call, callback) {
      const n = rt.networks.get(call.request.network);
      if (!n) return callback(fail(grpc.status.NOT_FOUND, `network ${call.request.network} not found`));
      rt.networks.delete(call.request.network);
      callback(null, { id: n.id });
    },
    Connect(call, callback) {
      rt.calls.push(
        `Connect ${call.request.network} ${call.request.container} ${call.request.aliases.join(',')}`,
      );
      callback(null, {});
    },
    Disconnect(call, callback) {
      rt.calls.push(
        `Disconnect ${call.request.network} ${call.request.container} force=${call.request.force}`,
      );
      callback(null, {});
    },
    Prune(_call, callback) {
      callback(null, { deleted: [] });
    },
  };
}

function volumesHandlers(rt: FakeRuntime): VolumesHandlers {
  const summaryOf = (name: string) => ({
    name,
    driver: 'local',
    mountpoint: `/var/lib/tsnet/volumes/${name}/_data`,
    scope: 'local',
  });
  return {
    Create(call, callback) {
      const name = call.request.name || randomBytes(32).toString('hex');
      rt.volumes.set(name, call.request);
      callback(null, summaryOf(name));
    },
    List(_call, callback) {
      callback(null, { volumes: [...rt.volumes.keys()].map(summaryOf) });
    },
    Inspect(call, callback) {
      if (!rt.volumes.has(call.request.name))
        return callback(fail(grpc.status.NOT_FOUND, `get ${call.request.name}: no such volume`));
      callback(null, { json: JSON.stringify({ ...summaryOf(call.request.name), Name: call.request.name }) });
    },
    Remove(call, callback) {
      if (!rt.volumes.delete(call.request.name))
        return callback(fail(grpc.status.NOT_FOUND, `get ${call.request.name}: no such volume`));
      callback(null, {});
    },
    Prune(_call, callback) {
      const deleted = [...rt.volumes.keys()];
      rt.volumes.clear();
      callback(null, { deleted, spaceReclaimed: 0 });
    },
  };
}

/** Runs `fn` against a fake runtime agent listening on a socket in `dir`; the server is closed afterwards. */
export async function withFakeRuntime<T>(dir: string, fn: (rt: FakeRuntime) => Promise<T>): Promise<T> {
  const groupFile = `${dir}/group`;
  writeFileSync(groupFile, 'root:x:0:\n');
  const path = `${dir}/api.sock`;
  const rt: FakeRuntime = {
    host: `unix://${path}`,
    containers: new Map(),
    created: [],
    calls: [],
    networks: new Map(),
    volumes: new Map(),
  };
  const server = await startApiServer({
    path,
    groupFile,
    services: [
      [api().Containers.service, containersHandlers(rt)],
      [api().Networks.service, networksHandlers(rt)],
      [api().Volumes.service, volumesHandlers(rt)],
    ],
  });
  try {
    return await fn(rt);
  } finally {
    await server.close();
  }
}
