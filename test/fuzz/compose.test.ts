// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are compose files' ${VAR} substitutions, not templates
// Adversarial compose files: random services, networks and volumes whose keys are the ones tsnet reads (and a
// few it does not) and whose values are drawn from the shapes that break parsers (wrong types, negative and
// huge numbers, bad ports and sizes, interpolation syntax, path traversal in names). Every file is either a
// project whose containers can be described for the engine (with names the engine accepts), or one
// ComposeError / InterpolationError line naming file:line:col; never a TypeError from deep inside.
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { InterpolationError } from '../../pkg/compose/interpolate.ts';
import { networkCreateRequest, serviceCreateSpec, volumeCreateRequest } from '../../pkg/compose/to-create.ts';
import { ComposeError } from '../../pkg/compose/tree.ts';
import { NAME_RE } from '../../pkg/container/names.ts';
import { projectFromYaml } from '../compose/project.ts';

const NASTY_STRINGS = [
  '',
  ' ',
  'busybox',
  'busybox:latest',
  'a b',
  '../../etc',
  '/abs/path',
  '80',
  '80:80',
  '8080:80/udp',
  '80:abc',
  '127.0.0.1:80:80',
  '[::1]:80:80',
  '1-3:1-3',
  '65536:80',
  '-1',
  '0',
  '1g',
  '512m',
  '1.5',
  '1e400',
  'true',
  'no',
  'always',
  'on-failure:3',
  'on-failure:x',
  'KEY=value',
  '=',
  '${X}',
  '${X:-d}',
  '${X:?must be set}',
  '${',
  '$$',
  '$',
  './data:/data',
  'vol:/data:ro',
  'vol:/data:zz',
  '/host:relative',
  'service_healthy',
  '10s',
  '-5s',
  '1h2m',
  'CMD-SHELL',
  'web',
  'db',
  'é',
  '\u0000',
];

const scalar = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, 80, 65535, 65536, 1.5, 1e21, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

// Keys of services, their long forms, networks and volumes, and two that tsnet does not take.
const KEYS = (
  'image build command entrypoint environment ports expose volumes networks depends_on restart healthcheck ' +
  'deploy mem_limit cpus hostname user working_dir labels init context dockerfile args target published ' +
  'protocol source type read_only condition test interval retries resources limits memory driver driver_opts ' +
  'ipam config subnet gateway external name aliases container_name x-extra'
).split(' ');

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS, ...NASTY_STRINGS.slice(0, 12)), tie('value'), { maxKeys: 4 }),
  ),
}));

const serviceName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('web', 'db', 'x.y', 'w-1') },
  { weight: 1, arbitrary: fc.constantFrom('a b', '../x', 'UPPER', '-x', '', 'é', '.') },
);
const nasty = fc.constantFrom(...NASTY_STRINGS);
/** Usually a value of the shape the key takes, sometimes anything. */
const plausible = (...shapes: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: fc.oneof(...shapes) }, { weight: 1, arbitrary: value });
const strings = fc.array(nasty, { maxLength: 3 });
const stringMap = fc.dictionary(
  fc.constantFrom('A', 'B_1', 'a b', '', '=x'),
  fc.oneof(nasty, fc.constant(null)),
  {
    maxKeys: 3,
  },
);
const SERVICE_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  image: plausible(fc.constantFrom('busybox', 'busybox:1', 'reg:5000/a/b@sha256:00', 'UPPER', 'a b')),
  command: plausible(nasty, strings),
  entrypoint: plausible(nasty, strings),
  environment: plausible(stringMap, strings),
  ports: plausible(
    fc.array(fc.oneof(nasty, fc.record({ target: scalar, published: scalar, protocol: nasty })), {
      maxLength: 3,
    }),
  ),
  expose: plausible(fc.array(fc.oneof(nasty, scalar), { maxLength: 2 })),
  volumes: plausible(
    fc.array(fc.oneof(nasty, fc.record({ type: nasty, source: nasty, target: nasty, read_only: scalar })), {
      maxLength: 2,
    }),
  ),
  networks: plausible(
    fc.array(serviceName, { maxLength: 2 }),
    fc.dictionary(serviceName, fc.oneof(fc.constant(null), fc.record({ aliases: strings })), { maxKeys: 2 }),
  ),
  depends_on: plausible(
    fc.array(serviceName, { maxLength: 2 }),
    fc.dictionary(serviceName, fc.record({ condition: nasty }), { maxKeys: 2 }),
  ),
  restart: plausible(
    fc.constantFrom(
      'no',
      'always',
      'unless-stopped',
      'on-failure',
      'on-failure:2',
      'on-failure:-1',
      'sometimes',
    ),
  ),
  healthcheck: plausible(
    fc.record(
      { test: plausible(strings, nasty), interval: nasty, retries: scalar, disable: scalar },
      { requiredKeys: [] },
    ),
  ),
  deploy: plausible(
    fc.record({
      resources: fc.record({ limits: fc.record({ memory: nasty, cpus: scalar }, { requiredKeys: [] }) }),
    }),
  ),
  mem_limit: plausible(nasty, scalar),
  cpus: plausible(scalar),
  hostname: plausible(nasty),
  user: plausible(nasty),
  working_dir: plausible(nasty),
  labels: plausible(stringMap, strings),
  init: plausible(fc.boolean()),
  build: plausible(
    nasty,
    fc.record({ context: nasty, dockerfile: nasty, args: stringMap, target: nasty }, { requiredKeys: [] }),
  ),
  container_name: nasty,
  'x-extra': value,
};
const service = fc.oneof(
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }) },
  {
    weight: 6,
    arbitrary: fc
      .subarray(Object.keys(SERVICE_VALUES), { maxLength: 4 })
      .chain((keys) =>
        fc.record(
          Object.fromEntries(['image', ...keys].map((k) => [k, SERVICE_VALUES[k] as fc.Arbitrary<unknown>])),
        ),
      ),
  },
);
const declaration = plausible(
  fc.constant(null),
  fc.record(
    {
      driver: nasty,
      external: scalar,
      name: nasty,
      labels: stringMap,
      driver_opts: stringMap,
      ipam: fc.record({
        config: fc.array(fc.record({ subnet: nasty, gateway: nasty }, { requiredKeys: [] }), {
          maxLength: 2,
        }),
      }),
    },
    { requiredKeys: [] },
  ),
);
const project = fc.record(
  {
    services: plausible(fc.dictionary(serviceName, service, { minKeys: 1, maxKeys: 3 })),
    networks: fc.dictionary(serviceName, declaration, { maxKeys: 2 }),
    volumes: fc.dictionary(serviceName, declaration, { maxKeys: 2 }),
    name: scalar,
  },
  { requiredKeys: ['services'] },
);

const ENV = { X: 'from-env', EMPTY: '' };

/** Loads the text and describes every container, network and volume; returns how it ended. */
function loadAndDescribe(text: string): 'project' | 'refused' {
  try {
    const p = projectFromYaml(text, ENV);
    for (const s of Object.values(p.services)) {
      const { name, spec } = serviceCreateSpec(p, s);
      if (!NAME_RE.test(name)) throw new Error(`service ${JSON.stringify(s.name)} gives container ${name}`);
      if (spec.Image !== undefined && typeof spec.Image !== 'string')
        throw new Error('image is not a string');
    }
    for (const key of Object.keys(p.networks)) networkCreateRequest(p, key);
    for (const key of Object.keys(p.volumes)) volumeCreateRequest(p, key);
    return 'project';
  } catch (err) {
    if (err instanceof ComposeError || err instanceof InterpolationError) {
      if (!/^compose\.yaml:\d+:\d+: /.test(err.message) && err instanceof ComposeError)
        throw new Error(`a ComposeError without a position: ${err.message}`);
      if (err.message.includes('\n')) throw new Error(`a multi-line error: ${err.message}`);
      return 'refused';
    }
    throw err;
  }
}

test('random compose projects: a project the engine can take, or one positioned ComposeError', (t) => {
  const seen = { project: 0, refused: 0 };
  fc.assert(
    fc.property(project, (doc) => {
      seen[loadAndDescribe(stringify(doc))]++;
    }),
    { numRuns: 800 },
  );
  t.log(seen);
  t.true(seen.project > 0 && seen.refused > 0, 'both outcomes were exercised');
});

test('random text and mangled YAML: never anything but a ComposeError', (t) => {
  const base = stringify({
    services: { web: { image: 'busybox', ports: ['80:80'], environment: { A: '${X}' } } },
  });
  const text = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(':', '-', ' ', '\n', '{', '[', '"', "'", '&', '*', '<<', '$', 'a') }),
    fc
      .tuple(fc.nat(base.length), fc.string({ maxLength: 5 }))
      .map(([at, ins]) => base.slice(0, at) + ins + base.slice(at)),
  );
  fc.assert(
    fc.property(text, (s) => {
      loadAndDescribe(s);
    }),
    { numRuns: 1000 },
  );
  t.is(loadAndDescribe(base), 'project');
});
