// Runs the agent's services: starts them one by one in dependency order, stops them in reverse, and
// aggregates their health (/healthz, /livez) and metrics (one registry). Adding a part to the agent is adding
// a service here.
import { Registry } from 'prom-client';
import { type Logger, silentLogger } from '../log/index.ts';
import {
  type AgentHealth,
  type AgentStatus,
  type Service,
  type ServiceHealth,
  ServiceStartError,
  type ServiceState,
  type StopOptions,
} from './service.ts';

export interface SupervisorOptions {
  readonly log?: Logger;
  /** A service declared the agent unable to go on; the owner stops the supervisor and exits. */
  readonly onFatal?: (service: string, reason: string) => void;
}

/** `services` with every dependency before its dependents; otherwise in the order given. */
export function startOrder(services: readonly Service[]): Service[] {
  const names = new Set<string>();
  for (const s of services) {
    if (names.has(s.name)) throw new Error(`two services are named ${JSON.stringify(s.name)}`);
    names.add(s.name);
  }
  const ordered: Service[] = [];
  const visiting = new Set<Service>();
  const visit = (s: Service, path: readonly string[]): void => {
    if (ordered.includes(s)) return;
    if (visiting.has(s))
      throw new Error(`services depend on each other in a cycle: ${[...path, s.name].join(' -> ')}`);
    visiting.add(s);
    for (const d of s.dependsOn ?? []) {
      if (!services.includes(d))
        throw new Error(`service ${s.name} depends on ${d.name}, which is not one of the agent's services`);
      visit(d, [...path, s.name]);
    }
    visiting.delete(s);
    ordered.push(s);
  };
  for (const s of services) visit(s, []);
  return ordered;
}

export class Supervisor implements AgentStatus {
  readonly registry = new Registry();
  private readonly services: readonly Service[];
  private readonly states = new Map<Service, ServiceState>();
  private readonly log: Logger;
  private readonly onFatal: (service: string, reason: string) => void;
  private readonly abort = new AbortController();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(services: readonly Service[], options: SupervisorOptions = {}) {
    this.services = startOrder(services);
    this.log = options.log ?? silentLogger;
    this.onFatal = options.onFatal ?? (() => undefined);
    for (const s of this.services) {
      this.states.set(s, 'pending');
      s.registerMetrics?.(this.registry);
    }
  }

  /**
   * Starts every service in order; resolves once all run. When one fails, those already started are stopped
   * again (in reverse, keeping what a restart needs) and the failure is thrown as a ServiceStartError.
   */
  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    const signal = this.abort.signal;
    for (const service of this.services) {
      if (signal.aborted) return;
      this.states.set(service, 'starting');
      try {
        await service.start({
          signal,
          log: this.log,
          status: this,
          fatal: (reason) => this.onFatal(service.name, reason),
        });
      } catch (err) {
        this.states.set(service, 'failed');
        // A start cut short by stop() is not a failure: stop() takes it from here.
        if (signal.aborted) return;
        await this.stopServices({ leave: false });
        throw new ServiceStartError(service.name, err);
      }
      if (signal.aborted) return;
      this.states.set(service, 'running');
      this.log.debug({ service: service.name }, 'service started');
    }
  }

  /** Aborts a start in progress, then stops every service that started (or began to), in reverse order. */
  stop(options: StopOptions = { leave: false }): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.starting?.catch(() => undefined);
      await this.stopServices(options);
    })();
    return this.stopping;
  }

  private async stopServices(options: StopOptions): Promise<void> {
    for (const service of [...this.services].reverse()) {
      const state = this.states.get(service);
      if (state === 'pending' || state === 'stopped') continue;
      this.states.set(service, 'stopping');
      try {
        await service.stop(options);
      } catch (err) {
        this.log.error({ service: service.name, err: (err as Error).message }, 'service failed to stop');
      }
      this.states.set(service, 'stopped');
    }
  }

  /** Ready when every service runs and says it is ready; live unless a service says it is stuck. */
  health(): AgentHealth {
    const services: Record<string, ServiceHealth & { state: ServiceState }> = {};
    let healthy = true;
    let live = true;
    for (const s of this.services) {
      const state = this.states.get(s) ?? 'pending';
      const h = s.health();
      const ready = state === 'running' && h.ready;
      services[s.name] = { ...h, ready, state };
      healthy &&= ready;
      live &&= h.live !== false;
    }
    return { healthy, live, services };
  }
}
