// tsnet-agent: `run` (the node daemon), `init-network` (write the cluster network config), `leave`
// (decommission a stopped node). User mistakes print one line and exit 2; no stack traces.
import pino from 'pino';
import packageJson from '../../package.json' with { type: 'json' };
import { Agent } from '../../pkg/agent/agent.ts';
import { agentOptions, type Flags, parseCommandLine, UsageError } from '../../pkg/agent/options.ts';
import { openStoreFromFlags, STORE_FLAGS, storePrefix } from '../../pkg/agent/store-flags.ts';
import { NetworkConfigError, saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { SubnetManager } from '../../pkg/subnet/manager.ts';

const USAGE = `usage:
  tsnet-agent run --public-ip IP [--node-name NAME] [--etcd-endpoints URL[,URL]] [--etcd-prefix PREFIX]
      [--etcd-cafile F --etcd-certfile F --etcd-keyfile F] [--data-dir DIR] [--subnet-file PATH]
      [--lease-ttl SECONDS] [--http HOST:PORT|''] [--vxlan-name NAME] [--reconcile-interval SECONDS]
      [--leave] [--no-masquerade] [--cni-socket PATH|'']
  tsnet-agent init-network --network CIDR [--subnet-len N] [--subnet-min CIDR] [--subnet-max CIDR]
      [--vni N] [--port N] [store flags]
  tsnet-agent leave --public-ip IP [store flags]
  tsnet-agent --version`;

const OPTIONS = {
  ...STORE_FLAGS,
  'public-ip': { type: 'string' },
  'node-name': { type: 'string' },
  'subnet-file': { type: 'string' },
  'lease-ttl': { type: 'string' },
  http: { type: 'string' },
  'vxlan-name': { type: 'string' },
  'reconcile-interval': { type: 'string' },
  leave: { type: 'boolean' },
  'no-masquerade': { type: 'boolean' },
  'cni-socket': { type: 'string' },
  network: { type: 'string' },
  'subnet-len': { type: 'string' },
  'subnet-min': { type: 'string' },
  'subnet-max': { type: 'string' },
  vni: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const prefixOf = storePrefix;

async function initNetwork(flags: Flags): Promise<void> {
  if (typeof flags['network'] !== 'string') throw new UsageError('init-network: --network CIDR is required');
  const num = (key: string): number | undefined =>
    typeof flags[key] === 'string' ? Number(flags[key]) : undefined;
  const config: Record<string, unknown> = { Network: flags['network'] };
  if (flags['subnet-len'] !== undefined) config['SubnetLen'] = num('subnet-len');
  if (flags['subnet-min'] !== undefined) config['SubnetMin'] = flags['subnet-min'];
  if (flags['subnet-max'] !== undefined) config['SubnetMax'] = flags['subnet-max'];
  config['Backend'] = {
    Type: 'vxlan',
    ...(num('vni') !== undefined ? { VNI: num('vni') } : {}),
    ...(num('port') !== undefined ? { Port: num('port') } : {}),
  };
  const store = await openStoreFromFlags(flags);
  try {
    const saved = await saveNetworkConfig(store, config, prefixOf(flags));
    process.stdout.write(`${JSON.stringify(saved)}\n`);
  } finally {
    await store.close();
  }
}

async function leave(flags: Flags): Promise<void> {
  const publicIp = flags['public-ip'];
  if (typeof publicIp !== 'string') throw new UsageError('leave: --public-ip IP is required');
  const store = await openStoreFromFlags(flags);
  try {
    const manager = new SubnetManager({ store, prefix: prefixOf(flags) });
    const { leases } = await manager.listLeases();
    const mine = leases.filter((l) => l.attrs.PublicIP === publicIp);
    // Only the entries as listed: a lease another node took meanwhile (new revision) is not touched.
    for (const l of mine) await store.compareAndDelete(l.key, l.modRevision);
    process.stdout.write(
      `${mine.length ? `left: ${mine.map((l) => l.subnet).join(', ')}` : `no lease for ${publicIp}`}\n`,
    );
  } finally {
    await store.close();
  }
}

async function run(flags: Flags): Promise<void> {
  const opts = agentOptions(flags);
  const log = pino({ base: { node: opts.nodeName } });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, leave: opts.leaveOnExit }, 'stopping');
    agent.stop({ leave: opts.leaveOnExit }).then(
      () => process.exit(process.exitCode ?? 0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  const agent = new Agent(opts, log, (reason) => {
    process.exitCode = 1;
    stop(`fatal: ${reason}`);
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await agent.start();
  } catch (err) {
    if (stopping) return;
    log.error({ err: (err as Error).message }, 'agent failed to start');
    await agent.stop().catch(() => undefined);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--version') {
    process.stdout.write(`tsnet-agent ${packageJson.version}\n`);
    return;
  }
  const line = parseCommandLine(OPTIONS, USAGE);
  if (!line) return;
  const { command, flags } = line;
  switch (command) {
    case 'run':
      return run(flags);
    case 'init-network':
      return initNetwork(flags);
    case 'leave':
      return leave(flags);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof NetworkConfigError) {
    process.stderr.write(`tsnet-agent: ${err.message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
    process.exit(2);
  }
  process.stderr.write(`tsnet-agent: ${(err as Error).message}\n`);
  process.exit(1);
});
