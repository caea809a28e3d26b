// Issue 9's bad input end to end through tsnetctl against a real agent: one line on stderr, docker's exit
// code, and nothing left behind by the refused run.
import test from 'ava';
import { assertOneLineError } from '../ctl/cli.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { IMAGE, withWorld } from './world.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl end to end (${skip})`, () => undefined);

e2e('bad input: one line, exit 125, nothing created', async (t) => {
  await withWorld(t, async (w) => {
    const none = ['--network', 'none'];
    const refused = async (pattern: RegExp, ...args: string[]) => {
      const r = await w.ctl(...args);
      assertOneLineError(t, r, pattern);
      t.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    };
    // as docker: "Unable to find image 'X' locally", then the pull's error, exit 125
    const unknown = await w.ctl('run', '--rm', ...none, 'nosuch.invalid/x:1', 'true');
    t.is(unknown.code, 125);
    t.regex(
      unknown.stderr,
      /^Unable to find image 'nosuch\.invalid\/x:1' locally\nError response from daemon: .+\n$/,
    );
    await refused(/12x/, 'run', '--rm', ...none, '-m', '12x', IMAGE, 'true');
    await w.ok('create', '--name', 'taken', ...none, IMAGE, 'true');
    await refused(/"\/taken" is already in use/, 'run', '--name', 'taken', ...none, IMAGE, 'true');
    await refused(/\/nonexistent-src/, 'run', '--rm', ...none, '-v', '/nonexistent-src:/data', IMAGE, 'true');
    await refused(/nosuchnet/, 'run', '--rm', '--network', 'nosuchnet', IMAGE, 'true');
    t.is((await w.ok('ps', '-aq')).trim().split('\n').length, 1, 'only "taken" exists');
  });
});
