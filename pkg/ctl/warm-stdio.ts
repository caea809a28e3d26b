// process.stdout, stderr and stdin of a warm tsnetctl, which serves one client's command after another
// (warm-client.ts). Node makes each of its own streams once, from what fds 0-2 are at first use, and keeps it
// for the life of the process: a second client's stdout would be the first one's stream. Here each command
// gets streams of its own, made on first use from the descriptors it has (the client's), as Node makes them:
// a terminal a tty.WriteStream, a pipe or socket a net.Socket, a file or device written in place. They are
// flushed and closed when the command ends, before the client's descriptors are given back.
//
// stdin is Node's own (reading ahead of what a command takes cannot be undone): a command that made it is
// the last one its process serves.

import { once } from 'node:events';
import { fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { isatty, WriteStream } from 'node:tty';

type StdioName = 'stdin' | 'stdout' | 'stderr';

interface CommandStreams {
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** what puts away a terminal stream's SIGWINCH listener */
  undo: (() => void)[];
}

export class WarmStdio {
  #command: CommandStreams | undefined;
  #clientSeen = false;
  #stdinMade = false;
  #closing = false;
  readonly #nodeStdin: () => NodeJS.ReadStream;

  /** Puts the getters in place of Node's: until a command opens, using a stream is an error. */
  constructor() {
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')?.get;
    if (!stdin) throw new Error('warm tsnetctl: process.stdin has no getter to take over');
    this.#nodeStdin = () => stdin.call(process) as NodeJS.ReadStream;
    for (const name of ['stdin', 'stdout', 'stderr'] as const)
      Object.defineProperty(process, name, { configurable: true, get: () => this.#stream(name) });
  }

  /** A command starts: its streams are made from fds 0-2 (the client's now) when it first uses them. */
  open(): void {
    this.#command = { undo: [] };
    this.#clientSeen = true;
    this.#stdinMade = false;
  }

  /** Whether the last command made process.stdin. */
  get stdinMade(): boolean {
    return this.#stdinMade;
  }

  /**
   * The command ended: what it wrote reaches its descriptors (however long a reader takes: a client's
   * blocking write would wait as long), then its streams close. fds 0-2 stay open (libuv never closes them).
   */
  async close(): Promise<void> {
    const command = this.#command;
    if (!command) return;
    const streams = [command.stdout, command.stderr].filter((s) => s !== undefined);
    this.#closing = true;
    await Promise.all(streams.map(flushed));
    for (const undo of command.undo) undo();
    // 'close' comes once the handle is released (a turn of the loop after destroy)
    await Promise.all(
      streams.map((stream) => {
        const closed = stream.closed
          ? Promise.resolve()
          : once(stream, 'close').then(
              () => undefined,
              () => undefined,
            );
        stream.destroy();
        return closed;
      }),
    );
    this.#command = undefined;
    this.#closing = false;
  }

  #stream(name: StdioName): NodeJS.ReadStream | NodeJS.WriteStream {
    const command = this.#command;
    if (!command) {
      if (!this.#clientSeen) throw new Error(`warm tsnetctl: process.${name} used before a client took over`);
      // between two commands (a warning, say): written nowhere, as to a process without that stream
      return discarding();
    }
    if (name === 'stdin') {
      this.#stdinMade = true;
      return this.#nodeStdin();
    }
    // none made as the command's streams close (net.Socket's destroy looks at process.stderr)
    if (this.#closing) return command[name] ?? discarding();
    if (!command[name]) {
      const stream = writableStdio(name === 'stdout' ? 1 : 2);
      if (stream instanceof WriteStream) {
        // as Node's own: a terminal's size is read again on SIGWINCH, and 'resize' said
        const refresh = () => (stream as WriteStream & { _refreshSize(): void })._refreshSize();
        process.on('SIGWINCH', refresh);
        command.undo.push(() => process.off('SIGWINCH', refresh));
      }
      command[name] = stream;
    }
    return command[name];
  }
}

/** What Node makes of fd 1 or 2 for process.stdout and stderr. */
function writableStdio(fd: 1 | 2): NodeJS.WriteStream {
  let stream: Writable;
  if (isatty(fd)) stream = new WriteStream(fd);
  else {
    let kind: 'pipe' | 'file' = 'file';
    try {
      const st = fstatSync(fd);
      if (st.isFIFO() || st.isSocket()) kind = 'pipe';
    } catch {
      // a closed descriptor: written in place, where each write fails as it would for the client
    }
    stream = kind === 'pipe' ? new Socket({ fd, readable: false, writable: true }) : new InPlaceWriter(fd);
  }
  return Object.assign(stream, { fd, _isStdio: true }) as unknown as NodeJS.WriteStream;
}

/** A file or a device: each write done when it is made, as Node's SyncWriteStream does. */
class InPlaceWriter extends Writable {
  readonly #fd: number;
  constructor(fd: number) {
    super({ autoDestroy: true });
    this.#fd = fd;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      let written = 0;
      while (written < chunk.length) written += writeSync(this.#fd, chunk, written);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

function discarding(): NodeJS.WriteStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;
}

/** Resolves once nothing written to `stream` waits to be written (or it can no longer be). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', check);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    const check = () => {
      if (stream.writableLength === 0) done();
    };
    stream.on('drain', check);
    stream.once('close', done);
    stream.once('error', done);
  });
}
