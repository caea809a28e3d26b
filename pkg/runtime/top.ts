// `docker top`: the host's `ps`, with the user's ps options, narrowed to the processes of the container's
// cgroup — Docker's way (daemon/top_unix.go), its validation and its messages included.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type CgroupManager, cgroupManager } from '../cgroups/index.ts';
import { type ContainerHandle, ContainerStateError } from '../container/handle.ts';

const run = promisify(execFile);

export interface TopResult {
  readonly titles: string[];
  readonly processes: string[][];
}

/** Bad ps options: the user's mistake. */
export class TopArgumentError extends Error {
  override name = 'TopArgumentError';
}

export const DEFAULT_PS_ARGS: readonly string[] = ['-ef'];

export interface TopOptions {
  readonly ps?: string;
  readonly manager?: (handle: ContainerHandle) => CgroupManager;
}

export async function topContainer(
  handle: ContainerHandle,
  psArgs: readonly string[],
  options: TopOptions = {},
): Promise<TopResult> {
  if (handle.status === 'paused') throw new ContainerStateError(`Container ${handle.id} is paused`);
  if (handle.status !== 'running' || handle.pid === undefined)
    throw new ContainerStateError(`Container ${handle.id} is not running`);
  const args = psArgs.length > 0 ? [...psArgs] : [...DEFAULT_PS_ARGS];
  validatePsArgs(args);
  const manager = (options.manager ?? ((h) => cgroupManager(h.cgroupPath)))(handle);
  const pids = await manager.pids();
  const ps = options.ps ?? 'ps';
  let output: string;
  try {
    // Asking ps for the container's pids only is cheaper; some options (f) refuse -q, so retry without it.
    output = (await run(ps, [...args, '-q', pids.join(',')], { maxBuffer: 64 << 20 })).stdout;
  } catch {
    try {
      output = (await run(ps, args, { maxBuffer: 64 << 20 })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new TopArgumentError(`Error running ps: ${(e.stderr || e.message).trim()}`);
    }
  }
  return parsePsOutput(output, new Set(pids));
}

/** Docker refuses `KEY=PID...` output renames except `pid=`: the PID column must stay findable. */
export function validatePsArgs(args: readonly string[]): void {
  const joined = ` ${args.join(' ')}`;
  for (const m of joined.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw new TopArgumentError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/**
 * The rows of `ps` output whose PID is in `pids`. Thread lines (PID "-", from `ps m`) follow their process.
 * The last column (the command) may hold spaces: extra fields are joined into it.
 */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = fieldsOf(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new TopArgumentError("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const fields = fieldsOf(line);
    const pidField = fields[pidIndex];
    if (pidField === '-') {
      if (previousKept) processes.push(fitTo(titles.length, fields));
      continue;
    }
    const pid = Number(pidField);
    if (!Number.isInteger(pid)) throw new TopArgumentError(`Unexpected pid '${pidField}'`);
    previousKept = pids.has(pid);
    if (previousKept) processes.push(fitTo(titles.length, fields));
  }
  return { titles, processes };
}

/** Splits on ASCII whitespace only, as Docker does (a command may hold other spaces). */
function fieldsOf(line: string): string[] {
  return line.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

function fitTo(columns: number, fields: string[]): string[] {
  if (fields.length <= columns) return fields;
  return [...fields.slice(0, columns - 1), fields.slice(columns - 1).join(' ')];
}
