import test from 'ava';
import type { ComposeProject } from '../../pkg/compose/model.ts';
import {
  type ContainerInfo,
  dependencyOrder,
  type ExistingResources,
  PlanError,
  planDown,
  planUp,
  type UpStep,
} from '../../pkg/compose/plan.ts';
import { LABEL } from '../../pkg/compose/to-create.ts';
import { projectFromYaml } from './project.ts';

const APP = `
services:
  web:
    image: busybox
    command: httpd -f
    ports: ["8080:80"]
    depends_on: {api: {condition: service_started}}
  api:
    image: busybox
    command: sleep 1000
    depends_on: {db: {condition: service_healthy}}
    volumes: [data:/data]
  db:
    image: busybox
    command: sleep 1000
    healthcheck: {test: "true", interval: 1s}
    volumes: [data:/var/lib/db]
volumes:
  data:
`;

/** The same project with only api's command changed. */
const changeApiCommand = (text: string): string =>
  text.replace('command: sleep 1000\n    depends_on', 'command: sleep 2000\n    depends_on');

const EMPTY: ExistingResources = { containers: [], networks: [], volumes: [] };

/** What the agent would hold after an executor applied `steps` (ids are the container names). */
function apply(world: ExistingResources, steps: readonly UpStep[]): ExistingResources {
  let containers = [...world.containers];
  const networks = [...world.networks];
  const volumes = [...world.volumes];
  for (const s of steps) {
    if (s.kind === 'create-network')
      networks.push({
        id: `net-${s.request.name}`,
        name: s.request.name ?? '',
        labels: s.request.labels ?? {},
      });
    if (s.kind === 'create-volume')
      volumes.push({ name: s.request.name ?? '', labels: s.request.labels ?? {} });
    if (s.kind === 'recreate' || s.kind === 'remove-container')
      containers = containers.filter((c) => c.id !== s.containerId);
    if (s.kind === 'create' || s.kind === 'recreate') {
      containers.push({
        id: s.create.name,
        names: [`/${s.create.name}`],
        state: 'running',
        labels: { ...(s.create.spec.Labels ?? {}) },
      });
    }
    if (s.kind === 'start')
      containers = containers.map((c) => (c.id === s.containerId ? { ...c, state: 'running' } : c));
  }
  return { containers, networks, volumes };
}

const summary = (steps: readonly UpStep[]): string[] =>
  steps.map((s) => {
    switch (s.kind) {
      case 'create-network':
      case 'create-volume':
        return `${s.kind} ${s.request.name}`;
      case 'wait':
        return `wait ${s.service} ${s.condition} for ${s.dependent}`;
      case 'create':
        return `create ${s.create.name}`;
      case 'restart':
        return `restart ${s.name} because ${s.because}`;
      default:
        return `${s.kind} ${s.name}`;
    }
  });

test('a fresh project: networks and volumes first, then services in dependency order with waits', (t) => {
  const p = projectFromYaml(APP);
  const plan = planUp(p, EMPTY);
  t.deepEqual(summary(plan.steps), [
    'create-network app_default',
    'create-volume app_data',
    'create app-db-1',
    'wait db service_healthy for api',
    'create app-api-1',
    'create app-web-1',
  ]);
  t.deepEqual(plan.warnings, []);
});

test('up again unchanged keeps everything; stopped containers are started', (t) => {
  const p = projectFromYaml(APP);
  const world = apply(EMPTY, planUp(p, EMPTY).steps);
  t.deepEqual(summary(planUp(p, world).steps), [
    'keep app-db-1',
    'wait db service_healthy for api',
    'keep app-api-1',
    'keep app-web-1',
  ]);
  const stopped = {
    ...world,
    containers: world.containers.map((c) => (c.id === 'app-api-1' ? { ...c, state: 'exited' } : c)),
  };
  t.deepEqual(summary(planUp(p, stopped).steps), [
    'keep app-db-1',
    'wait db service_healthy for api',
    'start app-api-1',
    'keep app-web-1',
  ]);
});

test('one changed service is the only one recreated, as Compose does', (t) => {
  const world = apply(EMPTY, planUp(projectFromYaml(APP), EMPTY).steps);
  const changed = projectFromYaml(changeApiCommand(APP));
  const plan = planUp(changed, world);
  t.deepEqual(summary(plan.steps), [
    'keep app-db-1',
    'wait db service_healthy for api',
    'recreate app-api-1',
    'keep app-web-1',
  ]);
  const recreate = plan.steps.find((s) => s.kind === 'recreate');
  t.deepEqual(recreate?.kind === 'recreate' && recreate.create.spec.Cmd, ['sleep', '2000']);
  // and once applied, the next up keeps it
  t.deepEqual(
    summary(planUp(changed, apply(world, plan.steps)).steps).filter((s) => !s.startsWith('wait')),
    ['keep app-db-1', 'keep app-api-1', 'keep app-web-1'],
  );
});

test('a dependent with depends_on restart: true is restarted when its dependency is recreated', (t) => {
  const withRestart = APP.replace(
    'depends_on: {api: {condition: service_started}}',
    'depends_on: {api: {condition: service_started, restart: true}}',
  );
  const world = apply(EMPTY, planUp(projectFromYaml(withRestart), EMPTY).steps);
  const changed = projectFromYaml(changeApiCommand(withRestart));
  t.deepEqual(summary(planUp(changed, world).steps), [
    'keep app-db-1',
    'wait db service_healthy for api',
    'recreate app-api-1',
    'restart app-web-1 because api',
  ]);
});

test('up SERVICE takes its dependencies along and nothing else', (t) => {
  const plan = planUp(projectFromYaml(APP), EMPTY, { services: ['api'] });
  t.deepEqual(summary(plan.steps), [
    'create-network app_default',
    'create-volume app_data',
    'create app-db-1',
    'wait db service_healthy for api',
    'create app-api-1',
  ]);
  t.throws(() => planUp(projectFromYaml(APP), EMPTY, { services: ['nope'] }), {
    instanceOf: PlanError,
    message: 'no such service: nope',
  });
});

test('up --no-deps SERVICE: that service alone, its dependencies neither created nor waited for', (t) => {
  const plan = planUp(projectFromYaml(APP), EMPTY, { services: ['api'], noDeps: true });
  t.deepEqual(summary(plan.steps), [
    'create-network app_default',
    'create-volume app_data',
    'create app-api-1',
  ]);
  // a dependency running here anyway is left alone (no wait, no keep)
  const world = apply(EMPTY, planUp(projectFromYaml(APP), EMPTY).steps);
  t.deepEqual(summary(planUp(projectFromYaml(APP), world, { services: ['web'], noDeps: true }).steps), [
    'keep app-web-1',
  ]);
  t.throws(() => planUp(projectFromYaml(APP), EMPTY, { services: ['nope'], noDeps: true }), {
    message: 'no such service: nope',
  });
});

test('orphans are reported, and removed with --remove-orphans', (t) => {
  const p = projectFromYaml(APP);
  const world = apply(EMPTY, planUp(p, EMPTY).steps);
  const orphan: ContainerInfo = {
    id: 'old',
    names: ['/app-cache-1'],
    state: 'running',
    labels: { [LABEL.project]: 'app', [LABEL.service]: 'cache' },
  };
  const other: ContainerInfo = {
    id: 'x',
    names: ['/other-web-1'],
    state: 'running',
    labels: { [LABEL.project]: 'other', [LABEL.service]: 'web' },
  };
  const withOrphan = { ...world, containers: [...world.containers, orphan, other] };
  const plan = planUp(p, withOrphan);
  t.deepEqual(plan.orphans, [{ service: 'cache', containerId: 'old', name: 'app-cache-1' }]);
  t.regex(plan.warnings[0] ?? '', /found orphan containers \(app-cache-1\)/);
  t.false(plan.steps.some((s) => s.kind === 'remove-container'));
  t.deepEqual(
    summary(planUp(p, withOrphan, { removeOrphans: true }).steps)[0],
    'remove-container app-cache-1',
  );
});

test('an existing network of the same name not made by the project is used, with a warning; a missing external one is an error', (t) => {
  const p = projectFromYaml(APP);
  const plan = planUp(p, { ...EMPTY, networks: [{ id: 'n', name: 'app_default', labels: {} }] });
  t.false(plan.steps.some((s) => s.kind === 'create-network'));
  t.regex(
    plan.warnings[0] ?? '',
    /a network with name app_default exists but was not created for project "app"/,
  );
  const ext = projectFromYaml(
    'services:\n  s:\n    image: x\n    networks: [lan]\nnetworks:\n  lan:\n    external: true\n',
  );
  t.throws(() => planUp(ext, EMPTY), {
    instanceOf: PlanError,
    message: 'network lan declared as external, but could not be found',
  });
  t.deepEqual(summary(planUp(ext, { ...EMPTY, networks: [{ id: 'l', name: 'lan', labels: {} }] }).steps), [
    'create app-s-1',
  ]);
});

test('down removes containers in reverse dependency order, then networks; volumes only with -v', (t) => {
  const p = projectFromYaml(APP);
  const world = apply(EMPTY, planUp(p, EMPTY).steps);
  const down = planDown(p, world);
  t.deepEqual(
    down.steps.map((s) => `${s.kind} ${s.name}`),
    [
      'remove-container app-web-1',
      'remove-container app-api-1',
      'remove-container app-db-1',
      'remove-network app_default',
    ],
  );
  t.true(down.steps.every((s) => s.kind !== 'remove-container' || !s.removeAnonymousVolumes));
  const downV = planDown(p, world, { volumes: true });
  t.deepEqual(downV.steps.map((s) => `${s.kind} ${s.name}`).slice(3), [
    'remove-network app_default',
    'remove-volume app_data',
  ]);
  t.true(downV.steps.every((s) => s.kind !== 'remove-container' || s.removeAnonymousVolumes));
  // nothing there: nothing to do
  t.deepEqual(planDown(p, EMPTY, { volumes: true }).steps, []);
});

test('an external volume is never removed by down -v', (t) => {
  const p = projectFromYaml(
    'services:\n  s:\n    image: x\n    volumes: [keep:/k]\nvolumes:\n  keep:\n    external: true\n',
  );
  const world: ExistingResources = { containers: [], networks: [], volumes: [{ name: 'keep', labels: {} }] };
  t.deepEqual(planDown(p, world, { volumes: true }).steps, []);
});

test('a dependency cycle is refused, naming it', (t) => {
  const p: ComposeProject = projectFromYaml(
    'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n',
  );
  t.throws(() => planUp(p, EMPTY), {
    instanceOf: PlanError,
    message: 'dependency cycle detected: a -> b -> c -> a',
  });
  t.throws(() => planDown(p, EMPTY), { instanceOf: PlanError });
  t.deepEqual(dependencyOrder(projectFromYaml(APP).services), ['db', 'api', 'web']);
});
