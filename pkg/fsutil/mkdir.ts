// `mkdir -p` that always ends. Node's own recursive mkdir loops forever (100% CPU, deaf to SIGTERM, as it
// runs in one synchronous call) when mkdir answers ENOENT for a directory whose parent exists, which is what
// /proc does. Here each level is tried at most twice: bounded by the depth of the path.
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function notADirectory(path: string): Error {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), {
    code: 'ENOTDIR',
    syscall: 'mkdir',
    path,
  });
}

/** Creates `path` and its missing parents (new ones get `mode`); fine when it already is a directory. */
export function makeDirectorySync(path: string, mode = 0o755): void {
  const dir = resolve(path);
  try {
    mkdirSync(dir, { mode });
    return;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') {
      if (!statSync(dir).isDirectory()) throw notADirectory(dir);
      return;
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  makeDirectorySync(dirname(dir), mode);
  try {
    mkdirSync(dir, { mode }); // a second ENOENT (the parent exists now) is final
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
  }
}

/** makeDirectorySync off the event loop, for the agent's serving paths. */
export async function makeDirectory(path: string, mode = 0o755): Promise<void> {
  const dir = resolve(path);
  try {
    await mkdir(dir, { mode });
    return;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') {
      if (!(await stat(dir)).isDirectory()) throw notADirectory(dir);
      return;
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  await makeDirectory(dirname(dir), mode);
  try {
    await mkdir(dir, { mode }); // a second ENOENT (the parent exists now) is final
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw err;
  }
}
