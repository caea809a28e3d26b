// The contract of one part of the agent (HTTP, CNI socket, store, subnet lease, overlay, and later the runtime,
// API, discovery, DNS): it starts, stops and reports its own health; the supervisor composes them.
import type { Registry } from 'prom-client';
import type { Logger } from '../log/index.ts';

/** A service's contribution to /healthz and /livez; the other fields are detail shown as they are. */
export interface ServiceHealth {
  /** True while the service does its job: the node is ready only when every service is. */
  readonly ready: boolean;
  /** False only when the service is stuck and a restart of the agent would help (default true). */
  readonly live?: boolean;
  readonly [detail: string]: unknown;
}

/** The agent as a whole, as the supervisor reports it. */
export interface AgentHealth {
  readonly healthy: boolean;
  readonly live: boolean;
  readonly services: Readonly<Record<string, ServiceHealth & { readonly state: ServiceState }>>;
}

export type ServiceState = 'pending' | 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

/** What a service gets from the supervisor when it starts. */
export interface StartContext {
  /** Aborted when the agent stops: a start that waits (for the store, a config) gives up. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The agent's health and metrics, for the services that serve them. */
  readonly status: AgentStatus;
  /** The agent cannot go on (its subnet went to another node): the supervisor's owner stops and exits. */
  fatal(reason: string): void;
}

export interface AgentStatus {
  health(): AgentHealth;
  readonly registry: Registry;
}

export interface StopOptions {
  /** The node leaves the cluster: services give back what they hold in it (the lease, subnet.env). */
  readonly leave: boolean;
}

export interface Service {
  /** Unique among the agent's services; names it in logs, errors and health. */
  readonly name: string;
  /** Started before this one and stopped after it. */
  readonly dependsOn?: readonly Service[];
  /** Registers the service's metrics once, before anything starts. */
  registerMetrics?(registry: Registry): void;
  /** Resolves once the service does its job; throws (with context) when it cannot. */
  start(ctx: StartContext): Promise<void>;
  /** Releases what start() took; called once, also after a failed or aborted start. */
  stop(options: StopOptions): Promise<void>;
  health(): ServiceHealth;
}

/** A start-up failure, named by the service that failed. */
export class ServiceStartError extends Error {
  readonly service: string;
  constructor(service: string, cause: unknown) {
    super(`${service}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ServiceStartError';
    this.service = service;
  }
}
