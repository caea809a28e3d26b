// A private tmux server for the terminal tests (exec -it, run -it): a real pty of a known size that a test
// resizes, types into and reads back. Its socket goes with it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Why the tmux tests cannot run here; undefined when they can. */
export function tmuxMissing(): string | undefined {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'tmux is not installed';
  }
}

export interface Tmux {
  /** A tmux command against this server. */
  run(...args: string[]): string;
  /** The non-empty lines of the 'main' session's pane, trailing spaces trimmed. */
  pane(): string[];
  /** Polls `probe` until it returns a value (the pane is read by tmux: the only clock is the attempts). */
  eventually<T>(probe: () => T | undefined, what: string, attempts?: number): Promise<T>;
}

/** Runs `fn` with a tmux server of its own, killed afterwards (its socket removed) whatever happens. */
export async function withTmux<T>(fn: (tmux: Tmux) => Promise<T>): Promise<T> {
  const server = `tsnet-test-${randomBytes(4).toString('hex')}`;
  const run = (...args: string[]): string =>
    execFileSync('tmux', ['-L', server, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const pane = (): string[] =>
    run('capture-pane', '-p', '-t', 'main')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
  const eventually = async <V>(probe: () => V | undefined, what: string, attempts = 300): Promise<V> => {
    for (let i = 0; i < attempts; i++) {
      const value = probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`gave up waiting for ${what}`);
  };
  try {
    return await fn({ run, pane, eventually });
  } finally {
    try {
      run('kill-server');
    } catch {
      // the server is gone already
    }
    // tmux leaves its socket behind
    const socketDir = join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(join(socketDir, server), { force: true });
  }
}

/**
 * A shell loop for the pane: prints the terminal size first and after every line typed; `nap` makes it sleep
 * (so Ctrl-C has something to interrupt). `prefix` runs the tools (e.g. `/bin/busybox ` in an image without
 * applet links).
 */
export function terminalSizeScript(prefix = ''): string {
  return `${prefix}stty size; while read line; do [ "$line" = nap ] && ${prefix}sleep 100; ${prefix}stty size; done`;
}

/**
 * With terminalSizeScript running in 'main' at 100x30 and its first size shown: resizes the window to
 * 120x40 and waits until the script shows it, then types `nap` and Ctrl-C.
 */
export async function resizeThenInterrupt(tmux: Tmux): Promise<void> {
  const { run, pane, eventually } = tmux;
  run('resize-window', '-t', 'main', '-x', '120', '-y', '40');
  // the client applies the resize when its SIGWINCH comes: ask again until the new size shows
  await eventually(
    () => {
      run('send-keys', '-t', 'main', 'Enter');
      return pane().includes('40 120') ? true : undefined;
    },
    'the new size',
    50,
  );
  run('send-keys', '-t', 'main', 'nap', 'Enter');
  await eventually(() => (pane().includes('nap') ? true : undefined), 'the echo of nap');
  run('send-keys', '-t', 'main', 'C-c');
}
