// `ps -A` against a real agent: the containers of the discovery view (this node's, published by the
// engine), with their node, network and address; a removed container leaves the view.
import test from 'ava';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`ps -A end to end (${skip})`, () => undefined);

e2e('ps -A lists the published containers with node and address, and forgets a removed one', async (t) => {
  await withEngine(t, async (e) => {
    const run = await e.ctl('run', '-d', '--name', 'seen', TEST_IMAGE, '/bin/busybox', 'sleep', '600');
    t.is(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const inspect = JSON.parse((await e.ctl('inspect', 'seen')).stdout) as {
      NetworkSettings: { IPAddress: string };
    }[];
    const ip = inspect[0]!.NetworkSettings.IPAddress;
    t.regex(ip, /^\d+\.\d+\.\d+\.\d+$/);
    // the view follows the store's watch: give it a moment
    let rows: { ID: string; Names: string; Node: string; IPs: string; State: string }[] = [];
    for (let i = 0; i < 50 && !rows.some((r) => r.Names === 'seen'); i++) {
      const out = await e.ctl('ps', '-A', '--format', 'json');
      t.is(out.code, 0, out.stderr);
      rows = out.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as (typeof rows)[number]);
      if (!rows.some((r) => r.Names === 'seen')) await new Promise((r) => setTimeout(r, 100));
    }
    const seen = rows.find((r) => r.Names === 'seen');
    t.truthy(seen, JSON.stringify(rows));
    t.is(seen?.ID, id.slice(0, 12));
    t.is(seen?.IPs, ip);
    t.is(seen?.State, 'running');
    t.truthy(seen?.Node);
    const table = await e.ctl('ps', '-A');
    t.regex(table.stdout, /^CONTAINER ID\s+NAMES\s+NODE\s+IMAGE\s+STATE\s+IPS\s+PORTS/);
    t.is((await e.ctl('rm', '-f', 'seen')).code, 0);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !(await e.ctl('ps', '-A', '-q')).stdout.includes(id.slice(0, 12));
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    t.true(gone, 'the removed container left the view');
  });
});
