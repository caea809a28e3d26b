// compose build and up on a service with a `build` section, against a real agent: `up -d` builds the missing
// image (tagged PROJECT-SERVICE) and runs it, `compose build` rebuilds it (all cached), `up --build` after a
// change rebuilds and recreates the container with the new image, and a failing build is Docker's message.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const COMPOSE = `services:
  app:
    build:
      context: ./app
      dockerfile: app.Dockerfile
      args:
        WORD: built
`;

const DOCKERFILE = `FROM ${TEST_IMAGE}
ARG WORD=default
COPY version.txt /version.txt
RUN echo "$WORD by compose" > /word.txt
CMD ["sh", "-c", "cat /word.txt /version.txt; sleep 600"]
`;

test('compose: up builds a missing image, build rebuilds it cached, up --build takes a change', async (t) => {
  await withEngine(t, async (e) => {
    const project = join(e.dir, 'proj');
    await mkdir(join(project, 'app'), { recursive: true });
    await writeFile(join(project, 'compose.yaml'), COMPOSE);
    await writeFile(join(project, 'app', 'app.Dockerfile'), DOCKERFILE);
    await writeFile(join(project, 'app', 'version.txt'), 'v1\n');
    const compose = (...args: string[]) =>
      e.ctl('compose', '-f', join(project, 'compose.yaml'), '-p', 'cb', ...args);
    try {
      const up = await compose('up', '-d');
      t.is(up.code, 0, up.stderr + up.stdout);
      t.regex(up.stdout, /^Successfully tagged cb-app$/m);
      const logs = async () => (await e.ctl('logs', 'cb-app-1')).stdout;
      for (let i = 0; i < 100 && !(await logs()).includes('v1'); i++)
        await new Promise((r) => setTimeout(r, 100));
      t.is(await logs(), 'built by compose\nv1\n');

      const build = await compose('build');
      t.is(build.code, 0, build.stderr);
      t.is(build.stdout.split('\n').filter((l) => l === ' ---> Using cache').length, 4, build.stdout);

      const again = await compose('up', '-d');
      t.notRegex(again.stdout, /Step 1/, 'the image is there: up builds nothing');

      await writeFile(join(project, 'app', 'version.txt'), 'v2\n');
      const rebuilt = await compose('up', '-d', '--build');
      t.is(rebuilt.code, 0, rebuilt.stderr);
      t.regex(rebuilt.stderr, /Recreate|Started/);
      for (let i = 0; i < 100 && !(await logs()).includes('v2'); i++)
        await new Promise((r) => setTimeout(r, 100));
      t.regex(await logs(), /v2/);

      await writeFile(join(project, 'app', 'app.Dockerfile'), `FROM ${TEST_IMAGE}\nRUN exit 3\n`);
      const failed = await compose('build');
      t.is(failed.code, 1);
      t.regex(failed.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    } finally {
      await compose('down');
    }
  });
});
