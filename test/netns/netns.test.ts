import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  createNamedNetns,
  currentNetns,
  deleteNamedNetns,
  interfaceSysctlKey,
  isNetns,
  netnsId,
  readSysctl,
  sameNetns,
  withNetns,
  writeSysctl,
} from '../../pkg/netns/index.ts';
import { ip, ipLinks, uniqueName, withNetnses } from '../helpers/netns.ts';

test('a named namespace is visible to ip netns and removed by delete', (t) => {
  const name = uniqueName('ns');
  const path = createNamedNetns(name);
  try {
    t.is(path, `/run/netns/${name}`);
    t.true(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(name));
    t.true(isNetns(path));
    t.false(sameNetns(path, '/proc/self/ns/net'));
    t.throws(() => createNamedNetns(name), { message: /EEXIST/ });
  } finally {
    deleteNamedNetns(name);
  }
  t.false(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(name));
  t.false(readFileSync('/proc/mounts', 'utf8').includes(`/run/netns/${name}`));
  t.notThrows(() => deleteNamedNetns(name), 'deleting a missing namespace is not an error');
});

test('names that could escape /run/netns are refused', (t) => {
  for (const bad of ['../x', 'a/b', '', '.', '..', 'has space']) {
    t.throws(() => createNamedNetns(bad), { message: /invalid network namespace name/ });
  }
});

test('withNetns runs inside and always comes back, also when the function throws', async (t) => {
  await withNetnses('ns', 1, async ([ns]) => {
    const home = currentNetns();
    try {
      const inside = withNetns(ns!.path, () => currentNetns().id);
      t.is(inside, netnsId(ns!.path));
      t.is(currentNetns().id, home.id);
      t.throws(
        () =>
          withNetns(ns!.path, () => {
            throw new Error('boom');
          }),
        { message: 'boom' },
      );
      t.is(currentNetns().id, home.id);
      // A child process started inside lands in the namespace: it sees only that namespace's lo.
      const out = withNetns(ns!.path, () => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }));
      t.is(out.trim().split('\n').length, 1);
      t.throws(() => withNetns(ns!.path, () => Promise.resolve(1)), { message: /synchronous/ });
    } finally {
      home.close();
    }
  });
});

test('sysctls are read and written per namespace', async (t) => {
  await withNetnses('ns', 2, async ([a, b]) => {
    writeSysctl(a!.path, 'net.ipv4.ip_forward', '1');
    t.is(readSysctl(a!.path, 'net.ipv4.ip_forward'), '1');
    t.is(readSysctl(b!.path, 'net.ipv4.ip_forward'), '0', 'the other namespace is untouched');
    ip(a!.path, 'link', 'add', 'br.100', 'type', 'bridge');
    const key = interfaceSysctlKey('ipv6', 'br.100', 'disable_ipv6');
    writeSysctl(a!.path, key, '1');
    t.is(readSysctl(a!.path, key), '1');
    t.true(ipLinks(a!.path).some((l) => l.ifname === 'br.100'));
    t.throws(() => readSysctl(a!.path, 'kernel.hostname'), { message: /invalid network sysctl/ });
    t.throws(() => interfaceSysctlKey('ipv4', '../x', 'forwarding'), { message: /invalid interface/ });
  });
});
