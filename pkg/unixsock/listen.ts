// Listening on a unix socket path the way a daemon must: a stale socket (its server killed) is replaced, a
// live one (another daemon) or a file that is not a socket is left alone with an error, and the socket is
// never connectable by others, not even for the moment between listen and chmod.
import { chmod, chown, lstat, mkdir, rm } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname, isAbsolute } from 'node:path';

export interface ListenOptions {
  /** What the socket is, for errors: "CNI socket", "API socket". */
  what: string;
  /** Final mode (default 0600). */
  mode?: number;
  /** Group owning the socket (with a group-readable mode). */
  gid?: number;
}

export async function listenUnix(server: Server, path: string, options: ListenOptions): Promise<void> {
  const { what } = options;
  if (!isAbsolute(path)) throw new Error(`${what} ${JSON.stringify(path)}: expected an absolute path`);
  await mkdir(dirname(path), { recursive: true });
  if (await isListening(path))
    throw new Error(`${what} ${path} is served by another process (another tsnet-agent?)`);
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isSocket()) throw new Error(`${what} path ${path} exists and is not a socket`);
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const oldMask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(oldMask);
    }
  });
  if (options.gid !== undefined) await chown(path, 0, options.gid);
  await chmod(path, options.mode ?? 0o600);
}

/** Whether a server answers on the socket at `path`. */
export function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
