// Fault injection for crash tests, and nothing else: a test names a point in TSNET_TEST_FAULT and the
// process SIGKILLs itself the moment it gets there, so a test can crash an operation exactly between two
// steps instead of after a guessed delay. Unset (always, outside tests) a point costs one getenv.
import { writeSync } from 'node:fs';

export const FAULT_ENV = 'TSNET_TEST_FAULT';

/** What a killed process prints on stderr just before it dies, so a test can tell where it died. */
export function faultMarker(point: string): string {
  return `tsnet test fault: killed at ${point}`;
}

/** Dies with SIGKILL here when the test armed `point`; returns at once otherwise. */
export function faultPoint(point: string): void {
  if (process.env[FAULT_ENV] !== point) return;
  try {
    writeSync(2, `${faultMarker(point)}\n`);
  } catch {
    // stderr closed: the kill still proves the point was reached
  }
  process.kill(process.pid, 'SIGKILL');
}
