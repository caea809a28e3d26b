// A local tsnet cluster for tests and demos: N nodes as network namespaces joined by a veth underlay through a
// bridge in an underlay namespace (198.18.0.0/24), etcd in its own namespace on that underlay, one tsnet-agent per
// node running inside its node's namespace, and containers (namespaces) attached with the tsnet-vxlan plugin.
// Nothing is created in the host namespace. Everything made is recorded in `<dir>/cluster.json` as it is made,
// so teardown (from this process or from `teardownCluster(name)` in another) removes it even after a failure.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNamedNetns, deleteNamedNetns } from '../netns/index.ts';
import { agentCommand, REPO_ROOT } from './agent.ts';
import { firstIPv4, runCni } from './cni.ts';
import {
  ETCD_UNDERLAY_IP,
  type EtcdctlTarget,
  etcdClientUrl,
  etcdctl,
  etcdMemberIp,
  etcdSocketEndpoint,
  etcdSocketServerName,
  startEtcdServer,
  waitEtcdHealthy,
} from './etcd.ts';
import { type CtlResult, ip, ipJson, nsRun, PollAbort, pollUntil, tsnetctl } from './exec.ts';
import { makeTestPki, type TestPki, testPkiFiles } from './pki.ts';
import { isAlive, spawnLogged, stopPid } from './process.ts';
import { REGISTRY_HOST, REGISTRY_UNDERLAY_IP, startRegistryServer } from './registry.ts';
import { removeRuntimeContainers, sweepRuntime } from './runtime.ts';
import {
  type ClusterState,
  type ContainerRecord,
  clusterDir,
  clusterRunRoot,
  loadState,
  saveState,
  validateName,
} from './state.ts';

export const DEFAULT_NETWORK = '10.244.0.0/16';
export const ETCD_PREFIX = '/tsnet.io/network';
export const VTEP_NAME = 'tsnet.1';
export const AGENT_HTTP = '127.0.0.1:9180';
const UNDERLAY_BRIDGE = 'br0';
const NODE_UNDERLAY_IF = 'ul0';
/** Time a SIGTERMed agent gets before SIGKILL during teardown. */
const AGENT_GRACE_MS = 5000;

export interface ClusterOptions {
  nodes: number;
  /** Prefix of every namespace and the directory name; default `tsnc-<random>`. */
  name?: string;
  /** Pod network for init-network; default 10.244.0.0/16. */
  network?: string;
  /** Run etcd (default). false: every agent uses its own embedded store (single-node islands). */
  etcd?: boolean;
  /** Members of the etcd cluster (default 1), each at etcdMemberIp(i) in the etcd namespace. */
  etcdMembers?: number;
  /**
   * Serve etcd's clients over TLS only (`https://<member IP>:2379`), demanding client certificates, from a
   * throwaway CA made under the cluster's directory (etcdPki); the agents get the CA, certificate and key.
   */
  etcdTls?: boolean;
  /** --lease-ttl for every agent, in seconds. */
  leaseTtl?: number;
  /** Extra arguments for every agent's `run`. */
  agentArgs?: string[];
  /**
   * The environment every agent starts with; default this process's. bench:overlay gives the agents what
   * their systemd unit gives them (deploy/systemd): a shell's variables are not a service's.
   */
  agentEnv?: NodeJS.ProcessEnv;
  /** Start the agents (all at once) and wait for them to be healthy; default true. */
  startAgents?: boolean;
  /** Run an image registry on the underlay (REGISTRY_HOST); the agents may pull from it over plain HTTP. */
  registry?: boolean;
}

export interface ClusterNode {
  readonly index: number;
  readonly netnsName: string;
  readonly netnsPath: string;
  /** Underlay address, 198.18.0.(index+1). */
  readonly publicIp: string;
  readonly dataDir: string;
  readonly subnetFile: string;
  /** The agent's CNI socket (--cni-socket); the plugins find it through TSNET_CNI_SOCKET. */
  readonly cniSocket: string;
  /** The agent's --run-dir: its API socket (tsnet.sock) and other volatile state. */
  readonly runDir: string;
  /** The agent's API socket (the default under --run-dir): `tsnetctl --host unix://...`. */
  readonly apiSocket: string;
  /** The agent's --cni-conf-dir: the runtime's networks of this node, never the machine's /etc/cni/net.d. */
  readonly cniConfDir: string;
  readonly logFile: string;
}

export interface Container {
  readonly name: string;
  readonly node: number;
  readonly netnsName: string;
  readonly netnsPath: string;
  readonly containerId: string;
  readonly ip: string;
}

export interface SubnetEnv {
  network: string;
  /** As the agent writes it: the node's gateway address with the subnet length, e.g. 10.244.3.1/24. */
  subnet: string;
  mtu: number;
  ipmasq: boolean;
}

export interface VtepInfo {
  mac: string;
  /** The underlay address the VTEP sends from. */
  local: string;
  vni: number;
  port: number;
  mtu: number;
}

/** `10.244.3.1/24` (subnet.env's gateway form) -> `10.244.3.0/24`. */
export function subnetNetwork(cidr: string): string {
  const [addr, len] = cidr.split('/');
  const bits = Number(len);
  if (!addr || !Number.isInteger(bits) || bits < 0 || bits > 32)
    throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
  const value = addr.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
  const net = bits === 0 ? 0 : (value & (0xffffffff << (32 - bits))) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (net >>> shift) & 255).join('.')}/${bits}`;
}

export class Cluster {
  readonly name: string;
  readonly dir: string;
  readonly nodes: readonly ClusterNode[];
  readonly network: string;
  readonly usesEtcd: boolean;
  readonly usesRegistry: boolean;
  /** etcd client URL(s) from inside a node namespace, comma-separated as --etcd-endpoints takes them. */
  readonly etcdUrl: string;
  /** etcd client endpoint from any namespace (member 0's unix socket), for pkg/store and etcdctl. */
  readonly etcdEndpoint: string;
  /** Every member's unix socket endpoint. */
  readonly etcdEndpoints: readonly string[];
  readonly etcdMembers: number;
  /** With etcdTls: the CA and the certificates of etcd (SANs: every member's IP) and of its clients. */
  readonly etcdPki: TestPki | undefined;
  /**
   * The agents' run dirs, short and outside `dir`: a container's conmon attach socket is
   * `RUN_DIR/containers/<64-hex id>/attach`, and a unix socket path has at most 107 bytes.
   */
  readonly runRoot: string;
  private readonly state: ClusterState;
  private readonly agentArgs: string[];
  private readonly agentEnv: NodeJS.ProcessEnv | undefined;

  /** Use startCluster() or openCluster(); this only wires up recorded state. */
  constructor(state: ClusterState, nodeCount: number, options: Omit<ClusterOptions, 'nodes'> = {}) {
    this.state = state;
    this.name = state.name;
    this.dir = state.dir;
    this.network = options.network ?? DEFAULT_NETWORK;
    this.usesEtcd = options.etcd ?? true;
    this.usesRegistry = options.registry ?? false;
    this.etcdMembers = options.etcdMembers ?? 1;
    if (!Number.isInteger(this.etcdMembers) || this.etcdMembers < 1 || this.etcdMembers > 7)
      throw new Error(`etcdMembers must be an integer from 1 to 7, got ${options.etcdMembers}`);
    const members = Array.from({ length: this.etcdMembers }, (_, i) => i);
    if (options.etcdTls && !this.usesEtcd) throw new Error('etcdTls needs etcd (etcd: false was given)');
    this.etcdPki = options.etcdTls ? testPkiFiles(join(this.dir, 'etcd-pki')) : undefined;
    const tls = this.etcdPki !== undefined;
    this.etcdUrl = members.map((i) => etcdClientUrl(etcdMemberIp(i), tls)).join(',');
    this.etcdEndpoints = members.map((i) => etcdSocketEndpoint(this.etcdMemberDir(i)));
    this.etcdEndpoint = this.etcdEndpoints[0] ?? '';
    this.agentEnv = options.agentEnv;
    this.agentArgs = [
      ...(options.leaseTtl !== undefined ? ['--lease-ttl', String(options.leaseTtl)] : []),
      ...(options.agentArgs ?? []),
    ];
    this.runRoot = clusterRunRoot(this.name);
    this.nodes = Array.from({ length: nodeCount }, (_, index) => {
      const dataDir = join(this.dir, `node${index}`);
      return {
        index,
        netnsName: `${this.name}-n${index}`,
        netnsPath: `/run/netns/${this.name}-n${index}`,
        publicIp: `198.18.0.${index + 1}`,
        dataDir,
        subnetFile: join(dataDir, 'subnet.env'),
        cniSocket: join(dataDir, 'cni.sock'),
        runDir: join(this.runRoot, `n${index}`),
        apiSocket: join(this.runRoot, `n${index}`, 'tsnet.sock'),
        cniConfDir: join(dataDir, 'net.d'),
        logFile: join(dataDir, 'agent.log'),
      };
    });
  }

  private get etcdDir(): string {
    return join(this.dir, 'etcd');
  }

  /** Member 0 lives where the single etcd always did; the others beside it. */
  private etcdMemberDir(i: number): string {
    return i === 0 ? this.etcdDir : join(this.dir, `etcd-m${i}`);
  }

  private get underlayNetns(): string {
    return `${this.name}-ul`;
  }

  private get etcdNetns(): string {
    return `${this.name}-etcd`;
  }

  /** The registry's namespace (on the underlay at REGISTRY_HOST). */
  get registryNetnsPath(): string {
    return `/run/netns/${this.name}-reg`;
  }

  private node(i: number): ClusterNode {
    const node = this.nodes[i];
    if (!node) throw new Error(`cluster ${this.name} has no node ${i} (it has ${this.nodes.length})`);
    return node;
  }

  private createNetns(name: string): string {
    // Recorded before it exists, so a crash between the two still gets it deleted.
    this.state.netns.push(name);
    saveState(this.state);
    return createNamedNetns(name);
  }

  // --- building ---------------------------------------------------------------------------------------------

  /** The underlay: a bridge in its own namespace, and every node (and etcd) joined to it by a veth. */
  async buildUnderlay(): Promise<void> {
    const ul = this.createNetns(this.underlayNetns);
    await ip(ul, 'link', 'set', 'lo', 'up');
    await ip(ul, 'link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge');
    await ip(ul, 'link', 'set', UNDERLAY_BRIDGE, 'up');
    for (const node of this.nodes) {
      mkdirSync(node.dataDir, { recursive: true });
      this.createNetns(node.netnsName);
      await this.joinUnderlay(node.netnsPath, `n${node.index}`, node.publicIp);
    }
    if (this.usesEtcd) {
      const etcdNs = this.createNetns(this.etcdNetns);
      await this.joinUnderlay(etcdNs, 'etcd', ETCD_UNDERLAY_IP);
      for (let i = 1; i < this.etcdMembers; i++)
        await ip(etcdNs, 'addr', 'add', `${etcdMemberIp(i)}/24`, 'dev', NODE_UNDERLAY_IF);
    }
    if (this.usesRegistry) {
      const regNs = this.createNetns(`${this.name}-reg`);
      await this.joinUnderlay(regNs, 'reg', REGISTRY_UNDERLAY_IP);
    }
  }

  /**
   * One more host on the underlay at `address` (198.18.0.0/24): a namespace `<cluster>-<tag>` for a service the
   * nodes reach (a test's DNS resolver), removed with the cluster. Returns its path.
   */
  async addUnderlayHost(tag: string, address: string): Promise<string> {
    validateName('underlay host', tag);
    const nsPath = this.createNetns(`${this.name}-${tag}`);
    await this.joinUnderlay(nsPath, tag, address);
    return nsPath;
  }

  private async joinUnderlay(nsPath: string, portName: string, address: string): Promise<void> {
    await ip(nsPath, 'link', 'set', 'lo', 'up');
    await ip(
      nsPath,
      'link',
      'add',
      NODE_UNDERLAY_IF,
      'type',
      'veth',
      'peer',
      'name',
      portName,
      'netns',
      this.underlayNetns,
    );
    await ip(`/run/netns/${this.underlayNetns}`, 'link', 'set', portName, 'master', UNDERLAY_BRIDGE, 'up');
    await ip(nsPath, 'addr', 'add', `${address}/24`, 'dev', NODE_UNDERLAY_IF);
    await ip(nsPath, 'link', 'set', NODE_UNDERLAY_IF, 'up');
  }

  /** Writes the network config once (etcd), or into every node's embedded store. */
  async initNetwork(): Promise<void> {
    const targets = this.usesEtcd ? [this.node(0)] : this.nodes;
    for (const node of targets) {
      await nsRun(
        node.netnsPath,
        agentCommand()[0] ?? '',
        [...agentCommand().slice(1), 'init-network', '--network', this.network, ...this.storeArgs(node)],
        { timeoutMs: 30_000 },
      );
    }
  }

  private storeArgs(node: ClusterNode): string[] {
    return this.usesEtcd
      ? [...this.etcdClientArgs(), '--data-dir', node.dataDir]
      : ['--data-dir', node.dataDir];
  }

  /**
   * How the agents and tsnetctl reach etcd from a node's namespace: --etcd-endpoints (etcdUrl), --etcd-prefix
   * and, with etcdTls, --etcd-cafile/--etcd-certfile/--etcd-keyfile.
   */
  etcdClientArgs(): string[] {
    const pki = this.etcdPki;
    return [
      '--etcd-endpoints',
      this.etcdUrl,
      '--etcd-prefix',
      ETCD_PREFIX,
      ...(pki
        ? [
            '--etcd-cafile',
            pki.caFile,
            '--etcd-certfile',
            pki.clientCertFile,
            '--etcd-keyfile',
            pki.clientKeyFile,
          ]
        : []),
    ];
  }

  /** tsnetctl ARGS in node i's namespace against the cluster's etcd as the agents reach it (the cluster view). */
  clusterView(args: readonly string[], i = 0): Promise<CtlResult> {
    return tsnetctl([...args, ...this.etcdClientArgs()], { netnsPath: this.node(i).netnsPath });
  }

  // --- etcd -------------------------------------------------------------------------------------------------

  async startEtcd(): Promise<void> {
    if (!this.usesEtcd) throw new Error(`cluster ${this.name} runs without etcd`);
    await this.makeEtcdPki();
    if (this.etcdMembers === 1) {
      if (this.etcdMemberPid(0) !== undefined) return;
      this.setEtcdPid(0, await startEtcdServer(this.etcdServerPaths(0)));
      return;
    }
    const down = Array.from({ length: this.etcdMembers }, (_, i) => i).filter(
      (i) => this.etcdMemberPid(i) === undefined,
    );
    // All at once: a new cluster answers only once a quorum of its members runs.
    for (const i of down) this.setEtcdPid(i, await this.spawnEtcdMember(i));
    await Promise.all(down.map((i) => waitEtcdHealthy(this.etcdTarget(i), this.etcdMemberPid(i) ?? 0)));
  }

  /** With etcdTls, the CA and certificates, once (a restarted etcd keeps the ones its clients trust). */
  private async makeEtcdPki(): Promise<void> {
    if (!this.etcdPki || existsSync(this.etcdPki.clientCertFile)) return;
    const members = Array.from({ length: this.etcdMembers }, (_, i) => i);
    await makeTestPki(join(this.dir, 'etcd-pki'), {
      caName: `${this.name}-etcd-ca`,
      serverIps: members.map(etcdMemberIp),
      serverNames: members.map((i) => etcdSocketServerName(this.etcdMemberDir(i))),
    });
  }

  private etcdServerPaths(i: number): { dir: string; netnsPath: string; tls?: TestPki } {
    return {
      dir: this.etcdMemberDir(i),
      netnsPath: `/run/netns/${this.etcdNetns}`,
      ...(this.etcdPki ? { tls: this.etcdPki } : {}),
    };
  }

  /** Member i for etcdctl: its directory and, with etcdTls, the client certificate. */
  private etcdTarget(i: number): EtcdctlTarget {
    return { dir: this.etcdMemberDir(i), tls: this.etcdPki };
  }

  /** etcdctl ARGS against member `member` (default 0) over its unix socket: the independent view of the store. */
  etcdctl(args: readonly string[], member = 0): Promise<string> {
    return etcdctl(this.etcdTarget(member), ...args);
  }

  private spawnEtcdMember(i: number): Promise<number> {
    const names = Array.from({ length: this.etcdMembers }, (_, m) => `m${m}=http://${etcdMemberIp(m)}:2380`);
    return startEtcdServer(this.etcdServerPaths(i), {
      name: `m${i}`,
      ip: etcdMemberIp(i),
      initialCluster: names.join(','),
      token: this.name,
    });
  }

  etcdMemberPid(i: number): number | undefined {
    const pid = this.state.etcdPids?.[String(i)];
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  private setEtcdPid(i: number, pid: number | undefined): void {
    const pids = { ...this.state.etcdPids };
    if (pid === undefined) delete pids[String(i)];
    else pids[String(i)] = pid;
    this.state.etcdPids = pids;
    saveState(this.state);
  }

  /** Stops every etcd member (SIGTERM), keeping its data: the store is unreachable until startEtcd(). */
  async stopEtcd(): Promise<void> {
    for (const key of Object.keys(this.state.etcdPids ?? {})) await this.stopEtcdMember(Number(key));
  }

  /** Stops one member (SIGKILL by default: a crash) keeping its data; startEtcdMember brings it back. */
  async stopEtcdMember(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = this.state.etcdPids?.[String(i)];
    if (pid === undefined) return;
    await stopPid(pid, { signal, mustContain: this.etcdMemberDir(i) });
    this.setEtcdPid(i, undefined);
  }

  /** Restarts a stopped member of a several-member cluster; it rejoins with its data. */
  async startEtcdMember(i: number): Promise<void> {
    if (this.etcdMembers === 1) return this.startEtcd();
    if (this.etcdMemberPid(i) !== undefined) return;
    this.setEtcdPid(i, await this.spawnEtcdMember(i));
    await waitEtcdHealthy(this.etcdTarget(i), this.etcdMemberPid(i) ?? 0);
  }

  /** The index of the member that leads now, from the members that answer. */
  async etcdLeader(): Promise<number | undefined> {
    for (let i = 0; i < this.etcdMembers; i++) {
      if (this.etcdMemberPid(i) === undefined) continue;
      try {
        const [status] = JSON.parse(
          await etcdctl(this.etcdTarget(i), 'endpoint', 'status', '-w', 'json'),
        ) as {
          Status: { header: { member_id: number }; leader: number };
        }[];
        if (status && status.Status.leader === status.Status.header.member_id) return i;
      } catch {
        // a member that does not answer is not the leader we can see
      }
    }
    return undefined;
  }

  // --- registry ---------------------------------------------------------------------------------------------

  async startRegistry(): Promise<void> {
    if (!this.usesRegistry) throw new Error(`cluster ${this.name} runs without a registry`);
    if (this.state.registryPid !== undefined && isAlive(this.state.registryPid)) return;
    this.state.registryPid = await startRegistryServer({
      dir: this.registryDir,
      netnsPath: this.registryNetnsPath,
    });
    saveState(this.state);
  }

  async stopRegistry(): Promise<void> {
    const pid = this.state.registryPid;
    if (pid === undefined) return;
    await stopPid(pid, { mustContain: this.registryDir });
    delete this.state.registryPid;
    saveState(this.state);
  }

  private get registryDir(): string {
    return join(this.dir, 'registry');
  }

  // --- agents -----------------------------------------------------------------------------------------------

  agentPid(i: number): number | undefined {
    const pid = this.state.agents[String(i)];
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  /** Starts node i's agent in the background; its output goes to the node's agent.log. */
  async startAgent(i: number, extraArgs: readonly string[] = []): Promise<number> {
    const node = this.node(i);
    if (this.agentPid(i) !== undefined) throw new Error(`node ${i}'s agent is already running`);
    const [cmd, ...prefix] = agentCommand();
    const args = [
      ...prefix,
      'run',
      '--public-ip',
      node.publicIp,
      '--node-name',
      `node${i}`,
      ...this.storeArgs(node),
      '--subnet-file',
      node.subnetFile,
      '--cni-socket',
      node.cniSocket,
      '--run-dir',
      node.runDir,
      '--cni-conf-dir',
      node.cniConfDir,
      ...(this.usesRegistry ? ['--insecure-registry', REGISTRY_HOST] : []),
      '--http',
      AGENT_HTTP,
      '--vxlan-name',
      VTEP_NAME,
      ...this.agentArgs,
      ...extraArgs,
    ];
    const child = await spawnLogged('nsenter', [`--net=${node.netnsPath}`, cmd ?? '', ...args], {
      logFile: node.logFile,
      cwd: REPO_ROOT,
      ...(this.agentEnv !== undefined ? { env: this.agentEnv } : {}),
    });
    child.unref();
    const pid = child.pid ?? 0;
    this.state.agents[String(i)] = pid;
    saveState(this.state);
    return pid;
  }

  /** Signals node i's agent and waits for it to exit (SIGKILL after `graceMs`). */
  async stopAgent(i: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const node = this.node(i);
    const pid = this.state.agents[String(i)];
    if (pid === undefined) return;
    await stopPid(pid, { signal, graceMs, mustContain: node.dataDir });
    delete this.state.agents[String(i)];
    saveState(this.state);
  }

  /** kill -9 of node i's agent. */
  killAgent(i: number): Promise<void> {
    return this.stopAgent(i, 'SIGKILL');
  }

  /** HTTP status of node i's /healthz, undefined when nothing answers. */
  async healthStatus(i: number): Promise<number | undefined> {
    try {
      const code = await nsRun(
        this.node(i).netnsPath,
        'curl',
        ['-s', '-o', '/dev/null', '-m', '2', '-w', '%{http_code}', `http://${AGENT_HTTP}/healthz`],
        { timeoutMs: 5000 },
      );
      const status = Number(code.trim());
      return status > 0 ? status : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until node i's agent answers /healthz with 200 and has written subnet.env; fails when it exits. */
  async waitHealthy(i: number, timeoutMs = 30_000): Promise<void> {
    const node = this.node(i);
    try {
      await pollUntil(
        `node ${i}'s agent to become healthy`,
        async () => {
          if (this.agentPid(i) === undefined) throw new PollAbort('the agent is not running');
          // /healthz turns 200 a moment before subnet.env is written; CNI ADD needs both.
          return (await this.healthStatus(i)) === 200 && this.subnetEnv(i) !== undefined;
        },
        { timeoutMs, intervalMs: 200 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${node.logFile} (tail) ---\n${this.agentLogTail(i)}`, {
        cause: err,
      });
    }
  }

  agentLogTail(i: number, lines = 20): string {
    try {
      return readFileSync(this.node(i).logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** node i's subnet.env, parsed; undefined while the agent has not written it. */
  subnetEnv(i: number): SubnetEnv | undefined {
    let text: string;
    try {
      text = readFileSync(this.node(i).subnetFile, 'utf8');
    } catch {
      return undefined;
    }
    const vars = new Map<string, string>();
    for (const line of text.split('\n')) {
      const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
      if (m?.[1]) vars.set(m[1], (m[2] ?? '').trim());
    }
    const subnet = vars.get('TSNET_SUBNET');
    if (!subnet) return undefined;
    return {
      network: vars.get('TSNET_NETWORK') ?? '',
      subnet,
      mtu: Number(vars.get('TSNET_MTU') ?? 0),
      ipmasq: vars.get('TSNET_IPMASQ') === 'true',
    };
  }

  /** node i's subnet as subnet.env says (e.g. 10.244.3.1/24); undefined before the agent wrote it. */
  subnetOf(i: number): string | undefined {
    return this.subnetEnv(i)?.subnet;
  }

  /** node i's VTEP as the kernel reports it (`ip -d link show tsnet.1`). */
  async vtepOf(i: number): Promise<VtepInfo> {
    const [link] = await ipJson<
      {
        address: string;
        mtu: number;
        linkinfo?: { info_data?: { id?: number; local?: string; port?: number } };
      }[]
    >(this.node(i).netnsPath, ['-d', 'link', 'show', 'dev', VTEP_NAME]);
    if (!link) throw new Error(`node ${i} has no ${VTEP_NAME}`);
    const data = link.linkinfo?.info_data ?? {};
    return {
      mac: link.address,
      local: data.local ?? '',
      vni: data.id ?? 0,
      port: data.port ?? 0,
      mtu: link.mtu,
    };
  }

  // --- containers -------------------------------------------------------------------------------------------

  /** The tsnet-vxlan network config containers of `node` are attached with. */
  cniConfig(node: ClusterNode): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'tsnet',
      type: 'tsnet-vxlan',
      subnetFile: node.subnetFile,
      dataDir: join(node.dataDir, 'cni'),
    };
  }

  /** Creates a container namespace on node `nodeIndex` and attaches it with tsnet-vxlan (ADD). */
  async addContainer(nodeIndex: number, name: string): Promise<Container> {
    const node = this.node(nodeIndex);
    validateName('container', name);
    if (this.state.containers.some((c) => c.name === name))
      throw new Error(`container ${name} already exists`);
    const record: ContainerRecord = {
      name,
      node: nodeIndex,
      netnsName: `${this.name}-c-${name}`,
      containerId: `${this.name}-${name}`,
      added: false,
    };
    this.state.containers.push(record);
    saveState(this.state);
    try {
      const netnsPath = createNamedNetns(record.netnsName);
      await ip(netnsPath, 'link', 'set', 'lo', 'up');
      const result = await runCni({
        nodeNetns: node.netnsPath,
        cniSocket: node.cniSocket,
        command: 'ADD',
        containerId: record.containerId,
        netns: netnsPath,
        ifname: 'eth0',
        config: this.cniConfig(node),
      });
      record.added = true;
      record.ip = firstIPv4(result);
      saveState(this.state);
      return this.containerFromRecord(record);
    } catch (err) {
      await this.removeContainerRecord(record).catch(() => undefined);
      throw err;
    }
  }

  private containerFromRecord(r: ContainerRecord): Container {
    return {
      name: r.name,
      node: r.node,
      netnsName: r.netnsName,
      netnsPath: `/run/netns/${r.netnsName}`,
      containerId: r.containerId,
      ip: r.ip ?? '',
    };
  }

  containers(): Container[] {
    return this.state.containers.filter((c) => c.added).map((c) => this.containerFromRecord(c));
  }

  /** DEL through tsnet-vxlan, then deletes the container's namespace. */
  async removeContainer(name: string): Promise<void> {
    const record = this.state.containers.find((c) => c.name === name);
    if (!record) throw new Error(`no container ${name} in cluster ${this.name}`);
    await this.removeContainerRecord(record);
  }

  private async removeContainerRecord(record: ContainerRecord): Promise<void> {
    const node = this.node(record.node);
    const netnsPath = `/run/netns/${record.netnsName}`;
    try {
      await runCni({
        nodeNetns: node.netnsPath,
        cniSocket: node.cniSocket,
        command: 'DEL',
        containerId: record.containerId,
        netns: existsSync(netnsPath) ? netnsPath : '',
        ifname: 'eth0',
        config: this.cniConfig(node),
      });
    } finally {
      deleteNamedNetns(record.netnsName);
      this.state.containers = this.state.containers.filter((c) => c !== record);
      saveState(this.state);
    }
  }

  // --- teardown ---------------------------------------------------------------------------------------------

  /**
   * Removes everything: DEL of every container and its namespace, agents (SIGTERM, then SIGKILL), etcd, every
   * namespace, the directory. Every step runs even when an earlier one fails; the failures are thrown together.
   */
  async teardown(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    // The agents' own containers first, through their APIs, while the agents still run.
    await Promise.all(
      this.nodes
        .filter((n) => this.agentPid(n.index) !== undefined)
        .map((n) => step(() => removeRuntimeContainers(n.apiSocket))),
    );
    for (const record of [...this.state.containers].reverse())
      await step(() => this.removeContainerRecord(record));
    await Promise.all(
      Object.entries(this.state.agents).map(([i, pid]) =>
        step(() => stopPid(pid, { graceMs: AGENT_GRACE_MS, mustContain: this.node(Number(i)).dataDir })),
      ),
    );
    this.state.agents = {};
    // What an agent that died could not remove: its containers, their monitors and rootfs mounts.
    for (const node of this.nodes) await step(() => sweepRuntime(node.runDir, [this.dir, this.runRoot]));
    await step(() => this.stopRegistry());
    await step(() => this.stopEtcd());
    for (const name of [...this.state.netns].reverse()) await step(() => deleteNamedNetns(name));
    this.state.netns = [];
    await step(() => rmSync(this.runRoot, { recursive: true, force: true }));
    await step(() => rmSync(this.dir, { recursive: true, force: true }));
    if (errors.length > 0) {
      throw new AggregateError(
        errors,
        `teardown of cluster ${this.name}: ${errors.map((e) => String(e)).join('; ')}`,
      );
    }
  }
}

/** Builds a cluster; on any failure removes what it made and rethrows. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 200) {
    throw new Error(`nodes must be an integer from 1 to 200, got ${options.nodes}`);
  }
  const name = validateName('cluster', options.name ?? `tsnc-${randomBytes(3).toString('hex')}`);
  const dir = clusterDir(name);
  mkdirSync(dir, { recursive: false });
  const state: ClusterState = { name, dir, netns: [], agents: {}, containers: [] };
  saveState(state);
  const cluster = new Cluster(state, options.nodes, options);
  writeMeta(cluster, options);
  try {
    await cluster.buildUnderlay();
    // Side by side, but both settled before a failure tears down: a pid not yet recorded would leak.
    const started = await Promise.allSettled([
      cluster.usesEtcd ? cluster.startEtcd() : undefined,
      cluster.usesRegistry ? cluster.startRegistry() : undefined,
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    await cluster.initNetwork();
    if (options.startAgents ?? true) {
      await Promise.all(cluster.nodes.map((n) => cluster.startAgent(n.index)));
      await Promise.all(cluster.nodes.map((n) => cluster.waitHealthy(n.index)));
    }
    return cluster;
  } catch (err) {
    await cluster.teardown().catch(() => undefined);
    throw err;
  }
}

function writeMeta(cluster: Cluster, options: ClusterOptions): void {
  writeFileSync(join(cluster.dir, 'options.json'), `${JSON.stringify({ ...options, name: cluster.name })}\n`);
}

/** Re-opens a cluster made by another process (e.g. `demo --keep`) from its recorded state. */
export function openCluster(name: string): Cluster {
  const state = loadState(name);
  let options: ClusterOptions = { nodes: 0 };
  try {
    options = JSON.parse(readFileSync(join(state.dir, 'options.json'), 'utf8')) as ClusterOptions;
  } catch {
    // options.json is written right after cluster.json; without it there are no nodes to address
  }
  return new Cluster(state, options.nodes, options);
}

/** Removes a cluster made by another process. */
export async function teardownCluster(name: string): Promise<void> {
  await openCluster(name).teardown();
}
