// Volumes end to end through tsnetctl against a real agent: a named volume outlives its containers and is
// refused removal while one uses it, a read-only bind is read-only inside, and a missing bind source is one
// line with nothing created (neither the container nor the source directory).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { assertOneLineError } from '../ctl/cli.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl volumes end to end (${skip})`, () => undefined);

const run = (...args: string[]) => ['run', '--network', 'none', ...args];

e2e('a named volume keeps its data across containers; volume rm is refused while one uses it', async (t) => {
  await withEngine(t, async (e) => {
    await e.ok(...run('--rm', '-v', 'data:/data', TEST_IMAGE, 'sh', '-c', 'echo kept > /data/file'));
    t.is((await e.ok('volume', 'ls', '-q')).trim(), 'data', 'made on first use');
    t.is(
      await e.ok(...run('--rm', '-v', 'data:/data', TEST_IMAGE, 'busybox', 'cat', '/data/file')),
      'kept\n',
    );
    const mountpoint = (await e.ok('volume', 'inspect', '--format', '{{.Mountpoint}}', 'data')).trim();
    t.is(readFileSync(join(mountpoint, 'file'), 'utf8'), 'kept\n', 'the data is in the volume on the host');

    await e.ok(...run('-d', '--name', 'user', '-v', 'data:/data', TEST_IMAGE, 'busybox', 'sleep', '1000'));
    const userId = (await e.ok('inspect', '--format', '{{.Id}}', 'user')).trim();
    const inUse = await e.ctl('volume', 'rm', 'data');
    assertOneLineError(t, inUse, /volume is in use/);
    t.is(inUse.code, 1);
    t.regex(inUse.stderr, new RegExp(userId));
    // a stopped container still holds it, as in Docker
    await e.ok('stop', '-t', '0', 'user');
    t.is((await e.ctl('volume', 'rm', 'data')).code, 1);
    await e.ok('rm', 'user');
    t.is(await e.ok('volume', 'rm', 'data'), 'data\n');
    t.is(await e.ok('volume', 'ls', '-q'), '');
    t.false(existsSync(mountpoint));
  });
});

e2e('a read-only bind mount is read-only inside; a read-write one writes through to the host', async (t) => {
  await withEngine(t, async (e) => {
    const src = join(e.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'in.txt'), 'host file\n');
    t.is(
      await e.ok(...run('--rm', '-v', `${src}:/p:ro`, TEST_IMAGE, 'busybox', 'cat', '/p/in.txt')),
      'host file\n',
    );
    const write = await e.ctl(
      ...run('--rm', '-v', `${src}:/p:ro`, TEST_IMAGE, 'sh', '-c', 'echo x > /p/new'),
    );
    t.is(write.code, 1, 'the shell cannot write');
    t.regex(write.stderr, /Read-only file system/);
    t.false(existsSync(join(src, 'new')));

    await e.ok(...run('--rm', '-v', `${src}:/p`, TEST_IMAGE, 'sh', '-c', 'echo x > /p/new'));
    t.is(readFileSync(join(src, 'new'), 'utf8'), 'x\n');
  });
});

e2e('a missing bind source: one line, exit 125, no container and no directory made', async (t) => {
  await withEngine(t, async (e) => {
    const missing = join(e.dir, 'no-such-dir');
    for (const flags of [
      ['-v', `${missing}:/data`],
      ['--mount', `type=bind,source=${missing},target=/data`],
    ]) {
      const r = await e.ctl(...run('--name', 'never', ...flags, TEST_IMAGE, 'busybox', 'true'));
      assertOneLineError(t, r, new RegExp(missing));
      t.is(r.code, 125, r.stderr);
      t.false(existsSync(missing), 'not created');
      t.is(await e.ok('ps', '-aq'), '', 'no container');
    }
  });
});
