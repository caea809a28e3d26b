// A client of conmon's attach socket: the container's (or an exec session's) stdout and stderr as it
// writes them, and its stdin. The socket is SOCK_SEQPACKET, which libuv cannot wrap, so a small native relay
// (native/attach-relay, one process per attached client, ~1 MB) talks to it and to us over ordinary
// event-driven pipes: no FFI call ever waits on a libuv pool thread. Frames on the relay's stdout: [u8 kind]
// [u32 BE length][payload], kind 0 once connected, 2 stdout, 3 stderr.
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { findLibexec, libexecCandidates } from './libexec.ts';

export const ATTACH_RELAY_NAME = 'tsnet-attach-relay';
/** Points at the relay binary when it is not where the build puts it. */
export const ATTACH_RELAY_ENV = 'TSNET_ATTACH_RELAY';

const KIND_CONNECTED = 0;
const KIND_STDOUT = 2;
const KIND_STDERR = 3;
const HEADER_BYTES = 5;

export class AttachError extends Error {
  override name = 'AttachError';
}

/**
 * The relay binary: $TSNET_ATTACH_RELAY, else dist/libexec beside the running code (the bundled agent in
 * dist/bin, or these sources in pkg/runtime).
 */
export function attachRelayPath(): string {
  const fromEnv = process.env[ATTACH_RELAY_ENV];
  if (fromEnv) return fromEnv;
  const found = findLibexec(ATTACH_RELAY_NAME);
  if (!found) {
    throw new AttachError(
      `the attach relay ${ATTACH_RELAY_NAME} is missing (looked in ${libexecCandidates(ATTACH_RELAY_NAME).join(', ')}): run \`npm run build\``,
    );
  }
  return found;
}

export interface MonitorAttachment {
  /** the process's output as conmon relays it (a terminal's output is all stdout) */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** bytes to the process's stdin; ending it closes the process's stdin (unless conmon leaves it open) */
  readonly stdin: Writable;
  /** settles when the connection ends: conmon closed it (the process ended) or close() was called */
  readonly closed: Promise<void>;
  /** Disconnects without touching the process (stdin is closed for it unless conmon leaves it open). */
  close(): void;
}

export interface AttachOptions {
  readonly relayBinary?: string;
}

/** Reassembles the relay's frames from its stdout chunks. */
class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  *frames(chunk: Buffer): Generator<{ kind: number; payload: Buffer }> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < HEADER_BYTES + length) break;
      const kind = this.pending[0] ?? -1;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      this.pending = this.pending.subarray(HEADER_BYTES + length);
      yield { kind, payload };
    }
  }
}

/**
 * Connects to conmon's attach socket; resolves once connected (from then on nothing the process writes is
 * missed), rejects with the relay's reason when it cannot connect.
 */
export function attachToMonitor(socketPath: string, opts: AttachOptions = {}): Promise<MonitorAttachment> {
  const relay: ChildProcess = spawn(opts.relayBinary ?? attachRelayPath(), [socketPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdin = relay.stdin as Writable;
  const relayOut = relay.stdout as Readable;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  // the relay gone, whatever the process still wanted to write is not for anyone
  stdin.on('error', () => undefined);
  let diagnostics = '';
  relay.stderr?.on('data', (chunk: Buffer) => {
    if (diagnostics.length < 4096) diagnostics += chunk.toString('utf8');
  });
  const closed = new Promise<void>((resolve) => relay.once('close', () => resolve()));

  return new Promise((resolve, reject) => {
    let connected = false;
    const reader = new FrameReader();
    relay.once('error', (err) => {
      if (!connected) reject(new AttachError(`cannot run the attach relay: ${err.message}`));
    });
    relayOut.on('data', (chunk: Buffer) => {
      for (const { kind, payload } of reader.frames(chunk)) {
        if (kind === KIND_CONNECTED) {
          connected = true;
          resolve({
            stdout,
            stderr,
            stdin,
            closed,
            close: () => {
              if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGTERM');
            },
          });
          continue;
        }
        const target = kind === KIND_STDERR ? stderr : kind === KIND_STDOUT ? stdout : undefined;
        // a slow reader pauses the relay, which stops reading the socket: conmon's buffers hold the rest
        if (target && !target.write(payload)) {
          relayOut.pause();
          target.once('drain', () => relayOut.resume());
        }
      }
    });
    relayOut.once('end', () => {
      stdout.end();
      stderr.end();
    });
    relay.once('close', (code, signal) => {
      if (connected) return;
      const reason = diagnostics.trim().replace(/^attach-relay: /, '') || `relay ended (${signal ?? code})`;
      reject(new AttachError(`cannot attach to ${socketPath}: ${reason}`));
    });
  });
}
