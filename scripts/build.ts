// Bundles every CNI plugin (cni-plugins/<type>/main.ts) into one executable file dist/cni/<type>, so a runtime
// can point CNI_PATH at dist/cni, and every command (cmd/<name>/main.ts) into dist/bin/<name>.
//
// Plugins are started once per CNI call, so their start-up is the cost that matters:
// - One CommonJS file per plugin: Node's CommonJS loader starts ~8 ms faster than its ESM loader for the same
//   bundle (measured with `env -i CNI_COMMAND=VERSION`). A main written with top-level `await` cannot be
//   CommonJS; it is bundled as ESM instead (Node detects ESM syntax in an extensionless file) and the build
//   says so.
// - koffi's native module cannot be inlined. koffi's own loader looks for it in node_modules next to its
//   package; a plugin copied into /opt/cni/bin has none. The bundle replaces `import koffi from 'koffi'`
//   with a `require` of koffi's platform package copied beside the plugins (dist/cni/tsnet-native/), which
//   picks the glibc or musl binary itself. `npm run install-cni -- DIR` copies that directory along.
// - No V8 start-up snapshot (`node --build-snapshot`): measured with a /bin/sh wrapper exec'ing
//   `node --snapshot-blob <plugin>.blob`, it saved only ~2 ms on ADD and VERSION (interleaved runs, ADD p50
//   51.3 -> 49.6 ms), for a 4.3-4.8 MB blob per plugin that only the Node binary which built it can load, and
//   a plugin directory that has to reach the deserialized main at run time. koffi is bound lazily
//   (native/libc.ts), so VERSION already skips the native module.
// - dist/cni/package.json is `{}` (and dist/bin's, dist/libexec's): without it the repository's `"type":
//   "module"` would make Node read the extensionless CommonJS plugins and launchers as ESM.
// - A plugin tsnet-agent serves (its main calls runForwardingPluginMain) is installed as the native forwarder
//   (native/cni-forward, compiled with the system C compiler): a Node start costs more than the agent takes to
//   answer. Its Node plugin sits beside it as `.<type>-node` (extensionless: Node reads it as the others),
//   which the forwarder executes when the agent cannot take the call; that plugin never forwards itself.
// - Every Node plugin is a launcher (scripts/cached-launcher.ts, a V8 code cache per CNI verb in
//   dist/cni/.tsnet-cache) in front of its bundle, `.<type>.cjs`.
// - native/attach-relay (compiled with the system C compiler into dist/libexec) is the agent's client of
//   conmon's SOCK_SEQPACKET attach socket, which Node's libuv cannot open (pkg/runtime/attach.ts).
// - native/nsexec (static, with libseccomp) is the native exec: runc exec's work for a process without a
//   terminal, without a runc start (pkg/runtime/nsexec.ts).
// - Every build gets a random build id, compiled into the forwarders and the agent's bundle: a forwarder only
//   hands a call to an agent of its own build (dist/build-id says which, for tests and benchmarks).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { HOST_ENV } from '../pkg/api/client.ts';
import { DEFAULT_API_SOCKET } from '../pkg/api/server.ts';
import { ErrorCode } from '../pkg/cni/errors.ts';
import {
  CNI_SOCKET_ENV,
  DEFAULT_CNI_SOCKET,
  HELLO_TIMEOUT_MS,
  MAX_HELLO_BYTES,
  nodePluginName,
  PLUGIN_CACHE_DIR,
  PROTOCOL_VERSION,
} from '../pkg/cni/socket-protocol.ts';
import { CURRENT_VERSION, SUPPORTED_VERSIONS } from '../pkg/cni/version.ts';
import {
  ANSWER_TIMEOUT_MS,
  DEBUG_ENV,
  EXIT_LOST,
  NO_WARM_ENV,
  NODE_CTL_FROM_BIN,
  MAGIC as WARM_MAGIC,
  MAX_REQUEST_BYTES as WARM_MAX_REQUEST_BYTES,
  warmSocketOf,
} from '../pkg/ctl/warm-protocol.ts';
import { etcd3RpcJson } from '../pkg/store/etcd3-proto.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CNI_OUT_DIR = join(ROOT, 'dist', 'cni');
const BIN_OUT_DIR = join(ROOT, 'dist', 'bin');
/** Directory beside the plugins holding koffi's native platform package. */
const NATIVE_DIR_NAME = 'tsnet-native';
/**
 * Short-lived commands (the plugins, tsnetctl) start without NODE_EXTRA_CA_CERTS: Node reads and parses
 * that bundle before any code runs (60-80 ms per start with Debian's full ca-certificates.crt on this
 * machine), and they make no TLS connection that needs it. tsnetctl keeps the path as TSNET_EXTRA_CA_CERTS
 * for the one that might (an https etcd without --etcd-cafile: pkg/store/etcd.ts).
 */
const SHEBANG = '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node';
const CLI_SHEBANG =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: env -S expands ${NAME} itself
  '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSNET_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node';
/**
 * Long-running commands (the agent) start with V8's young generation capped at 1 MiB per semi-space: the
 * default grows to 16 MiB each in an allocation burst (1000 leases programmed at once) and the process keeps
 * that memory. bench:overlay: agent RSS at 1000 peers 118 -> 90 MiB. And with one V8 platform worker thread
 * instead of four (concurrent marking, sweeping and compiles): each worker keeps its own stack, and its own
 * malloc holes. bench:runtime, daemon RSS with 50 containers, two runs each: 83.6 / 84.5 -> 81.9 / 81.6 MiB,
 * the latencies unchanged. And with the old generation allowed to grow by 20% past what a full collection
 * kept, not V8's dynamic 10-400%: the agent's live heap is ~15 MiB, and a burst (50 containers started, 16
 * `ps` of them) otherwise leaves it 7-8 MiB above that until the memory reducer runs seconds later. Same
 * bench, two runs each: 83.7 / 83.4 -> 77.9 / 77.1 MiB, run, exec and bench:cni's served ADD unchanged
 * within their noise. And without TurboFan (--no-opt: Ignition and Sparkplug only): its optimized code,
 * deoptimization data and compile zones are 4-7 MiB of a mostly idle agent. bench:runtime, daemon RSS with
 * 50 containers: 80.6 -> 73.3 MiB (one run each; a hand run 80.6 -> 73.6), run, exec and bench:cni's served
 * ADD unchanged within their noise; bench:overlay, RSS at 1000 peers 77.0-77.9 -> 73.9-76.3 MiB, the 1000
 * leases programmed 96-145 -> 99-290 ms after the last write (three runs each: the one slow run is the cost
 * of the hot netlink loops in the interpreter tiers), pull and push in bench:images within their noise.
 * deploy/ passes the same flags when it runs the bundle through `node` explicitly. They cannot be set at run
 * time (v8.setFlagsFromString is too late).
 */
const LONG_RUNNING_NODE_FLAGS = '--max-semi-space-size=1 --v8-pool-size=1 --heap-growing-percent=20 --no-opt';
/**
 * And with glibc's malloc capped at two arenas: by default each of Node's threads that mallocs (libuv's
 * workers, V8's compiler and GC threads) gets one of up to 8 per core, and every arena keeps the holes a
 * burst of work left in it. bench:runtime, daemon RSS with 50 containers: 94-96 -> 84-90 MiB (and see
 * pkg/agent/memory.ts). deploy/ sets the same variable.
 */
const LONG_RUNNING_ENV = 'MALLOC_ARENA_MAX=2';
const LONG_RUNNING_SHEBANG = `#!/usr/bin/env -S ${LONG_RUNNING_ENV} node ${LONG_RUNNING_NODE_FLAGS}`;
const FORWARDER_SOURCE = join(ROOT, 'native', 'cni-forward', 'cni-forward.c');
const ATTACH_RELAY_SOURCE = join(ROOT, 'native', 'attach-relay', 'attach-relay.c');
const NSEXEC_SOURCE = join(ROOT, 'native', 'nsexec', 'nsexec.c');
const CTL_FRONT_SOURCE = join(ROOT, 'native', 'ctl-front', 'ctl-front.c');
/** Commands installed behind a native front (dist/bin/<name>); their Node launcher is in dist/libexec. */
const BEHIND_NATIVE_FRONT: Readonly<Record<string, string>> = { tsnetctl: 'tsnetctl-node' };
const LIBEXEC_OUT_DIR = join(ROOT, 'dist', 'libexec');
const BUILD_ID = randomBytes(12).toString('hex');
/** Constants every bundle sees (pkg/cni/socket-protocol.ts, pkg/cni/skel.ts declare them). */
const DEFINES = { __TSNET_BUILD_ID__: JSON.stringify(BUILD_ID) };

/** koffi's platform package for this machine, e.g. `@koromix/koffi-linux-x64`. */
function koffiPlatformPackage(): { name: string; dir: string } {
  const name = `koffi-${process.platform}-${process.arch}`;
  const require = createRequire(join(ROOT, 'node_modules', 'koffi', 'package.json'));
  return { name, dir: dirname(require.resolve(`@koromix/${name}/package.json`)) };
}

/**
 * The platform package's binaries for glibc and musl (koffi-linux-x64: linux_x64/ and musl_x64/), when it
 * has both; its loader (index.js) picks one by parsing the ELF headers of Node's own executable.
 */
function koffiLinuxBinaries(dir: string): { glibc: string; musl: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  const glibc = `linux_${process.arch}/koffi.node`;
  const musl = `musl_${process.arch}/koffi.node`;
  return existsSync(join(dir, glibc)) && existsSync(join(dir, musl)) ? { glibc, musl } : undefined;
}

/**
 * `import koffi from 'koffi'` in a bundled plugin: koffi's native module from beside the plugin file. On
 * Linux the plugin picks the binary itself, by the dynamic linker loaded in it (/proc/self/maps): the
 * package's loader is ~2 ms of every plugin start (compiled anew each time, outside the code cache), most
 * of it not the dlopen. Anything unexpected goes to the package's loader.
 */
function koffiBesidePlugin(platformPackage: { name: string; dir: string }): esbuild.Plugin {
  const pkg = `path.join(__dirname, ${JSON.stringify(NATIVE_DIR_NAME)}, ${JSON.stringify(platformPackage.name)})`;
  const binaries = koffiLinuxBinaries(platformPackage.dir);
  const contents = binaries
    ? [
        `const path = require('node:path');`,
        `const pkg = ${pkg};`,
        'let koffi;',
        'try {',
        `  const musl = require('node:fs').readFileSync('/proc/self/maps', 'latin1').includes('/ld-musl-');`,
        `  koffi = require(path.join(pkg, musl ? ${JSON.stringify(binaries.musl)} : ${JSON.stringify(binaries.glibc)}));`,
        '} catch {}',
        'module.exports = koffi?.version != null ? koffi : require(pkg);',
      ].join('\n')
    : [`const path = require('node:path');`, `module.exports = require(${pkg});`].join('\n');
  return {
    name: 'koffi-beside-plugin',
    setup(build) {
      build.onResolve({ filter: /^koffi$/ }, () => ({ path: 'koffi', namespace: 'koffi-native' }));
      build.onLoad({ filter: /.*/, namespace: 'koffi-native' }, () => ({ contents, loader: 'js' }));
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `<dir>/<name>/main.ts` entries, by name. */
async function findMains(dir: string): Promise<{ name: string; entry: string }[]> {
  let names: string[];
  try {
    names = (await readdir(join(ROOT, dir))).sort();
  } catch {
    return [];
  }
  const mains: { name: string; entry: string }[] = [];
  for (const name of names) {
    const entry = join(ROOT, dir, name, 'main.ts');
    if (await isFile(entry)) mains.push({ name, entry });
  }
  return mains;
}

function isTopLevelAwaitError(err: unknown): boolean {
  const errors = (err as { errors?: esbuild.Message[] }).errors ?? [];
  return errors.some((e) => e.text.includes('Top-level await'));
}

/** A plugin's CommonJS bundle, beside its launcher `<name>` (or `.<name>-node` behind a forwarder). */
const pluginBundleName = (name: string): string => `.${name}.cjs`;

/**
 * A plugin as `outfile`: its CommonJS bundle beside it (pluginBundleName) behind scripts/cached-launcher.ts,
 * with one V8 code cache per verb; a main with top-level await as one ES module instead, without a cache.
 */
async function bundlePlugin(
  entry: string,
  outfile: string,
  name: string,
  koffi: esbuild.Plugin,
  behindForwarder: boolean,
): Promise<'cjs' | 'esm'> {
  const common: esbuild.BuildOptions = {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    plugins: [koffi],
    define: { ...DEFINES, __TSNET_BEHIND_FORWARDER__: String(behindForwarder) },
    legalComments: 'none',
    minifyWhitespace: true, // see bundleCommand
    logLevel: 'silent',
  };
  const bundle = join(dirname(outfile), pluginBundleName(name));
  try {
    await esbuild.build({ ...common, outfile: bundle, format: 'cjs' });
    await asciiOnly(bundle);
    await buildLauncher(outfile, {
      bundle: pluginBundleName(name),
      cacheDir: PLUGIN_CACHE_DIR,
      cachePer: 'CNI_COMMAND',
      longRunning: false,
      shebang: SHEBANG,
      // CommonJS: an ES module entry would load Node's ES module loader on every call (~2 ms)
      format: 'cjs',
    });
    return 'cjs';
  } catch (err) {
    if (!isTopLevelAwaitError(err)) throw err;
    await rm(bundle, { force: true });
  }
  // ESM needs a real import.meta-free `require` for the koffi shim.
  await esbuild.build({
    ...common,
    outfile,
    format: 'esm',
    banner: {
      js: `${SHEBANG}\nimport { createRequire as __tsnetCreateRequire } from 'node:module';\nimport { dirname as __tsnetDirname } from 'node:path';\nimport { fileURLToPath as __tsnetFileUrlToPath } from 'node:url';\nconst require = __tsnetCreateRequire(import.meta.url);\nconst __dirname = __tsnetDirname(__tsnetFileUrlToPath(import.meta.url));`,
    },
  });
  await asciiOnly(outfile);
  return 'esm';
}

/**
 * Rewrites every non-ASCII character of a bundle as a \u escape. esbuild escapes them in strings but keeps
 * them in comments and regular expressions, and one such character (an arrow in a comment) makes V8 hold
 * the whole source as a two-byte string for the life of the process: the agent's 4 MB bundle took 8 MB of
 * heap, twice while it was being wrapped. A \u escape means the same in a string, a template, a regular
 * expression (with or without the u flag; a character beyond the BMP as its surrogate pair) and an
 * identifier, and nothing in a comment.
 */
async function asciiOnly(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range itself
  const escaped = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped !== text) await writeFile(file, escaped);
}

const C_STRING = (s: string): string => JSON.stringify(s); // the strings here are plain ASCII

/** The protocol's constants for the C side, from the TypeScript definitions. */
function forwarderHeader(): string {
  return [
    '// Generated by scripts/build.ts from pkg/cni: do not edit.',
    `#define TSNET_BUILD_ID ${C_STRING(BUILD_ID)}`,
    `#define TSNET_PROTOCOL_VERSION ${PROTOCOL_VERSION}`,
    `#define TSNET_DEFAULT_SOCKET ${C_STRING(DEFAULT_CNI_SOCKET)}`,
    `#define TSNET_SOCKET_ENV ${C_STRING(CNI_SOCKET_ENV)}`,
    `#define TSNET_HELLO_TIMEOUT_MS ${HELLO_TIMEOUT_MS}`,
    `#define TSNET_MAX_HELLO_BYTES ${MAX_HELLO_BYTES}`,
    `#define TSNET_CURRENT_VERSION ${C_STRING(CURRENT_VERSION)}`,
    `#define TSNET_SUPPORTED_VERSIONS ${SUPPORTED_VERSIONS.map(C_STRING).join(', ')}`,
    `#define TSNET_CODE_TRY_AGAIN_LATER ${ErrorCode.TryAgainLater}`,
    '',
  ].join('\n');
}

/** Compiles one C program with the system C compiler ($CC, else cc); `what` names it in errors. */
async function compileC(
  what: string,
  source: string,
  outfile: string,
  extraArgs: string[] = [],
  libraries: string[] = [],
): Promise<void> {
  const cc = process.env['CC'] || 'cc';
  const args = [
    '-std=c11',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    ...extraArgs,
    '-o',
    outfile,
    source,
    ...libraries,
  ];
  try {
    await promisify(execFile)(cc, args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`build: compiling ${what} with ${cc} failed: ${e.stderr || e.message}`);
  }
}

/** Compiles the forwarder for plugin `type` into `outfile`. */
function compileForwarder(type: string, outfile: string, includeDir: string): Promise<void> {
  // Static: the DaemonSet copies the forwarders onto the host, whose libc may be older than the image's,
  // and an exec without the dynamic loader is a few hundred microseconds sooner at the agent.
  return compileC(`the CNI forwarder for ${type}`, FORWARDER_SOURCE, outfile, [
    '-static',
    '-s',
    `-I${includeDir}`,
    `-DTSNET_PLUGIN_TYPE=${C_STRING(type)}`,
    `-DTSNET_NODE_PLUGIN_NAME=${C_STRING(nodePluginName(type))}`,
  ]);
}

/** The warm-client protocol's constants for the C side (pkg/ctl/warm-protocol.ts, pkg/api). */
function ctlFrontHeader(): string {
  return [
    '// Generated by scripts/build.ts from pkg/ctl/warm-protocol.ts: do not edit.',
    `#define TSNET_BUILD_ID ${C_STRING(BUILD_ID)}`,
    `#define TSNET_WARM_MAGIC ${C_STRING(WARM_MAGIC)}`,
    `#define TSNET_WARM_SOCKET_SUFFIX ${C_STRING(warmSocketOf(''))}`,
    `#define TSNET_DEFAULT_API_SOCKET ${C_STRING(DEFAULT_API_SOCKET)}`,
    `#define TSNET_HOST_ENV ${C_STRING(HOST_ENV)}`,
    `#define TSNET_NO_WARM_ENV ${C_STRING(NO_WARM_ENV)}`,
    `#define TSNET_DEBUG_ENV ${C_STRING(DEBUG_ENV)}`,
    `#define TSNET_NODE_CTL_FROM_BIN ${C_STRING(NODE_CTL_FROM_BIN)}`,
    `#define TSNET_ANSWER_TIMEOUT_MS ${ANSWER_TIMEOUT_MS}`,
    `#define TSNET_MAX_REQUEST_BYTES ${WARM_MAX_REQUEST_BYTES}`,
    `#define TSNET_EXIT_LOST ${EXIT_LOST}`,
    '',
  ].join('\n');
}

/** tsnetctl's native front (native/ctl-front) as `outfile`. */
async function compileCtlFront(outfile: string): Promise<void> {
  const includeDir = await mkdtemp(join(tmpdir(), 'tsnet-build-'));
  try {
    await writeFile(join(includeDir, 'ctl-front.h'), ctlFrontHeader());
    await compileC('the native tsnetctl', CTL_FRONT_SOURCE, outfile, [`-I${includeDir}`]);
  } finally {
    await rm(includeDir, { recursive: true, force: true });
  }
}

/** The agent's helper programs: dist/libexec/tsnet-attach-relay and tsnet-nsexec. */
async function buildLibexec(): Promise<void> {
  await mkdir(LIBEXEC_OUT_DIR, { recursive: true });
  // each compiled beside and renamed: an attach or exec starting meanwhile never runs a half-written binary
  const relay = join(LIBEXEC_OUT_DIR, 'tsnet-attach-relay');
  const nsexec = join(LIBEXEC_OUT_DIR, 'tsnet-nsexec');
  await Promise.all([
    compileC('the attach relay', ATTACH_RELAY_SOURCE, `${relay}.new`),
    // static: libseccomp inside, so the image and the host need no libseccomp of their own
    compileC('the native exec', NSEXEC_SOURCE, `${nsexec}.new`, ['-static', '-s'], ['-lseccomp']),
  ]);
  await rename(`${relay}.new`, relay);
  await rename(`${nsexec}.new`, nsexec);
  console.log('build: attach relay and native exec in dist/libexec');
}

/** A main that forwards to tsnet-agent (runForwardingPluginMain) gets the native forwarder in front. */
async function forwardsToAgent(entry: string): Promise<boolean> {
  return (await readFile(entry, 'utf8')).includes('runForwardingPluginMain(');
}

async function buildPlugins(): Promise<void> {
  const mains = await findMains('cni-plugins');
  // Built beside dist/cni and swapped in at the end: a plugin running meanwhile never sees a half-built dir.
  const staging = `${CNI_OUT_DIR}.new`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const native = koffiPlatformPackage();
  await cp(native.dir, join(staging, NATIVE_DIR_NAME, native.name), { recursive: true });
  await writeFile(join(staging, 'package.json'), '{}\n');
  const koffi = koffiBesidePlugin(native);
  const includeDir = await mkdtemp(join(tmpdir(), 'tsnet-build-'));
  await writeFile(join(includeDir, 'build-info.h'), forwarderHeader());
  const forwarded: string[] = [];
  try {
    await Promise.all(
      mains.map(async ({ name, entry }) => {
        const behindForwarder = await forwardsToAgent(entry);
        const outfile = join(staging, behindForwarder ? nodePluginName(name) : name);
        const format = await bundlePlugin(entry, outfile, name, koffi, behindForwarder);
        await chmod(outfile, 0o755);
        if (behindForwarder) {
          await compileForwarder(name, join(staging, name), includeDir);
          forwarded.push(name);
        }
        if (format === 'esm') {
          console.warn(
            `build: cni-plugins/${name}/main.ts uses top-level await, bundled as ESM (slower start-up); ` +
              'write `void runPluginMain(plugin)` to get a CommonJS bundle',
          );
        }
      }),
    );
  } finally {
    await rm(includeDir, { recursive: true, force: true });
  }
  const old = `${CNI_OUT_DIR}.old`;
  await rm(old, { recursive: true, force: true });
  await rename(CNI_OUT_DIR, old).catch(() => undefined);
  await rename(staging, CNI_OUT_DIR);
  await rm(old, { recursive: true, force: true });
  console.log(`build: ${mains.length} plugins in dist/cni: ${mains.map((m) => m.name).join(', ')}`);
  console.log(`build: native forwarders (build ${BUILD_ID}) for ${forwarded.sort().join(', ')}`);
}

// cmd/<dir> -> the executable's installed name.
const COMMAND_NAMES: Readonly<Record<string, string>> = { agent: 'tsnet-agent' };
const commandName = (dir: string): string => COMMAND_NAMES[dir] ?? dir;
/**
 * Every command is one self-contained CommonJS bundle in dist/lib behind scripts/cached-launcher.ts (V8 code
 * cache) in dist/bin. Resolving and linking ~300 files of npm packages through Node's module loaders cost
 * tsnetctl ~350 ms of CPU per call, compiling the bundle another ~80 ms (measured with `tsnetctl --version`:
 * 580 ms CPU as an ES module with external packages, 200 ms as one bundle, 120 ms with the code cache). The
 * agent's start is on the path of a node's convergence: `tsnet-agent --version` 0.58 -> 0.29 s of CPU, wall
 * 1.1-1.9 -> 0.5-0.9 s on the loaded 2-core machine, as this bundle instead of an ES module with external
 * packages.
 */
const LONG_RUNNING = new Set(['agent']);
const LIB_OUT_DIR = join(ROOT, 'dist', 'lib');
const CACHE_OUT_DIR = join(ROOT, 'dist', 'cache');
const LAUNCHER_SOURCE = join(ROOT, 'scripts', 'cached-launcher.ts');
/** Left out of a self-contained bundle: koffi reads its native binary from its package directory at run
 * time. (ip-num and dockerfile-ast are required from node_modules, on first use: pkg/ip/ip-num.ts,
 * pkg/build/dockerfile.ts.) */
const RUNTIME_FILE_PACKAGES = ['koffi'];

/** The call in etcd3's connection pool that parses its .proto files when the package is loaded. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: etcd3's source text, template literal included
const ETCD3_PROTO_LOAD = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {';
const ETCD3_RPC_JSON = 'tsnet-build:etcd3-rpc.json';
/** The schema as JSON text, parsed once for all the bundles of a build. */
let etcd3RpcJsonText: string | undefined;

/**
 * etcd3 inside the bundle, sharing its gRPC and protobufjs (one copy of each, compiled with the bundle's
 * code cache), and its schema parsed here rather than at every start (pkg/store/etcd3-proto.ts). A newer
 * etcd3 that loads its schema another way fails the build, rather than a bundle at run time.
 */
const etcd3Schema: esbuild.Plugin = {
  name: 'etcd3-schema',
  setup(build) {
    let bundled = false;
    let replaced = false;
    // first, for every etcd3 file: notes that the bundle holds etcd3, and leaves the loading to the rest
    build.onLoad({ filter: /[\\/]node_modules[\\/]etcd3[\\/]/ }, () => {
      bundled = true;
      return undefined;
    });
    build.onEnd((result) => {
      if (bundled && !replaced && result.errors.length === 0)
        throw new Error('etcd3 is bundled, and scripts/build.ts found no schema load to replace in it');
    });
    build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(ETCD3_PROTO_LOAD))
        throw new Error(`${args.path}: etcd3 no longer loads its schema as scripts/build.ts expects`);
      replaced = true;
      const contents = source.replace(
        ETCD3_PROTO_LOAD,
        `(0, proto_loader_1.fromJSON)(require(${JSON.stringify(ETCD3_RPC_JSON)}), {`,
      );
      return { contents, loader: 'js' };
    });
    build.onResolve({ filter: /^tsnet-build:etcd3-rpc\.json$/ }, () => ({
      path: ETCD3_RPC_JSON,
      namespace: 'tsnet-build',
    }));
    build.onLoad({ filter: /.*/, namespace: 'tsnet-build' }, () => {
      etcd3RpcJsonText ??= JSON.stringify(etcd3RpcJson());
      return { contents: etcd3RpcJsonText, loader: 'json' };
    });
  },
};

interface LauncherOptions {
  /** The bundle's path relative to the launcher. */
  readonly bundle: string;
  /** The code cache's directory relative to the launcher. */
  readonly cacheDir: string;
  /** The variable whose value the cache is kept per (a CNI verb), '' for one cache. */
  readonly cachePer: string;
  readonly longRunning: boolean;
  readonly shebang: string;
  readonly format: 'cjs' | 'esm';
}

/** scripts/cached-launcher.ts as `outfile`, in front of `options.bundle`. */
async function buildLauncher(outfile: string, options: LauncherOptions): Promise<void> {
  const cjs = options.format === 'cjs';
  await esbuild.build({
    entryPoints: [LAUNCHER_SOURCE],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: options.format,
    define: {
      ...(cjs && { 'import.meta.url': '__tsnetLauncherUrl' }),
      __TSNET_BUNDLE__: JSON.stringify(options.bundle),
      __TSNET_CACHE_DIR__: JSON.stringify(options.cacheDir),
      __TSNET_CACHE_PER__: JSON.stringify(options.cachePer),
      __TSNET_LONG_RUNNING__: JSON.stringify(options.longRunning),
    },
    banner: {
      js: cjs
        ? `${options.shebang}\nconst __tsnetLauncherUrl = require('node:url').pathToFileURL(__filename).href;`
        : options.shebang,
    },
    logLevel: 'silent',
  });
}

/** A command: dist/lib/<name>.cjs, and its launcher as dist/bin/<name>. */
async function bundleCommand(
  entry: string,
  name: string,
  outfile: string,
  longRunning: boolean,
): Promise<void> {
  const bundle = join(LIB_OUT_DIR, `${name}.cjs`);
  await esbuild.build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    external: RUNTIME_FILE_PACKAGES,
    plugins: [etcd3Schema],
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // import.meta of the sources (createRequire(import.meta.url) of the external packages) is the bundle's
    define: {
      ...DEFINES,
      'import.meta.url': '__tsnetImportMetaUrl',
      'import.meta.dirname': '__dirname',
    },
    banner: { js: "const __tsnetImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    // V8 keeps a script's whole source for as long as it runs, to compile functions lazily: without the
    // indentation the agent's is 2.8 MB instead of 4.1, and a cold start parses a third less. Names stay:
    // stacks and logs still read.
    minifyWhitespace: true,
    logLevel: 'silent',
  });
  await asciiOnly(bundle);
  await buildLauncher(outfile, {
    bundle: `../lib/${name}.cjs`,
    cacheDir: '../cache',
    cachePer: '',
    longRunning,
    shebang: longRunning ? LONG_RUNNING_SHEBANG : CLI_SHEBANG,
    // CommonJS: as an ES module the launcher took Node's ES module loader through its start (resolve, load,
    // translate, the builtins' ESM facades): ~12 ms of the agent's ~90 ms to its first line (CPU profile)
    format: 'cjs',
  });
}

async function buildCommands(): Promise<void> {
  const mains = await findMains('cmd');
  if (mains.length === 0) return;
  for (const dir of [BIN_OUT_DIR, LIB_OUT_DIR, CACHE_OUT_DIR])
    await rm(dir, { recursive: true, force: true });
  await mkdir(BIN_OUT_DIR, { recursive: true });
  await mkdir(LIB_OUT_DIR, { recursive: true });
  await mkdir(LIBEXEC_OUT_DIR, { recursive: true });
  // the launchers are extensionless CommonJS files, as the plugins are (see dist/cni/package.json)
  for (const dir of [BIN_OUT_DIR, LIBEXEC_OUT_DIR]) await writeFile(join(dir, 'package.json'), '{}\n');
  await Promise.all(
    mains.map(async ({ name, entry }) => {
      const installed = commandName(name);
      const nodeName = BEHIND_NATIVE_FRONT[installed];
      const outfile = nodeName ? join(LIBEXEC_OUT_DIR, nodeName) : join(BIN_OUT_DIR, installed);
      await bundleCommand(entry, installed, outfile, LONG_RUNNING.has(name));
      await chmod(outfile, 0o755);
      if (nodeName) await compileCtlFront(join(BIN_OUT_DIR, installed));
    }),
  );
  console.log(
    `build: ${mains.length} commands in dist/bin: ${mains.map((m) => commandName(m.name)).join(', ')}`,
  );
}

await buildPlugins();
await buildCommands();
await buildLibexec();
await writeFile(join(ROOT, 'dist', 'build-id'), `${BUILD_ID}\n`);
