// The node's DNS server end to end, inside a test namespace (its loopback only): cluster names by network,
// alias, NAME.NETWORK and the cluster domain; isolation between networks and between nodes' bridges; PTR;
// NXDOMAIN in the cluster domain; forwarding with a cache, TCP fallback on truncation, SERVFAIL from a deaf
// upstream; a malformed query; a removed container. busybox's nslookup is the independent client.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import test from 'ava';
import { nsexec, withNetnses } from '../helpers/netns.ts';
import { runInRegistryNetns } from '../helpers/registry.ts';

const SCENARIO = resolve(import.meta.dirname, 'fixtures/scenario.ts');

interface Got {
  rcode: string;
  aa: boolean;
  tc: boolean;
  answers: string[];
}

test('cluster names, isolation, PTR, forwarding, cache, TCP and errors', async (t) => {
  await withNetnses('dns', 1, async ([ns]) => {
    nsexec(ns!.path, 'ip', ['link', 'set', 'lo', 'up']);
    const run = runInRegistryNetns(ns!.path, SCENARIO, {});
    const lines = (await run.done) as Record<string, Got & number>[];
    const out = lines.at(-1);
    if (!out) return t.fail(`the scenario printed nothing: ${run.output()}`);

    t.deepEqual(out['sameNetwork']!.answers, ['A 127.0.1.2']);
    t.true(out['sameNetwork']!.aa, 'cluster answers are authoritative');
    t.deepEqual(out['sameNetworkAaaa']!.answers, ['AAAA fd00::2']);
    t.deepEqual(out['alias']!.answers, ['A 127.0.1.2']);
    t.deepEqual(out['qualified']!.answers, ['A 127.0.1.2']);
    t.deepEqual(out['domain']!.answers, ['A 127.0.1.2']);
    t.deepEqual(out['qualifiedDomain']!.answers, ['A 127.0.1.2']);
    // another network: the bare name is not ours to answer (forwarded: upstream says NXDOMAIN)
    t.deepEqual(out['otherNetwork']!.answers, []);
    t.is(out['otherNetwork']!.rcode, 'NXDOMAIN');
    t.is(out['otherNetworkQualified']!.rcode, 'NXDOMAIN');
    t.is(out['unknownInDomain']!.rcode, 'NXDOMAIN');
    t.true(out['unknownInDomain']!.aa);
    t.is(out['stopped']!.rcode, 'NXDOMAIN', 'a stopped container does not resolve');
    t.is(out['bridgeOtherNode']!.rcode, 'NXDOMAIN', "another node's bridge is another segment");
    t.deepEqual(out['fromNode']!.answers, ['A 127.0.1.2'], 'the node itself sees every network');
    t.is(out['mxOfContainer']!.rcode, 'NOERROR');
    t.deepEqual(out['mxOfContainer']!.answers, []);
    t.deepEqual(out['ptr']!.answers, ['PTR web.net1.tsnet']);
    t.is(out['ptrOtherNetwork']!.rcode, 'NXDOMAIN', 'forwarded: not visible from another network');
    t.deepEqual(out['external']!.answers, ['A 192.0.2.1']);
    t.deepEqual(out['externalAgain']!.answers, ['A 192.0.2.1']);
    t.is(out['externalUpstreamQueries'] as unknown as number, 1, 'the second lookup came from the cache');
    t.is(out['externalUnknown']!.rcode, 'NXDOMAIN');
    t.true(out['truncatedUpstream']!.tc, '40 records do not fit a UDP reply: the client is told to use TCP');
    t.deepEqual(out['overTcp']!.answers, ['A 127.0.1.2']);
    t.is(out['bigOverTcp']!.answers.length, 40);
    t.true(
      (out['upstreamTcp'] as unknown as number) >= 1,
      'the forwarder retried the truncated answer over TCP',
    );
    t.is(out['malformed']!.rcode, 'FORMERR');
    t.is(out['deafUpstream']!.rcode, 'SERVFAIL');
    t.is(out['afterRemoval']!.rcode, 'NXDOMAIN', 'a removed container stops resolving at once');
  });
});

test('busybox nslookup (an independent resolver client) gets the cluster answer', async (t) => {
  await withNetnses('dnsbb', 1, async ([ns]) => {
    nsexec(ns!.path, 'ip', ['link', 'set', 'lo', 'up']);
    const script = resolve(import.meta.dirname, 'fixtures/serve.ts');
    const run = runInRegistryNetns(ns!.path, script, {});
    try {
      await run.waitFor((l) => (l as { listening?: boolean }).listening === true);
      const out = execFileSync(
        'nsenter',
        [`--net=${ns!.path}`, 'busybox', 'nslookup', 'web.tsnet', '127.0.0.1'],
        {
          encoding: 'utf8',
        },
      );
      t.regex(out, /Address:\s+10\.9\.0\.2/);
      const missing = (() => {
        try {
          execFileSync('nsenter', [`--net=${ns!.path}`, 'busybox', 'nslookup', 'nosuch.tsnet', '127.0.0.1'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          return 'resolved';
        } catch (err) {
          return (
            String((err as { stdout?: string }).stdout ?? '') +
            String((err as { stderr?: string }).stderr ?? '')
          );
        }
      })();
      t.regex(missing, /NXDOMAIN|can't find/i);
    } finally {
      run.child.kill('SIGTERM');
      await run.done.catch(() => undefined);
    }
  });
});
