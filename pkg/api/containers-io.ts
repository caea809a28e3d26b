// The Attach and Exec calls of the Containers service: a container's (or an exec's) stdio over one
// bidirectional stream. The first input message carries the options; then stdin bytes, resizes and the end
// of stdin. Output frames keep stdout and stderr apart; the last frame has the exit code. A terminal gets
// the client's size before the process writes anything (an exec's through its process spec, an attach's
// through conmon's control fifo before connecting). Attach answers an empty frame once it is connected, so a
// client that attaches to start a container (`start -a`, `run` in the foreground) knows when to start it.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
  ContainerStateError,
} from '../container/handle.ts';
import { readLogs } from '../logs/reader.ts';
import { AttachError, attachToMonitor, type MonitorAttachment } from '../runtime/attach.ts';
import { resizeTerminal } from '../runtime/conmon.ts';
import { type ExecSession, ExecSetupError, startExec, type TerminalSize } from '../runtime/exec.ts';
import { SpecError } from '../runtime/spec.ts';
import { UserSpecError } from '../runtime/user.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { AttachInput__Output } from './generated/tsnet/v1/AttachInput.ts';
import type { AttachOutput } from './generated/tsnet/v1/AttachOutput.ts';
import type { AttachStart__Output } from './generated/tsnet/v1/AttachStart.ts';
import type { ExecInput__Output } from './generated/tsnet/v1/ExecInput.ts';
import type { ExecStart__Output } from './generated/tsnet/v1/ExecStart.ts';
import type { TerminalSize__Output } from './generated/tsnet/v1/TerminalSize.ts';

type IoCall<In> = grpc.ServerDuplexStream<In, AttachOutput>;

/** Docker's default detach sequence (ctrl-p, ctrl-q). */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

export class InvalidIoRequestError extends Error {
  override name = 'InvalidIoRequestError';
}

function statusOf(err: unknown): grpc.ServerErrorResponse {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code =
    err instanceof ContainerNotFoundError
      ? grpc.status.NOT_FOUND
      : err instanceof ContainerStateError
        ? grpc.status.FAILED_PRECONDITION
        : err instanceof InvalidIoRequestError ||
            err instanceof ExecSetupError ||
            err instanceof UserSpecError ||
            err instanceof SpecError
          ? grpc.status.INVALID_ARGUMENT
          : grpc.status.INTERNAL;
  const metadata = new grpc.Metadata();
  metadata.set(AGENT_ERROR_METADATA, '1');
  return Object.assign(new Error(details), { code, details, metadata });
}

/** A terminal size from the wire, or undefined when the client sent none (zeros). */
function sizeOf(size: TerminalSize__Output | null | undefined): TerminalSize | undefined {
  if (!size || size.rows === 0 || size.cols === 0) return undefined;
  if (size.rows > 65535 || size.cols > 65535) {
    throw new InvalidIoRequestError(`invalid terminal size ${size.rows}x${size.cols}`);
  }
  return { rows: size.rows, cols: size.cols };
}

/**
 * The call's input messages: the options of the first one, then every later one in order, including those
 * that arrive while the process is being set up.
 */
function inputOf<S, In extends { input?: string; start?: S | null }>(
  call: IoCall<In>,
  rpc: 'Exec' | 'Attach',
): { start: Promise<S>; rest(handler: (msg: In) => void): void } {
  const queued: In[] = [];
  let handler: ((msg: In) => void) | undefined;
  let resolveFirst: ((msg: In) => void) | undefined;
  let rejectFirst: ((err: Error) => void) | undefined;
  const first = new Promise<In>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  call.on('data', (msg: In) => {
    if (resolveFirst) {
      const r = resolveFirst;
      resolveFirst = undefined;
      r(msg);
    } else if (handler) handler(msg);
    else queued.push(msg);
  });
  call.once('end', () => rejectFirst?.(new InvalidIoRequestError('the call ended before its first message')));
  return {
    start: first.then((msg) => {
      if (msg.input !== 'start' || !msg.start) {
        throw new InvalidIoRequestError(`the first message of ${rpc} must be an ${rpc}Start`);
      }
      return msg.start;
    }),
    rest(h) {
      handler = h;
      for (const msg of queued.splice(0)) h(msg);
    },
  };
}

/** Output frames from a stream, paused while gRPC's buffer is full. */
function forward(
  call: IoCall<unknown>,
  source: NodeJS.ReadableStream,
  field: 'stdout' | 'stderr',
): Promise<void> {
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => {
      if (call.cancelled) return;
      if (!call.write({ [field]: chunk })) {
        source.pause();
        call.once('drain', () => source.resume());
      }
    });
    source.once('end', resolve);
    source.once('error', () => resolve());
    source.once('close', resolve);
  });
}

/** Drops a stream's output the client did not ask for (the relay must not stall on it). */
function discard(source: NodeJS.ReadableStream): Promise<void> {
  source.resume();
  return new Promise((resolve) => {
    source.once('end', resolve);
    source.once('close', resolve);
  });
}

/** The log's entries up to `untilNs` as output frames, before the live output (which waits meanwhile). */
async function replayLog(
  call: IoCall<unknown>,
  logPath: string,
  untilNs: bigint,
  streams: { stdout: boolean; stderr: boolean },
): Promise<void> {
  if (!streams.stdout && !streams.stderr) return;
  for await (const entry of readLogs(logPath, { until: untilNs, ...streams })) {
    if (call.cancelled) return;
    if (!call.write({ [entry.stream]: entry.data }))
      await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
  }
}

function fail(call: IoCall<unknown>, err: unknown): void {
  if (call.cancelled) return;
  call.emit('error', statusOf(err));
}

/** Docker's --detach-keys: "ctrl-<key>" or single characters, comma-separated. */
export function parseDetachKeys(text: string): Buffer {
  const bytes = text.split(',').map((key) => {
    const k = key.trim().toLowerCase();
    const ctrl = /^ctrl-(.)$/.exec(k);
    if (ctrl) {
      const c = (ctrl[1] ?? '').charCodeAt(0);
      if (c >= 0x61 && c <= 0x7a) return c - 0x60; // ctrl-a .. ctrl-z
      const specials: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
      const special = specials[ctrl[1] ?? ''];
      if (special !== undefined) return special;
    } else if (k.length === 1) return k.charCodeAt(0);
    throw new InvalidIoRequestError(`invalid detach keys ${JSON.stringify(text)}: use e.g. ctrl-p,ctrl-q`);
  });
  return Buffer.from(bytes);
}

/** Finds the detach sequence across stdin chunks; what precedes it is still input. */
class DetachMatcher {
  private matched = 0;
  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass on and whether the sequence completed in this chunk. */
  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    const pass: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(pass), detach: true };
        continue;
      }
      // a partial match that fails was input after all
      pass.push(...this.keys.subarray(0, this.matched));
      this.matched = byte === this.keys[0] ? 1 : 0;
      if (this.matched === 0) pass.push(byte);
    }
    return { pass: Buffer.from(pass), detach: false };
  }
}

function requireStatus(handle: ContainerHandle, verb: 'exec' | 'attach'): void {
  if (handle.status === 'paused') {
    throw new ContainerStateError(`Container ${handle.id} is paused, unpause the container before ${verb}`);
  }
  if (verb === 'exec' && handle.status !== 'running') {
    throw new ContainerStateError(`Container ${handle.id} is not running`);
  }
  // a stopped one is attached on its next start, as Docker's daemon does for `start -a` (docker's own
  // `attach` refuses a stopped container before it calls)
  if (verb === 'attach' && !['running', 'created', 'exited'].includes(handle.status)) {
    throw new ContainerStateError(`You cannot attach to a ${handle.status} container`);
  }
}

export function execHandler(
  lookup: ContainerLookup,
): grpc.handleBidiStreamingCall<ExecInput__Output, AttachOutput> {
  return (call) => {
    const input = inputOf<ExecStart__Output, ExecInput__Output>(call, 'Exec');
    let session: ExecSession | undefined;
    const run = async (): Promise<void> => {
      const start = await input.start;
      const handle = await lookup.get(start.container);
      requireStatus(handle, 'exec');
      const size = sizeOf(start.size);
      session = await startExec(
        { id: handle.id, bundleDir: handle.bundleDir, rootfs: handle.rootfs, runtime: handle.runtime },
        {
          cmd: start.cmd,
          env: start.env,
          user: start.user,
          workingDir: start.workingDir,
          tty: start.tty,
          stdin: start.stdin,
          detach: start.detach,
          privileged: start.privileged,
          ...(size ? { size } : {}),
        },
      );
      if (start.detach) {
        call.write({ execId: session.id });
        call.end();
        return;
      }
      const s = session;
      input.rest((msg) => {
        if (msg.input === 'stdin' && msg.stdin) s.stdin?.write(msg.stdin);
        else if (msg.input === 'closeStdin') s.stdin?.end();
        else if (msg.input === 'resize') {
          const next = sizeOf(msg.resize);
          if (next) s.resize(next).catch(() => undefined); // the process may just have ended
        }
      });
      call.once('end', () => s.stdin?.end());
      const outputs = Promise.all([forward(call, s.stdout, 'stdout'), forward(call, s.stderr, 'stderr')]);
      const exit = await s.exit;
      await outputs;
      // a terminal exec's failure came on conmon's sync pipe, not as output (runc printed a plain one's)
      if (exit.error && start.tty) call.write({ stderr: Buffer.from(`${exit.error}\n`) });
      call.write({ exitCode: exit.exitCode, execId: s.id });
      call.end();
    };
    run().catch((err: unknown) => fail(call, err));
  };
}

export function attachHandler(
  lookup: ContainerLookup,
): grpc.handleBidiStreamingCall<AttachInput__Output, AttachOutput> {
  return (call) => {
    const input = inputOf<AttachStart__Output, AttachInput__Output>(call, 'Attach');
    let attachment: MonitorAttachment | undefined;
    let detached = false;
    call.once('cancelled', () => attachment?.close());
    const run = async (): Promise<void> => {
      const start = await input.start;
      const handle = await lookup.get(start.container);
      requireStatus(handle, 'attach');
      const detachKeys = parseDetachKeys(start.detachKeys || DEFAULT_DETACH_KEYS);
      // nothing asked for means everything, as `docker attach` does
      const all = !start.stdin && !start.stdout && !start.stderr;
      const size = sizeOf(start.size);
      const wanted = { stdout: start.stdout || all, stderr: start.stderr || all };
      // the log holds what came before the attach: entries stamped up to the connection (Docker's logs=1)
      let attachedAtNs = 0n;
      const connect = async (): Promise<MonitorAttachment> => {
        try {
          attachedAtNs = BigInt(Date.now()) * 1_000_000n;
          const attached = await attachToMonitor(handle.attachSocketPath);
          // the size before the process writes its first byte (a created one has not run yet)
          if (size && handle.tty) await resizeTerminal(handle.ctlPath, size.rows, size.cols);
          return attached;
        } catch (err) {
          if (err instanceof AttachError)
            throw new ContainerStateError(`cannot attach to ${handle.id}: ${err.message}`);
          throw err;
        }
      };
      if (handle.status !== 'running') {
        // not started (yet, or again): its monitor comes up on start; connect between its create and its start
        let cancel = (): void => undefined;
        const connected = new Promise<MonitorAttachment>((resolve, reject) => {
          cancel = lookup.beforeNextStart(handle.id, () => connect().then(resolve, reject));
        });
        call.once('cancelled', () => cancel());
        // headers now: the client may start the container (`run`, `start -a`)
        call.sendMetadata(new grpc.Metadata());
        attachment = await connected;
      } else {
        attachment = await connect();
      }
      const a = attachment;
      // an empty first frame: attached, nothing from here on is missed (`start -a` starts the container now)
      call.write({});
      if (start.logs) await replayLog(call, handle.logPath, attachedAtNs, wanted);
      const wantsStdin = (start.stdin || all) && handle.openStdin;
      const matcher = new DetachMatcher(detachKeys);
      input.rest((msg) => {
        if (msg.input === 'stdin' && msg.stdin && wantsStdin) {
          const { pass, detach } = matcher.feed(msg.stdin);
          if (pass.length > 0) a.stdin.write(pass);
          if (detach) {
            detached = true;
            a.close();
          }
        } else if (msg.input === 'closeStdin' && wantsStdin) a.stdin.end();
        else if (msg.input === 'resize' && handle.tty) {
          const next = sizeOf(msg.resize);
          if (next) resizeTerminal(handle.ctlPath, next.rows, next.cols).catch(() => undefined);
        }
      });
      await Promise.all([
        wanted.stdout ? forward(call, a.stdout, 'stdout') : discard(a.stdout),
        wanted.stderr ? forward(call, a.stderr, 'stderr') : discard(a.stderr),
        a.closed,
      ]);
      if (detached || call.cancelled) {
        call.end();
        return;
      }
      // conmon closed the connection: the container's process has ended
      const exit = await lookup.waitExit(handle.id);
      call.write({ exitCode: exit.exitCode, oomKilled: exit.oomKilled });
      call.end();
    };
    run().catch((err: unknown) => {
      attachment?.close();
      fail(call, err);
    });
  };
}
