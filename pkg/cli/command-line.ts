// The command-line front tsnet's commands share: `COMMAND [flags]` parsing and flag readers that validate at
// the edge, so a user mistake is one UsageError line (exit 2), never a stack trace.
import { isIPv4, isIPv6 } from 'node:net';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { stateLocationProblem } from '../fsutil/paths.ts';

/** A user mistake in flags: printed as one line, never with a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Flags = Record<string, string | boolean | undefined>;

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * `COMMAND [ARG...] [flags]`: the command, its flags and positional arguments, or undefined after printing `usage` for --help or no command.
 * Bad flags are a UsageError (one line, no stack trace).
 */
export function parseCommandLine(
  options: FlagSpec,
  usage: string,
  argv: string[] = process.argv.slice(2),
): { command: string; flags: Flags; args: string[] } | undefined {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command, ...args] = parsed.positionals;
  const flags = parsed.values as Flags;
  if (flags['help'] || !command) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return { command, flags, args };
}

/** Refuses flags that were given but mean nothing to `command` (a flag of another command is a mistake). */
export function refuseFlagsOutside(command: string, flags: Flags, allowed: Iterable<string>): void {
  const known = new Set(allowed);
  for (const key of Object.keys(flags)) {
    if (flags[key] !== undefined && !known.has(key))
      throw new UsageError(`${command}: --${key} is not a flag of this command`);
  }
}

/** A string flag's value, or undefined when absent. */
export function stringFlag(flags: Flags, key: string): string | undefined {
  const v = flags[key];
  return typeof v === 'string' ? v : undefined;
}

/** A string flag's value, or the fallback. */
export function flagString(flags: Flags, key: string, fallback: string): string {
  return stringFlag(flags, key) ?? fallback;
}

/** An integer flag within [min, max]; undefined when absent. */
export function integerFlag(
  flags: Flags,
  key: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = stringFlag(flags, key);
  if (raw === undefined) return undefined;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    const expected =
      range.max === Number.MAX_SAFE_INTEGER
        ? `an integer of at least ${range.min}`
        : `an integer from ${range.min} to ${range.max}`;
    throw new UsageError(`--${key} ${JSON.stringify(raw)}: expected ${expected}`);
  }
  return n;
}

/** A positive integer flag, or the fallback. */
export function positiveInt(flags: Flags, key: string, fallback: number): number {
  return integerFlag(flags, key, { min: 1, max: Number.MAX_SAFE_INTEGER }) ?? fallback;
}

/** An IPv4 address flag; undefined when absent. */
export function ipv4Flag(flags: Flags, key: string): string | undefined {
  const raw = stringFlag(flags, key);
  if (raw !== undefined && !isIPv4(raw))
    throw new UsageError(`--${key} ${JSON.stringify(raw)}: expected an IPv4 address`);
  return raw;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * A `HOST:PORT` flag (`:PORT` means 127.0.0.1, `[v6]:PORT` for IPv6); '' disables (undefined), absent gives the
 * fallback.
 */
export function listenFlag(flags: Flags, key: string, fallback: string): ListenAddress | undefined {
  const raw = flagString(flags, key, fallback);
  if (raw === '') return undefined;
  const m = /^(.*):([^:\]]*)$/.exec(raw);
  const bad = (why: string) => new UsageError(`--${key} ${JSON.stringify(raw)}: ${why}`);
  if (!m) throw bad("use HOST:PORT, or '' to disable");
  let host = m[1] ?? '';
  const portText = m[2] ?? '';
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) throw bad(`${host} is not an IPv6 address`);
  } else if (host === '') {
    host = '127.0.0.1';
  } else if (!isIPv4(host) && !HOSTNAME.test(host)) {
    throw bad(`${JSON.stringify(host)} is not an IPv4 address or host name (IPv6: [ADDR]:PORT)`);
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw bad('the port must be an integer from 1 to 65535');
  return { host, port };
}

/** A flag naming where a command keeps or reads state: never on a kernel filesystem (/proc, /sys, /dev). */
export function statePath(flags: Flags, key: string, fallback: string): string {
  const path = stringFlag(flags, key) ?? fallback;
  const problem = stateLocationProblem(path, `--${key}`);
  if (problem) throw new UsageError(problem);
  return path;
}
