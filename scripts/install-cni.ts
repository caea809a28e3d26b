// `npm run install-cni -- DIR`: copies the built plugins (dist/cni) and koffi's native module beside them into
// a runtime's plugin directory (e.g. /opt/cni/bin). Each file is written under a temporary name and renamed
// into place, so a runtime executing a plugin during the install sees the old file or the new one, never half
// of one (and never ETXTBSY).
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_CACHE_DIR } from '../pkg/cni/socket-protocol.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'dist', 'cni');
/** Build scaffolding and the plugins' code caches (each install makes its own), not part of an install. */
const NOT_INSTALLED = new Set(['package.json', PLUGIN_CACHE_DIR]);

/** The `type` of the package.json nearest to `dir` (what Node uses for extensionless files there). */
async function packageTypeOf(dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const type = (JSON.parse(await readFile(join(d, 'package.json'), 'utf8')) as { type?: unknown }).type;
      return typeof type === 'string' ? type : undefined;
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

async function copyAtomically(from: string, to: string, mode: number): Promise<void> {
  const tmp = join(dirname(to), `.${process.pid}.${Date.now()}.tmp`);
  try {
    await copyFile(from, tmp);
    await chmod(tmp, mode);
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function copyTree(from: string, to: string): Promise<number> {
  let count = 0;
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) count += await copyTree(src, dst);
    else {
      await copyAtomically(src, dst, (await stat(src)).mode & 0o777);
      count++;
    }
  }
  return count;
}

async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target || process.argv.length > 3) {
    console.error('usage: npm run install-cni -- DIR   (copies the plugins in dist/cni into DIR)');
    process.exit(2);
  }
  let entries: string[];
  try {
    entries = await readdir(SOURCE);
  } catch {
    console.error(`install-cni: ${SOURCE} does not exist; run \`npm run build\` first`);
    process.exit(1);
  }
  const dir = resolve(target);
  await mkdir(dir, { recursive: true });
  const plugins: string[] = [];
  // The bundles (.<type>.cjs) before the launchers that read them, so a new launcher never misses its bundle.
  const bundlesFirst = (name: string) => (name.endsWith('.cjs') ? 0 : 1);
  for (const name of entries.sort().sort((a, b) => bundlesFirst(a) - bundlesFirst(b))) {
    if (NOT_INSTALLED.has(name)) continue;
    const src = join(SOURCE, name);
    if ((await stat(src)).isDirectory()) await copyTree(src, join(dir, name));
    else {
      await copyAtomically(src, join(dir, name), 0o755);
      plugins.push(name);
    }
  }
  // The plugins are CommonJS files without an extension: under a "type": "module" package.json Node would
  // read them as ESM, so such a directory gets its own neutral package.json (as dist/cni has).
  if ((await packageTypeOf(dir)) === 'module') await writeFile(join(dir, 'package.json'), '{}\n');
  console.log(`install-cni: ${plugins.join(', ')} installed in ${dir}`);
}

await main();
