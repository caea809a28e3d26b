// The verb dispatcher, written once: reads the environment and the configuration, answers VERSION and the
// about text itself, validates, calls the plugin's verb, and prints the result or the spec's error JSON.
// `servePlugin` touches no process globals so the agent can run plugins in-process; `runPluginMain` and
// `runForwardingPluginMain` are the executables' entry points.
import { readSync, writeSync } from 'node:fs';
import { type CniArgs, type CniEnv, isCniCommand, parseCniArgs, readCniEnv } from './env.ts';
import { CniError, ErrorCode, toCniError } from './errors.ts';
import { checkNetConfFields, decodeJsonObject, readValidAttachments } from './netconf.ts';
import { cniErrorOutput, errorVersionOf, type PluginOutput } from './output.ts';
import { cniSocketPath } from './socket-protocol.ts';
import type { CniCommand, EnvRecord, GcAttachment, NetConf, Result } from './types.ts';
import {
  CURRENT_VERSION,
  compareVersions,
  configVersion,
  convertResult,
  isSupportedVersion,
  requireSupportedVersion,
  SUPPORTED_VERSIONS,
} from './version.ts';

/** What every verb receives. */
export interface NetworkArgs {
  command: CniCommand;
  /** The validated configuration from stdin (unknown keys kept). */
  config: NetConf;
  /** The raw stdin bytes, e.g. to hand unchanged to a delegate. */
  stdin: Uint8Array;
  /** CNI_ARGS pairs; read known keys with `pickCniArgs`. */
  args: CniArgs;
  /** CNI_PATH entries. */
  path: string[];
  /** The whole environment of this invocation (delegates run with it). */
  env: EnvRecord;
  /** Unstructured diagnostics; they go to the plugin's stderr. */
  stderr: (text: string) => void;
}

/** ADD, DEL and CHECK: one attachment of one container. */
export interface AttachmentArgs extends NetworkArgs {
  containerId: string;
  /** Path of the container's netns; may be empty (or gone) on DEL. */
  netns: string;
  ifname: string;
}

export interface GcArgs extends NetworkArgs {
  validAttachments: GcAttachment[];
}

export interface CniPlugin {
  /** Executable name, e.g. "tsnet-bridge". */
  name: string;
  /** First line of the about text printed when CNI_COMMAND is absent. */
  about: string;
  /** Defaults to all of SUPPORTED_VERSIONS. */
  supportedVersions?: readonly string[];
  /** Returns the canonical result; the dispatcher prints it in the config's cniVersion. */
  add(args: AttachmentArgs): Promise<Result>;
  /** Must be idempotent and succeed when the netns or the attachment is already gone. */
  del(args: AttachmentArgs): Promise<void>;
  check(args: AttachmentArgs): Promise<void>;
  /** Throw CniError 50/51 when ADD cannot be served; absent = always available. */
  status?(args: NetworkArgs): Promise<void>;
  /** Release everything not in `validAttachments`; absent = nothing to collect. */
  gc?(args: GcArgs): Promise<void>;
}

export interface PluginIo {
  env: EnvRecord;
  /** Stdin, or a reader called only when the command needs it (never for VERSION or the about text). */
  stdin: Uint8Array | string | (() => Promise<Uint8Array | string>);
}

export type { PluginOutput };

/** Minimum configuration version per command (CHECK is 0.4.0, GC and STATUS are 1.1.0). */
const MIN_VERSION: Partial<Record<CniCommand, string>> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };

export function aboutText(plugin: CniPlugin): string {
  const versions = plugin.supportedVersions ?? SUPPORTED_VERSIONS;
  return `${plugin.about}\nCNI protocol versions supported: ${versions.join(', ')}\n`;
}

export function versionInfo(plugin: CniPlugin): { cniVersion: string; supportedVersions: string[] } {
  return {
    cniVersion: CURRENT_VERSION,
    supportedVersions: [...(plugin.supportedVersions ?? SUPPORTED_VERSIONS)],
  };
}

/** Runs one CNI invocation against `plugin` and returns what a process would print and its exit code. */
export async function servePlugin(plugin: CniPlugin, io: PluginIo): Promise<PluginOutput> {
  let stderr = '';
  const writeStderr = (text: string): void => {
    stderr += text.endsWith('\n') ? text : `${text}\n`;
  };
  // Errors are reported in the config's version once it is known and supported.
  let errorVersion: string = CURRENT_VERSION;
  try {
    const command = io.env['CNI_COMMAND'] ?? '';
    if (command === '') return { stdout: '', stderr: aboutText(plugin), exitCode: 0 };
    if (!isCniCommand(command)) {
      throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${command}`);
    }
    if (command === 'VERSION') {
      return { stdout: `${JSON.stringify(versionInfo(plugin))}\n`, stderr: '', exitCode: 0 };
    }
    const env = readCniEnv(io.env);
    const stdin = await readStdin(io.stdin);
    const raw = decodeJsonObject(stdin);
    checkNetConfFields(raw);
    const version = configVersion(raw);
    if (isSupportedVersion(version)) errorVersion = version;
    requireSupportedVersion(version, plugin.supportedVersions ?? SUPPORTED_VERSIONS);
    requireVersionAllows(command, version);
    const base: NetworkArgs = {
      command,
      config: raw as NetConf,
      stdin,
      args: parseCniArgs(env.args),
      path: env.path,
      env: io.env,
      stderr: writeStderr,
    };
    const stdout = await dispatch(plugin, command, base, env);
    return { stdout, stderr, exitCode: 0 };
  } catch (err) {
    const cniErr = toCniError(err);
    if (!(err instanceof CniError) && err instanceof Error && err.stack) writeStderr(err.stack);
    return cniErrorOutput(cniErr, errorVersion, stderr);
  }
}

async function dispatch(
  plugin: CniPlugin,
  command: CniCommand,
  base: NetworkArgs,
  env: CniEnv,
): Promise<string> {
  const attachment = (): AttachmentArgs => ({
    ...base,
    containerId: env.containerId,
    netns: env.netns,
    ifname: env.ifname,
  });
  switch (command) {
    case 'ADD': {
      const result = await plugin.add(attachment());
      if (typeof result !== 'object' || result === null) {
        throw new CniError(ErrorCode.Internal, `plugin ${plugin.name} returned no result for ADD`);
      }
      return JSON.stringify(convertResult(result, base.config.cniVersion), null, 4);
    }
    case 'DEL':
      await plugin.del(attachment());
      return '';
    case 'CHECK':
      await plugin.check(attachment());
      return '';
    case 'STATUS':
      await plugin.status?.(base);
      return '';
    case 'GC':
      await plugin.gc?.({ ...base, validAttachments: readValidAttachments(base.config) });
      return '';
    case 'VERSION':
      return JSON.stringify(versionInfo(plugin));
  }
}

function requireVersionAllows(command: CniCommand, version: string): void {
  const min = MIN_VERSION[command];
  if (min !== undefined && compareVersions(version, min) < 0) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `config version does not allow ${command}`,
      `${command} needs cniVersion ${min} or later, config is ${JSON.stringify(version)}`,
    );
  }
}

async function readStdin(source: PluginIo['stdin']): Promise<Uint8Array> {
  let data: Uint8Array | string;
  try {
    data = typeof source === 'function' ? await source() : source;
  } catch (err) {
    throw new CniError(
      ErrorCode.IoFailure,
      'error reading network config from stdin',
      (err as Error).message,
    );
  }
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

const isEagain = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EAGAIN';

/**
 * The process's stdin to its end, read from fd 0 directly: process.stdin would load Node's stream and net
 * modules (~3 ms of a plugin's start) for a pipe that a runtime writes and closes before the plugin reads.
 * A non-blocking stdin that runs dry (EAGAIN) is read on through process.stdin.
 */
async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const chunk = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(0, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
  } catch (err) {
    if (!isEagain(err)) throw err;
  }
  for await (const rest of process.stdin) chunks.push(rest as Buffer);
  return Buffer.concat(chunks);
}

/** `text` to fd 1 or 2 directly (as readProcessStdin reads); what a non-blocking fd refuses goes by the stream. */
function writeToFd(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return; // nobody reads it any more
    if (!isEagain(err)) throw err;
    (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(off));
  }
}

function printOutput(out: PluginOutput): void {
  if (out.stderr) writeToFd(2, out.stderr);
  if (out.stdout) writeToFd(1, out.stdout);
  process.exitCode = out.exitCode;
}

/** The executable's entry point: process.env and stdin in, stdout/stderr and the exit code out. */
export async function runPluginMain(plugin: CniPlugin): Promise<void> {
  printOutput(await servePlugin(plugin, { env: process.env, stdin: readProcessStdin }));
}

declare const __TSNET_BEHIND_FORWARDER__: boolean | undefined;
/** The build put native/cni-forward in front of this bundle: it has decided already, this process runs the plugin. */
const BEHIND_FORWARDER = typeof __TSNET_BEHIND_FORWARDER__ === 'boolean' && __TSNET_BEHIND_FORWARDER__;

/**
 * The entry point of a plugin tsnet-agent serves: forwards the invocation to the agent when it serves this
 * plugin's namespaces (its answer, a refusal included, is printed as the plugin's), else loads the plugin
 * (`load`, a dynamic import, so forwarding never loads the plugin's code) and runs it in-process. VERSION and
 * the about text never ask the agent. Behind the native forwarder (the built executables) the forwarder has
 * asked the agent already: the bundle runs the plugin.
 */
export async function runForwardingPluginMain(type: string, load: () => Promise<CniPlugin>): Promise<void> {
  const command = process.env['CNI_COMMAND'] ?? '';
  let stdin: Buffer | undefined;
  if (!BEHIND_FORWARDER && command !== '' && command !== 'VERSION') {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    try {
      stdin = await readProcessStdin();
    } catch {
      stdin = undefined; // servePlugin reports the read failure in-process
    }
    if (stdin !== undefined) {
      const request = { plugin: type, env, stdin };
      // loaded here: its socket code (node:net) is no part of a plugin the forwarder already asked
      const { forwardToAgent } = await import('./client.ts');
      const out = await forwardToAgent(cniSocketPath(env), request);
      if (out) return printOutput(out);
    }
  }
  let plugin: CniPlugin;
  try {
    plugin = await load();
  } catch (err) {
    // Even a plugin that cannot load answers in the spec's format, never with a bare stack trace.
    const version = errorVersionOf(stdin?.toString('utf8') ?? '');
    return printOutput(cniErrorOutput(toCniError(err), version));
  }
  printOutput(await servePlugin(plugin, { env: process.env, stdin: stdin ?? readProcessStdin }));
}
