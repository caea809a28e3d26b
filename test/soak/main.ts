// npm run soak [-- --minutes N] : a bounded soak under faults on a local 3-node cluster with a 3-member etcd, in
// namespaces it makes and removes. For the whole run: CNI ADD/DEL cycles 8 at a time through both paths with
// plugins SIGKILLed midway, container run/stop/rm cycles on every node, continuous pings between pods on different
// nodes, and agents SIGKILLed at random moments. On the way: etcd SIGKILLed (every member) and kept down, then one
// member killed and restarted, then the leader killed. At the end: the kernel, the files and etcd compared with
// what they held before the churn. Prints what was done, injected and found; exits 1 on any loss or leak.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  type Cluster,
  type Container,
  ctlCommand,
  ETCD_PREFIX,
  pollUntil,
  run,
  startCluster,
  writeBusyboxRootfs,
} from '../../pkg/cluster/index.ts';
import { runcRootOf } from '../../pkg/container/paths.ts';
import { CniChurn } from './cni-churn.ts';
import { ContainerChurn, SOAK_IMAGE } from './container-churn.ts';
import { AgentFaults } from './faults.ts';
import { diff, discoveryKeys, type Snapshot, snapshot } from './leaks.ts';
import { Pinger } from './pinger.ts';
import { Report, sleep } from './report.ts';

interface Args {
  minutes: number;
  cniCycles: number;
  containerCycles: number;
  etcdOutageSeconds: number;
}

const USAGE =
  'usage: soak [--minutes N (10)] [--cni-cycles N (10000)] [--container-cycles N (1000)] [--etcd-outage SECONDS (60)]';

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 10, cniCycles: 10_000, containerCycles: 1000, etcdOutageSeconds: 60 };
  const keys: Record<string, keyof Args> = {
    '--minutes': 'minutes',
    '--cni-cycles': 'cniCycles',
    '--container-cycles': 'containerCycles',
    '--etcd-outage': 'etcdOutageSeconds',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const key = keys[flag];
    const value = Number(argv[++i]);
    if (!key || !Number.isFinite(value) || value <= 0) {
      console.error(`soak: bad argument ${JSON.stringify(flag)} ${JSON.stringify(argv[i] ?? '')} (${USAGE})`);
      process.exit(2);
    }
    args[key] = value;
  }
  return args;
}

/** Kept after the churn for the checks (ping totals, clean-up, the leak comparison polls up to 30 s). */
const CHECKS_RESERVE_MS = 60_000;

const phase = (text: string): void => console.log(`\n[${new Date().toISOString().slice(11, 19)}] ${text}`);

async function importImage(cluster: Cluster): Promise<void> {
  const tar = join(cluster.dir, 'soak-rootfs.tar');
  await writeBusyboxRootfs(tar);
  const [cmd, ...prefix] = ctlCommand();
  await Promise.all(
    cluster.nodes.map((n) =>
      run(cmd ?? '', [
        ...prefix,
        '--host',
        `unix://${n.apiSocket}`,
        'import',
        '-c',
        'ENV PATH=/bin',
        tar,
        SOAK_IMAGE,
      ]),
    ),
  );
}

/** Every node's lease key in etcd and its subnet as the node wrote it. */
async function leases(cluster: Cluster): Promise<{ keys: string[]; subnets: (string | undefined)[] }> {
  const out = await run('etcdctl', [
    `--endpoints=${cluster.etcdEndpoints.join(',')}`,
    'get',
    '--prefix',
    '--keys-only',
    `${ETCD_PREFIX}/subnets/`,
  ]);
  return {
    keys: out.split('\n').filter(Boolean).sort(),
    subnets: cluster.nodes.map((n) => cluster.subnetOf(n.index)),
  };
}

async function checkLeasesKept(
  cluster: Cluster,
  report: Report,
  before: Awaited<ReturnType<typeof leases>>,
  when: string,
) {
  let after = before;
  try {
    await pollUntil(
      `the leases to be back in etcd ${when}`,
      async () => {
        after = await leases(cluster);
        return after.keys.length >= before.keys.length;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  } catch (err) {
    report.find(`${when}: ${(err as Error).message}`);
  }
  if (JSON.stringify(after.keys) !== JSON.stringify(before.keys))
    report.find(`${when}: lease keys ${before.keys.join(' ')} became ${after.keys.join(' ')}`);
  if (JSON.stringify(after.subnets) !== JSON.stringify(before.subnets))
    report.find(`${when}: subnets ${before.subnets.join(' ')} became ${after.subnets.join(' ')}`);
}

async function runcPid(cluster: Cluster, node: number, id: string): Promise<number | undefined> {
  try {
    const state = JSON.parse(
      await run('runc', ['--root', runcRootOf(cluster.nodes[node]!.runDir), 'state', id]),
    ) as { pid?: number; status?: string };
    return state.status === 'running' ? state.pid : undefined;
  } catch {
    return undefined;
  }
}

async function etcdOutage(cluster: Cluster, report: Report, seconds: number): Promise<void> {
  const before = await leases(cluster);
  phase(`etcd: every member SIGKILLed, kept down ${seconds} s (the churn goes on against local state)`);
  for (let i = 0; i < cluster.etcdMembers; i++) {
    await cluster.stopEtcdMember(i, 'SIGKILL');
    report.count('etcd members SIGKILLed');
  }
  report.count('etcd outages (every member down)');
  report.note('etcd outage', `${seconds} s`);
  await sleep(seconds * 1000);
  await cluster.startEtcd();
  phase('etcd: back');
  await checkLeasesKept(cluster, report, before, 'after the etcd outage');
}

async function etcdMemberFaults(cluster: Cluster, report: Report): Promise<void> {
  const before = await leases(cluster);
  const leader = await cluster.etcdLeader();
  const follower = [...Array(cluster.etcdMembers).keys()].find((i) => i !== leader) ?? 0;
  phase(`etcd: member m${follower} (a follower) SIGKILLed, restarted after 5 s`);
  await cluster.stopEtcdMember(follower, 'SIGKILL');
  report.count('etcd members SIGKILLed');
  await sleep(5000);
  await cluster.startEtcdMember(follower);
  await sleep(3000);
  const now = await cluster.etcdLeader();
  if (now === undefined) {
    report.find('etcd: no leader after a follower restart');
    return;
  }
  phase(`etcd: the leader m${now} SIGKILLed, restarted after 5 s`);
  await cluster.stopEtcdMember(now, 'SIGKILL');
  report.count('etcd members SIGKILLed');
  report.count('etcd leaders SIGKILLed');
  await sleep(5000);
  const elected = await cluster.etcdLeader();
  report.note('etcd leader after the leader kill', elected === undefined ? 'none' : `m${elected}`);
  if (elected === undefined) report.find('etcd: no new leader 5 s after the leader was killed');
  await cluster.startEtcdMember(now);
  await checkLeasesKept(cluster, report, before, 'after the etcd member and leader kills');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = new Report();
  const began = Date.now();
  const deadline = began + args.minutes * 60_000;
  phase(`soak for up to ${args.minutes} min: building a 3-node cluster with a 3-member etcd`);
  const cluster = await startCluster({
    nodes: 3,
    etcdMembers: 3,
    name: `soak-${randomBytes(3).toString('hex')}`,
  });
  let failed = true;
  try {
    await importImage(cluster);
    const pods: Container[] = [];
    for (const node of cluster.nodes) pods.push(await cluster.addContainer(node.index, `p${node.index}`));
    const faults = new AgentFaults(cluster, report);
    const containers = new ContainerChurn({ cluster, report, faults, cycles: args.containerCycles });
    await containers.startKeepers();
    faults.afterRestart = (i) => containers.checkKeeper(i);
    // the keepers published: the discovery entries are part of the baseline
    await pollUntil('the keepers in discovery', async () => (await discoveryKeys(cluster)).length === 3, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const before: Snapshot = await snapshot(cluster);
    phase(
      `churn: ${args.cniCycles} CNI cycles (8 at a time), ${args.containerCycles} container cycles, agents SIGKILLed at random`,
    );
    const pinger = new Pinger();
    pinger.start(pods);
    const cni = new CniChurn({
      cluster,
      report,
      faults,
      workers: 8,
      cycles: args.cniCycles,
      killRate: 0.1,
      peers: () => pods.map((p) => ({ node: p.node, ip: p.ip })),
    });
    const work = Promise.all([cni.run(), containers.run()]);
    const kills = faults.randomKills(15_000, 40_000);
    const window = deadline - Date.now() - CHECKS_RESERVE_MS;
    const at = (fraction: number) =>
      sleep(Math.max(0, began + (deadline - CHECKS_RESERVE_MS - began) * fraction - Date.now()));
    if (window > args.etcdOutageSeconds * 1000 + 30_000) {
      await at(0.3);
      faults.pause(true);
      await etcdOutage(cluster, report, args.etcdOutageSeconds);
      await etcdMemberFaults(cluster, report);
      faults.pause(false);
    } else {
      report.find(
        `--minutes ${args.minutes} leaves no room for the etcd faults (${args.etcdOutageSeconds} s outage)`,
      );
    }
    // The churn stops at the deadline or when its cycles are done, whichever is first.
    await Promise.race([work, at(1)]);
    cni.stop();
    containers.stop();
    faults.stop();
    phase('stopping the churn; then the checks');
    await work;
    await kills;
    const losses = await pinger.stop();
    for (const l of losses) {
      report.note(`ping ${l.pair}`, `${l.received}/${l.sent} answered`);
      if (l.sent === 0 || l.received < l.sent)
        report.find(`ping ${l.pair}: ${l.sent - l.received} of ${l.sent} lost`);
    }
    await containers.cleanUp();
    await containers.verify((node, id) => runcPid(cluster, node, id));
    // discovery converges once the removals are published
    let after: Snapshot = before;
    try {
      await pollUntil(
        'the cluster to hold what it held before the churn',
        async () => {
          after = await snapshot(cluster);
          return diff(before, after).length === 0;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    } catch {
      for (const d of diff(before, after)) report.find(`leak: ${d}`);
    }
    report.note('CNI cycles', `${report.get('cni DEL ok')} of ${args.cniCycles} asked`);
    report.note('wall time', `${((Date.now() - began) / 60_000).toFixed(1)} min`);
    failed = report.findings.length > 0;
  } finally {
    phase('teardown');
    await cluster.teardown().catch((err: unknown) => report.find(`teardown: ${(err as Error).message}`));
  }
  report.print('soak: what was done, injected and found');
  process.exit(failed || report.findings.length > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(`soak: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
