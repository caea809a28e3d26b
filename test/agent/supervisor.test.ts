// The agent's supervisor: services start in dependency order and stop in reverse, a failed start stops what
// had started, a stop cuts a waiting start short, and health and metrics aggregate every service's.
import test from 'ava';
import { Counter, type Registry } from 'prom-client';
import { buildHttpApp } from '../../pkg/agent/http.ts';
import type { Service, ServiceHealth, StartContext, StopOptions } from '../../pkg/agent/service.ts';
import { ServiceStartError } from '../../pkg/agent/service.ts';
import { Supervisor, startOrder, startSteps } from '../../pkg/agent/supervisor.ts';

/** A service that records its calls in `log` and does what the test tells it. */
class FakeService implements Service {
  readonly name: string;
  readonly dependsOn: readonly Service[];
  ready = true;
  live = true;
  startImpl: (ctx: StartContext) => Promise<void> = async () => undefined;
  stoppedWith: StopOptions | undefined;
  private readonly log: string[];

  constructor(name: string, log: string[], dependsOn: readonly Service[] = []) {
    this.name = name;
    this.log = log;
    this.dependsOn = dependsOn;
  }

  async start(ctx: StartContext): Promise<void> {
    this.log.push(`start ${this.name}`);
    await this.startImpl(ctx);
  }

  async stop(options: StopOptions): Promise<void> {
    this.log.push(`stop ${this.name}`);
    this.stoppedWith = options;
  }

  health(): ServiceHealth {
    return { ready: this.ready, live: this.live, detail: `${this.name} detail` };
  }
}

test('services start with their dependencies first and stop in reverse; stop options reach every service', async (t) => {
  const log: string[] = [];
  const store = new FakeService('store', log);
  const lease = new FakeService('lease', log, [store]);
  const overlay = new FakeService('overlay', log, [lease, store]);
  const http = new FakeService('http', log);
  const supervisor = new Supervisor([overlay, http, lease, store]);
  await supervisor.start();
  t.deepEqual(log, ['start store', 'start lease', 'start overlay', 'start http']);
  log.length = 0;
  await supervisor.stop({ leave: true });
  t.deepEqual(log, ['stop http', 'stop overlay', 'stop lease', 'stop store']);
  t.deepEqual(overlay.stoppedWith, { leave: true });
  await supervisor.stop({ leave: true });
  t.is(log.length, 4, 'a second stop does nothing');
});

test('a failed start stops what started, in reverse, and names the failing service; later ones never start', async (t) => {
  const log: string[] = [];
  const a = new FakeService('a', log);
  const b = new FakeService('b', log);
  b.startImpl = async () => {
    throw new Error('cannot listen: address already in use');
  };
  const c = new FakeService('c', log);
  const supervisor = new Supervisor([a, b, c]);
  const err = await t.throwsAsync(supervisor.start(), { instanceOf: ServiceStartError });
  t.is(err?.message, 'b: cannot listen: address already in use');
  t.is(err?.service, 'b');
  t.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a']);
  t.is(supervisor.health().services['b']?.state, 'stopped');
  t.is(supervisor.health().services['c']?.state, 'pending');
  t.false(supervisor.health().healthy);
});

test('stop during a start that waits: the start gives up through its signal and everything begun is stopped', async (t) => {
  const log: string[] = [];
  const a = new FakeService('a', log);
  const waits = new FakeService('waits', log);
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  waits.startImpl = (ctx) =>
    new Promise((_resolve, reject) => {
      entered();
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  const never = new FakeService('never', log);
  const supervisor = new Supervisor([a, waits, never]);
  const starting = supervisor.start();
  await inside;
  await supervisor.stop({ leave: false });
  await t.notThrowsAsync(starting, 'a start cut short by stop is not a failure');
  t.deepEqual(log, ['start a', 'start waits', 'stop waits', 'stop a']);
});

test('health: ready only when every service runs and is ready; live unless one says it is stuck', async (t) => {
  const log: string[] = [];
  const a = new FakeService('a', log);
  const b = new FakeService('b', log, [a]);
  const supervisor = new Supervisor([a, b]);
  t.false(supervisor.health().healthy, 'not ready before start');
  t.is(supervisor.health().services['a']?.state, 'pending');
  await supervisor.start();
  t.true(supervisor.health().healthy);
  t.deepEqual(supervisor.health().services['b'], {
    ready: true,
    live: true,
    detail: 'b detail',
    state: 'running',
  });
  b.ready = false;
  t.false(supervisor.health().healthy);
  t.true(supervisor.health().live);
  a.live = false;
  t.false(supervisor.health().live);
  await supervisor.stop();
  b.ready = true;
  a.live = true;
  t.false(supervisor.health().healthy, 'a stopped agent is not ready');
});

test('a service declares the agent unable to go on: onFatal hears which and why', async (t) => {
  const log: string[] = [];
  const lease = new FakeService('lease', log);
  let fatal: ((reason: string) => void) | undefined;
  lease.startImpl = async (ctx) => {
    fatal = (reason) => ctx.fatal(reason);
  };
  const heard: string[] = [];
  const supervisor = new Supervisor([lease], {
    onFatal: (service, reason) => heard.push(`${service}: ${reason}`),
  });
  await supervisor.start();
  fatal?.('subnet taken by another node');
  t.deepEqual(heard, ['lease: subnet taken by another node']);
  await supervisor.stop();
});

test('startOrder refuses cycles, duplicate names and dependencies outside the agent', (t) => {
  const log: string[] = [];
  const deps: Service[] = [];
  const a = new FakeService('a', log, deps);
  const b = new FakeService('b', log, [a]);
  deps.push(b);
  t.throws(() => startOrder([a, b]), { message: /cycle: a -> b -> a/ });
  t.throws(() => startOrder([new FakeService('x', log), new FakeService('x', log)]), {
    message: /two services/,
  });
  const outside = new FakeService('outside', log);
  t.throws(() => startOrder([new FakeService('c', log, [outside])]), { message: /not one of the agent's/ });
});

/** A start that waits until the test lets it go. */
function held(service: FakeService): {
  entered: Promise<void>;
  release: () => void;
  fail: (err: Error) => void;
} {
  let release: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  let entered: () => void = () => undefined;
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  service.startImpl = () =>
    new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
      entered();
    });
  return { entered: inside, release: () => release(), fail: (err) => fail(err) };
}

test('lanes start side by side, each in its order; the next step waits for both; stop is in reverse', async (t) => {
  const log: string[] = [];
  const http = new FakeService('http', log);
  const images = new FakeService('images', log);
  const api = new FakeService('api', log);
  const store = new FakeService('store', log);
  const lease = new FakeService('lease', log, [store]);
  const published = new FakeService('published', log, [api, lease]);
  const slowImages = held(images);
  const supervisor = new Supervisor([
    http,
    {
      sideBySide: [
        [images, api],
        [store, lease],
      ],
    },
    published,
  ]);
  const starting = supervisor.start();
  await slowImages.entered;
  // the cluster lane does not wait for the runtime's
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(log, ['start http', 'start images', 'start store', 'start lease']);
  t.is(supervisor.health().services['published']?.state, 'pending');
  slowImages.release();
  await starting;
  t.deepEqual(log.slice(4), ['start api', 'start published']);
  log.length = 0;
  await supervisor.stop({ leave: false });
  t.deepEqual(log, ['stop published', 'stop lease', 'stop store', 'stop api', 'stop images', 'stop http']);
});

test('a lane that fails: the start under way in the other lane ends, nothing new starts, all started stop', async (t) => {
  const log: string[] = [];
  const images = new FakeService('images', log);
  const api = new FakeService('api', log);
  const store = new FakeService('store', log);
  const lease = new FakeService('lease', log, [store]);
  const after = new FakeService('after', log);
  const slowImages = held(images);
  store.startImpl = async () => {
    await slowImages.entered;
    throw new Error('etcd refused us');
  };
  const supervisor = new Supervisor([
    {
      sideBySide: [
        [images, api],
        [store, lease],
      ],
    },
    after,
  ]);
  const starting = supervisor.start();
  await slowImages.entered;
  await new Promise((resolve) => setTimeout(resolve, 50));
  slowImages.release();
  const err = await t.throwsAsync(starting, { instanceOf: ServiceStartError });
  t.is(err?.service, 'store');
  t.deepEqual(log, ['start images', 'start store', 'stop store', 'stop images']);
  for (const never of ['api', 'lease', 'after']) t.is(supervisor.health().services[never]?.state, 'pending');
});

test('a head start: the other lanes begin once the head lane has started', async (t) => {
  const log: string[] = [];
  const store = new FakeService('store', log);
  const lease = new FakeService('lease', log, [store]);
  const images = new FakeService('images', log);
  const http = new FakeService('http', log);
  const slowLease = held(lease);
  // an hour: only the head lane's start lets the others begin
  const supervisor = new Supervisor([
    { sideBySide: [[store, lease], [images], [http]], headStart: { lane: 0, upToMs: 3_600_000 } },
  ]);
  const starting = supervisor.start();
  await slowLease.entered;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(log, ['start store', 'start lease'], 'the others wait while the head lane starts');
  slowLease.release();
  await starting;
  t.deepEqual(log.slice(2), ['start images', 'start http']);
  t.true(supervisor.health().healthy);
  await supervisor.stop();
});

test('a head start: a head lane still starting after upToMs has the others start beside it', async (t) => {
  const log: string[] = [];
  const store = new FakeService('store', log);
  const images = new FakeService('images', log);
  const api = new FakeService('api', log);
  const waitingForEtcd = held(store);
  const supervisor = new Supervisor([
    { sideBySide: [[images, api], [store]], headStart: { lane: 1, upToMs: 20 } },
  ]);
  const starting = supervisor.start();
  await waitingForEtcd.entered;
  while (supervisor.health().services['api']?.state !== 'running')
    await new Promise((resolve) => setTimeout(resolve, 5));
  t.deepEqual(log, ['start store', 'start images', 'start api'], 'the runtime is up while the store waits');
  t.is(supervisor.health().services['store']?.state, 'starting');
  waitingForEtcd.release();
  await starting;
  t.true(supervisor.health().healthy);
  await supervisor.stop();
});

test('a head start: the head lane failing before the others begin starts none of them', async (t) => {
  const log: string[] = [];
  const store = new FakeService('store', log);
  const images = new FakeService('images', log);
  const failing = held(store);
  const supervisor = new Supervisor([
    { sideBySide: [[store], [images]], headStart: { lane: 0, upToMs: 3_600_000 } },
  ]);
  const starting = supervisor.start();
  await failing.entered;
  failing.fail(new Error('etcd refused the lease'));
  const err = await t.throwsAsync(starting, { instanceOf: ServiceStartError });
  t.regex(err?.message ?? '', /^store: etcd refused the lease/);
  t.deepEqual(log, ['start store', 'stop store'], 'images never started');
});

test('startSteps refuses a head start naming a lane the step does not have', (t) => {
  const log: string[] = [];
  t.throws(
    () => startSteps([{ sideBySide: [[new FakeService('a', log)]], headStart: { lane: 1, upToMs: 1 } }]),
    {
      message: /the head start names lane 1, and the step has 1/,
    },
  );
});

test('startSteps refuses a dependency in a sibling lane or later in the lane', (t) => {
  const log: string[] = [];
  const store = new FakeService('store', log);
  const lease = new FakeService('lease', log, [store]);
  t.throws(() => startSteps([{ sideBySide: [[lease], [store]] }]), {
    message: /lease starts beside or before store/,
  });
  t.throws(() => startSteps([{ sideBySide: [[lease, store]] }]), {
    message: /lease starts beside or before store/,
  });
  t.notThrows(() => startSteps([store, { sideBySide: [[lease], [new FakeService('x', log)]] }]));
  t.notThrows(() => startSteps([{ sideBySide: [[store, lease]] }]));
});

test('/healthz, /livez and /metrics serve what the supervisor aggregates from the services', async (t) => {
  const log: string[] = [];
  class Counting extends FakeService {
    counter: Counter | undefined;
    registerMetrics(registry: Registry): void {
      this.counter = new Counter({ name: 'tsnet_test_things_total', help: 'things', registers: [registry] });
    }
  }
  const svc = new Counting('things', log);
  const supervisor = new Supervisor([svc]);
  const { app } = await buildHttpApp(supervisor);
  try {
    const before = await app.inject({ url: '/healthz' });
    t.is(before.statusCode, 503, 'not ready before the services run');
    await supervisor.start();
    svc.counter?.inc(3);
    const ready = await app.inject({ url: '/healthz' });
    t.is(ready.statusCode, 200);
    t.like(ready.json(), { healthy: true, services: { things: { ready: true, state: 'running' } } });
    t.is((await app.inject({ url: '/livez' })).statusCode, 200);
    svc.live = false;
    t.is((await app.inject({ url: '/livez' })).statusCode, 503);
    const metrics = await app.inject({ url: '/metrics' });
    t.regex(metrics.body, /^tsnet_test_things_total 3$/m);
  } finally {
    await app.close();
    await supervisor.stop();
  }
});
