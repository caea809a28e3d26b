// scripts/cached-launcher.ts, built as scripts/build.ts builds it, in front of a small bundle: the first run
// writes the V8 code cache at its exit; a long-running command replaces it once its start is done when its
// own is larger (it compiled more), and not again at its exit; a run that finds a valid cache leaves it. A
// plugin's launcher (CommonJS, as scripts/build.ts builds it for dist/cni) keeps one cache per CNI verb.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from '../helpers/plugin.ts';

const run = promisify(execFile);

/** `short`: one small function runs. `long`: many more, then it stays past the launcher's offer (10 s). */
const BUNDLE = `
function small() { return 1; }
const more = [];
${Array.from({ length: 200 }, (_, i) => `more.push(function f${i}(x) { return [x, ${i}, String(x) + '${i}'].join('-'); });`).join('\n')}
small();
if (process.argv[2] === 'long') {
  for (const f of more) f(1);
  setTimeout(() => {}, 11_500);
}
`;

interface LauncherOptions {
  readonly longRunning: boolean;
  /** A plugin's: its cache in `.tsnet-cache` beside it, one per CNI_COMMAND. */
  readonly plugin?: boolean;
}

/** A launcher in front of BUNDLE, in a temporary install tree (bin, lib, cache) removed after the test. */
async function buildLauncher(
  t: ExecutionContext,
  { longRunning, plugin = false }: LauncherOptions,
): Promise<{ dir: string; launcher: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'probe.cjs'), BUNDLE);
  const launcher = join(dir, 'bin', 'probe.cjs');
  await esbuild.build({
    entryPoints: [join(REPO_ROOT, 'scripts', 'cached-launcher.ts')],
    outfile: launcher,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    define: {
      __TSNET_BUNDLE__: JSON.stringify('../lib/probe.cjs'),
      __TSNET_CACHE_DIR__: JSON.stringify(plugin ? '../lib/.tsnet-cache' : '../cache'),
      __TSNET_CACHE_PER__: JSON.stringify(plugin ? 'CNI_COMMAND' : ''),
      __TSNET_LONG_RUNNING__: String(longRunning),
      'import.meta.url': '__tsnetLauncherUrl',
    },
    banner: { js: "const __tsnetLauncherUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'silent',
  });
  return { dir, launcher };
}

function cacheSize(dir: string): number | undefined {
  const files = readdirSync(join(dir, 'cache'), { withFileTypes: true }).filter((f) =>
    f.name.endsWith('.v8'),
  );
  if (files.length !== 1) return undefined;
  return statSync(join(dir, 'cache', files[0]?.name ?? '')).size;
}

test('a long-running command grows its code cache once its start is done; a valid cache is left alone', async (t) => {
  const { dir, launcher } = await buildLauncher(t, { longRunning: true });

  await run(process.execPath, [launcher, 'short']);
  const first = cacheSize(dir);
  t.truthy(first, 'the first run wrote a cache at its exit');

  await run(process.execPath, [launcher, 'long']);
  const grown = cacheSize(dir) ?? 0;
  t.true(grown > (first ?? 0), `the long run's cache (${grown} bytes) replaced the smaller one (${first})`);

  await run(process.execPath, [launcher, 'short']);
  t.is(cacheSize(dir), grown, 'a run that compiled less leaves the larger cache');
});

test('a short-lived command writes its cache only when it found none', async (t) => {
  const { dir, launcher } = await buildLauncher(t, { longRunning: false });

  await run(process.execPath, [launcher, 'short']);
  const first = cacheSize(dir);
  t.truthy(first);
  await run(process.execPath, [launcher, 'long']); // compiles more, past the offer a long-running one makes
  t.is(cacheSize(dir), first, 'a valid cache stays as it was');
});

test('a plugin keeps one cache per CNI verb, and none for a CNI_COMMAND that is not a plain word', async (t) => {
  const { dir, launcher } = await buildLauncher(t, { longRunning: false, plugin: true });
  const caches = () => {
    try {
      return readdirSync(join(dir, 'lib', '.tsnet-cache')).sort();
    } catch {
      return [];
    }
  };
  const withCommand = (command: string) =>
    run(process.execPath, [launcher, 'short'], { env: { ...process.env, CNI_COMMAND: command } });

  await withCommand('../../x');
  await withCommand('add');
  t.deepEqual(caches(), [], 'no cache file is named after a CNI_COMMAND that is not a verb');
  await withCommand('ADD');
  await withCommand('DEL');
  await withCommand('ADD');
  const suffix = `${process.version}-${process.arch}.v8`;
  t.deepEqual(caches(), [`probe.cjs-ADD-${suffix}`, `probe.cjs-DEL-${suffix}`]);
});
