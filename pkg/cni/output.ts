// What one plugin invocation prints, and the spec's error form of it: one error path for the dispatcher, the
// plugin executable and both ends of the agent's socket.
import type { CniError } from './errors.ts';
import { CURRENT_VERSION, isSupportedVersion } from './version.ts';

export interface PluginOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The spec's error JSON on stdout, exit code 1. */
export function cniErrorOutput(err: CniError, cniVersion: string, stderr = ''): PluginOutput {
  return { stdout: JSON.stringify(err.toJSON(cniVersion), null, 4), stderr, exitCode: 1 };
}

/** The version an error is printed in: the config's when it can be read and is supported, else the current. */
export function errorVersionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown } | null)?.cniVersion;
    if (typeof v === 'string' && isSupportedVersion(v)) return v;
  } catch {
    // not JSON: the current version
  }
  return CURRENT_VERSION;
}
