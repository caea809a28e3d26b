// tsnet-agent: `run` (the node daemon), `init-network` (write the cluster network config), `leave`
// (decommission a stopped node). Wiring only: the daemon is the services below under a supervisor. User
// mistakes print one line and exit 2; a start-up failure prints one line and exits 1; no stack traces.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { tsnetHost } from '../../cni-plugins/tsnet-host/plugin.ts';
import { tsnetMacvlan } from '../../cni-plugins/tsnet-macvlan/plugin.ts';
import { tsnetNone } from '../../cni-plugins/tsnet-none/plugin.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { ApiService } from '../../pkg/agent/api.ts';
import { CniSocketService } from '../../pkg/agent/cni-socket.ts';
import { ContainerDiscoveryService } from '../../pkg/agent/container-discovery.ts';
import { ContainerService } from '../../pkg/agent/containers.ts';
import { DiscoveryService } from '../../pkg/agent/discovery.ts';
import { DnsService } from '../../pkg/agent/dns.ts';
import { HttpListener, HttpService } from '../../pkg/agent/http.ts';
import { EngineImageBuilder } from '../../pkg/agent/image-build.ts';
import { ImageService } from '../../pkg/agent/images.ts';
import { MemoryTrimService } from '../../pkg/agent/memory.ts';
import { NetworkService } from '../../pkg/agent/networks.ts';
import { type AgentOptions, agentOptions } from '../../pkg/agent/options.ts';
import { OverlayService } from '../../pkg/agent/overlay.ts';
import { StoreService } from '../../pkg/agent/store.ts';
import { SubnetLeaseService } from '../../pkg/agent/subnet-lease.ts';
import { type StartStep, Supervisor } from '../../pkg/agent/supervisor.ts';
import { VolumeService } from '../../pkg/agent/volumes.ts';
import { WarmClientService } from '../../pkg/agent/warm-clients.ts';
import { containersFsHandlers } from '../../pkg/api/containers-fs.ts';
import { attachHandler, execHandler } from '../../pkg/api/containers-io.ts';
import { logsHandler } from '../../pkg/api/containers-logs.ts';
import { tsnetBridge } from '../../pkg/bridge/plugin.ts';
import {
  type Flags,
  integerFlag,
  ipv4Flag,
  parseCommandLine,
  refuseFlagsOutside,
  stringFlag,
  UsageError,
} from '../../pkg/cli/command-line.ts';
import { openStoreFromFlags, STORE_FLAGS, storePrefix } from '../../pkg/cli/store-flags.ts';
import type { CniPlugin } from '../../pkg/cni/skel.ts';
import { NODE_CTL_FROM_BIN } from '../../pkg/ctl/warm-protocol.ts';
import { keepIpamDirectories } from '../../pkg/ipam/kept-directories.ts';
import { tsnetIpam } from '../../pkg/ipam/plugin.ts';
import {
  NetworkConfigError,
  NetworkConfigInUseError,
  parseNetworkConfig,
  saveNetworkConfig,
} from '../../pkg/subnet/config.ts';
import { SubnetManager } from '../../pkg/subnet/manager.ts';
import { tsnetVxlan } from '../../pkg/vxlan/plugin.ts';

const USAGE = `usage:
  tsnet-agent run [--public-ip IP] [--node-name NAME] [--etcd-endpoints URL[,URL]] [--etcd-prefix PREFIX]
      [--etcd-cafile F --etcd-certfile F --etcd-keyfile F] [--data-dir DIR] [--subnet-file PATH]
      [--lease-ttl SECONDS] [--http HOST:PORT|''] [--vxlan-name NAME] [--reconcile-interval SECONDS]
      [--leave] [--no-masquerade] [--run-dir DIR] [--cni-socket PATH|''] [--api-socket PATH|'']
      [--insecure-registry HOST[:PORT]]... [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--runtime PATH]
      [--resolv-conf PATH] [--log-level debug|info|warn|error|fatal] [--warm-clients N]
  tsnet-agent init-network --network CIDR [--subnet-len N] [--subnet-min CIDR] [--subnet-max CIDR]
      [--vni N] [--port N] [--force] [store flags]
  tsnet-agent leave --public-ip IP [store flags]
  tsnet-agent --version`;

const RUN_FLAGS = {
  'public-ip': { type: 'string' },
  'node-name': { type: 'string' },
  'subnet-file': { type: 'string' },
  'lease-ttl': { type: 'string' },
  http: { type: 'string' },
  'vxlan-name': { type: 'string' },
  'reconcile-interval': { type: 'string' },
  'warm-clients': { type: 'string' },
  leave: { type: 'boolean' },
  'no-masquerade': { type: 'boolean' },
  'cni-socket': { type: 'string' },
  'api-socket': { type: 'string' },
  'run-dir': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'cni-conf-dir': { type: 'string' },
  'cni-bin-dir': { type: 'string' },
  runtime: { type: 'string' },
  'resolv-conf': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const INIT_NETWORK_FLAGS = {
  network: { type: 'string' },
  'subnet-len': { type: 'string' },
  'subnet-min': { type: 'string' },
  'subnet-max': { type: 'string' },
  vni: { type: 'string' },
  port: { type: 'string' },
  force: { type: 'boolean' },
} as const;

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** The flags each command takes; a flag of another command is a usage error. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  run: [...Object.keys(STORE_FLAGS), ...Object.keys(RUN_FLAGS)],
  'init-network': [...Object.keys(STORE_FLAGS), ...Object.keys(INIT_NETWORK_FLAGS)],
  leave: [...Object.keys(STORE_FLAGS), 'public-ip'],
};

/** How long the runtime and HTTP lanes give the cluster lane to start alone (etcd away: they go on). */
const CLUSTER_HEAD_START_MS = 500;

/** The plugins the agent serves on its CNI socket, by type. */
const SERVED_PLUGINS: ReadonlyMap<string, CniPlugin> = new Map(
  [tsnetBridge, tsnetVxlan, tsnetIpam].map((p) => [p.name, p]),
);

/** The plugins the agent's own networks run in-process rather than as executables: every one it ships. */
const IN_PROCESS_PLUGINS: ReadonlyMap<string, CniPlugin> = new Map([
  ...SERVED_PLUGINS,
  ...[tsnetHost, tsnetNone, tsnetMacvlan].map((p) => [p.name, p] as const),
]);

/** The node daemon's services; the supervisor starts them in dependency order. */
function agentServices(opts: AgentOptions): StartStep[] {
  const store = new StoreService({
    etcd: opts.etcd ? { ...opts.etcd, keyPrefix: '' } : undefined,
    embedded: { dataDir: opts.dataDir },
  });
  const lease = new SubnetLeaseService({
    store,
    prefix: opts.prefix,
    leaseTtlSeconds: opts.leaseTtlSeconds,
    nodeName: opts.nodeName,
    publicIp: opts.publicIp,
    dataDir: opts.dataDir,
    // The embedded store is a single node's: it runs without a cluster until a network config appears.
    standbyWithoutConfig: opts.etcd === undefined,
  });
  const overlay = new OverlayService({
    lease,
    store,
    vxlanName: opts.vxlanName,
    reconcileIntervalSeconds: opts.reconcileIntervalSeconds,
    masquerade: opts.masquerade,
    subnetFile: opts.subnetFile,
  });
  const api = opts.apiSocket
    ? new ApiService({
        path: opts.apiSocket,
        nodeName: opts.nodeName,
        version: packageJson.version,
        dataDir: opts.dataDir,
        runDir: opts.runDir,
      })
    : undefined;
  // The images are served through the API: without an API socket there is nobody to serve them to.
  let containers: ContainerService | undefined;
  const images = api
    ? new ImageService({
        dataDir: opts.dataDir,
        insecureRegistries: opts.insecureRegistries,
        api,
        inUse: async (imageId) => (await containers?.imageUsers(imageId)) ?? [],
      })
    : undefined;
  // volumes.containerVolumes is what the container engine resolves its mounts with
  const volumes = api ? new VolumeService({ dataDir: opts.dataDir, api }) : undefined;
  // The runtime's networks are served through the API too.
  const networks = api
    ? new NetworkService({
        dataDir: opts.dataDir,
        runDir: opts.runDir,
        confDir: opts.cniConfDir,
        binDir: opts.cniBinDir,
        subnetFile: opts.subnetFile,
        cniSocket: opts.cniSocket,
        inProcessPlugins: IN_PROCESS_PLUGINS,
        api,
      })
    : undefined;
  // Cross-node discovery and the cluster DNS: every agent publishes its containers and answers for all.
  const discovery = new DiscoveryService({
    store,
    prefix: opts.prefix,
    nodeName: opts.nodeName,
    dataDir: opts.dataDir,
    leaseTtlSeconds: opts.leaseTtlSeconds,
    ...(api && { api }),
    leases: async () => (lease.holdsSubnet ? (await lease.lease.manager.listLeases()).leases : undefined),
    localSubnet: () => (lease.holdsSubnet ? lease.lease.acquired.subnet : undefined),
  });
  const dns = new DnsService({ discovery, resolvConf: opts.resolvConf });
  let published: ContainerDiscoveryService | undefined;
  // The runtime is driven through the API as well: images, networks and volumes are what it is made of.
  containers =
    api && images && volumes && networks
      ? new ContainerService({
          dataDir: opts.dataDir,
          runDir: opts.runDir,
          runtime: opts.runtime,
          images,
          api,
          networking: networks.networking,
          volumes: volumes.containerVolumes,
          clusterDns: async (network) => published?.clusterDnsFor(network),
          handlers: (lookup) => ({
            Attach: attachHandler(lookup),
            Exec: execHandler(lookup),
            Logs: logsHandler(lookup),
            ...containersFsHandlers({ lookup, scratchDir: join(opts.dataDir, 'tmp') }),
          }),
        })
      : undefined;
  if (containers && networks) networks.useConnector(containers);
  // Builds run their RUN steps as the engine's containers; commits read the engine's writable layers.
  if (containers && images)
    images.useBuilder(new EngineImageBuilder({ dataDir: opts.dataDir, images, engine: containers }));
  published =
    containers && api
      ? new ContainerDiscoveryService({
          nodeName: opts.nodeName,
          containers,
          discovery,
          dns,
          events: api.events,
          // overlay networks (tsnet, user -d overlay) span the nodes; bridges and macvlans are each node's own
          isClusterNetwork: (network) => networks?.store.scopeOf(network) === 'cluster',
        })
      : undefined;
  // The --http address is bound first (a bad one is refused before anything is made); fastify comes later.
  const httpListener = opts.http ? new HttpListener(opts.http) : undefined;
  return [
    ...(httpListener ? [httpListener] : []),
    new MemoryTrimService(),
    ...(opts.cniSocket ? [new CniSocketService({ path: opts.cniSocket, plugins: SERVED_PLUGINS })] : []),
    {
      sideBySide: [
        // The node's place in the cluster: its lease and the overlay, the node's network, come first.
        [store, lease, overlay, discovery, dns],
        // The runtime. Images before the API: its calls find the stores open. Containers before the API
        // too: they are reconciled before the first call.
        [images, volumes, networks, containers, api].filter(
          (s): s is NonNullable<typeof s> => s !== undefined,
        ),
        // /livez and /metrics (503 "starting" until then): they answer while the cluster lane waits (for
        // etcd, for the network config), from the head start's end at the latest.
        ...(httpListener ? [[new HttpService(httpListener)]] : []),
      ],
      // The overlay converges before the runtime's and the HTTP stack's start takes the CPU (bench:overlay,
      // start to converged); while etcd is away, they start beside the waiting cluster lane soon after.
      headStart: { lane: 0, upToMs: CLUSTER_HEAD_START_MS },
    },
    ...(published ? [published] : []),
    // Last: what they take (a Node start each) is never on the path of the node's own start.
    ...(api && opts.warmClients > 0
      ? [
          new WarmClientService({
            apiSocket: opts.apiSocket,
            launcher: warmClientLauncher(),
            count: opts.warmClients,
          }),
        ]
      : []),
  ];
}

/**
 * The Node tsnetctl the warm clients run: the one installed beside this bundle; from the sources, the one
 * built beside them (npm run build), as the native tsnetctl that hands them calls is.
 */
function warmClientLauncher(): string {
  const installed = join(import.meta.dirname, NODE_CTL_FROM_BIN);
  const built = join(import.meta.dirname, '..', '..', 'dist', 'bin', NODE_CTL_FROM_BIN);
  return existsSync(installed) || !existsSync(built) ? installed : built;
}

async function initNetwork(flags: Flags): Promise<void> {
  const network = stringFlag(flags, 'network');
  if (network === undefined) throw new UsageError('init-network: --network CIDR is required');
  const subnetLen = integerFlag(flags, 'subnet-len', { min: 1, max: 30 });
  const vni = integerFlag(flags, 'vni', { min: 1, max: 0xffffff });
  const port = integerFlag(flags, 'port', { min: 1, max: 65535 });
  const config = {
    Network: network,
    ...(subnetLen !== undefined ? { SubnetLen: subnetLen } : {}),
    ...(flags['subnet-min'] !== undefined ? { SubnetMin: flags['subnet-min'] } : {}),
    ...(flags['subnet-max'] !== undefined ? { SubnetMax: flags['subnet-max'] } : {}),
    Backend: {
      Type: 'vxlan',
      ...(vni !== undefined ? { VNI: vni } : {}),
      ...(port !== undefined ? { Port: port } : {}),
    },
  };
  parseNetworkConfig(config); // a bad config is refused before a store is opened (or created)
  const store = await openStoreFromFlags(flags);
  try {
    const saved = await saveNetworkConfig(store, config, storePrefix(flags), {
      force: flags['force'] === true,
    });
    if (saved.outcome === 'unchanged') process.stderr.write('tsnet-agent: network config unchanged\n');
    process.stdout.write(`${JSON.stringify(saved.config)}\n`);
  } finally {
    await store.close();
  }
}

async function leave(flags: Flags): Promise<void> {
  const publicIp = ipv4Flag(flags, 'public-ip');
  if (publicIp === undefined) throw new UsageError('leave: --public-ip IP is required');
  const store = await openStoreFromFlags(flags);
  try {
    const manager = new SubnetManager({ store, prefix: storePrefix(flags) });
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

/** One line for the operator: messages from below (etcd, the kernel) may span lines. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

async function run(flags: Flags): Promise<void> {
  const opts = agentOptions(flags);
  const log = pino({ base: { node: opts.nodeName }, level: opts.logLevel });
  // The agent serves every ADD and DEL of the node: what it read of an IPAM directory stays known to it.
  keepIpamDirectories();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, leave: opts.leaveOnExit }, 'stopping');
    supervisor.stop({ leave: opts.leaveOnExit }).then(
      () => process.exit(process.exitCode ?? 0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  const supervisor = new Supervisor(agentServices(opts), {
    log,
    onFatal: (_service, reason) => {
      process.exitCode = 1;
      stop(`fatal: ${reason}`);
    },
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await supervisor.start();
  } catch (err) {
    // The supervisor has stopped what started; the operator gets the failing service and why, on one line.
    if (stopping) return;
    process.stderr.write(`tsnet-agent: ${oneLine((err as Error).message)}\n`);
    process.exit(1);
  }
}

const COMMANDS: Record<string, (flags: Flags) => Promise<void>> = { run, 'init-network': initNetwork, leave };

async function main(): Promise<void> {
  if (process.argv[2] === '--version') {
    process.stdout.write(`tsnet-agent ${packageJson.version}\n`);
    return;
  }
  const line = parseCommandLine({ ...STORE_FLAGS, ...RUN_FLAGS, ...INIT_NETWORK_FLAGS, ...HELP_FLAG }, USAGE);
  if (!line) return;
  const { command, flags, args } = line;
  const handler = COMMANDS[command];
  if (!handler) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (args.length > 0) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(args[0])}`);
  refuseFlagsOutside(command, flags, COMMAND_FLAGS[command] ?? []);
  await handler(flags);
}

main().catch((err: unknown) => {
  const usage = err instanceof UsageError;
  const hint = usage
    ? ' (tsnet-agent --help for usage)'
    : err instanceof NetworkConfigInUseError
      ? '; pass --force to change it anyway'
      : '';
  process.stderr.write(`tsnet-agent: ${oneLine((err as Error).message)}${hint}\n`);
  process.exit(usage || err instanceof NetworkConfigError ? 2 : 1);
});
