// A libcni-like executor: runs a conflist's plugins as executables the way containernetworking/cni's libcni
// does, so other CNI runtimes reading the same conf dir and cache dir see what this one did:
// - VERSION of each plugin first: the list's cniVersion must be one it supports (code 1 otherwise);
// - ADD in order, each plugin's result the next one's prevResult; the last result is cached at
//   <cacheDir>/results/<network>-<containerID>-<ifname> in libcni's cniCacheV1 layout;
// - a failed ADD is followed by a DEL of the whole list (nothing left behind), and the ADD's error thrown;
// - DEL in reverse order with the cached result as prevResult, then the cache entry goes;
// - CHECK against the cached result; GC (CNI 1.1): DEL of cached attachments not in the valid list, then GC
//   with `cni.dev/valid-attachments` to every plugin;
// - capability args (portMappings, ips, mac, ...) go in runtimeConfig, only to plugins that declare them.
// A plugin type the caller runs itself (the agent's own plugins) is served in-process through servePlugin,
// as the agent's CNI socket serves the forwarder it would otherwise exec: same config bytes, same
// environment, same answer, without a process start and a socket round trip per verb.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execPlugin, findPluginInPath } from '../cni/delegate.ts';
import { validateContainerId, validateInterfaceName, validateNetworkName } from '../cni/env.ts';
import { CniError, ErrorCode, parseCniErrorJson, toCniError } from '../cni/errors.ts';
import { type CniPlugin, servePlugin, versionInfo } from '../cni/skel.ts';
import type { CniCommand, GcAttachment, NetConf, Result } from '../cni/types.ts';
import { compareVersions, convertResult, parseResult } from '../cni/version.ts';
import { removeOrphanedTemps, removeOrphanedTempsAsync, writeFileAtomic } from '../fsutil/atomic.ts';
import { makeDirectorySync } from '../fsutil/mkdir.ts';
import { inTurn } from '../sync/turns.ts';

/** A parsed conflist: the raw bytes are what the cache keeps (libcni's `config`). */
export interface NetworkConfigList {
  readonly name: string;
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly disableGC: boolean;
  readonly plugins: readonly NetConf[];
  readonly bytes: Uint8Array;
}

/** One attachment's arguments (libcni's RuntimeConf). */
export interface RuntimeConf {
  readonly containerId: string;
  /** The container's netns path; '' on DEL when it is gone. */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS pairs, in order. */
  readonly args?: readonly (readonly [string, string])[];
  /** Capability arguments: each goes to the plugins whose `capabilities` name it. */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
}

/** libcni's cache entry (`cniCacheV1`): `config` is the conflist bytes in base64, as Go marshals []byte. */
export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

export const CNI_CACHE_KIND = 'cniCacheV1';

/** A plugin of a list failed: which one, for which verb, and the plugin's own CNI error (code/msg/details). */
export class CniExecError extends Error {
  readonly network: string;
  readonly plugin: string;
  readonly command: CniCommand;
  readonly cni: CniError;
  constructor(network: string, plugin: string, command: CniCommand, cni: CniError) {
    super(`network ${network}: plugin ${plugin} ${command} failed: ${cni.message}`, { cause: cni });
    this.name = 'CniExecError';
    this.network = network;
    this.plugin = plugin;
    this.command = command;
    this.cni = cni;
  }
}

function invalidList(source: string, msg: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, `${source}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks a conflist (name, cniVersion, plugins with a type each); code 6/7 naming `source`. */
export function parseConfList(bytes: Uint8Array, source: string): NetworkConfigList {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, `${source}: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw invalidList(source, 'a conflist is a JSON object');
  const { name, cniVersion, plugins } = raw;
  if (typeof name !== 'string') throw invalidList(source, '"name" must be a string');
  validateNetworkName(name);
  if (typeof cniVersion !== 'string' || cniVersion === '') {
    throw invalidList(source, '"cniVersion" must be a version string');
  }
  if (!Array.isArray(plugins) || plugins.length === 0) {
    throw invalidList(source, '"plugins" must be a non-empty list');
  }
  plugins.forEach((p: unknown, i) => {
    if (!isObject(p) || typeof p['type'] !== 'string' || p['type'] === '') {
      throw invalidList(source, `plugins[${i}] must be an object with a "type"`);
    }
  });
  return {
    name,
    cniVersion,
    disableCheck: raw['disableCheck'] === true,
    disableGC: raw['disableGC'] === true,
    plugins: plugins as NetConf[],
    bytes,
  };
}

export interface CniExecutorOptions {
  /** CNI_PATH: the directories plugins are looked up in, in order. */
  readonly pluginDirs: readonly string[];
  /** libcni's cache dir (its default is /var/lib/cni); results go under `results/`. */
  readonly cacheDir: string;
  /** Extra environment for every plugin (TSNET_CNI_SOCKET, say). */
  readonly env?: Readonly<Record<string, string>>;
  /** Forks each plugin inside the node's namespace when the caller runs elsewhere (tests). */
  readonly inNamespace?: <T>(spawn: () => T) => T;
  /** Receives plugins' stderr. */
  readonly stderr?: (plugin: string, text: string) => void;
  /**
   * Plugin types served in this process instead of executed, once the path has the type (a missing plugin
   * is the same error either way). Only for a caller in the node's namespaces, like the agent (whose
   * forwarders would hand the call to it anyway); ignored with `inNamespace`.
   */
  readonly inProcessPlugins?: ReadonlyMap<string, CniPlugin>;
}

interface VersionInfo {
  readonly stamp: string;
  readonly supported: readonly string[];
}

/** Go's encoding/json marshals map keys sorted; plugins see configs byte-for-byte as libcni would send them. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortedKeys(value[k]);
  return out;
}

export class CniExecutor {
  private readonly opts: CniExecutorOptions;
  /** VERSION answers by plugin file, kept while the file is unchanged (size and mtime). */
  private readonly versions = new Map<string, VersionInfo>();

  constructor(opts: CniExecutorOptions) {
    this.opts = opts;
  }

  get resultsDir(): string {
    return join(this.opts.cacheDir, 'results');
  }

  /** ADD of every plugin in order; on failure everything is DELeted again and the ADD's error thrown. */
  async addNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<Result> {
    validateAttachment(list, rt);
    let prev: Result | undefined;
    try {
      for (const plugin of list.plugins) {
        const stdout = await this.run(list, plugin, 'ADD', rt, prev);
        prev = parsePluginResult(list, plugin, stdout);
      }
    } catch (err) {
      // What the plugins before (and the failing one, partly) made is undone: the runtime's DEL after a failed ADD.
      await this.delPlugins(list, rt, prev).catch(() => undefined);
      throw err;
    }
    const result = prev as Result;
    try {
      await this.writeCache(list, rt, result);
    } catch (err) {
      // Without its cache entry nobody could DEL the attachment with what ADD made: take it back now.
      await this.delPlugins(list, rt, result).catch(() => undefined);
      throw err;
    }
    return result;
  }

  /** DEL in reverse order with the cached result as prevResult; the cache entry goes once every plugin is done. */
  async delNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    validateAttachment(list, rt);
    const cached = await this.cachedResult(list.name, rt.containerId, rt.ifName);
    await this.delPlugins(list, rt, cached);
    const file = this.cacheFile(list.name, rt.containerId, rt.ifName);
    await rm(file, { force: true });
    // An agent killed while it wrote this entry left the temporary behind; with the attachment gone, no later
    // write of the entry would clear it (found by the soak: one per cut ADD).
    await removeOrphanedTempsAsync(this.resultsDir, { targets: [basename(file)] });
  }

  /** CHECK of every plugin against the cached ADD result (cniVersion 0.4.0 or later; disableCheck skips). */
  async checkNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    validateAttachment(list, rt);
    if (list.disableCheck) return;
    if (compareVersions(list.cniVersion, '0.4.0') < 0) {
      throw new CniError(
        ErrorCode.IncompatibleVersion,
        `configuration version "${list.cniVersion}" does not support the CHECK command`,
      );
    }
    const cached = await this.cachedResult(list.name, rt.containerId, rt.ifName);
    if (!cached) {
      throw new CniError(
        ErrorCode.UnknownContainer,
        `no cached result for ${list.name}/${rt.containerId}/${rt.ifName}: nothing to check`,
      );
    }
    for (const plugin of list.plugins) await this.run(list, plugin, 'CHECK', rt, cached);
  }

  /**
   * CNI GC: DEL of every cached attachment of the network that `valid` does not list, then (cniVersion 1.1.0
   * or later, unless disableGC) GC of every plugin with the valid list, so plugins release what no cache
   * entry remembers. Every step is tried; the first failure is thrown at the end.
   */
  async gcNetworkList(list: NetworkConfigList, valid: readonly GcAttachment[]): Promise<void> {
    const keep = new Set(valid.map((a) => `${a.containerID}\0${a.ifname}`));
    const errors: unknown[] = [];
    for (const cached of await this.cachedAttachments()) {
      if (cached.networkName !== list.name || keep.has(`${cached.containerId}\0${cached.ifName}`)) continue;
      await this.delNetworkList(list, {
        containerId: cached.containerId,
        netns: cached.netns ?? '',
        ifName: cached.ifName,
        args: cached.cniArgs,
        capabilityArgs: cached.capabilityArgs,
      }).catch((err: unknown) => errors.push(err));
    }
    if (!list.disableGC && compareVersions(list.cniVersion, '1.1.0') >= 0) {
      const attachments = valid.map((a) => ({ containerID: a.containerID, ifname: a.ifname }));
      for (const plugin of list.plugins) {
        const conf = {
          ...plugin,
          name: list.name,
          cniVersion: list.cniVersion,
          // libcni (>= 1.2.3) sends both spellings; the spec's is the first.
          'cni.dev/valid-attachments': attachments,
          'cni.dev/attachments': attachments,
        };
        await this.exec(list, plugin, 'GC', conf, { containerId: '', netns: '', ifName: '' }).catch(
          (err: unknown) => errors.push(err),
        );
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  /** The cached ADD result of one attachment, undefined when there is none (or it is unreadable). */
  async cachedResult(network: string, containerId: string, ifName: string): Promise<Result | undefined> {
    const entry = await this.readCache(this.cacheFile(network, containerId, ifName));
    if (!entry?.result) return undefined;
    try {
      return parseResult(entry.result);
    } catch {
      return undefined;
    }
  }

  /** Every cniCacheV1 entry of the cache dir (any network); foreign or broken files are skipped. */
  async cachedAttachments(): Promise<CachedAttachment[]> {
    let names: string[];
    try {
      names = await readdir(this.resultsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: CachedAttachment[] = [];
    for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
      const entry = await this.readCache(join(this.resultsDir, name));
      if (entry) out.push(entry);
    }
    return out;
  }

  cacheFile(network: string, containerId: string, ifName: string): string {
    validateNetworkName(network);
    validateContainerId(containerId);
    validateInterfaceName(ifName);
    return join(this.resultsDir, `${network}-${containerId}-${ifName}`);
  }

  private async readCache(file: string): Promise<CachedAttachment | undefined> {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return undefined;
    }
    if (
      !isObject(value) ||
      value['kind'] !== CNI_CACHE_KIND ||
      typeof value['containerId'] !== 'string' ||
      typeof value['ifName'] !== 'string' ||
      typeof value['networkName'] !== 'string'
    ) {
      return undefined;
    }
    return value as unknown as CachedAttachment;
  }

  private async writeCache(list: NetworkConfigList, rt: RuntimeConf, result: Result): Promise<void> {
    const file = this.cacheFile(list.name, rt.containerId, rt.ifName);
    const entry: CachedAttachment = {
      kind: CNI_CACHE_KIND,
      containerId: rt.containerId,
      config: Buffer.from(list.bytes).toString('base64'),
      ifName: rt.ifName,
      networkName: list.name,
      ...(rt.netns ? { netns: rt.netns } : {}),
      ...(rt.args?.length ? { cniArgs: rt.args.map(([k, v]) => [k, v] as [string, string]) } : {}),
      ...(rt.capabilityArgs && Object.keys(rt.capabilityArgs).length > 0
        ? { capabilityArgs: { ...rt.capabilityArgs } }
        : {}),
      result: convertResult(result, list.cniVersion),
    };
    makeDirectorySync(this.resultsDir, 0o700);
    removeOrphanedTemps(this.resultsDir, { targets: [file.slice(this.resultsDir.length + 1)] });
    await writeFileAtomic(file, JSON.stringify(entry), { mode: 0o600 });
  }

  /** DEL of every plugin in reverse order; all are tried, the first failure is thrown. */
  private async delPlugins(
    list: NetworkConfigList,
    rt: RuntimeConf,
    prev: Result | undefined,
  ): Promise<void> {
    // prevResult on DEL exists from 0.4.0 on (libcni's rule).
    const withPrev = compareVersions(list.cniVersion, '0.4.0') >= 0 ? prev : undefined;
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.run(list, plugin, 'DEL', rt, withPrev);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  /** One verb of one plugin of the list, with libcni's injected config (name, version, prevResult, runtimeConfig). */
  private run(
    list: NetworkConfigList,
    plugin: NetConf,
    command: 'ADD' | 'DEL' | 'CHECK',
    rt: RuntimeConf,
    prev: Result | undefined,
  ): Promise<string> {
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    if (prev) conf['prevResult'] = convertResult(prev, list.cniVersion);
    const runtimeConfig: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rt.capabilityArgs ?? {})) {
      if (plugin.capabilities?.[key] === true) runtimeConfig[key] = value;
    }
    if (Object.keys(runtimeConfig).length > 0) conf['runtimeConfig'] = runtimeConfig;
    else delete conf['runtimeConfig'];
    return this.exec(list, plugin, command, conf, rt);
  }

  private async exec(
    list: NetworkConfigList,
    plugin: NetConf,
    command: CniCommand,
    conf: Record<string, unknown>,
    rt: RuntimeConf,
  ): Promise<string> {
    try {
      const file = await findPluginInPath(plugin.type, this.opts.pluginDirs);
      const stdin = JSON.stringify(sortedKeys(conf));
      const own = this.opts.inNamespace ? undefined : this.opts.inProcessPlugins?.get(plugin.type);
      if (own) {
        requireVersion(versionInfo(own).supportedVersions, list.cniVersion);
        return await this.serveInProcess(own, command, stdin, rt);
      }
      await this.requireVersionSupported(file, list.cniVersion);
      return await execPlugin(file, command, stdin, {
        env: this.env(rt),
        inNamespace: this.opts.inNamespace,
        stderr: (text) => this.opts.stderr?.(plugin.type, text),
      });
    } catch (err) {
      if (err instanceof CniExecError) throw err;
      throw new CniExecError(list.name, plugin.type, command, toCniError(err));
    }
  }

  /**
   * One verb of a plugin of this process, as the agent's CNI socket serves it: the environment the
   * executable would get, and in turn with any socket request for the same attachment.
   */
  private async serveInProcess(
    plugin: CniPlugin,
    command: CniCommand,
    stdin: string,
    rt: RuntimeConf,
  ): Promise<string> {
    const env = { ...this.env(rt), CNI_COMMAND: command };
    const serve = () => servePlugin(plugin, { env, stdin });
    const output =
      rt.containerId && rt.ifName ? await inTurn(`${rt.containerId}\0${rt.ifName}`, serve) : await serve();
    if (output.stderr) this.opts.stderr?.(plugin.name, output.stderr);
    if (output.exitCode === 0) return output.stdout;
    throw (
      parseCniErrorJson(output.stdout) ??
      new CniError(
        ErrorCode.Internal,
        `plugin ${plugin.name} failed (${command})`,
        output.stdout.slice(0, 2000),
      )
    );
  }

  private env(rt: RuntimeConf): Record<string, string> {
    return {
      ...this.opts.env,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
      CNI_PATH: this.opts.pluginDirs.join(':'),
    };
  }

  /** The plugin's VERSION answer must list the conflist's cniVersion (code 1 with the reference's wording). */
  private async requireVersionSupported(file: string, version: string): Promise<void> {
    const st = await stat(file);
    const stamp = `${st.size}:${st.mtimeMs}`;
    let info = this.versions.get(file);
    if (info?.stamp !== stamp) {
      const stdout = await execPlugin(file, 'VERSION', '{}', {
        env: { ...this.opts.env, CNI_PATH: this.opts.pluginDirs.join(':') },
        inNamespace: this.opts.inNamespace,
      });
      info = { stamp, supported: parseVersionInfo(file, stdout) };
      this.versions.set(file, info);
    }
    requireVersion(info.supported, version);
  }
}

/** The conflist's cniVersion must be one the plugin supports (code 1 with the reference's wording). */
function requireVersion(supported: readonly string[], version: string): void {
  if (!supported.includes(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config is ${JSON.stringify(version)}, plugin supports [${supported.map((v) => JSON.stringify(v)).join(' ')}]`,
    );
  }
}

function parseVersionInfo(file: string, stdout: string): string[] {
  try {
    const value = JSON.parse(stdout) as unknown;
    const supported = isObject(value) ? value['supportedVersions'] : undefined;
    if (Array.isArray(supported) && supported.every((v) => typeof v === 'string')) return supported;
  } catch {
    // fall through to the error below
  }
  throw new CniError(
    ErrorCode.DecodingFailure,
    `plugin ${file} answered VERSION with no supportedVersions`,
    stdout.slice(0, 500),
  );
}

function parsePluginResult(list: NetworkConfigList, plugin: NetConf, stdout: string): Result {
  try {
    return parseResult(JSON.parse(stdout), list.cniVersion);
  } catch (err) {
    const cni =
      err instanceof CniError
        ? err
        : new CniError(ErrorCode.DecodingFailure, 'ADD result is not JSON', stdout.slice(0, 500));
    throw new CniExecError(list.name, plugin.type, 'ADD', cni);
  }
}

/** The IDs and names that become cache file names and plugin environment are checked before anything runs. */
function validateAttachment(list: NetworkConfigList, rt: RuntimeConf): void {
  validateNetworkName(list.name);
  validateContainerId(rt.containerId);
  validateInterfaceName(rt.ifName);
}
