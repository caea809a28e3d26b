// tsnet-none, the built plugin run as a process: loopback up in the container and nothing else, the result
// the reference `loopback` plugin prints, CHECK and DEL as the spec asks.
import test from 'ava';
import { ip, ipJson, ipLinks, withNetnses } from '../helpers/netns.ts';
import { REFERENCE_CNI, runPlugin, runPluginOk } from '../helpers/plugin.ts';

const conf = (extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'none-net',
  type: 'tsnet-none',
  ...extra,
});

interface IpAddr {
  ifname: string;
  addr_info: { local: string; prefixlen: number }[];
}

test('ADD brings lo up, adds nothing else, and prints what the reference loopback prints', async (t) => {
  await withNetnses('none', 2, async ([ours, theirs]) => {
    t.false(ipLinks(ours!.path)[0]!.flags.includes('UP'), 'lo starts down');
    const call = { command: 'ADD', containerId: 'c1', ifname: 'eth0', config: conf() } as const;
    const out = await runPluginOk('tsnet-none', { ...call, netns: ours!.path });
    const ref = await runPluginOk('loopback', { ...call, dir: REFERENCE_CNI, netns: theirs!.path });

    const links = ipLinks(ours!.path);
    t.deepEqual(
      links.map((l) => l.ifname),
      ['lo'],
    );
    t.true(links[0]!.flags.includes('UP'));
    const addrs = ipJson<IpAddr[]>(ours!.path, 'addr', 'show').flatMap((a) =>
      a.addr_info.map((i) => `${a.ifname} ${i.local}/${i.prefixlen}`),
    );
    t.deepEqual(addrs.sort(), ['lo 127.0.0.1/8', 'lo ::1/128']);
    t.deepEqual(ipJson(ours!.path, 'route', 'show'), [], 'no IPv4 route outside the local table');

    // Same result as the reference plugin, up to the sandbox path.
    const normalise = (r: Record<string, unknown> | undefined, path: string) =>
      JSON.parse(JSON.stringify(r).replaceAll(path, 'SANDBOX'));
    t.deepEqual(normalise(out.json, ours!.path), normalise(ref.json, theirs!.path));
    t.is((out.json as { interfaces: { sandbox: string }[] }).interfaces[0]!.sandbox, ours!.path);
  });
});

test('ADD prints older result versions, and passes a prevResult through unchanged', async (t) => {
  await withNetnses('none', 1, async ([ns]) => {
    const old = await runPluginOk('tsnet-none', {
      command: 'ADD',
      containerId: 'c1',
      ifname: 'lo',
      netns: ns!.path,
      config: conf({ cniVersion: '0.4.0' }),
    });
    t.is(old.json?.['cniVersion'], '0.4.0');
    t.deepEqual(
      (old.json as { ips: { version: string; address: string }[] }).ips.map((i) => [i.version, i.address]),
      [
        ['4', '127.0.0.1/8'],
        ['6', '::1/128'],
      ],
    );
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: ns!.path }],
      ips: [{ interface: 0, address: '10.1.2.3/24', gateway: '10.1.2.1' }],
      dns: {},
    };
    const chained = await runPluginOk('tsnet-none', {
      command: 'ADD',
      containerId: 'c1',
      ifname: 'lo',
      netns: ns!.path,
      config: conf({ prevResult }),
    });
    t.deepEqual(chained.json, prevResult);
  });
});

test('CHECK passes while lo is up and fails once it is down', async (t) => {
  await withNetnses('none', 1, async ([ns]) => {
    const call = { containerId: 'c1', ifname: 'eth0', netns: ns!.path, config: conf() };
    await runPluginOk('tsnet-none', { ...call, command: 'ADD' });
    const ok = await runPlugin('tsnet-none', { ...call, command: 'CHECK' });
    t.is(ok.code, 0);
    t.is(ok.stdout, '');
    ip(ns!.path, 'link', 'set', 'lo', 'down');
    const bad = await runPlugin('tsnet-none', { ...call, command: 'CHECK' });
    t.not(bad.code, 0);
    t.regex(String(bad.json?.['msg']), /loopback interface is down/);
  });
});

test('DEL prints nothing and succeeds with the namespace present, gone, or not given', async (t) => {
  await withNetnses('none', 1, async ([ns]) => {
    const call = { containerId: 'c1', ifname: 'eth0', config: conf() };
    await runPluginOk('tsnet-none', { ...call, command: 'ADD', netns: ns!.path });
    for (const netns of [ns!.path, ns!.path, '/run/netns/tsnt-none-gone', '']) {
      const out = await runPlugin('tsnet-none', { ...call, command: 'DEL', netns });
      t.is(out.code, 0, `DEL with CNI_NETNS=${JSON.stringify(netns)}: ${out.stdout}`);
      t.is(out.stdout, '');
    }
    t.true(ipLinks(ns!.path)[0]!.flags.includes('UP'), 'DEL leaves lo as it was');
  });
});

test('ADD into a namespace that does not exist is error 4 naming CNI_NETNS', async (t) => {
  const out = await runPlugin('tsnet-none', {
    command: 'ADD',
    containerId: 'c1',
    ifname: 'eth0',
    netns: '/run/netns/tsnt-none-missing',
    config: conf(),
  });
  t.is(out.code, 1);
  t.is(out.json?.['code'], 4);
  t.regex(String(out.json?.['msg']), /CNI_NETNS .*tsnt-none-missing/);
});
