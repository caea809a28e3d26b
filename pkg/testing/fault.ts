// Fault injection for crash tests, and nothing else: a test names a point in TSNET_TEST_FAULT and the
// process SIGKILLs itself the moment it gets there, so a test can crash an operation exactly between two
// steps instead of after a guessed delay. Unset (always, outside tests) a point costs one getenv.
import { writeSync } from 'node:fs';

export const FAULT_ENV = 'TSNET_TEST_FAULT';

/** Every point a test can arm, each named after the step just done (a typo is a type error). */
export type FaultPoint =
  | 'atomic-write-before-rename' // fsutil: the temporary file is written (synced unless syncData: false), not yet renamed
  | 'exclusive-create-before-link' // fsutil: the temporary file is written (synced unless syncData: false), not yet linked
  | 'ipam-after-reserve' // IPAM: the allocation record is in place, the round-robin cursor not yet moved
  | 'bridge-after-veth' // tsnet-bridge: the veth pair exists, no address is reserved yet
  | 'bridge-after-ipam' // tsnet-bridge: the address is reserved, the container interface not configured
  | 'bridge-after-address' // tsnet-bridge: the container interface has its address and routes
  | 'content-half-written'; // content store: half of a blob (of 1 MiB or more) is in its ingest, the rest not

/** What a killed process prints on stderr just before it dies, so a test can tell where it died. */
export function faultMarker(point: FaultPoint): string {
  return `tsnet test fault: killed at ${point}`;
}

/** Dies with SIGKILL here when the test armed `point`; returns at once otherwise. */
export function faultPoint(point: FaultPoint): void {
  if (process.env[FAULT_ENV] !== point) return;
  try {
    writeSync(2, `${faultMarker(point)}\n`);
  } catch {
    // stderr closed: the kill still proves the point was reached
  }
  process.kill(process.pid, 'SIGKILL');
}
