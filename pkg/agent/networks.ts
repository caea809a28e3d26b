// The agent's networks: the CNI conf dir's conflists (the built-ins written at start), the libcni-like
// executor over --cni-bin-dir and the plugins shipped beside the agent, ContainerNetworking for the engine,
// and the Networks gRPC service (contributed to the API service).
//   <conf dir>/tsnet-<name>.conflist   one network each
//   <data>/cni/cache/results/          libcni's result cache
//   <data>/cni/networks/               tsnet-ipam's leases
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type NetworkConnector, networksHandlers } from '../api/networks.ts';
import { api } from '../api/proto.ts';
import type { CniPlugin } from '../cni/skel.ts';
import { CNI_SOCKET_ENV } from '../cni/socket-protocol.ts';
import { CniExecutor } from '../network/cni-exec.ts';
import { pluginDirsUnder } from '../network/conflist.ts';
import { CniNetworking } from '../network/networking.ts';
import { NetworkStore } from '../network/store.ts';
import type { ApiService } from './api.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface NetworkServiceOptions {
  readonly dataDir: string;
  readonly runDir: string;
  /** --cni-conf-dir */
  readonly confDir: string;
  /** --cni-bin-dir */
  readonly binDir: string;
  /** subnet.env: the node is in a cluster while it exists (the `tsnet` network) */
  readonly subnetFile: string;
  /** The agent's CNI socket ('' when disabled): our plugins hand their work to this agent through it. */
  readonly cniSocket: string;
  /** Plugin types run in the agent's process instead of executed (the ones it ships). */
  readonly inProcessPlugins?: ReadonlyMap<string, CniPlugin>;
  readonly api: ApiService;
}

/**
 * The plugins shipped with the agent: dist/cni beside dist/bin/tsnet-agent, or the checkout's dist/cni
 * when the agent runs from source.
 */
export function shippedPluginDirs(): string[] {
  const candidates = [
    ...(process.argv[1] ? [join(dirname(resolve(process.argv[1])), '..', 'cni')] : []),
    join(import.meta.dirname, '..', '..', 'dist', 'cni'),
  ];
  return [...new Set(candidates.map((c) => resolve(c)))].filter((d) => existsSync(join(d, 'tsnet-bridge')));
}

export class NetworkService implements Service {
  readonly name = 'networks';
  readonly store: NetworkStore;
  readonly executor: CniExecutor;
  readonly networking: CniNetworking;
  private connector: NetworkConnector | undefined;
  private started = false;
  private readonly opts: NetworkServiceOptions;

  constructor(opts: NetworkServiceOptions) {
    this.opts = opts;
    this.store = new NetworkStore({
      confDir: opts.confDir,
      pluginDirs: pluginDirsUnder(opts.dataDir, opts.subnetFile),
    });
    const pluginDirs = [opts.binDir, ...shippedPluginDirs().filter((d) => d !== resolve(opts.binDir))];
    this.executor = new CniExecutor({
      pluginDirs,
      cacheDir: join(opts.dataDir, 'cni', 'cache'),
      // Never another agent's default socket: this agent's, or none at all.
      env: { [CNI_SOCKET_ENV]: opts.cniSocket || join(opts.runDir, 'cni-disabled.sock') },
      ...(opts.inProcessPlugins && { inProcessPlugins: opts.inProcessPlugins }),
    });
    this.networking = new CniNetworking({ store: this.store, executor: this.executor });
    opts.api.contribute({
      services: [
        [
          api().Networks.service,
          networksHandlers({
            store: this.store,
            networking: this.networking,
            events: opts.api.events,
            connector: () => this.connector,
          }),
        ],
      ],
    });
  }

  /** The engine's connect/disconnect, for `network connect|disconnect`. */
  useConnector(connector: NetworkConnector): void {
    this.connector = connector;
  }

  async start(ctx: StartContext): Promise<void> {
    // The conf dir is left alone until networks are used (the store writes the built-ins then).
    await mkdir(join(this.opts.dataDir, 'cni', 'cache'), { recursive: true, mode: 0o700 });
    this.started = true;
    ctx.log.info(
      {
        service: this.name,
        confDir: this.opts.confDir,
        pluginDirs: [this.opts.binDir, ...shippedPluginDirs()],
      },
      'networks ready',
    );
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  health(): ServiceHealth {
    return { ready: this.started, confDir: this.opts.confDir };
  }
}
