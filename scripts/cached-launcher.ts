// The executable in front of a command bundled as one CommonJS file (scripts/build.ts): it compiles the bundle
// with V8's code cache, so a short-lived command (tsnetctl) skips most of its parse and compile on every run
// after the first. Node 20 has no module.enableCompileCache (Node 22): this is that, for one file.
// A command's cache lives in dist/cache beside dist/bin (the bundle's ../cache), one file per bundle and Node
// build; V8 refuses a cache made from another source or another V8, and the launcher then writes a fresh one.
// A directory it cannot write just means no cache. Bundled into dist/bin/<name> with __TSNET_BUNDLE__ set to
// the bundle's path relative to the launcher, __TSNET_CACHE_DIR__ to the cache directory's, and
// __TSNET_LONG_RUNNING__ for the agent.
//
// A CNI plugin (dist/cni) keeps one cache per verb (__TSNET_CACHE_PER__ names the variable that holds it,
// CNI_COMMAND), in .tsnet-cache beside the plugins: an ADD compiles other functions than a DEL, and the first
// call of a plugin is often neither (VERSION). bench:cni, the Node plugin's ADD: the bundle's parse and its
// lazy compiles are ~10 ms of a ~60 ms call.
//
// A cache holds the functions compiled by the run that wrote it, so which run that was matters: the agent's
// first run may have been a runtime-only node, and a cluster node's start would then compile its etcd and
// overlay code every time (bench:overlay, start to converged: ~250 ms with those in the cache, ~340 without).
// A long-running command therefore offers its cache again once its start is done, and it replaces the file
// when it is larger: what the file had (deserialized, so still compiled) plus what this run compiled. Not at
// its exit: by then V8 has flushed the bytecode of the start-up functions that no longer run.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, Script } from 'node:vm';

declare const __TSNET_BUNDLE__: string;
declare const __TSNET_CACHE_DIR__: string;
declare const __TSNET_CACHE_PER__: string;
declare const __TSNET_LONG_RUNNING__: boolean;

/** After its start, a long-running command's start-up functions are compiled and not yet flushed. */
const OFFER_CACHE_AFTER_MS = 10_000;

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, __TSNET_BUNDLE__);
/** What the cache is kept per (a CNI verb), when it is a plain word; else undefined: no cache at all. */
const cacheKey = __TSNET_CACHE_PER__ === '' ? '' : process.env[__TSNET_CACHE_PER__];
const cacheFile =
  cacheKey !== undefined && /^[A-Z]{0,16}$/.test(cacheKey)
    ? join(
        here,
        __TSNET_CACHE_DIR__,
        `${basename(bundle)}${cacheKey && `-${cacheKey}`}-${process.version}-${process.arch}.v8`,
      )
    : undefined;

function readCache(): Buffer | undefined {
  if (cacheFile === undefined) return undefined;
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

function cacheFileSize(): number {
  if (cacheFile === undefined) return 0;
  try {
    return statSync(cacheFile).size;
  } catch {
    return 0;
  }
}

/** Written beside and renamed: a concurrent run never reads half a cache. */
function writeCache(data: Buffer): void {
  if (cacheFile === undefined) return;
  try {
    mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o700 });
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
  const fresh = cachedData === undefined || script.cachedDataRejected;
  let written = false;
  if (fresh && cacheFile !== undefined)
    // at exit, so the cache holds the functions this run compiled lazily too
    process.once('exit', () => {
      if (!written) writeCache(script.createCachedData());
    });
  if (__TSNET_LONG_RUNNING__)
    setTimeout(() => {
      const data = script.createCachedData();
      if (!fresh && data.length <= cacheFileSize()) return;
      written = true;
      writeCache(data);
    }, OFFER_CACHE_AFTER_MS).unref();
  return script;
}

const main = compileBundle().runInThisContext() as (...args: unknown[]) => void;
const module = { exports: {} };
main.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
