// The executable in front of a command bundled as one CommonJS file (scripts/build.ts): it compiles the bundle
// with V8's code cache, so a short-lived command (tsnetctl) skips most of its parse and compile on every run
// after the first. Node 20 has no module.enableCompileCache (Node 22): this is that, for one file.
// The cache lives in dist/cache beside dist/bin (the bundle's ../cache), one file per bundle and Node build;
// V8 refuses a cache made from another source or another V8, and the launcher then writes a fresh one. A
// directory it cannot write just means no cache. Bundled into dist/bin/<name> with __TSNET_BUNDLE__ set to
// the bundle's path relative to the launcher.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, Script } from 'node:vm';

declare const __TSNET_BUNDLE__: string;

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, __TSNET_BUNDLE__);
const cacheFile = join(here, '..', 'cache', `${basename(bundle)}-${process.version}-${process.arch}.v8`);

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

/** Written beside and renamed: a concurrent run never reads half a cache. */
function writeCache(data: Buffer): void {
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const temp = `${cacheFile}.${process.pid}`;
    writeFileSync(temp, data);
    renameSync(temp, cacheFile);
  } catch {
    // read-only install, full disk: the next run compiles again
  }
}

/**
 * The bundle, compiled: in a function, so the source text read (4 MB for the agent) and the cache's buffer
 * are garbage once V8 has them; only the Script, which holds its source for lazy compiles, lives on.
 */
function compileBundle(): Script {
  const cachedData = readCache();
  // CommonJS's own wrapper: the bundle sees exports, require, module, __filename and __dirname.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8').replace(/^#!.*/, '')}\n})`;
  const script = new Script(source, {
    filename: bundle,
    ...(cachedData && { cachedData }),
    // an import() the bundle kept (a node: builtin) goes through Node's own loader, as in a module
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected)
    // at exit, so the cache holds the functions this run compiled lazily too
    process.once('exit', () => writeCache(script.createCachedData()));
  return script;
}

const main = compileBundle().runInThisContext() as (...args: unknown[]) => void;
const module = { exports: {} };
main.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
