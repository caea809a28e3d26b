// One attach or exec call, driven from the terminal: output frames to stdout and stderr (kept apart, with
// backpressure), stdin forwarded, a raw terminal while a TTY is attached, the size sent on SIGWINCH, and the
// process's exit frame as the result. Used by run, start -a, attach and exec.
import type * as grpc from '@grpc/grpc-js';
import { callError } from '../api/client.ts';
import type { AttachOutput__Output } from '../api/generated/tsnet/v1/AttachOutput.ts';
import type { TerminalSize } from '../api/generated/tsnet/v1/TerminalSize.ts';
import type { CliContext } from './commands/context.ts';

/** What a session writes after its start message (AttachInput and ExecInput share these). */
export interface SessionInput {
  stdin?: Buffer;
  resize?: TerminalSize;
  closeStdin?: boolean;
}

export type SessionCall<In> = grpc.ClientDuplexStream<In, AttachOutput__Output>;

export interface SessionResult {
  /** absent when the call ended without an exit frame (detached, or the agent went away) */
  exitCode?: number;
  oomKilled: boolean;
  execId: string;
}

export interface Session {
  /** The agent answered the call's headers (it is attached), or a short grace passed. */
  readonly attached: Promise<void>;
  readonly done: Promise<SessionResult>;
}

/** The terminal's size when stdout is one, for the start message (the first byte must see the right size). */
export function terminalSize(ctx: CliContext): TerminalSize | undefined {
  const out = ctx.stdout;
  return out.isTTY && out.columns && out.rows ? { rows: out.rows, cols: out.columns } : undefined;
}

/**
 * Drives `call`, whose start message the caller has written. `tty`: the process has a terminal (raw mode
 * when ours is one too); `stdin`: forward ours.
 */
export function startSession<In extends SessionInput>(
  call: SessionCall<In>,
  ctx: CliContext,
  host: string,
  options: { tty: boolean; stdin: boolean },
): Session {
  // made only when forwarded: a stream on stdin reads ahead of the command (and a warm tsnetctl that made
  // one serves no other client)
  const stdin = options.stdin ? ctx.stdin : undefined;
  const result: SessionResult = { oomKilled: false, execId: '' };
  const cleanups: (() => void)[] = [];

  if (options.tty && stdin?.isTTY === true) {
    stdin.setRawMode(true);
    cleanups.push(() => stdin.setRawMode(false));
  }
  if (options.tty && ctx.stdout.isTTY) {
    const onResize = () => {
      const size = terminalSize(ctx);
      if (size) call.write({ resize: size } as In);
    };
    ctx.stdout.on('resize', onResize);
    cleanups.push(() => ctx.stdout.off('resize', onResize));
  }
  if (stdin) {
    const onData = (data: Buffer) => {
      if (!call.write({ stdin: data } as In)) {
        stdin.pause();
        call.once('drain', () => stdin.resume());
      }
    };
    const onEnd = () => call.write({ closeStdin: true } as In);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    });
  }

  const write = (out: NodeJS.WriteStream, data: Buffer | undefined) => {
    if (data?.length && !out.write(data)) {
      call.pause();
      out.once('drain', () => call.resume());
    }
  };
  // the agent's headers say it is attached (or will be, on the coming start): only then may the caller start
  const attached = new Promise<void>((resolve) => {
    call.once('metadata', () => resolve());
    call.once('status', () => resolve());
  });
  const done = new Promise<SessionResult>((resolve, reject) => {
    call.on('data', (frame: AttachOutput__Output) => {
      if (frame.execId) result.execId = frame.execId;
      if (frame.output === 'stdout') write(ctx.stdout, frame.stdout);
      else if (frame.output === 'stderr') write(ctx.stderr, frame.stderr);
      else if (frame.output === 'exitCode') {
        result.exitCode = frame.exitCode ?? 0;
        result.oomKilled = frame.oomKilled;
      }
    });
    call.once('end', () => resolve(result));
    // `on`, not `once`: a second error event without a listener would end tsnetctl with a stack trace
    call.on('error', (err) => reject(callError(host, err)));
  }).finally(() => {
    for (const undo of cleanups.reverse()) undo();
    call.end();
  });
  // the caller may meet another error first (the start call) and never await this one: a rejection nobody
  // handled would print Node's stack trace instead of the one line the caller prints
  done.catch(() => undefined);
  return { attached, done };
}

/**
 * docker's --sig-proxy: SIGINT and SIGTERM to tsnetctl go to the container (a terminal sends Ctrl-C as a byte
 * instead). Returns the undo.
 */
export function proxySignals(forward: (signal: NodeJS.Signals) => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = signals.map((s) => [s, () => forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
