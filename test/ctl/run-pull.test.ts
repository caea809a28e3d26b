// tsnetctl run of an image the agent does not have, against a real agent and registry: as docker run,
// "Unable to find image" and the pull's progress on stderr, then the container runs; once it is there, no
// word of a pull. --pull never refuses a missing image with the daemon's one line.
import { join } from 'node:path';
import test from 'ava';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { withEngine } from '../helpers/engine.ts';
import { startRegistry, writeBusyboxLayout } from '../helpers/registry.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl run pulls (${skip})`, () => undefined);

e2e('run pulls a missing image with its progress, then runs it; a present one is not pulled', async (t) => {
  const registry = await startRegistry();
  try {
    await withEngine(
      t,
      async (e) => {
        const image = await writeBusyboxLayout(join(e.dir, 'pulled'), 'v1', ['linux/amd64']);
        await registry.skopeo(
          'copy',
          '--dest-tls-verify=false',
          `oci:${image.layout}:v1`,
          `docker://${registry.host}/ctl/busybox:v1`,
        );
        const ref = `${registry.host}/ctl/busybox:v1`;

        const never = await e.ctl('run', '--rm', '--pull', 'never', '--network', 'none', ref, 'true');
        t.is(never.code, 125, never.stderr);
        t.regex(never.stderr, /^Error response from daemon: No such image: .+\n$/);

        const first = await e.ctl('run', '--rm', '--network', 'none', ref, '/bin/busybox', 'echo', 'pulled');
        t.is(first.code, 0, first.stderr);
        t.is(first.stdout, 'pulled\n');
        t.regex(first.stderr, new RegExp(`^Unable to find image '${ref}' locally\n`));
        t.regex(first.stderr, /Status: Downloaded newer image/);

        const again = await e.ctl('run', '--rm', '--network', 'none', ref, '/bin/busybox', 'echo', 'again');
        t.is(again.code, 0, again.stderr);
        t.is(again.stdout, 'again\n');
        t.is(again.stderr, '', 'no pull when the image is there');
      },
      { netnsPath: registry.netnsPath },
    );
  } finally {
    await registry.stop();
  }
});
