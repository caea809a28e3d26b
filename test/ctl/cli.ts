// Running tsnetctl from its sources as an operator would, and what its errors must look like.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';

const TSNETCTL_MAIN = resolve(import.meta.dirname, '../../cmd/tsnetctl/main.ts');

/** `node --import=tsx cmd/tsnetctl/main.ts`: prefix it with e.g. nsenter to run tsnetctl elsewhere. */
export const TSNETCTL = [process.execPath, '--import=tsx', TSNETCTL_MAIN] as const;

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd`, resolving with its exit code and output whether it succeeds or not. */
export async function outcome(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, env ? { env } : {});
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export const tsnetctl = (...args: string[]): Promise<Outcome> =>
  outcome(process.execPath, [...TSNETCTL.slice(1), ...args]);

/** An error as tsnetctl must report it: non-zero, one line on stderr, nothing on stdout, no stack trace. */
export function assertOneLineError(t: ExecutionContext, r: Outcome, pattern: RegExp): void {
  t.not(r.code, 0, 'non-zero exit');
  t.is(r.stdout, '', 'nothing on stdout');
  t.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.regex(r.stderr, pattern);
}
