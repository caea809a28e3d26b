// The overlay tests' route oracle must read the same on a node where deploy/install.sh registered the
// protocol name `116 tsnet` in /etc/iproute2/rt_protos.d. The registration is made only inside a private mount
// namespace (a bind mount over the directory), so the host's /etc is never written.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { ip, withNetnses } from '../helpers/netns.ts';
import { inPrivateMounts } from '../helpers/private-mounts.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { VTEP } from './world.ts';

const RT_PROTOS_D = '/etc/iproute2/rt_protos.d';

test('the route oracle reports protocol "116" also where install.sh registered "116 tsnet"', (t) =>
  withTempDir((dir) =>
    withNetnses('rtp', 1, async ([ns]) => {
      if (existsSync(join(RT_PROTOS_D, 'README')))
        copyFileSync(join(RT_PROTOS_D, 'README'), join(dir, 'README'));
      writeFileSync(join(dir, 'tsnet.conf'), '116 tsnet\n');
      ip(ns!.path, 'link', 'add', VTEP, 'type', 'veth', 'peer', 'name', 'rtp1');
      ip(ns!.path, 'link', 'set', VTEP, 'up');
      ip(ns!.path, 'route', 'add', '10.244.9.0/24', 'dev', VTEP, 'proto', '116');

      const world = pathToFileURL(join(import.meta.dirname, 'world.ts')).href;
      const helpers = pathToFileURL(join(import.meta.dirname, '..', 'helpers', 'netns.ts')).href;
      const ns1 = JSON.stringify({ name: ns!.name, path: ns!.path });
      const script = [
        `import { oracleRoutes } from ${JSON.stringify(world)};`,
        `import { ipJson } from ${JSON.stringify(helpers)};`,
        `const ns = ${ns1};`,
        'const plain = ipJson(ns.path, "route", "show").find((r) => r.dst === "10.244.9.0/24");',
        'const oracle = oracleRoutes(ns).find((r) => r.dst === "10.244.9.0/24");',
        'console.log(JSON.stringify({ plain: plain?.protocol, oracle: oracle?.protocol }));',
      ].join('\n');
      const [cmd, ...args] = inPrivateMounts(
        [{ bind: dir, over: RT_PROTOS_D }],
        [process.execPath, '--import=tsx', '--input-type=module', '-e', script],
      );
      const out = execFileSync(cmd ?? '', args, { encoding: 'utf8' });
      // plain `ip` names the protocol there (so the registration took effect); the oracle still says 116.
      t.deepEqual(JSON.parse(out), { plain: 'tsnet', oracle: '116' });
    }),
  ));
