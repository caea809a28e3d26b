// The executor's in-process plugins (the agent's own types): served through servePlugin instead of executed,
// with libcni's semantics unchanged around them — prevResult chaining into and out of an executed plugin,
// DEL in reverse with the cached result, DEL after a failed ADD, the version check — and only once the path
// has the type. The plugins here touch no kernel object: the executor runs without a node namespace.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CniError } from '../../pkg/cni/errors.ts';
import type { CniPlugin } from '../../pkg/cni/skel.ts';
import { parsePrevResult } from '../../pkg/cni/version.ts';
import { CniExecError, CniExecutor, parseConfList } from '../../pkg/network/cni-exec.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CTR = 'd'.repeat(64);
const RT = { containerId: CTR, netns: '/run/netns/tsnet-test-absent', ifName: 'eth0' } as const;

const readLog = (dir: string): string[] => {
  try {
    return readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

/** An executable that logs "<name> exec <command> <prevResult's first IP or ->" and passes prevResult on. */
function writeExecutable(dir: string, name: string): void {
  const source = `#!${process.execPath}
const fs = require('node:fs');
const cmd = process.env.CNI_COMMAND;
if (cmd === 'VERSION') { console.log(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] })); process.exit(0); }
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.appendFileSync(${JSON.stringify(join(dir, 'log'))}, '${name} exec ' + cmd + ' ' + (conf.prevResult?.ips?.[0]?.address ?? '-') + '\\n');
if (cmd === 'ADD') console.log(JSON.stringify(conf.prevResult ?? { cniVersion: conf.cniVersion, ips: [] }));
`;
  writeFileSync(join(dir, name), source);
  chmodSync(join(dir, name), 0o755);
}

/** An in-process plugin that logs "<name> in-process <command> <prevResult's first IP or ->". */
function ownPlugin(dir: string, name: string, o: { failAdd?: boolean; versions?: string[] } = {}): CniPlugin {
  const log = (command: string, config: unknown): void => {
    const prev = parsePrevResult(config as Parameters<typeof parsePrevResult>[0]);
    appendFileSync(join(dir, 'log'), `${name} in-process ${command} ${prev?.ips?.[0]?.address ?? '-'}\n`);
  };
  return {
    name,
    about: 'test plugin',
    ...(o.versions && { supportedVersions: o.versions }),
    async add(args) {
      log('ADD', args.config);
      if (o.failAdd) throw new CniError(117, 'no luck today', 'asked to fail');
      return { cniVersion: args.config.cniVersion, ips: [{ address: '10.99.0.7/24' }] };
    },
    async del(args) {
      log('DEL', args.config);
    },
    async check(args) {
      log('CHECK', args.config);
    },
  };
}

const listOf = (name: string, types: string[], cniVersion = '1.1.0') =>
  parseConfList(
    Buffer.from(JSON.stringify({ cniVersion, name, plugins: types.map((type) => ({ type })) })),
    name,
  );

async function withExecutor(
  fn: (dir: string, make: (own: CniPlugin[]) => CniExecutor) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const make = (own: CniPlugin[]) =>
      new CniExecutor({
        pluginDirs: [dir],
        cacheDir: join(dir, 'cache'),
        inProcessPlugins: new Map(own.map((p) => [p.name, p])),
      });
    await fn(dir, make);
  });
}

test('an in-process plugin chains with an executed one both ways; DEL runs in reverse with the cached result', async (t) => {
  await withExecutor(async (dir, make) => {
    writeExecutable(dir, 'tst-own'); // on the path, never run: the in-process plugin answers for it
    writeExecutable(dir, 'tst-pass');
    const executor = make([ownPlugin(dir, 'tst-own')]);
    const list = listOf('inproc', ['tst-own', 'tst-pass']);
    const result = await executor.addNetworkList(list, RT);
    t.is(
      result.ips?.[0]?.address,
      '10.99.0.7/24',
      "the executed plugin passed on the in-process one's result",
    );
    t.is((await executor.cachedResult('inproc', CTR, 'eth0'))?.ips?.[0]?.address, '10.99.0.7/24');
    await executor.delNetworkList(list, RT);
    t.deepEqual(readLog(dir), [
      'tst-own in-process ADD -',
      'tst-pass exec ADD 10.99.0.7/24',
      'tst-pass exec DEL 10.99.0.7/24',
      'tst-own in-process DEL 10.99.0.7/24',
    ]);
    t.is(await executor.cachedResult('inproc', CTR, 'eth0'), undefined, 'the cache entry went');
  });
});

test("DEL removes the temporary a killed agent left for the attachment's cache entry, and only that", async (t) => {
  await withExecutor(async (dir, make) => {
    writeExecutable(dir, 'tst-pass');
    const executor = make([]);
    const list = listOf('orphans', ['tst-pass']);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid names no process
    const results = join(dir, 'cache', 'results');
    mkdirSync(results, { recursive: true });
    const mine = `.orphans-${CTR}-eth0.tmp-${dead}-0123abcd`;
    const other = `.orphans-${'e'.repeat(64)}-eth0.tmp-${dead}-0123abcd`;
    for (const name of [mine, other]) writeFileSync(join(results, name), '{"half');
    await executor.delNetworkList(list, RT); // an ADD cut before its cache entry was renamed into place
    t.deepEqual(readdirSync(results).sort(), [other], "another attachment's temporary stays for its own DEL");
  });
});

test("an in-process plugin's failed ADD carries its CNI error and is followed by DEL of the whole list", async (t) => {
  await withExecutor(async (dir, make) => {
    writeExecutable(dir, 'tst-pass');
    writeExecutable(dir, 'tst-own');
    const executor = make([ownPlugin(dir, 'tst-own', { failAdd: true })]);
    const err = await t.throwsAsync(executor.addNetworkList(listOf('failing', ['tst-pass', 'tst-own']), RT), {
      instanceOf: CniExecError,
    });
    t.deepEqual(
      [err?.plugin, err?.command, err?.cni.code, err?.cni.msg, err?.cni.details],
      ['tst-own', 'ADD', 117, 'no luck today', 'asked to fail'],
    );
    t.deepEqual(readLog(dir), [
      'tst-pass exec ADD -',
      'tst-own in-process ADD -',
      'tst-own in-process DEL -',
      'tst-pass exec DEL -',
    ]);
  });
});

test('an in-process plugin is refused a cniVersion it does not support, and is only used once the path has it', async (t) => {
  await withExecutor(async (dir, make) => {
    const executor = make([ownPlugin(dir, 'tst-own', { versions: ['0.4.0', '1.0.0'] })]);
    const missing = await t.throwsAsync(executor.addNetworkList(listOf('absent', ['tst-own'], '1.0.0'), RT), {
      instanceOf: CniExecError,
    });
    t.is(missing?.cni.code, 7, 'a type the path lacks is the usual "failed to find plugin"');
    writeExecutable(dir, 'tst-own');
    const old = await t.throwsAsync(executor.addNetworkList(listOf('newer', ['tst-own']), RT), {
      instanceOf: CniExecError,
    });
    t.deepEqual([old?.cni.code, old?.cni.msg], [1, 'incompatible CNI versions']);
    t.deepEqual(readLog(dir), [], 'neither ADD ran');
  });
});
