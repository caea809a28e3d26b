// The container engine: containers made from images (a writable snapshot over the image's layers), run by
// runc under one conmon each, moved through their states, their exits recorded and their restart policies
// applied; rebuilt from the records, runc and conmon when the agent starts again. Serves the Containers API.
//   D/containers/<id>/   the record, the log, conmon's persist dir (exit, oom)
//   R/containers/<id>/   the bundle (config.json, rootfs mount), pid files, conmon's fifos and socket
//   R/exits/ R/runc/ R/netns/<id>
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { containersHandlers } from '../api/containers.ts';
import type { ContainersHandlers } from '../api/generated/tsnet/v1/Containers.ts';
import { api } from '../api/proto.ts';
import { cgroupManager, containerCgroupPath, validateResources } from '../cgroups/index.ts';
import type { ContainerCreateSpec } from '../container/create-spec.ts';
import { type EtcWrite, reserveEtcFiles } from '../container/etc-files.ts';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
  ContainerStateError,
} from '../container/handle.ts';
import { probeOf, startingHealth, stoppedHealth } from '../container/health.ts';
import { inspectContainer } from '../container/inspect.ts';
import {
  type ContainerNetworking,
  hostAndNoneOnly,
  type NetworkAttachment,
  type ResolvedNetwork,
} from '../container/networking.ts';
import { parseCreateSpec } from '../container/parse.ts';
import { type ContainerPaths, containerPaths, exitDirOf, runcRootOf } from '../container/paths.ts';
import { type ContainerRecord, initialState, shortId } from '../container/record.ts';
import { decideRestart, restartsAtBoot } from '../container/restart.ts';
import { cgroupResourcesOf, resolveConfig, runOptionsOf } from '../container/run-options.ts';
import { checkTransition, isActive } from '../container/state.ts';
import { ContainerStore, newContainerId } from '../container/store.ts';
import {
  type ContainerFilters,
  matchesFilters,
  parseContainerFilters,
  statusLine,
} from '../container/summary.ts';
import type { ContainerVolumes } from '../container/volumes.ts';
import type { EventBus } from '../events/bus.ts';
import { canonicalNameOf, ImageNotFoundError, type LocalImage } from '../image/catalog.ts';
import { ManifestError } from '../image/manifest.ts';
import { familiarString, parseImageReference } from '../image/reference.ts';
import type { Logger } from '../log/index.ts';
import { Handle } from '../netlink/handle.ts';
import { createNetnsAt, deleteNetnsAt } from '../netns/index.ts';
import {
  ContainerStartError,
  type ExitStatus,
  monitorAlive,
  readExitStatus,
  startMonitor,
  waitForExit,
} from '../runtime/conmon.ts';
import { DEFAULT_RUNC, parseSignal, Runc, RuncError } from '../runtime/runc.ts';
import { buildSpec, isNetworkSysctl, type MountOption, specToJson } from '../runtime/spec.ts';
import { chainIds, unpackLayers } from '../snapshot/chain.ts';
import { isMounted, mountAll, unmount } from '../snapshot/mount.ts';
import { settleAll } from '../sync/settle.ts';
import { inTurn } from '../sync/turns.ts';
import type { ApiService } from './api.ts';
import { containerEtcMounts, validateExtraHosts } from './container-etc.ts';
import { HealthMonitor } from './health.ts';
import type { ImageService } from './images.ts';
import { startLogRotation } from './log-rotation.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

/** An attach that has not connected by then is left behind: the container starts anyway. */
const START_GATE_TIMEOUT_MS = 5_000;

export interface ContainerServiceOptions {
  readonly dataDir: string;
  readonly runDir: string;
  /** the OCI runtime (--runtime) */
  readonly runtime?: string;
  readonly conmonBinary?: string;
  readonly initBinary?: string;
  readonly images: ImageService;
  readonly api: ApiService;
  /** the networks service; without it only "none" and "host" work */
  readonly networking?: ContainerNetworking;
  /** the volumes service: binds, named and anonymous volumes, tmpfs */
  readonly volumes: ContainerVolumes;
  /**
   * The node's cluster DNS for a container on this network (a server listening on its gateway), or
   * undefined to give the container the node's resolvers.
   */
  readonly clusterDns?: (
    network: NetworkAttachment,
  ) => Promise<{ nameserver: string; search: string[] } | undefined>;
  /** the Containers calls other modules serve (attach, exec, logs, stats, cp ...), over this engine */
  readonly handlers?: (lookup: ContainerLookup) => Partial<ContainersHandlers>;
}

export interface CreateRequest {
  readonly specJson: string;
  readonly name: string;
  readonly pullMissing: boolean;
  /** The image to run instead of looking up spec.Image: a build step's layers so far (pkg/build). */
  readonly image?: LocalImage;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** How a run ended: conmon's record, or 255 with the reason when the monitor was lost. */
interface RunEnd extends ExitStatus {
  readonly error?: string;
}

interface RunWatch {
  readonly monitorPid: number;
  readonly abort: AbortController;
  readonly exited: Promise<RunEnd>;
  /** Stops the run's log rotation; resolves once a rotation in progress is done. */
  readonly stopLogRotation: () => Promise<void>;
}

/** `fn` called once; every later call gets the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let called: Promise<void> | undefined;
  return () => (called ??= fn());
}

const MONITOR_LOST = 'the container monitor (conmon) is gone: the exit code is unknown';
/** How often a watched run's monitor is checked for being alive. */
const MONITOR_CHECK_MS = 2000;

interface ExitWaiter {
  readonly condition: WaitCondition;
  resolve(status: { exitCode: number; oomKilled: boolean }): void;
}

/** The snapshot key of a container's writable layer. */
export function containerSnapshotKey(id: string): string {
  return `container-${id}`;
}

/** How long a stop waits for the exit after SIGKILL before it reports the container as stuck. */
const KILL_GRACE_MS = 30_000;

export class ContainerService implements Service, ContainerLookup {
  readonly name = 'containers';
  readonly dependsOn: readonly Service[];
  private readonly opts: ContainerServiceOptions;
  private readonly store: ContainerStore;
  private readonly runc: Runc;
  private readonly networking: ContainerNetworking;
  private readonly volumes: ContainerVolumes;
  private readonly exitDir: string;
  private readonly runs = new Map<string, RunWatch>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly backoff = new Map<string, number>();
  private readonly waiters = new Map<string, Set<ExitWaiter>>();
  /** what runs between a container's runc create and its runc start (attaches made before start) */
  private readonly startGates = new Map<string, Set<() => Promise<void>>>();
  private readonly healthChecks: HealthMonitor;
  private log: Logger | undefined;
  private ready = false;

  constructor(opts: ContainerServiceOptions) {
    this.opts = opts;
    this.dependsOn = [opts.images];
    this.store = new ContainerStore(join(opts.dataDir, 'containers'));
    this.runc = new Runc({ binary: opts.runtime ?? DEFAULT_RUNC, root: runcRootOf(opts.runDir) });
    this.networking = opts.networking ?? hostAndNoneOnly;
    this.volumes = opts.volumes;
    this.exitDir = exitDirOf(opts.runDir);
    this.healthChecks = new HealthMonitor({
      record: (id) => this.store.byId(id),
      execTarget: (id) => {
        const p = this.paths(id);
        const runtime = { binary: this.opts.runtime ?? DEFAULT_RUNC, root: runcRootOf(this.opts.runDir) };
        return { id, bundleDir: p.bundleDir, rootfs: p.rootfs, runtime };
      },
      turn: (id, fn) => this.turn(id, fn),
      save: (record) => this.store.save(record),
      publish: (action, record) => this.publish(action, record),
      log: () => this.log,
    });
    opts.api.contribute({
      services: [[api().Containers.service, containersHandlers(this, opts.handlers?.(this))]],
      info: async () => {
        const all = this.store.all();
        const count = (s: string) => all.filter((r) => r.state.status === s).length;
        return {
          containers: all.length,
          containersRunning: count('running'),
          containersPaused: count('paused'),
          containersStopped: all.length - count('running') - count('paused'),
        };
      },
    });
  }

  private get events(): EventBus {
    return this.opts.api.events;
  }

  private paths(id: string): ContainerPaths {
    return containerPaths(this.opts.dataDir, this.opts.runDir, id);
  }

  /** Operations on one container run one after another. */
  private turn<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return inTurn(`container:${id}`, fn);
  }

  private publish(action: string, record: ContainerRecord, extra: Record<string, string> = {}): void {
    this.events.publish('container', action, record.id, {
      name: record.name,
      image: record.image.ref,
      ...record.config.labels,
      ...extra,
    });
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  async start(ctx: StartContext): Promise<void> {
    this.log = ctx.log.child({ service: this.name });
    const { runDir } = this.opts;
    for (const dir of [join(runDir, 'containers'), this.exitDir, runcRootOf(runDir), join(runDir, 'netns')])
      await mkdir(dir, { recursive: true, mode: 0o700 });
    const { loaded, broken } = await this.store.open();
    // The run dir is volatile (tmpfs): without the marker the node has booted since the agent last ran.
    const marker = join(runDir, 'containers', '.booted');
    const boot = !existsSync(marker);
    await writeFile(marker, `${new Date().toISOString()}\n`);
    for (const record of this.store.all()) {
      await this.turn(record.id, () => this.reconcile(record.id, boot)).catch((err: unknown) =>
        this.log?.error({ container: record.id, err: (err as Error).message }, 'reconcile failed'),
      );
    }
    await this.networking
      .collectGarbage(
        this.store
          .all()
          .flatMap((r) =>
            r.networks.map((n) => ({ containerId: r.id, network: n.network, ifName: n.ifName })),
          ),
      )
      .catch((err: unknown) => this.log?.warn({ err: (err as Error).message }, 'network GC failed'));
    this.ready = true;
    this.log.info({ containers: loaded, broken: broken.length, boot }, 'containers reconciled');
  }

  async stop(): Promise<void> {
    // The containers go on under their monitors; only the agent's watches and timers end.
    this.ready = false;
    for (const run of this.runs.values()) run.abort.abort();
    this.runs.clear();
    for (const timer of this.restartTimers.values()) clearTimeout(timer);
    this.restartTimers.clear();
  }

  health(): ServiceHealth {
    return { ready: this.ready, containers: this.store.all().length };
  }

  // ------------------------------------------------------------------------------------------ lookup

  find(ref: string): ContainerRecord {
    return this.store.find(ref);
  }

  /** Where the container's network namespace is bound while it has one. */
  netnsPathOf(id: string): string {
    return this.paths(id).netnsPath;
  }

  /** Every container's record (discovery publishes them). */
  records(): ContainerRecord[] {
    return this.store.all();
  }

  async get(ref: string): Promise<ContainerHandle> {
    const r = this.store.find(ref);
    const p = this.paths(r.id);
    const hostNetwork = (r.spec.HostConfig?.NetworkMode ?? '') === 'host';
    return {
      id: r.id,
      name: r.name,
      status: r.state.status,
      ...(r.state.pid > 0 && { pid: r.state.pid }),
      tty: r.spec.Tty ?? false,
      openStdin: r.spec.OpenStdin ?? false,
      logPath: p.logPath,
      ctlPath: p.ctlPath,
      attachSocketPath: p.attachSocketPath,
      bundleDir: p.bundleDir,
      rootfs: p.rootfs,
      cgroupPath: containerCgroupPath(r.id),
      ...(!hostNetwork && isActive(r.state.status) && { netnsPath: p.netnsPath }),
      runtime: { binary: this.opts.runtime ?? DEFAULT_RUNC, root: runcRootOf(this.opts.runDir) },
      spec: r.spec,
    };
  }

  waitExit(id: string): Promise<{ exitCode: number; oomKilled: boolean }> {
    return this.wait(id, 'next-exit');
  }

  /** IDs of the containers made from an image (rmi refuses those without force). */
  async imageUsers(imageId: string): Promise<string[]> {
    return this.store
      .all()
      .filter((r) => r.image.id === imageId)
      .map((r) => r.id);
  }

  // ------------------------------------------------------------------------------------------ create

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    const spec = parseCreateSpec(req.specJson);
    // limits first: a bad -m is refused before anything is looked up or made
    validateResources(cgroupResourcesOf(spec), { onlineCpus: cpus().length });
    validateExtraHosts(spec);
    const image = req.image ?? (await this.resolveImage(spec.Image, req.pullMissing));
    const network = await this.resolveNetwork(spec);
    const networkNames = await this.endpointNetworks(spec, network);
    const id = newContainerId();
    const config = resolveConfig(spec, image.config.config ?? {}, { hostname: shortId(id) });
    const diffIds = image.config.rootfs?.diff_ids ?? [];
    const topChainId = chainIds(diffIds).at(-1);
    const record = await this.store.create(
      {
        version: 1,
        id,
        created: new Date().toISOString(),
        image: { ref: imageRefOf(spec.Image), id: image.id, ...(topChainId && { topChainId }) },
        spec,
        config,
        state: initialState(),
        networkNames,
        networks: [],
        mounts: [],
        runMounts: [],
        anonymousVolumes: [],
      },
      req.name,
    );
    const undo: (() => Promise<void>)[] = [async () => this.store.delete(id)];
    const p = this.paths(id);
    try {
      const snapshots = this.opts.images.catalog.stores.snapshots;
      await this.opts.images.catalog.lock.withShared(async () => {
        await this.unpackImage(image);
        await snapshots.prepare(containerSnapshotKey(id), topChainId, { 'tsnet.container': id });
      });
      undo.push(() => snapshots.remove(containerSnapshotKey(id)));
      await mkdir(p.rootfs, { recursive: true, mode: 0o700 });
      undo.push(() => rm(p.runDir, { recursive: true, force: true }));
      await this.mountRootfs(id);
      undo.push(async () => this.unmountRootfs(id));
      const resolved = await this.volumes.resolveMounts(spec, p.rootfs, {
        containerId: id,
        imageVolumes: Object.keys(image.config.config?.Volumes ?? {}),
      });
      undo.push(() => this.volumes.release(id, resolved.anonymous, true));
      record.mounts = resolved.inspect;
      record.runMounts = resolved.mounts;
      record.anonymousVolumes = resolved.anonymous;
      // the whole OCI spec once now: what buildSpec refuses is refused at create, as Docker does (with the
      // network namespace its runs get: a net.* sysctl is refused on the host's network only)
      const { warnings } = this.ociSpec(record, network.kind === 'host' ? 'host' : { path: p.netnsPath });
      await this.store.save(record);
      this.publish('create', record);
      return { id, warnings };
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw err;
    }
  }

  private async resolveImage(ref: string, pullMissing: boolean): Promise<LocalImage> {
    const catalog = this.opts.images.catalog;
    try {
      return await catalog.find(ref);
    } catch (err) {
      if (!(err instanceof ImageNotFoundError) || !pullMissing || canonicalNameOf(ref) === undefined)
        throw err;
    }
    await this.opts.images.pull(ref);
    return catalog.find(ref);
  }

  /** The image's layers as snapshots: a pull unpacks them, a load or import leaves that to the first use. */
  private async unpackImage(image: LocalImage): Promise<void> {
    const { content, snapshots } = this.opts.images.catalog.stores;
    const diffIds = image.config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== image.manifest.layers.length)
      throw new ManifestError(
        `image ${image.id} lists ${diffIds.length} layers in its config, ${image.manifest.layers.length} in its manifest`,
      );
    await unpackLayers(
      snapshots,
      image.manifest.layers.map((layer, i) => ({
        diffId: diffIds[i]!,
        open: () => content.reader(layer.digest),
      })),
    );
  }

  private async resolveNetwork(spec: ContainerCreateSpec): Promise<ResolvedNetwork> {
    const mode = spec.HostConfig?.NetworkMode || 'bridge';
    if (mode.startsWith('container:'))
      throw new ContainerStateError(
        `network mode ${mode}: joining another container's network is not supported`,
      );
    return this.networking.resolve(mode === 'default' ? 'bridge' : mode);
  }

  /** NetworkMode's network first, then every other network EndpointsConfig names (a bridge mode only). */
  private async endpointNetworks(spec: ContainerCreateSpec, first: ResolvedNetwork): Promise<string[]> {
    const names = [first.name];
    for (const ref of Object.keys(spec.NetworkingConfig?.EndpointsConfig ?? {})) {
      const n = await this.networking.resolve(ref);
      if (names.includes(n.name)) continue;
      if (first.kind !== 'cni' || n.kind !== 'cni')
        throw new ContainerStateError(`network ${n.name}: host and none networks cannot be combined`);
      names.push(n.name);
    }
    return names;
  }

  private ociSpec(
    record: ContainerRecord,
    network: 'host' | { path: string },
    etcMounts: MountOption[] = [],
  ) {
    const p = this.paths(record.id);
    return buildSpec(
      runOptionsOf(record.spec, record.config, {
        id: record.id,
        rootfs: p.rootfs,
        network,
        mounts: [...record.runMounts, ...etcMounts],
        cgroupsPath: containerCgroupPath(record.id),
        ...(this.opts.initBinary && { initBinary: this.opts.initBinary }),
      }),
    );
  }

  /** One network interface of a run, with the endpoint settings create or connect gave for the network. */
  private attachNetwork(record: ContainerRecord, network: string, ifName: string, publish: boolean) {
    const endpoint = record.spec.NetworkingConfig?.EndpointsConfig?.[network];
    return this.networking.attach({
      containerId: record.id,
      containerName: record.name,
      netnsPath: this.paths(record.id).netnsPath,
      network,
      ifName,
      ...(endpoint?.IPAMConfig?.IPv4Address && { ipv4: endpoint.IPAMConfig.IPv4Address }),
      ...(endpoint?.MacAddress && { mac: endpoint.MacAddress }),
      aliases: [...(endpoint?.Aliases ?? []), shortId(record.id)],
      ports: publish ? publishedPortsOf(record.spec) : [],
    });
  }

  /** /etc/hosts, resolv.conf and hostname for this run, after its first network is attached. */
  private async etcMounts(
    record: ContainerRecord,
    network: 'host' | NetworkAttachment | undefined,
    how: EtcWrite = 'replace',
  ) {
    const clusterDns = network && network !== 'host' ? await this.opts.clusterDns?.(network) : undefined;
    return containerEtcMounts(
      {
        ...(clusterDns && { clusterDns }),
        dir: this.paths(record.id).dir,
        spec: record.spec,
        config: record.config,
        userTargets: record.runMounts.map((m) => m.target),
        network,
      },
      how,
    );
  }

  private async mountRootfs(id: string): Promise<void> {
    const p = this.paths(id);
    if (isMounted(p.rootfs)) return;
    await mkdir(p.rootfs, { recursive: true, mode: 0o700 });
    const mounts = await this.opts.images.catalog.stores.snapshots.mounts(containerSnapshotKey(id));
    mountAll(mounts, p.rootfs);
  }

  private unmountRootfs(id: string): void {
    const p = this.paths(id);
    if (isMounted(p.rootfs)) unmount(p.rootfs, { detach: true });
  }

  // ------------------------------------------------------------------------------------------ start

  startContainer(ref: string): Promise<ContainerRecord> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      if (isActive(record.state.status)) {
        if (record.state.status === 'paused') checkTransition(record.name, 'paused', 'start');
        return record; // Docker: starting a running container is not an error
      }
      checkTransition(record.name, record.state.status, 'start');
      this.cancelRestart(id);
      record.state.manuallyStopped = false;
      record.state.restartCount = 0;
      this.backoff.delete(id);
      await this.startRun(record);
      return record;
    });
  }

  private current(id: string): ContainerRecord {
    const record = this.store.byId(id);
    if (!record) throw new ContainerNotFoundError(id);
    return record;
  }

  /**
   * One run: rootfs, network namespace and networks (before runc create, so the process starts with its
   * interfaces), the bundle, conmon + runc create, runc start. A failure undoes every step and leaves the
   * record with the error and Docker's exit code (127 command not found, 126 not executable, 125 other).
   */
  private async startRun(record: ContainerRecord): Promise<void> {
    const { id } = record;
    const p = this.paths(id);
    const undo: (() => Promise<void> | void)[] = [];
    const phases = phaseTimer();
    const network = await this.networking.resolve(record.networkNames[0] ?? 'none');
    try {
      await clearExitFiles(p, this.exitDir, id);
      await mkdir(p.bundleDir, { recursive: true, mode: 0o700 });
      // conmon writes no exit file into a persist dir that does not exist
      await mkdir(p.persistDir, { recursive: true, mode: 0o700 });
      await this.mountRootfs(id);
      undo.push(() => this.unmountRootfs(id));
      phases.mark('rootfs');
      let netns: 'host' | { path: string } = 'host';
      if (network.kind !== 'host') {
        deleteNetnsAt(p.netnsPath); // what a run the agent did not see end left
        createNetnsAt(p.netnsPath);
        undo.push(() => deleteNetnsAt(p.netnsPath));
        netns = { path: p.netnsPath };
        await loopbackUp(p.netnsPath);
        phases.mark('netns');
      }
      record.networks = [];
      // The networks attach while conmon and runc create the container (its process runs only at runc
      // start): the etc files it mounts are reserved now and filled once the first network's address is known.
      const attachNetworks = async (): Promise<void> => {
        const timer = phases.branch();
        for (const name of record.networkNames) {
          const ifName = `eth${record.networks.length}`;
          // the ports are published on the first network only, as Docker's default bridge does
          const attachment = await this.attachNetwork(record, name, ifName, record.networks.length === 0);
          undo.push(() =>
            this.networking.detach({ containerId: id, netnsPath: p.netnsPath, network: name, ifName }),
          );
          record.networks.push(attachment);
        }
        timer.mark('networks');
      };
      const etcMounts =
        network.kind === 'cni'
          ? await reserveEtcFiles(
              p.dir,
              record.runMounts.map((m) => m.target),
            )
          : await this.etcMounts(record, network.kind === 'host' ? 'host' : undefined);
      phases.mark('etc');
      const createContainer = async () => {
        const timer = phases.branch();
        const { spec } = this.ociSpec(record, netns, etcMounts);
        // made here rather than by runc's mkdir -p, which fails when another container's removal takes the
        // shared empty parent away between its two mkdirs
        const cgroup = cgroupManager(containerCgroupPath(id));
        await cgroup.create();
        undo.push(() => cgroup.destroy());
        timer.mark('cgroup');
        await writeFile(join(p.bundleDir, 'config.json'), specToJson(spec), { mode: 0o600 });
        timer.mark('spec');
        const started = await startMonitor({
          id,
          name: record.name,
          bundleDir: p.bundleDir,
          runtime: { binary: this.opts.runtime ?? DEFAULT_RUNC, root: runcRootOf(this.opts.runDir) },
          logPath: p.logPath,
          exitDir: this.exitDir,
          persistDir: p.persistDir,
          pidFile: p.pidFile,
          conmonPidFile: p.conmonPidFile,
          tty: record.spec.Tty ?? false,
          stdin: record.spec.OpenStdin ?? false,
          stdinOnce: record.spec.StdinOnce ?? false,
          cwd: p.dir,
          runtimeLogPath: p.runtimeLogPath,
          ...(this.opts.conmonBinary && { conmonBinary: this.opts.conmonBinary }),
        });
        undo.push(async () => {
          await this.runc.kill(id, 'SIGKILL').catch(() => undefined);
          await this.runc.delete(id, { force: true }).catch(() => undefined);
        });
        timer.mark('create'); // conmon + runc create
        return started;
      };
      // Both run to their end (each registers its undo) before a failure of either is thrown. runc create
      // writes --sysctl values: a net.* one needs the interfaces there first (eth0's, IPv6 off before its
      // address), so then the networks come first.
      const attachFirst = network.kind === 'cni' && setsNetworkSysctls(record.spec);
      if (attachFirst) await attachNetworks();
      const [attached, created] = await Promise.allSettled([
        network.kind === 'cni' && !attachFirst ? attachNetworks() : undefined,
        createContainer(),
      ]);
      // the process's own failure (its command missing: 127, not executable: 126) is the one to tell
      if (created.status === 'rejected' && created.reason instanceof ContainerStartError)
        throw created.reason;
      if (attached.status === 'rejected') throw attached.reason;
      if (created.status === 'rejected') throw created.reason;
      const monitor = created.value;
      phases.mark('created'); // the wall time of networks beside cgroup, spec and create
      if (network.kind === 'cni') await this.etcMounts(record, record.networks[0], 'in place');
      phases.mark('filled');
      const run = this.watchRun(id, monitor.monitorPid, monitor.monitorStartTime);
      // taken before the process runs, so that an instant exit never finishes before it started
      const startedAt = new Date().toISOString();
      await this.passStartGates(id);
      await this.runc.start(id, { initPid: monitor.pid });
      phases.mark('start');
      record.state = {
        ...record.state,
        status: 'running',
        pid: monitor.pid,
        monitorPid: monitor.monitorPid,
        ...(monitor.monitorStartTime !== undefined && { monitorStartTime: monitor.monitorStartTime }),
        startedAt,
        error: '',
        oomKilled: false,
        health: probeOf(record.config.healthcheck) && startingHealth(record.state.health),
      };
      await this.store.save(record);
      phases.mark('record');
      this.publish('start', record);
      this.healthChecks.watch(id, monitor.monitorPid, run.abort.signal);
      // Where a start's time goes (rootfs, netns, etc; networks beside cgroup, spec and create; filled,
      // start, record).
      this.log?.debug({ container: id, phasesMs: phases.done() }, 'container started');
    } catch (err) {
      this.runs.get(id)?.abort.abort();
      this.runs.delete(id);
      for (const step of undo.reverse()) await Promise.resolve(step()).catch(() => undefined);
      await clearExitFiles(p, this.exitDir, id).catch(() => undefined);
      record.networks = [];
      record.state = {
        ...record.state,
        status: record.state.startedAt.startsWith('0001-') ? 'created' : 'exited',
        pid: 0,
        monitorPid: 0,
        error: (err as Error).message,
        ...(err instanceof ContainerStartError && { exitCode: err.exitCode }),
      };
      await this.store.save(record).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Watches for the exit conmon records; the exit is then handled in the container's turn. A monitor that
   * dies without recording one (killed) ends the run too, with 255 and the reason, instead of a run that
   * never ends.
   */
  private watchRun(id: string, monitorPid: number, monitorStartTime: number | undefined): RunWatch {
    const abort = new AbortController();
    const p = this.paths(id);
    const readStatus = () =>
      readExitStatus({ id, persistDir: p.persistDir, exitDir: this.exitDir, cwd: p.dir });
    const recorded = waitForExit(this.exitDir, id, abort.signal).then(
      async (code): Promise<RunEnd> =>
        (await readStatus()) ?? { exitCode: code, oomKilled: false, finishedAt: new Date() },
    );
    const lost = new Promise<RunEnd>((resolve) => {
      const timer = setInterval(() => {
        if (monitorAlive(p.conmonPidFile, monitorStartTime)) return;
        clearInterval(timer);
        // conmon writes the exit file before it exits: a last look before calling the monitor lost
        void readStatus().then((status) =>
          resolve(status ?? { exitCode: 255, oomKilled: false, finishedAt: new Date(), error: MONITOR_LOST }),
        );
      }, MONITOR_CHECK_MS);
      abort.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    });
    const exited = Promise.race([recorded, lost]);
    const record = this.store.byId(id);
    const stopRotation =
      record &&
      startLogRotation(record.spec, p, (err) =>
        this.log?.warn({ container: id, err: err.message }, 'log rotation failed'),
      );
    const stopLogRotation = stopRotation ? once(stopRotation) : async () => undefined;
    abort.signal.addEventListener('abort', () => void stopLogRotation(), { once: true });
    const run: RunWatch = { monitorPid, abort, exited, stopLogRotation };
    this.runs.set(id, run);
    exited.then(
      (status) =>
        this.turn(id, async () => {
          if (await this.finishRun(id, monitorPid, status, status.error)) await this.afterExit(id);
        }).catch((err: unknown) =>
          this.log?.error({ container: id, err: (err as Error).message }, 'exit handling failed'),
        ),
      () => undefined, // aborted: the agent stops, or the run was handled elsewhere
    );
    return run;
  }

  /**
   * Records the end of the run conmon `monitorPid` watched (once: false when it is already recorded) and
   * releases what the run held: runc's state, the rootfs mount, the networks and the namespace.
   */
  private async finishRun(
    id: string,
    monitorPid: number,
    status: { exitCode: number; oomKilled: boolean; finishedAt: Date },
    error = '',
  ): Promise<boolean> {
    const record = this.store.byId(id);
    if (!record || record.state.monitorPid !== monitorPid || !isActive(record.state.status)) return false;
    const run = this.runs.get(id);
    if (run?.monitorPid === monitorPid) {
      run.abort.abort();
      this.runs.delete(id);
      // a rotation still moving the log's files would hide its last lines from a `logs` right after `wait`
      await run.stopLogRotation();
    }
    await this.releaseRun(record);
    record.state = {
      ...record.state,
      status: 'exited',
      pid: 0,
      monitorPid: 0,
      monitorStartTime: undefined,
      exitCode: status.exitCode,
      oomKilled: status.oomKilled,
      finishedAt: status.finishedAt.toISOString(),
      error,
      health: stoppedHealth(record.state.health),
    };
    await this.store.save(record);
    this.publish('die', record, { exitCode: String(status.exitCode) });
    this.notify(id, 'exit', { exitCode: status.exitCode, oomKilled: status.oomKilled });
    return true;
  }

  /** What a run holds besides its record; every step tolerates having been done already. */
  private async releaseRun(record: ContainerRecord): Promise<void> {
    const { id } = record;
    const p = this.paths(id);
    const phases = phaseTimer();
    const held = record.networks.length;
    // the container's own leftovers and its networks' attachments (which need only its netns) beside each other
    const releaseContainer = async (): Promise<void> => {
      const timer = phases.branch();
      // the second release of a removal (after the exit's) finds nothing left for runc; a container whose
      // init has ended needs no runc process for it (the cgroup is destroyed next)
      if (this.runc.holds(id) && !(await this.runc.forgetStopped(id).catch(() => false)))
        await this.runc.delete(id, { force: true }).catch(() => undefined);
      timer.mark('runc');
      // what runc delete leaves: the empty parent, or the whole cgroup when runc create never ran
      await cgroupManager(containerCgroupPath(id))
        .destroy()
        .catch((err: unknown) =>
          this.log?.warn({ container: id, err: (err as Error).message }, 'cgroup removal failed'),
        );
      timer.mark('cgroup');
      this.unmountRootfs(id);
      timer.mark('rootfs');
    };
    const detachNetworks = async (): Promise<void> => {
      const timer = phases.branch();
      for (const n of record.networks) {
        await this.networking
          .detach({ containerId: id, netnsPath: p.netnsPath, network: n.network, ifName: n.ifName })
          .catch((err: unknown) =>
            this.log?.warn(
              { container: id, network: n.network, err: (err as Error).message },
              'detach failed',
            ),
          );
      }
      timer.mark('networks');
    };
    // The namespace goes first, its links set down: once it is gone the kernel removes them itself, off
    // this path (deleting a veth waits for an RCU grace period, 13-25 ms here), and a namespace on its way
    // out answers for no address meanwhile. The DELs then find no namespace, as CNI lets a runtime call
    // them: they release the addresses, ports and rules, and leave the links to the kernel.
    if (held > 0) await linksDown(p.netnsPath).catch(() => undefined);
    deleteNetnsAt(p.netnsPath);
    phases.mark('netns');
    // both end before a failure of either is thrown: a retried release never runs beside this one's DELs
    await settleAll([releaseContainer(), detachNetworks()]);
    record.networks = [];
    phases.mark('released'); // the wall time of both
    await Promise.all(
      [p.pidFile, p.conmonPidFile, p.attachSocketPath, p.ctlPath, join(p.bundleDir, 'winsz')].map((f) =>
        rm(f, { force: true }),
      ),
    );
    phases.mark('files');
    this.log?.debug({ container: id, networks: held, phasesMs: phases.done() }, 'container released');
  }

  /** The restart policy after an exit the user did not ask for; AutoRemove when it does not restart. */
  private async afterExit(id: string): Promise<void> {
    const record = this.store.byId(id);
    if (record?.state.status !== 'exited') return;
    const decision = decideRestart(record.spec.HostConfig?.RestartPolicy, {
      exitCode: record.state.exitCode,
      manuallyStopped: record.state.manuallyStopped,
      restartCount: record.state.restartCount,
      ranMs: Date.parse(record.state.finishedAt) - Date.parse(record.state.startedAt),
      previousDelayMs: this.backoff.get(id) ?? 0,
    });
    if (decision.restart) {
      record.state.status = 'restarting';
      await this.store.save(record);
      this.backoff.set(id, decision.delayMs);
      this.scheduleRestart(id, decision.delayMs);
      return;
    }
    this.backoff.delete(id);
    if (record.spec.HostConfig?.AutoRemove) await this.removeRecord(record, true);
  }

  private scheduleRestart(id: string, delayMs: number): void {
    this.cancelRestart(id);
    const timer = setTimeout(() => {
      this.restartTimers.delete(id);
      this.turn(id, async () => {
        const record = this.store.byId(id);
        if (record?.state.status !== 'restarting') return;
        record.state.restartCount += 1;
        try {
          await this.startRun(record);
        } catch (err) {
          this.log?.warn({ container: id, err: (err as Error).message }, 'restart failed');
        }
      }).catch(() => undefined);
    }, delayMs);
    this.restartTimers.set(id, timer);
  }

  private cancelRestart(id: string): void {
    const timer = this.restartTimers.get(id);
    if (timer) clearTimeout(timer);
    this.restartTimers.delete(id);
  }

  // ------------------------------------------------------------------------------------------ stop, kill

  /** `docker stop -t`: the stop signal, SIGKILL after `timeoutSeconds` (-1: the container's own). */
  stopContainer(ref: string, timeoutSeconds: number): Promise<ContainerRecord> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      checkTransition(record.name, record.state.status, 'stop');
      const timeout = timeoutSeconds < 0 ? record.config.stopTimeout : timeoutSeconds;
      // Docker answers "not modified" for a container that is not running: no event then
      const wasRunning = isActive(record.state.status) || record.state.status === 'restarting';
      await this.stopRun(record, timeout);
      if (wasRunning) this.publish('stop', record);
      await this.afterExit(id);
      return record;
    });
  }

  /**
   * Ends the current run (if any) as the user asked: no restart policy applies afterwards. The stop signal
   * first, SIGKILL after the timeout; `kill` goes straight to SIGKILL, as Docker's `rm -f` does.
   */
  private async stopRun(
    record: ContainerRecord,
    timeoutSeconds: number,
    opts: { kill?: boolean } = {},
  ): Promise<void> {
    const { id } = record;
    this.cancelRestart(id);
    if (!record.state.manuallyStopped) {
      record.state.manuallyStopped = true;
      await this.store.save(record);
    }
    if (record.state.status === 'restarting') {
      record.state.status = 'exited';
      await this.store.save(record);
      return;
    }
    if (!isActive(record.state.status)) return;
    const run =
      this.runs.get(id) ?? this.watchRun(id, record.state.monitorPid, record.state.monitorStartTime);
    const paused = record.state.status === 'paused';
    let status: RunEnd | undefined;
    if (!opts.kill) {
      await this.signal(id, parseSignal(record.config.stopSignal), paused);
      status = await within(run.exited, timeoutSeconds * 1000);
    }
    if (!status) {
      // a frozen process gets its SIGKILL once thawed: thawed here unless the stop signal did it
      await this.signal(id, parseSignal('SIGKILL'), paused && opts.kill === true);
      status = await within(run.exited, KILL_GRACE_MS);
    }
    if (!status) throw new ContainerStateError(`container ${record.name} did not exit after SIGKILL`);
    await this.finishRun(id, run.monitorPid, status, status.error);
  }

  /**
   * Sends a signal to PID 1; a paused container is thawed so that it can act on it. A process that has
   * just exited (runc: "container not running") is no error: its exit is on its way.
   */
  private async signal(id: string, signal: number, thaw: boolean): Promise<void> {
    try {
      await this.runc.kill(id, signal, { direct: this.current(id).state.status !== 'paused' });
    } catch (err) {
      if (!(err instanceof RuncError && /not running|does not exist/.test(err.runcMessage))) throw err;
    }
    if (thaw) {
      await this.runc.resume(id).catch(() => undefined);
      const record = this.current(id);
      if (record.state.status === 'paused') {
        record.state.status = 'running';
        await this.store.save(record);
      }
    }
  }

  killContainer(ref: string, signalText: string): Promise<ContainerRecord> {
    const signal = parseSignal(signalText || 'SIGKILL');
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      checkTransition(record.name, record.state.status, 'kill');
      record.state.manuallyStopped = true;
      await this.store.save(record);
      await this.signal(id, signal, record.state.status === 'paused');
      this.publish('kill', record, { signal: String(signal) });
      return record;
    });
  }

  pauseContainer(ref: string): Promise<ContainerRecord> {
    return this.freeze(ref, 'pause');
  }

  unpauseContainer(ref: string): Promise<ContainerRecord> {
    return this.freeze(ref, 'unpause');
  }

  private freeze(ref: string, action: 'pause' | 'unpause'): Promise<ContainerRecord> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      checkTransition(record.name, record.state.status, action);
      if (action === 'pause') await this.runc.pause(id);
      else await this.runc.resume(id);
      record.state.status = action === 'pause' ? 'paused' : 'running';
      await this.store.save(record);
      this.publish(action, record);
      return record;
    });
  }

  restartContainer(ref: string, timeoutSeconds: number): Promise<ContainerRecord> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      checkTransition(record.name, record.state.status, 'restart');
      await this.stopRun(record, timeoutSeconds < 0 ? record.config.stopTimeout : timeoutSeconds);
      record.state.manuallyStopped = false;
      record.state.restartCount = 0;
      this.backoff.delete(id);
      await this.startRun(record);
      this.publish('restart', record);
      return record;
    });
  }

  // ------------------------------------------------------------------------------------------ remove, rename

  removeContainer(ref: string, force: boolean, removeVolumes: boolean): Promise<ContainerRecord> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      if (!force) checkTransition(record.name, record.state.status, 'remove');
      if (record.state.status !== 'removing') {
        this.cancelRestart(id);
        if (isActive(record.state.status) || record.state.status === 'restarting') {
          record.state.manuallyStopped = true;
          await this.stopRun(record, 0, { kill: true });
        }
      }
      await this.removeRecord(record, removeVolumes);
      return record;
    });
  }

  /** Marks the record removing (a crash midway is finished at the next start), then removes everything. */
  private async removeRecord(record: ContainerRecord, removeVolumes: boolean): Promise<void> {
    const { id } = record;
    record.state.status = 'removing';
    await this.store.save(record);
    await this.releaseRun(record);
    const snapshots = this.opts.images.catalog.stores.snapshots;
    const p = this.paths(id);
    // independent of each other; the record goes last (until then a crash is finished at the next start)
    await settleAll([
      this.volumes.release(id, record.anonymousVolumes, removeVolumes),
      (async () => {
        if (await snapshots.stat(containerSnapshotKey(id))) await snapshots.remove(containerSnapshotKey(id));
      })(),
      cgroupManager(containerCgroupPath(id)).destroy(),
      rm(p.runDir, { recursive: true, force: true }),
      clearExitFiles(p, this.exitDir, id),
    ]);
    await this.store.delete(id);
    this.backoff.delete(id);
    this.publish('destroy', record);
    this.notify(id, 'removed', { exitCode: record.state.exitCode, oomKilled: record.state.oomKilled });
  }

  async renameContainer(ref: string, newName: string): Promise<ContainerRecord> {
    const record = this.store.find(ref);
    const { old } = await this.store.rename(record.id, newName);
    const renamed = this.current(record.id);
    this.publish('rename', renamed, { oldName: `/${old}` });
    return renamed;
  }

  // ------------------------------------------------------------------------------------------ connect

  /** `network connect`: kept in the record; a running container gets the interface now. */
  connect(ref: string, networkRef: string, opts: { aliases: string[]; ipv4Address?: string }): Promise<void> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      const network = await this.networking.resolve(networkRef);
      const current = await this.networking.resolve(record.networkNames[0] ?? 'none');
      if (network.kind !== 'cni' || current.kind !== 'cni')
        throw new ContainerStateError(
          `container ${record.name} cannot be connected to network ${network.name}: host and none networks stand alone`,
        );
      if (record.networkNames.includes(network.name))
        throw new ContainerStateError(
          `endpoint with name ${record.name} already exists in network ${network.name}`,
        );
      const endpoints = { ...(record.spec.NetworkingConfig?.EndpointsConfig ?? {}) };
      endpoints[network.name] = {
        ...(opts.aliases.length > 0 && { Aliases: opts.aliases }),
        ...(opts.ipv4Address && { IPAMConfig: { IPv4Address: opts.ipv4Address } }),
      };
      record.spec = { ...record.spec, NetworkingConfig: { EndpointsConfig: endpoints } };
      if (isActive(record.state.status)) {
        const used = new Set(record.networks.map((n) => n.ifName));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        record.networks.push(await this.attachNetwork(record, network.name, `eth${i}`, false));
      }
      record.networkNames.push(network.name);
      await this.store.save(record);
      this.events.publish('network', 'connect', network.id, { container: id, name: network.name });
    });
  }

  /** `network disconnect`: the interface goes now if the container runs, the network from its record. */
  disconnect(ref: string, networkRef: string, _opts: { force: boolean }): Promise<void> {
    const id = this.store.find(ref).id;
    return this.turn(id, async () => {
      const record = this.current(id);
      const network = await this.networking.resolve(networkRef);
      if (!record.networkNames.includes(network.name))
        throw new ContainerStateError(`container ${id} is not connected to the network ${network.name}`);
      const attachment = record.networks.find((n) => n.network === network.name);
      if (attachment)
        await this.networking.detach({
          containerId: id,
          netnsPath: this.paths(id).netnsPath,
          network: network.name,
          ifName: attachment.ifName,
        });
      record.networks = record.networks.filter((n) => n !== attachment);
      record.networkNames = record.networkNames.filter((n) => n !== network.name);
      await this.store.save(record);
      this.events.publish('network', 'disconnect', network.id, { container: id, name: network.name });
    });
  }

  // ------------------------------------------------------------------------------------------ queries

  list(
    all: boolean,
    filterArgs: readonly string[],
    last: number,
  ): { record: ContainerRecord; status: string }[] {
    const filters: ContainerFilters = parseContainerFilters(filterArgs);
    const showAll = all || last > 0 || filters.has('status') || filters.has('exited');
    const ctx = {
      find: (ref: string) => this.store.find(ref),
      isAncestor: (r: ContainerRecord, ancestor: string) =>
        r.image.id === ancestor ||
        r.image.id.slice('sha256:'.length).startsWith(ancestor) ||
        canonicalNameOf(r.image.ref) === canonicalNameOf(ancestor),
    };
    const records = this.store
      .all()
      .filter((r) => showAll || isActive(r.state.status) || r.state.status === 'restarting')
      .filter((r) => matchesFilters(r, filters, ctx))
      .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
    const now = Date.now();
    return (last > 0 ? records.slice(0, last) : records).map((record) => ({
      record,
      status: statusLine(record, now),
    }));
  }

  inspect(ref: string): Record<string, unknown> {
    const record = this.store.find(ref);
    return inspectContainer(record, { logPath: this.paths(record.id).logPath });
  }

  /** Docker's wait: resolves with the exit code once the condition holds. */
  wait(ref: string, condition: WaitCondition): Promise<{ exitCode: number; oomKilled: boolean }> {
    const record = this.store.find(ref);
    const { status } = record.state;
    if (condition === 'not-running' && !isActive(status) && status !== 'restarting')
      return Promise.resolve({ exitCode: record.state.exitCode, oomKilled: record.state.oomKilled });
    return new Promise((resolve) => {
      const set = this.waiters.get(record.id) ?? new Set<ExitWaiter>();
      set.add({ condition, resolve });
      this.waiters.set(record.id, set);
    });
  }

  private notify(
    id: string,
    event: 'exit' | 'removed',
    status: { exitCode: number; oomKilled: boolean },
  ): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (event === 'removed' || w.condition !== 'removed') {
        set.delete(w);
        w.resolve(status);
      }
    }
    if (set.size === 0 || event === 'removed') this.waiters.delete(id);
  }

  /** `docker container prune`: every container not running, with `until=` and `label=` filters. */
  async prune(filterArgs: readonly string[]): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    const until: number[] = [];
    const labels: string[] = [];
    for (const f of filterArgs) {
      const eq = f.indexOf('=');
      const [key, value] = [f.slice(0, eq), f.slice(eq + 1)];
      if (key === 'until') until.push(parseUntil(value));
      else if (key === 'label') labels.push(value);
      else
        throw new ContainerStateError(`invalid filter ${JSON.stringify(f)}: prune takes until= and label=`);
    }
    const labelFilters = parseContainerFilters(labels.map((l) => `label=${l}`));
    const deleted: string[] = [];
    let spaceReclaimed = 0;
    for (const r of this.store.all()) {
      if (r.state.status !== 'exited' && r.state.status !== 'created' && r.state.status !== 'dead') continue;
      if (until.some((t) => Date.parse(r.created) >= t)) continue;
      if (!matchesFilters(r, labelFilters, { find: (x) => this.store.find(x), isAncestor: () => false }))
        continue;
      const size = await this.writableLayerSize(r.id);
      await this.removeContainer(r.id, false, false).then(
        () => {
          deleted.push(r.id);
          spaceReclaimed += size;
        },
        (err: unknown) => this.log?.warn({ container: r.id, err: (err as Error).message }, 'prune skipped'),
      );
    }
    return { deleted, spaceReclaimed };
  }

  private async writableLayerSize(id: string): Promise<number> {
    try {
      return await directorySize(
        await this.opts.images.catalog.stores.snapshots.directory(containerSnapshotKey(id)),
      );
    } catch {
      return 0;
    }
  }

  // ------------------------------------------------------------------------------------------ reconcile

  /**
   * Rebuilds one container's state after the agent (or the node) restarted: runc's state, conmon's liveness
   * and the exit files decide; a container still running keeps its PID and its networks (no second attach).
   */
  private async reconcile(id: string, boot: boolean): Promise<void> {
    const record = this.current(id);
    const p = this.paths(id);
    const policy = record.spec.HostConfig?.RestartPolicy;
    switch (record.state.status) {
      case 'removing':
        await this.removeRecord(record, false);
        return;
      case 'restarting':
        record.state.restartCount += 1;
        await this.startRun(record).catch((err: unknown) =>
          this.log?.warn({ container: id, err: (err as Error).message }, 'restart failed'),
        );
        return;
      case 'running':
      case 'paused': {
        const monitorPid = record.state.monitorPid;
        const exit = await readExitStatus({
          id,
          persistDir: p.persistDir,
          exitDir: this.exitDir,
          cwd: p.dir,
        });
        if (exit) {
          if (await this.finishRun(id, monitorPid, exit)) await this.afterExit(id);
          return;
        }
        if (monitorAlive(p.conmonPidFile, record.state.monitorStartTime)) {
          const state = await this.runc.state(id).catch(() => undefined);
          if (
            state &&
            (state.status === 'running' || state.status === 'paused') &&
            state.status !== record.state.status
          ) {
            record.state.status = state.status;
            await this.store.save(record);
          }
          const run = this.watchRun(id, monitorPid, record.state.monitorStartTime);
          this.healthChecks.watch(id, monitorPid, run.abort.signal); // resumes from the status kept in the record
          return;
        }
        // The monitor is gone without an exit file: the node rebooted, or conmon was killed.
        const state = await this.runc.state(id).catch(() => undefined);
        if (state && state.status !== 'stopped')
          await this.runc.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
        await this.finishRun(
          id,
          monitorPid,
          { exitCode: 255, oomKilled: false, finishedAt: new Date() },
          MONITOR_LOST,
        );
        if (boot) await this.startAtBoot(record);
        else await this.afterExit(id);
        return;
      }
      case 'exited':
        if (
          boot &&
          !record.state.startedAt.startsWith('0001-') &&
          restartsAtBoot(policy, record.state.manuallyStopped)
        )
          await this.startAtBoot(record);
        return;
      default:
        return;
    }
  }

  beforeNextStart(id: string, fn: () => Promise<void>): () => void {
    let gates = this.startGates.get(id);
    if (!gates) {
      gates = new Set();
      this.startGates.set(id, gates);
    }
    gates.add(fn);
    return () => {
      gates.delete(fn);
      if (gates.size === 0 && this.startGates.get(id) === gates) this.startGates.delete(id);
    };
  }

  /** The attaches waiting for this start connect now; one that fails or hangs does not hold the start. */
  private async passStartGates(id: string): Promise<void> {
    const gates = this.startGates.get(id);
    if (!gates) return;
    this.startGates.delete(id);
    await Promise.allSettled(
      [...gates].map((gate) =>
        Promise.race([
          gate(),
          new Promise<void>((resolve) => setTimeout(resolve, START_GATE_TIMEOUT_MS).unref()),
        ]),
      ),
    );
  }

  private async startAtBoot(record: ContainerRecord): Promise<void> {
    if (!restartsAtBoot(record.spec.HostConfig?.RestartPolicy, record.state.manuallyStopped)) return;
    record.state.manuallyStopped = false;
    await this.startRun(record).catch((err: unknown) =>
      this.log?.warn({ container: record.id, err: (err as Error).message }, 'start at boot failed'),
    );
  }
}

// ---------------------------------------------------------------------------------------------- helpers

/** The image as Docker's Config.Image shows it: the user's string, normalised for references. */
function imageRefOf(ref: string): string {
  try {
    return familiarString(parseImageReference(ref));
  } catch {
    return ref; // an image ID
  }
}

async function clearExitFiles(p: ContainerPaths, exitDir: string, id: string): Promise<void> {
  await Promise.all(
    [join(p.persistDir, 'exit'), join(p.persistDir, 'oom'), join(p.dir, 'oom'), join(exitDir, id)].map((f) =>
      rm(f, { force: true }),
    ),
  );
}

/** Every link of the namespace down (a namespace that is gone already has none). */
async function linksDown(netnsPath: string): Promise<void> {
  if (!existsSync(netnsPath)) return;
  await Handle.with(netnsPath, async (h) => {
    for (const link of await h.linkList()) if (link.name !== 'lo') await h.linkSetDown(link.index);
  });
}

/** Docker brings up lo in every network namespace it makes, "none" included. */
async function loopbackUp(netnsPath: string): Promise<void> {
  await Handle.with(netnsPath, async (h) => {
    const lo = await h.linkFind('lo');
    if (lo) await h.linkSetUp(lo.index);
  });
}

function publishedPortsOf(spec: ContainerCreateSpec) {
  const out: { hostIp: string; hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp' }[] =
    [];
  const bindings = { ...(spec.HostConfig?.PortBindings ?? {}) };
  if (spec.HostConfig?.PublishAllPorts)
    for (const key of Object.keys(spec.ExposedPorts ?? {})) bindings[key] ??= [{ HostIp: '', HostPort: '' }];
  for (const [key, list] of Object.entries(bindings)) {
    const [port = '', proto = 'tcp'] = key.split('/');
    for (const b of list ?? [])
      out.push({
        hostIp: b.HostIp ?? '',
        hostPort: b.HostPort ? Number(b.HostPort) : 0,
        containerPort: Number(port),
        protocol: proto as 'tcp' | 'udp' | 'sctp',
      });
  }
  return out;
}

/** `promise`'s value, or undefined after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `until=`: a Unix time, an RFC 3339 time, or a duration ago (`24h`, `90m`, `30s`); milliseconds. */
function parseUntil(value: string): number {
  const duration = /^(\d+)(h|m|s)$/.exec(value);
  if (duration)
    return Date.now() - Number(duration[1]) * { h: 3600_000, m: 60_000, s: 1000 }[duration[2] as 'h'];
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new ContainerStateError(`invalid filter 'until=${value}': expected a time or a duration`);
  return t;
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/**
 * Milliseconds spent in each named phase of an operation, from one mark to the next; a branch times the
 * phases of work that runs beside the rest (its marks count from the branch's start).
 */
interface PhaseTimer {
  mark(phase: string): void;
  branch(): PhaseTimer;
  done(): Record<string, number>;
}

function phaseTimer(spent: Record<string, number> = {}): PhaseTimer {
  let last = performance.now();
  return {
    mark(phase) {
      const now = performance.now();
      spent[phase] = Math.round((now - last) * 10) / 10;
      last = now;
    },
    branch: () => phaseTimer(spent),
    done: () => spent,
  };
}

/** Whether the container sets a sysctl of its network namespace, which runc writes at create. */
function setsNetworkSysctls(spec: ContainerCreateSpec): boolean {
  return Object.keys(spec.HostConfig?.Sysctls ?? {}).some(isNetworkSysctl);
}
