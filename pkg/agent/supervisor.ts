// Runs the agent's services: starts them one by one in dependency order (or, where the agent says so, in
// lanes side by side), stops them in reverse, and aggregates their health (/healthz, /livez) and metrics (one
// registry). Adding a part to the agent is adding a service here.
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

/**
 * Lanes of services started side by side, each lane in its own order: the step ends when every lane has
 * started. A dependency must be in an earlier step or earlier in the same lane.
 */
export interface SideBySide {
  readonly sideBySide: readonly (readonly Service[])[];
  /**
   * One lane goes first: the others begin once it has started, or after `upToMs` if it is still starting
   * then (waiting for something outside the agent). On a node's start the CPU goes to what the node needs
   * first instead of being shared from the first millisecond.
   */
  readonly headStart?: { readonly lane: number; readonly upToMs: number };
}

/** One step of the start: a service, or lanes of them. */
export type StartStep = Service | SideBySide;

const isSideBySide = (step: StartStep): step is SideBySide => 'sideBySide' in step;

/** Every service of the steps in start order, the lanes of a step one after the other. */
const servicesOf = (steps: readonly StartStep[]): Service[] =>
  steps.flatMap((step) => (isSideBySide(step) ? step.sideBySide.flat() : [step]));

/**
 * Steps whose every dependency starts before its dependent: plain services are ordered by their
 * dependencies (otherwise kept in the order given); with lanes, the order given must already hold them.
 */
export function startSteps(steps: readonly StartStep[]): StartStep[] {
  if (!steps.some(isSideBySide)) return startOrder(steps as readonly Service[]);
  startOrder(servicesOf(steps)); // names, cycles and unknown dependencies
  const before = new Set<Service>();
  const check = (service: Service, alsoBefore: ReadonlySet<Service>) => {
    for (const d of service.dependsOn ?? [])
      if (!before.has(d) && !alsoBefore.has(d))
        throw new Error(`service ${service.name} starts beside or before ${d.name}, which it depends on`);
  };
  for (const step of steps) {
    if (!isSideBySide(step)) {
      check(step, before);
      before.add(step);
      continue;
    }
    const head = step.headStart?.lane;
    if (head !== undefined && step.sideBySide[head] === undefined)
      throw new Error(`the head start names lane ${head}, and the step has ${step.sideBySide.length}`);
    for (const lane of step.sideBySide) {
      const earlier = new Set<Service>();
      for (const service of lane) {
        check(service, earlier);
        earlier.add(service);
      }
    }
    for (const service of step.sideBySide.flat()) before.add(service);
  }
  return [...steps];
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
  private readonly steps: readonly StartStep[];
  /** every service in start order (the lanes of a step one after the other): stopped in reverse */
  private readonly services: readonly Service[];
  private readonly states = new Map<Service, ServiceState>();
  private readonly log: Logger;
  private readonly onFatal: (service: string, reason: string) => void;
  private readonly abort = new AbortController();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(steps: readonly StartStep[], options: SupervisorOptions = {}) {
    this.steps = startSteps(steps);
    this.services = servicesOf(this.steps);
    this.log = options.log ?? silentLogger;
    this.onFatal = options.onFatal ?? (() => undefined);
    for (const s of this.services) {
      this.states.set(s, 'pending');
      s.registerMetrics?.(this.registry);
    }
  }

  /**
   * Starts every service in order (lanes side by side); resolves once all run. When one fails, the starts
   * under way end first, then those already started are stopped again (in reverse, keeping what a restart
   * needs) and the failure is thrown as a ServiceStartError.
   */
  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    const signal = this.abort.signal;
    let failure: ServiceStartError | undefined;
    const startLane = async (lane: readonly Service[]) => {
      for (const service of lane) {
        if (signal.aborted || failure) return;
        try {
          await this.startService(service);
        } catch (err) {
          failure ??= new ServiceStartError(service.name, err);
          return;
        }
      }
    };
    for (const step of this.steps) {
      if (isSideBySide(step)) await this.startSideBySide(step, startLane);
      else await startLane([step]);
      // A start cut short by stop() is not a failure: stop() takes it from here.
      if (signal.aborted) return;
      if (failure) {
        await this.stopServices({ leave: false });
        throw failure;
      }
    }
  }

  private async startSideBySide(
    step: SideBySide,
    startLane: (lane: readonly Service[]) => Promise<void>,
  ): Promise<void> {
    const { sideBySide: lanes, headStart } = step;
    const head = headStart ? lanes[headStart.lane] : undefined;
    if (!headStart || !head) {
      await Promise.all(lanes.map(startLane));
      return;
    }
    const first = startLane(head);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      first.then(() => 'started' as const),
      new Promise<'waited'>((resolve) => {
        timer = setTimeout(() => resolve('waited'), headStart.upToMs);
      }),
    ]);
    clearTimeout(timer);
    if (waited === 'waited')
      this.log.info(
        { lane: head.map((s) => s.name), afterMs: headStart.upToMs },
        'the rest start beside a lane still starting',
      );
    await Promise.all([first, ...lanes.filter((lane) => lane !== head).map(startLane)]);
  }

  private async startService(service: Service): Promise<void> {
    this.states.set(service, 'starting');
    try {
      await service.start({
        signal: this.abort.signal,
        log: this.log,
        status: this,
        fatal: (reason) => this.onFatal(service.name, reason),
      });
    } catch (err) {
      this.states.set(service, 'failed');
      throw err;
    }
    if (this.abort.signal.aborted) return;
    this.states.set(service, 'running');
    this.log.debug({ service: service.name }, 'service started');
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
