// CNI spec 1.1.0 data types: the network configuration a plugin reads on stdin and the canonical (1.x-shaped)
// result it returns. Older wire formats exist only at the edge (see version.ts).

/** The protocol versions tsnet speaks. Older than 0.3.0 (no `interfaces`, ip4/ip6 objects) is not supported. */
export type CniVersion = '0.3.0' | '0.3.1' | '0.4.0' | '1.0.0' | '1.1.0';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Interface {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  /** netns path for interfaces inside the container; absent for host interfaces. */
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

export interface IPConfig {
  /** Address with prefix length, e.g. "10.250.0.2/16". */
  address: string;
  gateway?: string;
  /** Index into `Result.interfaces`. */
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  /** 1.1.0 route attributes. */
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** The canonical result (1.x shape). Its `cniVersion` is rewritten to the config's version when printed. */
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

/** What an IPAM plugin returns: no interfaces, and its ips carry no interface index. */
export interface IpamResult {
  cniVersion: string;
  ips: Omit<IPConfig, 'interface'>[];
  routes?: Route[];
  dns?: DNS;
}

/** The `ipam` section of a network configuration; the rest is the IPAM plugin's own business. */
export interface IpamConf {
  type: string;
  [key: string]: unknown;
}

/** A network configuration as handed to one plugin. Unknown keys are kept: plugins read their own fields. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam?: IpamConf;
  dns?: DNS;
  /** Raw previous result, in the config's cniVersion; parse it with `parsePrevResult`. */
  prevResult?: unknown;
  runtimeConfig?: RuntimeConfig;
  capabilities?: Record<string, boolean>;
  args?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Well-known capability arguments (CNI CONVENTIONS.md); a plugin only sees those it declared. */
export interface RuntimeConfig {
  portMappings?: PortMapping[];
  ips?: string[];
  mac?: string;
  bandwidth?: BandwidthLimits;
  [key: string]: unknown;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIP?: string;
}

export interface BandwidthLimits {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** One entry of `cni.dev/valid-attachments` (GC). */
export interface GcAttachment {
  containerID: string;
  ifname: string;
}

/** Environment as a plain record (process.env or one an in-process caller builds). */
export type EnvRecord = Readonly<Record<string, string | undefined>>;
