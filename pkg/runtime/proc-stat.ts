// What /proc/<pid>/stat tells of a process: its start time (which tells a reused pid apart) and its state.
import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat from the 3rd on (after the command name, which may hold spaces), or undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The start time of a process (clock ticks since boot, /proc/PID/stat field 22), undefined when gone. */
export function processStartTime(pid: number): number | undefined {
  const start = Number(statFields(pid)?.[19]);
  return Number.isFinite(start) ? start : undefined;
}

function isRunning(fields: string[] | undefined): fields is string[] {
  const state = fields?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Whether `pid` still runs: not gone, and not a zombie its parent has yet to reap. */
export function processRunning(pid: number): boolean {
  return isRunning(statFields(pid));
}

/** Whether `pid` still runs and is the process that started at `startTime` (not one that reused its pid). */
export function processIs(pid: number, startTime: number): boolean {
  const fields = statFields(pid);
  return isRunning(fields) && Number(fields[19]) === startTime;
}
