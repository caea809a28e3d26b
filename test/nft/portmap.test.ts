// Port publishing in the world of world.ts: the ctr namespace runs a TCP server; the tests publish its port on
// the node and connect from the client, from the node itself and from the container.
import test from 'ava';
import {
  addPortMappings,
  allowLocalhostPortmap,
  ensureMasquerade,
  listPortMappings,
  removePortMappings,
} from '../../pkg/nft/index.ts';
import {
  CLIENT_UNDERLAY,
  CTR_IP,
  CTR_IP6,
  elementComments,
  IP,
  inNs,
  inWorld,
  NODE_UNDERLAY,
  NODE_UNDERLAY6,
  nftRuleset,
  startTcpServer,
  tcpRequest,
  withNamespaces,
} from './world.ts';

const request = {
  containerId: 'ctr1',
  network: 'podnet',
  containerIPs: [`${CTR_IP}/24`, `${CTR_IP6}/64`],
  mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }],
};

test('a published port answers from another host (IPv4 and IPv6) and stops answering once removed', async (t) => {
  await inWorld('pm', async (node, ctr, client) => {
    const server = await startTcpServer(ctr, 80, 'hello-from-ctr');
    try {
      t.false((await tcpRequest(client, NODE_UNDERLAY, 8080)).ok, 'nothing answers before publishing');
      await addPortMappings(node.path, request);
      const v4 = await tcpRequest(client, NODE_UNDERLAY, 8080);
      t.true(v4.ok, v4.text);
      // No masquerade towards the container: it sees the real client.
      t.is(v4.text, `hello-from-ctr ::ffff:${CLIENT_UNDERLAY}`);
      const v6 = await tcpRequest(client, NODE_UNDERLAY6, 8080);
      t.true(v6.ok, v6.text);
      t.is(v6.text, 'hello-from-ctr fd99:18::2');
      t.deepEqual(
        (await listPortMappings(node.path)).map(
          (p) =>
            `${p.containerId}@${p.network} ${p.protocol}/${p.hostPort} -> ${p.containerIP}:${p.containerPort}`,
        ),
        ['ctr1@podnet tcp/8080 -> 10.99.1.2:80', 'ctr1@podnet tcp/8080 -> fd99:1::2:80'],
      );

      t.is(await removePortMappings(node.path, 'ctr1'), 2);
      t.false((await tcpRequest(client, NODE_UNDERLAY, 8080)).ok);
      t.false((await tcpRequest(client, NODE_UNDERLAY6, 8080)).ok);
      const ruleset = nftRuleset(node);
      for (const set of ['portmap4_any_addr', 'portmap4_any_port', 'portmap4_hairpin', 'portmap6_any_addr']) {
        t.deepEqual(elementComments(ruleset, set), [], `${set} is empty`);
      }
      t.is(await removePortMappings(node.path, 'ctr1'), 0, 'a second removal is a no-op');
    } finally {
      await server.stop();
    }
  });
});

test('published ports answer from the node itself, on localhost, and to the container through the node (hairpin)', async (t) => {
  await inWorld('pl', async (node, ctr) => {
    const server = await startTcpServer(ctr, 80, 'hi');
    try {
      await addPortMappings(node.path, request);
      await allowLocalhostPortmap(node.path, 'vctr');
      const fromNode = await tcpRequest(node, NODE_UNDERLAY, 8080);
      t.true(fromNode.ok, fromNode.text);
      const fromLocalhost = await tcpRequest(node, '127.0.0.1', 8080);
      t.true(fromLocalhost.ok, fromLocalhost.text);
      t.is(fromLocalhost.text, 'hi ::ffff:10.99.1.1', 'localhost is masqueraded to the node address');
      const hairpin = await tcpRequest(ctr, NODE_UNDERLAY, 8080);
      t.true(hairpin.ok, hairpin.text);
      t.is(hairpin.text, 'hi ::ffff:10.99.1.1', 'the container reaches itself through the node, masqueraded');
    } finally {
      await server.stop();
    }
  });
});

test('hostIP limits a mapping to one address; udp and tcp of one port are separate; re-adding is idempotent', async (t) => {
  await inWorld('ph', async (node, ctr, client) => {
    inNs(node, IP, 'addr', 'add', '198.18.0.3/24', 'dev', 'vcli');
    const server = await startTcpServer(ctr, 81, 'bound');
    try {
      const bound = {
        containerId: 'ctr2',
        network: 'podnet',
        containerIPs: [`${CTR_IP}/24`],
        mappings: [
          { hostPort: 9090, containerPort: 81, hostIP: '198.18.0.3' },
          { hostPort: 9090, containerPort: 81, protocol: 'udp' as const },
        ],
      };
      await addPortMappings(node.path, bound);
      const before = JSON.stringify(nftRuleset(node));
      await addPortMappings(node.path, bound);
      t.is(JSON.stringify(nftRuleset(node)), before, 'same request, same ruleset');
      t.true((await tcpRequest(client, '198.18.0.3', 9090)).ok);
      t.false((await tcpRequest(client, NODE_UNDERLAY, 9090)).ok, 'tcp/9090 is only published on 198.18.0.3');
      const listed = await listPortMappings(node.path);
      t.deepEqual(
        listed.map((p) => `${p.protocol} ${p.hostIP ?? '*'}:${p.hostPort}`),
        ['tcp 198.18.0.3:9090', 'udp *:9090'],
      );
    } finally {
      await server.stop();
    }
  });
});

test('a host port taken by another container is refused and changes nothing; bad input is refused', async (t) => {
  await withNamespaces(['pc'], async ([node]) => {
    if (!node) throw new Error('namespace missing');
    await addPortMappings(node.path, request);
    await ensureMasquerade(node.path, { network: 'podnet', subnet: '10.99.1.0/24' });
    const before = JSON.stringify(nftRuleset(node));
    const other = { ...request, containerId: 'ctr9', containerIPs: ['10.99.1.9/24'] };
    await t.throwsAsync(addPortMappings(node.path, other), {
      message: /tcp 8080 is already owned by ctr1@podnet/,
    });
    await t.throwsAsync(addPortMappings(node.path, { ...other, containerId: '../etc' }), {
      message: /invalid container ID/,
    });
    await t.throwsAsync(
      addPortMappings(node.path, { ...other, mappings: [{ hostPort: 70000, containerPort: 80 }] }),
      { message: /invalid hostPort/ },
    );
    await t.throwsAsync(
      addPortMappings(node.path, {
        ...other,
        mappings: [{ hostPort: 81, containerPort: 80, hostIP: 'fd00::1' }],
      }),
      { message: /no address of that family/ },
    );
    t.is(JSON.stringify(nftRuleset(node)), before);
    // Removing one container's ports leaves the network's masquerade and other containers alone.
    await addPortMappings(node.path, { ...other, mappings: [{ hostPort: 8081, containerPort: 80 }] });
    t.is(await removePortMappings(node.path, 'ctr1'), 2, 'tcp/8080 over IPv4 and IPv6');
    const ruleset = nftRuleset(node);
    t.deepEqual(elementComments(ruleset, 'portmap4_any_addr'), ['ctr9@podnet']);
    t.deepEqual(elementComments(ruleset, 'masq4_src'), ['podnet']);
  });
});

test('8 containers publishing concurrently each get their port, with one copy of every rule', async (t) => {
  await withNamespaces(['pp'], async ([node]) => {
    if (!node) throw new Error('namespace missing');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        addPortMappings(node.path, {
          containerId: `c${i}`,
          network: 'podnet',
          containerIPs: [`10.99.1.${10 + i}/24`],
          mappings: [{ hostPort: 8000 + i, containerPort: 80 }],
        }),
      ),
    );
    const ruleset = nftRuleset(node);
    t.is(ruleset.filter((o) => o.rule && o.rule.comment === 'tsnet:portmap4-any').length, 1);
    t.is(elementComments(ruleset, 'portmap4_any_addr').length, 8);
    t.is(elementComments(ruleset, 'portmap4_any_port').length, 8);
    t.is((await listPortMappings(node.path)).length, 8);
    await Promise.all(Array.from({ length: 8 }, (_, i) => removePortMappings(node.path, `c${i}`)));
    t.deepEqual(await listPortMappings(node.path), []);
  });
});
