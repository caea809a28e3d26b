import { spawn } from 'node:child_process';
import test from 'ava';
import { ensureMasquerade, listMasquerade, listNftRuleset, removeMasquerade } from '../../pkg/nft/index.ts';
import {
  CLIENT_UNDERLAY,
  CTR_IP,
  elementComments,
  IP,
  inNs,
  inWorld,
  NODE_UNDERLAY,
  NODE_UNDERLAY6,
  nftRuleset,
  ruleCount,
  startTcpServer,
  tcpRequest,
  withNamespaces,
} from './world.ts';

const SETS = ['masq4_src', 'masq4_skip', 'masq6_src', 'masq6_skip'];

function ownedElements(ruleset: ReturnType<typeof nftRuleset>, network: string): Record<string, number> {
  return Object.fromEntries(
    SETS.map((s) => [s, elementComments(ruleset, s).filter((c) => c === network).length]),
  );
}

test('ensureMasquerade is idempotent: a second call leaves the ruleset byte for byte; only the first installed it', async (t) => {
  await withNamespaces(['masq'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    const spec = { network: 'podnet', subnet: '10.99.3.0/24', excludeDestinations: ['10.99.0.0/16'] };
    t.true(await ensureMasquerade(node.path, spec), 'installed');
    const first = JSON.stringify(nftRuleset(node));
    t.false(await ensureMasquerade(node.path, spec), 'already there');
    t.false(await ensureMasquerade(node.path, { ...spec, subnet: '10.99.4.0/24' }), 'changed, not installed');
    await ensureMasquerade(node.path, spec);
    t.is(JSON.stringify(nftRuleset(node)), first);
    // The pod subnet lies inside the cluster CIDR, so only the cluster CIDR is needed as an exception.
    t.deepEqual(await listMasquerade(node.path), [
      {
        network: 'podnet',
        subnets: ['10.99.3.0/24'],
        excluded: [{ subnet: '10.99.3.0/24', destination: '10.99.0.0/16' }],
      },
    ]);
  });
});

test('8 concurrent ensures of one network and of 8 networks: one element each, one copy of every rule', async (t) => {
  await withNamespaces(['masqc'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    const same = { network: 'shared', subnet: ['10.99.1.0/24', 'fd99:1::/64'] };
    await Promise.all(Array.from({ length: 8 }, () => ensureMasquerade(node.path, same)));
    const rules = ruleCount(nftRuleset(node));
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ensureMasquerade(node.path, { network: `net${i}`, subnet: `10.99.${100 + i}.0/24` }),
      ),
    );
    const ruleset = nftRuleset(node);
    t.is(ruleCount(ruleset), rules, 'networks add elements, never rules');
    t.deepEqual(ownedElements(ruleset, 'shared'), {
      masq4_src: 1,
      masq4_skip: 1,
      masq6_src: 1,
      masq6_skip: 1,
    });
    for (let i = 0; i < 8; i++) {
      t.deepEqual(ownedElements(ruleset, `net${i}`), {
        masq4_src: 1,
        masq4_skip: 1,
        masq6_src: 0,
        masq6_skip: 0,
      });
    }
    const rules4 = ruleset.filter((o) => o.rule && String(o.rule.comment) === 'tsnet:masq4');
    t.is(rules4.length, 1);
  });
});

test('removeMasquerade removes exactly that network, IPv4 and IPv6; a second remove is a no-op', async (t) => {
  await withNamespaces(['masqr'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    await ensureMasquerade(node.path, {
      network: 'a',
      subnet: ['10.99.1.0/24', 'fd99:a::/64'],
      excludeDestinations: ['fd99::/32'],
    });
    await ensureMasquerade(node.path, { network: 'b', subnet: ['10.99.2.0/24', 'fd99:1:b::/64'] });
    t.true(await removeMasquerade(node.path, 'a'));
    t.false(await removeMasquerade(node.path, 'a'));
    const ruleset = nftRuleset(node);
    t.deepEqual(ownedElements(ruleset, 'a'), { masq4_src: 0, masq4_skip: 0, masq6_src: 0, masq6_skip: 0 });
    t.deepEqual(ownedElements(ruleset, 'b'), { masq4_src: 1, masq4_skip: 1, masq6_src: 1, masq6_skip: 1 });
    t.deepEqual(
      (await listMasquerade(node.path)).map((e) => e.network),
      ['b'],
    );
  });
});

test('a changed spec replaces the network elements; an overlapping subnet of another network is refused', async (t) => {
  await withNamespaces(['masqx'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    await ensureMasquerade(node.path, { network: 'a', subnet: '10.99.1.0/24' });
    await ensureMasquerade(node.path, { network: 'a', subnet: '10.99.7.0/24' });
    t.deepEqual((await listMasquerade(node.path))[0]?.subnets, ['10.99.7.0/24']);
    const before = JSON.stringify(await listNftRuleset(node.path));
    await t.throwsAsync(ensureMasquerade(node.path, { network: 'b', subnet: '10.99.7.0/24' }), {
      message: /already owned by a/,
    });
    await t.throwsAsync(ensureMasquerade(node.path, { network: 'b', subnet: '10.99.0.0/16' }), {
      message: /nft/,
    });
    await t.throwsAsync(ensureMasquerade(node.path, { network: '../x', subnet: '10.99.9.0/24' }), {
      message: /invalid network name/,
    });
    await t.throwsAsync(ensureMasquerade(node.path, { network: 'c', subnet: '10.99.9.0/33' }), {
      message: /prefix length/,
    });
    t.is(JSON.stringify(await listNftRuleset(node.path)), before, 'refused changes leave nothing behind');
  });
});

test('removing from a namespace without the table does not create it', async (t) => {
  await withNamespaces(['masqe'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    t.false(await removeMasquerade(node.path, 'nothing'));
    t.deepEqual(nftRuleset(node), []);
  });
});

test('pod traffic leaving the node is masqueraded, traffic to an excluded destination is not', async (t) => {
  await inWorld('mw', async (node, ctr, client) => {
    const server = await startTcpServer(client, 7000, 'seen');
    try {
      // The client routes the pod ranges via the node, as a peer inside the cluster network would.
      inNs(client, IP, 'route', 'add', '10.99.1.0/24', 'via', NODE_UNDERLAY);
      inNs(client, IP, '-6', 'route', 'add', 'fd99:1::/64', 'via', NODE_UNDERLAY6);
      t.is((await tcpRequest(ctr, CLIENT_UNDERLAY, 7000)).text, `seen ::ffff:${CTR_IP}`, 'no masquerade yet');
      await ensureMasquerade(node.path, { network: 'podnet', subnet: '10.99.1.0/24' });
      t.is((await tcpRequest(ctr, CLIENT_UNDERLAY, 7000)).text, `seen ::ffff:${NODE_UNDERLAY}`);
      // The client's range now stands for the cluster network: excluded, so pods keep their address.
      await ensureMasquerade(node.path, {
        network: 'podnet',
        subnet: '10.99.1.0/24',
        excludeDestinations: ['198.18.0.0/15'],
      });
      t.is((await tcpRequest(ctr, CLIENT_UNDERLAY, 7000)).text, `seen ::ffff:${CTR_IP}`);
      await removeMasquerade(node.path, 'podnet');
      await ensureMasquerade(node.path, { network: 'podnet', subnet: 'fd99:1::/64' });
      t.is((await tcpRequest(ctr, 'fd99:18::2', 7000)).text, `seen ${NODE_UNDERLAY6}`, 'IPv6 too');
    } finally {
      await server.stop();
    }
  });
});

test('8 processes ensuring the same networks at once leave one element per network', async (t) => {
  await withNamespaces(['masqp'], async ([node]) => {
    if (!node) throw new Error('no namespace');
    const module = new URL('../../pkg/nft/index.ts', import.meta.url).pathname;
    const script = `
      const { ensureMasquerade } = await import(${JSON.stringify(module)});
      const [ns] = process.argv.slice(1);
      await ensureMasquerade(ns, { network: 'p1', subnet: ['10.99.5.0/24', 'fd99:5::/64'], excludeDestinations: ['10.200.0.0/16'] });
      await ensureMasquerade(ns, { network: 'p2', subnet: '10.99.6.0/24' });`;
    const runs = Array.from(
      { length: 8 },
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', '--input-type=module', '-e', script, node.path],
            {
              stdio: ['ignore', 'ignore', 'inherit'],
            },
          );
          child.on('exit', (code) => resolve(code));
        }),
    );
    t.deepEqual(await Promise.all(runs), Array(8).fill(0));
    const ruleset = nftRuleset(node);
    t.deepEqual(ownedElements(ruleset, 'p1'), { masq4_src: 1, masq4_skip: 2, masq6_src: 1, masq6_skip: 1 });
    t.deepEqual(ownedElements(ruleset, 'p2'), { masq4_src: 1, masq4_skip: 1, masq6_src: 0, masq6_skip: 0 });
    t.is(ruleset.filter((o) => o.rule && o.rule.comment === 'tsnet:masq4').length, 1);
  });
});
