// tsnetctl run against a real agent: a daemon error while the session is attached (the start failing)
// ends with one line and docker's exit code, never a stack trace.
import test from 'ava';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl run end to end (${skip})`, () => undefined);

e2e('run of a command that is not found: one line, exit 127 as docker, no stack trace', async (t) => {
  await withEngine(t, async (e) => {
    for (const args of [
      ['run', '--network', 'none', TEST_IMAGE, '/no/such/command'],
      ['run', '-i', '--network', 'none', TEST_IMAGE, '/no/such/command'],
    ]) {
      const r = await e.ctl(...args);
      t.is(r.code, 127, `exit ${r.code}: ${r.stderr}`);
      t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      t.notRegex(r.stderr, /\n\s+at /);
      t.regex(r.stderr, /^Error response from daemon: /);
    }
  });
});
