// `tsx deploy/production-modules.ts DEST`: copies the npm packages the built commands load at run time into
// DEST (an installed tree's node_modules). The commands are bundled with their npm packages left external
// (scripts/build.ts): etcd3 reads its .proto files and koffi its native binary from their package
// directories at run time, so the packages are installed beside the bundles rather than inlined.
// Which packages: every non-dev entry of package-lock.json, as installed in this checkout (what the tests ran
// against), symlinks resolved, each package's own nested node_modules taken from its own lock entries. No
// registry is asked, so an install works offline and never resolves back into the checkout.
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

function productionPackages(): { path: string; optional: boolean }[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, LockEntry>;
  };
  return Object.entries(lock.packages ?? {})
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev)
    .map(([path, entry]) => ({ path, optional: entry.optional === true }));
}

function copyProductionModules(dest: string): number {
  let copied = 0;
  mkdirSync(dest, { recursive: true });
  for (const { path, optional } of productionPackages()) {
    const src = join(ROOT, path);
    if (!existsSync(src)) {
      if (optional) continue; // another platform's optional package (koffi's, for one)
      throw new Error(`${path} is in package-lock.json but not installed: run npm ci first`);
    }
    const nested = join(src, 'node_modules');
    cpSync(src, join(dest, path.slice('node_modules/'.length)), {
      recursive: true,
      dereference: true,
      filter: (from) => from !== nested,
    });
    copied++;
  }
  return copied;
}

const [dest, extra] = process.argv.slice(2);
if (!dest || extra !== undefined) {
  console.error(
    'usage: tsx deploy/production-modules.ts DEST   (copies the production npm packages into DEST)',
  );
  process.exit(2);
}
try {
  const count = copyProductionModules(resolve(dest));
  console.log(`production-modules: ${count} packages in ${resolve(dest)}`);
} catch (err) {
  console.error(`production-modules: ${(err as Error).message}`);
  process.exit(1);
}
