// The files each container gets at /etc/hosts, /etc/resolv.conf and /etc/hostname, read from inside the
// container through tsnetctl against a real agent (default bridge, none, host; --add-host with
// host-gateway, --dns*, a user's own mount), `tsnetctl port` for published ports, picked ones included; network connect/disconnect.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { assertOneLineError, tsnetctl } from '../ctl/cli.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { withNetnses } from '../helpers/netns.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`container etc files (${skip})`, () => undefined);

const IMAGE = 'tsnet-test/busybox:latest';

type Ctl = (...args: string[]) => ReturnType<typeof tsnetctl>;

async function withAgent(t: ExecutionContext, fn: (ctl: Ctl, dir: string) => Promise<void>): Promise<void> {
  t.timeout(180_000);
  await withNetnses('etc', 1, ([ns]) =>
    withTempDir(async (dir) => {
      const agent = startTestAgent(ns!.path, dir);
      const ctl: Ctl = (...args) => tsnetctl('-H', `unix://${agent.socket}`, ...args);
      try {
        (await agent.connect()).close();
        const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
        const archive = join(dir, 'busybox.tar');
        execFileSync('skopeo', [
          'copy',
          '--quiet',
          `oci:${image.layout}:v1`,
          `docker-archive:${archive}:${IMAGE}`,
        ]);
        const load = await ctl('load', '-i', archive);
        t.is(load.code, 0, load.stderr);
        await fn(ctl, dir);
      } catch (err) {
        t.log(agent.log().slice(-3000));
        throw err;
      } finally {
        const ids = (await ctl('ps', '-aq')).stdout.split('\n').filter(Boolean);
        if (ids.length) await ctl('rm', '-f', ...ids);
        await agent.stop();
      }
    }, 'tsne-'),
  );
}

const SHOW = 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname';

function sections(stdout: string): { hosts: string; resolv: string; hostname: string } {
  const [hosts = '', resolv = '', name = ''] = stdout.split('---\n');
  return { hosts, resolv, hostname: name };
}

e2e(
  'bridge: hosts with the address, --add-host and host-gateway; --dns* make resolv.conf; hostname',
  async (t) => {
    await withAgent(t, async (ctl) => {
      const r = await ctl(
        'run',
        '--rm',
        '--hostname',
        'web',
        '--add-host',
        'a.example:192.0.2.7',
        '--add-host',
        'gw:host-gateway',
        '--dns',
        '192.0.2.53',
        '--dns-search',
        'example.test',
        '--dns-option',
        'ndots:2',
        IMAGE,
        'sh',
        '-c',
        `${SHOW}; echo ---; ip -4 -o addr show eth0; ip route`,
      );
      t.is(r.code, 0, r.stderr);
      const [, , , ipInfo = ''] = r.stdout.split('---\n');
      const { hosts, resolv, hostname: name } = sections(r.stdout);
      const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(ipInfo)?.[1];
      const gateway = /default via (\S+)/.exec(ipInfo)?.[1];
      t.truthy(ip, ipInfo);
      t.truthy(gateway, ipInfo);
      const lines = hosts.trimEnd().split('\n');
      t.is(lines[0], '127.0.0.1\tlocalhost');
      t.true(lines.includes('192.0.2.7\ta.example'), hosts);
      t.true(lines.includes(`${gateway}\tgw`), `host-gateway is the network's gateway: ${hosts}`);
      t.is(lines.at(-1), `${ip}\tweb`);
      t.is(resolv, 'search example.test\nnameserver 192.0.2.53\noptions ndots:2\n');
      t.is(name, 'web\n');
    });
  },
);

e2e("a user's mount at /etc/hosts wins; none: no address line; host: the node's files", async (t) => {
  await withAgent(t, async (ctl, dir) => {
    const mine = join(dir, 'myhosts');
    writeFileSync(mine, '10.9.9.9\tmine\n');
    const own = await ctl(
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${mine}:/etc/hosts:ro`,
      IMAGE,
      'sh',
      '-c',
      SHOW,
    );
    t.is(own.code, 0, own.stderr);
    t.is(sections(own.stdout).hosts, '10.9.9.9\tmine\n');

    const none = await ctl(
      'run',
      '--rm',
      '--network',
      'none',
      '--hostname',
      'lonely',
      IMAGE,
      'sh',
      '-c',
      SHOW,
    );
    t.is(none.code, 0, none.stderr);
    const s = sections(none.stdout);
    t.false(/lonely/.test(s.hosts), `no address, no name line: ${s.hosts}`);
    t.notRegex(s.resolv, /nameserver 127\./, 'no loopback nameserver a container cannot reach');
    t.regex(s.resolv, /nameserver /);
    t.is(s.hostname, 'lonely\n');

    const host = await ctl(
      'run',
      '--rm',
      '--network',
      'host',
      '--add-host',
      'x.example:192.0.2.9',
      IMAGE,
      'sh',
      '-c',
      SHOW,
    );
    t.is(host.code, 0, host.stderr);
    const h = sections(host.stdout);
    t.is(h.hosts, `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n192.0.2.9\tx.example\n`);
    t.is(h.resolv, readFileSync('/etc/resolv.conf', 'utf8'));
    t.is(h.hostname, `${hostname()}\n`);
  });
});

e2e('a bad --add-host is one line, exit 125, nothing created', async (t) => {
  await withAgent(t, async (ctl) => {
    const r = await ctl('run', '--rm', '--network', 'none', '--add-host', 'nope:not-an-ip', IMAGE, 'true');
    t.is(r.code, 125);
    assertOneLineError(t, r, /invalid IP address in add-host/);
    t.is((await ctl('ps', '-aq')).stdout, '');
  });
});

e2e('port: the published ports as Docker prints them, a picked host port included', async (t) => {
  await withAgent(t, async (ctl) => {
    const run = await ctl(
      'run',
      '-d',
      '--name',
      'pub',
      '-p',
      '18080:80',
      '-p',
      '127.0.0.1::81/udp',
      IMAGE,
      '/bin/busybox',
      'sleep',
      '300',
    );
    t.is(run.code, 0, run.stderr);
    const all = await ctl('port', 'pub');
    t.is(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n').sort();
    t.is(lines.length, 2, all.stdout);
    t.is(lines[0], '80/tcp -> 0.0.0.0:18080');
    const picked = /^81\/udp -> 127\.0\.0\.1:(\d+)$/.exec(lines[1] ?? '');
    t.truthy(picked, all.stdout);
    t.true(Number(picked?.[1]) > 0);
    const one = await ctl('port', 'pub', '80');
    t.is(one.stdout, '0.0.0.0:18080\n');
    const missing = await ctl('port', 'pub', '82');
    assertOneLineError(t, missing, /No public port '82\/tcp' published for pub/);
  });
});

e2e(
  'network connect --ip gives a running container eth1 on the network; disconnect takes it away',
  async (t) => {
    await withAgent(t, async (ctl) => {
      const net = await ctl('network', 'create', '--subnet', '10.77.0.0/24', 'second');
      t.is(net.code, 0, net.stderr);
      const run = await ctl('run', '-d', '--name', 'multi', IMAGE, '/bin/busybox', 'sleep', '300');
      t.is(run.code, 0, run.stderr);
      const con = await ctl('network', 'connect', '--alias', 'other', '--ip', '10.77.0.9', 'second', 'multi');
      t.is(con.code, 0, con.stderr);
      const addrs = await ctl('exec', 'multi', '/bin/busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth1');
      t.regex(addrs.stdout, /inet 10\.77\.0\.9\/24/, addrs.stderr);
      const again = await ctl('network', 'connect', 'second', 'multi');
      assertOneLineError(t, again, /already exists in network second/);
      const dis = await ctl('network', 'disconnect', 'second', 'multi');
      t.is(dis.code, 0, dis.stderr);
      const gone = await ctl('exec', 'multi', '/bin/busybox', 'ip', '-o', 'link');
      t.notRegex(gone.stdout, /eth1/);
      t.regex(gone.stdout, /eth0/);
    });
  },
);
