// Delegation: run another CNI plugin (usually IPAM) found on CNI_PATH with our environment and a config on
// stdin, and bring back its result in canonical form or its error as a CniError (code, msg, details intact).
import { constants as fsc } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitCniPath } from './env.ts';
import { CniError, ErrorCode, parseCniErrorJson } from './errors.ts';
import type { CniCommand, EnvRecord, Result } from './types.ts';
import { parseResult } from './version.ts';

export interface DelegateContext {
  /** Environment the delegate runs with (CNI_COMMAND is set per call). `AttachmentArgs` fits here. */
  env: EnvRecord;
  /** Where to look for the plugin; defaults to CNI_PATH from `env`. */
  path?: readonly string[];
  /** Receives the delegate's stderr (diagnostics). */
  stderr?: (text: string) => void;
  /** Aborting kills the delegate. */
  signal?: AbortSignal;
  /**
   * Wraps the (synchronous) spawn, e.g. to fork the plugin inside the node's network namespace when the
   * caller runs elsewhere (pkg/netns withNetns): the plugin then treats that namespace as the node's.
   */
  inNamespace?: <T>(spawn: () => T) => T;
}

/** A network config object, or its JSON bytes as received on stdin. */
export type DelegateConfig = Uint8Array | string | Record<string, unknown>;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SPAWN_RETRIES = 5;

/** A plugin type names a file inside a CNI_PATH directory: no path separators, not "." or ".." (code 7). */
export function validatePluginType(type: string): void {
  if (type === '' || type === '.' || type === '..' || type.includes('/') || type.includes('\0')) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `invalid plugin type ${JSON.stringify(type)}`,
      'a plugin type is a file name in CNI_PATH: no "/", not "." or ".."',
    );
  }
}

/** The first executable regular file named `type` in `path` (code 7 when none). */
export async function findPluginInPath(type: string, path: readonly string[]): Promise<string> {
  validatePluginType(type);
  if (path.length === 0) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `cannot find plugin ${JSON.stringify(type)}: CNI_PATH is empty`,
    );
  }
  for (const dir of path) {
    const candidate = join(dir, type);
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, fsc.X_OK);
        return candidate;
      }
    } catch {
      // not here (or not executable): keep looking
    }
  }
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `failed to find plugin ${JSON.stringify(type)} in path [${path.join(' ')}]`,
  );
}

interface ExecOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

function childEnv(env: EnvRecord, command: CniCommand): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out['CNI_COMMAND'] = command;
  // A script plugin (`#!/usr/bin/env node`) needs PATH even when the caller built a bare CNI env.
  out['PATH'] ??= DEFAULT_PATH;
  return out;
}

function spawnOnce(
  file: string,
  stdin: Uint8Array,
  env: Record<string, string>,
  ctx: Pick<DelegateContext, 'signal' | 'inNamespace'>,
) {
  return new Promise<ExecOutcome>((resolve, reject) => {
    // Loaded on first use: child_process (and the net module under it) would slow every plugin start.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const start = () => spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'], signal: ctx.signal });
    const child = ctx.inNamespace ? ctx.inNamespace(start) : start();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // The plugin may exit without reading its stdin; its exit status tells what happened.
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (exitCode, sig) =>
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
        signal: sig,
      }),
    );
    child.stdin.end(stdin);
  });
}

/** Runs a plugin binary once for `command`; on failure, throws its own error (or a 999 describing the failure). */
export async function execPlugin(
  file: string,
  command: CniCommand,
  config: DelegateConfig,
  ctx: Pick<DelegateContext, 'env' | 'stderr' | 'signal' | 'inNamespace'>,
): Promise<string> {
  const stdin = toBytes(config);
  const env = childEnv(ctx.env, command);
  let outcome: ExecOutcome | undefined;
  for (let attempt = 1; outcome === undefined; attempt++) {
    try {
      outcome = await spawnOnce(file, stdin, env, ctx);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A plugin binary being installed right now: the reference retries too.
      if (code === 'ETXTBSY' && attempt < SPAWN_RETRIES) {
        await sleep(50 * attempt);
        continue;
      }
      throw new CniError(ErrorCode.Internal, `failed to execute plugin ${file}`, (err as Error).message, {
        cause: err,
      });
    }
  }
  if (outcome.stderr && ctx.stderr) ctx.stderr(outcome.stderr);
  if (outcome.exitCode === 0) return outcome.stdout;
  const reported = parseCniErrorJson(outcome.stdout);
  if (reported) throw reported;
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
  const said = (outcome.stdout.trim() || outcome.stderr.trim()).slice(0, 2000);
  throw new CniError(ErrorCode.Internal, `plugin ${file} ${how} (${command})`, said || 'no error message');
}

function toBytes(config: DelegateConfig): Uint8Array {
  if (config instanceof Uint8Array) return config;
  return Buffer.from(typeof config === 'string' ? config : JSON.stringify(config), 'utf8');
}

function configVersionOf(config: DelegateConfig): string | undefined {
  let obj: unknown = config;
  if (config instanceof Uint8Array || typeof config === 'string') {
    try {
      obj = JSON.parse(Buffer.from(toBytes(config)).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  const version =
    typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)['cniVersion'] : undefined;
  return typeof version === 'string' ? version : undefined;
}

/** Finds `type` on the path and runs it for `command`; returns its stdout. */
export async function delegate(
  command: CniCommand,
  type: string,
  config: DelegateConfig,
  ctx: DelegateContext,
): Promise<string> {
  const path = ctx.path ?? splitCniPath(ctx.env['CNI_PATH'] ?? '');
  const file = await findPluginInPath(type, path);
  return execPlugin(file, command, config, ctx);
}

/** ADD through `type`; its result (any supported version) in canonical form. */
export async function delegateAdd(
  type: string,
  config: DelegateConfig,
  ctx: DelegateContext,
): Promise<Result> {
  const stdout = await delegate('ADD', type, config, ctx);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new CniError(
      ErrorCode.DecodingFailure,
      `plugin ${JSON.stringify(type)} printed an ADD result that is not JSON`,
      `${(err as Error).message}: ${JSON.stringify(stdout.slice(0, 500))}`,
    );
  }
  try {
    return parseResult(json, configVersionOf(config));
  } catch (err) {
    if (!(err instanceof CniError)) throw err;
    throw new CniError(
      err.code,
      `plugin ${JSON.stringify(type)} returned a bad result: ${err.msg}`,
      err.details,
    );
  }
}

export async function delegateDel(type: string, config: DelegateConfig, ctx: DelegateContext): Promise<void> {
  await delegate('DEL', type, config, ctx);
}

export async function delegateCheck(
  type: string,
  config: DelegateConfig,
  ctx: DelegateContext,
): Promise<void> {
  await delegate('CHECK', type, config, ctx);
}

export async function delegateStatus(
  type: string,
  config: DelegateConfig,
  ctx: DelegateContext,
): Promise<void> {
  await delegate('STATUS', type, config, ctx);
}

export async function delegateGc(type: string, config: DelegateConfig, ctx: DelegateContext): Promise<void> {
  await delegate('GC', type, config, ctx);
}
