// The CNI_* environment: which variables each command needs, and validation of the values that later become
// file names (container ID) or kernel names (interface name). Same rules and codes as the reference skel.
import { isAbsolute } from 'node:path';
import { CniError, ErrorCode } from './errors.ts';
import type { CniCommand, EnvRecord } from './types.ts';

export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

/** Variables each command requires, in the order the reference reports them missing. */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  // DEL must work when the namespace is already gone: CNI_NETNS is optional.
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
  VERSION: [],
};

const VALID_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_IFNAME_BYTES = 15;

/** The parsed environment of one invocation. Empty strings where the command does not need a variable. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  /** Raw CNI_ARGS ("K=V;K=V"). */
  args: string;
  /** CNI_PATH split on ':' (empty entries dropped). */
  path: string[];
}

export function isCniCommand(value: string): value is CniCommand {
  return (CNI_COMMANDS as readonly string[]).includes(value);
}

/** CNI_COMMAND as a command; code 4 when missing or unknown. */
export function readCommand(env: EnvRecord): CniCommand {
  const cmd = env['CNI_COMMAND'] ?? '';
  if (cmd === '')
    throw new CniError(ErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  if (!isCniCommand(cmd)) throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${cmd}`);
  return cmd;
}

/**
 * Reads and validates the environment for its CNI_COMMAND: required variables present (code 4 naming them),
 * and for ADD/DEL/CHECK a valid container ID and interface name (code 4).
 */
export function readCniEnv(env: EnvRecord): CniEnv {
  const command = readCommand(env);
  const missing = REQUIRED[command].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  }
  const parsed: CniEnv = {
    command,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifname: env['CNI_IFNAME'] ?? '',
    args: env['CNI_ARGS'] ?? '',
    path: splitCniPath(env['CNI_PATH'] ?? ''),
  };
  requireAbsoluteCniPath(parsed.path);
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    validateContainerId(parsed.containerId);
    validateInterfaceName(parsed.ifname);
  }
  return parsed;
}

/**
 * CNI_PATH entries must be absolute: a relative one would resolve against whichever process runs the verb
 * (the plugin, or tsnet-agent serving it), and no runtime sends one (code 4 naming the variable).
 */
export function requireAbsoluteCniPath(path: readonly string[]): void {
  const relative = path.filter((p) => !isAbsolute(p));
  if (relative.length > 0) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      'invalid env variable CNI_PATH: entries must be absolute paths',
      `relative entries: ${relative.map((p) => JSON.stringify(p)).join(', ')}`,
    );
  }
}

export function splitCniPath(value: string): string[] {
  return value.split(':').filter((p) => p !== '');
}

/** A container ID becomes part of file names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*` only (so no "../"). */
export function validateContainerId(id: string): void {
  if (id === '') throw new CniError(ErrorCode.UnknownContainer, 'missing containerID');
  if (!VALID_NAME_RE.test(id)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      'invalid characters in containerID (CNI_CONTAINERID)',
      `${JSON.stringify(id)}: must start with a letter or digit, then letters, digits, '_', '.', '-'`,
    );
  }
}

/** The network name also becomes a file name (IPAM data dirs, lock files): same rule, code 7. */
export function validateNetworkName(name: string): void {
  if (name === '') throw new CniError(ErrorCode.InvalidNetworkConfig, 'missing network name');
  if (!VALID_NAME_RE.test(name)) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      'invalid characters found in network name',
      `${JSON.stringify(name)}: must start with a letter or digit, then letters, digits, '_', '.', '-'`,
    );
  }
}

/** A kernel interface name: 1-15 bytes, not "." or "..", no '/', ':' or whitespace (code 4). */
export function validateInterfaceName(name: string): void {
  const bad = (msg: string, details?: string): never => {
    throw new CniError(ErrorCode.InvalidEnvironment, `${msg} (CNI_IFNAME)`, details);
  };
  if (name === '') bad('interface name is empty');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IFNAME_BYTES) {
    bad(
      'interface name is too long',
      `${JSON.stringify(name)} is ${bytes} bytes, at most ${MAX_IFNAME_BYTES} are allowed`,
    );
  }
  if (name === '.' || name === '..') bad('interface name is . or ..');
  if (/[/:\s]/u.test(name)) {
    bad('interface name contains / or : or whitespace characters', JSON.stringify(name));
  }
}

// ---- CNI_ARGS ----

/** CNI_ARGS as ordered key/value pairs (the last of a repeated key wins). */
export type CniArgs = ReadonlyMap<string, string>;

/** Parses "K=V;K=V" (code 4 on a pair without '=' or with an empty key). Empty segments are ignored. */
export function parseCniArgs(raw: string): CniArgs {
  const pairs = new Map<string, string>();
  for (const segment of raw.split(';')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) {
      throw new CniError(
        ErrorCode.InvalidEnvironment,
        'invalid CNI_ARGS',
        `${JSON.stringify(segment)} is not a KEY=VALUE pair`,
      );
    }
    pairs.set(segment.slice(0, eq), segment.slice(eq + 1));
  }
  return pairs;
}

/** The Kubernetes keys runtimes pass in CNI_ARGS. */
export const K8S_ARG_KEYS = [
  'K8S_POD_NAMESPACE',
  'K8S_POD_NAME',
  'K8S_POD_INFRA_CONTAINER_ID',
  'K8S_POD_UID',
] as const;

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new CniError(
    ErrorCode.InvalidEnvironment,
    'invalid CNI_ARGS',
    `${key}=${value}: expected 1, 0, true or false`,
  );
}

/**
 * The known keys of CNI_ARGS. Any other key is an error (code 4) unless `IgnoreUnknown` is 1/true, the
 * reference's rule; `IgnoreUnknown` itself is always known.
 */
export function pickCniArgs<K extends string>(
  args: CniArgs | string,
  known: readonly K[],
): Partial<Record<K, string>> {
  const pairs = typeof args === 'string' ? parseCniArgs(args) : args;
  const ignoreRaw = pairs.get('IgnoreUnknown');
  const ignoreUnknown = ignoreRaw === undefined ? false : parseBool('IgnoreUnknown', ignoreRaw);
  const out: Partial<Record<K, string>> = {};
  const unknown: string[] = [];
  for (const [key, value] of pairs) {
    if (key === 'IgnoreUnknown') continue;
    if ((known as readonly string[]).includes(key)) out[key as K] = value;
    else unknown.push(key);
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `unknown CNI_ARGS keys [${unknown.join(',')}]`,
      `known keys: ${['IgnoreUnknown', ...known].join(', ')}; pass IgnoreUnknown=1 to ignore others`,
    );
  }
  return out;
}
