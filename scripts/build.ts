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
// - dist/cni/package.json is `{}`: without it the repository's `"type": "module"` would make Node read the
//   extensionless CommonJS plugins as ESM.
import { chmod, cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CNI_OUT_DIR = join(ROOT, 'dist', 'cni');
const BIN_OUT_DIR = join(ROOT, 'dist', 'bin');
/** Directory beside the plugins holding koffi's native platform package. */
const NATIVE_DIR_NAME = 'tsnet-native';
const SHEBANG = '#!/usr/bin/env node';

/** koffi's platform package for this machine, e.g. `@koromix/koffi-linux-x64`. */
function koffiPlatformPackage(): { name: string; dir: string } {
  const name = `koffi-${process.platform}-${process.arch}`;
  const require = createRequire(join(ROOT, 'node_modules', 'koffi', 'package.json'));
  return { name, dir: dirname(require.resolve(`@koromix/${name}/package.json`)) };
}

/** `import koffi from 'koffi'` in a bundled plugin: koffi's native module from beside the plugin file. */
function koffiBesidePlugin(platformPackage: string): esbuild.Plugin {
  const contents = [
    `const path = require('node:path');`,
    `module.exports = require(path.join(__dirname, ${JSON.stringify(NATIVE_DIR_NAME)}, ${JSON.stringify(platformPackage)}));`,
  ].join('\n');
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

async function bundlePlugin(entry: string, outfile: string, koffi: esbuild.Plugin): Promise<'cjs' | 'esm'> {
  const common: esbuild.BuildOptions = {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    banner: { js: SHEBANG },
    plugins: [koffi],
    legalComments: 'none',
    logLevel: 'silent',
  };
  try {
    await esbuild.build({ ...common, format: 'cjs' });
    return 'cjs';
  } catch (err) {
    if (!isTopLevelAwaitError(err)) throw err;
  }
  // ESM needs a real import.meta-free `require` for the koffi shim.
  await esbuild.build({
    ...common,
    format: 'esm',
    banner: {
      js: `${SHEBANG}\nimport { createRequire as __tsnetCreateRequire } from 'node:module';\nimport { dirname as __tsnetDirname } from 'node:path';\nimport { fileURLToPath as __tsnetFileUrlToPath } from 'node:url';\nconst require = __tsnetCreateRequire(import.meta.url);\nconst __dirname = __tsnetDirname(__tsnetFileUrlToPath(import.meta.url));`,
    },
  });
  return 'esm';
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
  const koffi = koffiBesidePlugin(native.name);
  await Promise.all(
    mains.map(async ({ name, entry }) => {
      const outfile = join(staging, name);
      const format = await bundlePlugin(entry, outfile, koffi);
      await chmod(outfile, 0o755);
      if (format === 'esm') {
        console.warn(
          `build: cni-plugins/${name}/main.ts uses top-level await, bundled as ESM (slower start-up); ` +
            'write `void runPluginMain(plugin)` to get a CommonJS bundle',
        );
      }
    }),
  );
  const old = `${CNI_OUT_DIR}.old`;
  await rm(old, { recursive: true, force: true });
  await rename(CNI_OUT_DIR, old).catch(() => undefined);
  await rename(staging, CNI_OUT_DIR);
  await rm(old, { recursive: true, force: true });
  console.log(`build: ${mains.length} plugins in dist/cni: ${mains.map((m) => m.name).join(', ')}`);
}

// cmd/<dir> -> the executable's installed name.
const COMMAND_NAMES: Readonly<Record<string, string>> = { agent: 'tsnet-agent' };
const commandName = (dir: string): string => COMMAND_NAMES[dir] ?? dir;

/** Commands are long-running: bundled as ESM with npm packages left external (resolved from node_modules). */
async function buildCommands(): Promise<void> {
  const mains = await findMains('cmd');
  if (mains.length === 0) return;
  await rm(BIN_OUT_DIR, { recursive: true, force: true });
  await mkdir(BIN_OUT_DIR, { recursive: true });
  await Promise.all(
    mains.map(async ({ name, entry }) => {
      const outfile = join(BIN_OUT_DIR, commandName(name));
      await esbuild.build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        packages: 'external',
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // native/libc.ts loads koffi lazily with require(): an ES module has none, so the bundle gets a real one.
        banner: {
          js: `${SHEBANG}\nimport { createRequire as __tsnetCreateRequire } from 'node:module';\nconst require = __tsnetCreateRequire(import.meta.url);`,
        },
        logLevel: 'silent',
      });
      await chmod(outfile, 0o755);
    }),
  );
  console.log(
    `build: ${mains.length} commands in dist/bin: ${mains.map((m) => commandName(m.name)).join(', ')}`,
  );
}

await buildPlugins();
await buildCommands();
