// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are compose files' ${VAR} substitutions, not templates
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadProject, normalizeProjectName } from '../../pkg/compose/load.ts';
import { ComposeError } from '../../pkg/compose/tree.ts';
import { withTempDir } from '../helpers/tmp.ts';

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

test('an error names file:line:column and the path of the bad value', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml': ['services:', '  web:', '    image: nginx', '    ports:', '      - "80:abc"', ''].join(
        '\n',
      ),
    });
    const err = t.throws(() => loadProject({ cwd: dir, env: {} }), { instanceOf: ComposeError });
    t.is(err?.message, 'compose.yaml:5:9: services.web.ports[0]: invalid port "80:abc"');
  });
});

test('an unknown key is refused where it was written; x- extensions are ignored', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml':
        'x-common: &c\n  image: busybox\nservices:\n  web:\n    <<: *c\n    x-note: hi\n    imagee: nginx\n',
    });
    const err = t.throws(() => loadProject({ cwd: dir, env: {} }), { instanceOf: ComposeError });
    t.is(err?.message, 'compose.yaml:7:5: services.web.imagee: unknown key "imagee"');
    write(dir, { 'compose.yaml': 'services:\n  web:\n    image: nginx\n    container_name: w\n' });
    t.throws(() => loadProject({ cwd: dir, env: {} }), {
      message: /compose\.yaml:4:5: services\.web\.container_name: container_name is not supported/,
    });
  });
});

test('YAML merge keys and anchors are followed', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml':
        'x-common: &c\n  image: busybox\n  restart: always\nservices:\n  web:\n    <<: *c\n    restart: "no"\n',
    });
    const { project } = loadProject({ cwd: dir, env: {} });
    t.is(project.services.web?.image, 'busybox');
    t.is(project.services.web?.restart, 'no');
  });
});

test('invalid YAML and interpolation errors carry positions', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, { 'compose.yaml': 'services:\n  web:\n    image: "unterminated\n' });
    t.throws(() => loadProject({ cwd: dir, env: {} }), { message: /^compose\.yaml:\d+:\d+: invalid YAML/ });
    write(dir, { 'compose.yaml': 'services:\n  web:\n    image: ${TAG:?set TAG}\n' });
    t.throws(() => loadProject({ cwd: dir, env: {} }), {
      message: 'compose.yaml:3:12: services.web.image: required variable TAG is missing a value: set TAG',
    });
  });
});

test('.env feeds interpolation, the environment wins over it, unset variables warn', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      '.env': '# comment\nTAG=1.0\nexport PORT=8080\nQUOTED="a b"\nHOST=${PORT}-x\n',
      'compose.yaml':
        'services:\n  web:\n    image: nginx:${TAG}\n    ports: ["${PORT}:80"]\n    environment:\n      Q: ${QUOTED}\n      H: $HOST\n      M: ${MISSING}\n',
    });
    const { project, warnings } = loadProject({ cwd: dir, env: { PORT: '9090' } });
    t.is(project.services.web?.image, 'nginx:1.0');
    t.deepEqual(project.services.web?.ports, [{ target: 80, published: '9090', protocol: 'tcp' }]);
    t.deepEqual(project.services.web?.environment, { Q: 'a b', H: '9090-x', M: '' });
    t.deepEqual(warnings, [
      'compose.yaml:8:10: the "MISSING" variable is not set, defaulting to a blank string',
    ]);
  });
});

test('the default file names are found, in a parent directory too', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, { 'docker-compose.yml': 'services:\n  a:\n    image: busybox\n' });
    mkdirSync(join(dir, 'sub'));
    const { project } = loadProject({ cwd: join(dir, 'sub'), env: {} });
    t.deepEqual(project.configFiles, [join(dir, 'docker-compose.yml')]);
    t.is(project.workingDir, dir);
    write(dir, { 'compose.yaml': 'services:\n  b:\n    image: busybox\n' });
    t.deepEqual(Object.keys(loadProject({ cwd: dir, env: {} }).project.services), ['b']);
  });
});

test('no compose file is a clear error', async (t) => {
  await withTempDir(async (dir) => {
    t.throws(() => loadProject({ cwd: dir, env: {} }), { message: /no configuration file provided/ });
  });
});

test('the project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, 'My App.v2');
    mkdirSync(dir);
    write(dir, { 'compose.yaml': 'services:\n  a:\n    image: busybox\n' });
    t.is(loadProject({ cwd: dir, env: {} }).project.name, 'myappv2');
    write(dir, { 'compose.yaml': 'name: named\nservices:\n  a:\n    image: busybox\n' });
    t.is(loadProject({ cwd: dir, env: {} }).project.name, 'named');
    t.is(loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' } }).project.name, 'fromenv');
    t.is(
      loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' }, projectName: 'flag' }).project.name,
      'flag',
    );
    t.throws(() => loadProject({ cwd: dir, env: {}, projectName: 'Bad Name' }), {
      message: /invalid project name "Bad Name" \(-p\)/,
    });
  });
  t.is(normalizeProjectName('_My-Project_1'), 'my-project_1');
});

test('two files merge by the Compose Specification rules', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    command: ["nginx", "-g", "daemon off;"]',
        '    environment: ["A=1", "B=2"]',
        '    labels: {one: "1"}',
        '    ports: ["80:80"]',
        '    expose: ["9000"]',
        '    volumes: ["./html:/usr/share/nginx/html", "data:/data"]',
        '    depends_on: [db]',
        '    healthcheck: {test: ["CMD", "true"], interval: 10s}',
        '  db:',
        '    image: postgres',
        'volumes:',
        '  data:',
        '',
      ].join('\n'),
      'override.yaml': [
        'services:',
        '  web:',
        '    image: nginx:alpine',
        '    command: nginx -T',
        '    environment: {B: "3", C: "4"}',
        '    labels: ["two=2"]',
        '    ports: ["80:80", "443:443"]',
        '    expose: ["9000", "9001"]',
        '    volumes: ["./other:/usr/share/nginx/html:ro"]',
        '    depends_on: {cache: {condition: service_healthy}}',
        '    healthcheck: {test: "exit 0"}',
        '  cache:',
        '    image: redis',
        '',
      ].join('\n'),
    });
    const { project } = loadProject({ cwd: dir, env: {}, files: ['compose.yaml', 'override.yaml'] });
    const web = project.services.web;
    t.is(web?.image, 'nginx:alpine');
    t.deepEqual(web?.command, ['nginx', '-T']); // replaced, not appended
    t.deepEqual(web?.environment, { A: '1', B: '3', C: '4' });
    t.deepEqual(web?.labels, { one: '1', two: '2' });
    t.deepEqual(
      web?.ports.map((p) => p.target),
      [80, 443],
    );
    t.deepEqual(web?.expose, ['9000/tcp', '9001/tcp']);
    t.deepEqual(
      web?.volumes.map((v) => [v.source, v.target, v.read_only]),
      [
        [join(dir, 'other'), '/usr/share/nginx/html', true],
        ['data', '/data', false],
      ],
    );
    t.deepEqual(Object.keys(web?.depends_on ?? {}), ['db', 'cache']);
    t.is(web?.depends_on.cache?.condition, 'service_healthy');
    t.deepEqual(web?.healthcheck?.test, ['CMD-SHELL', 'exit 0']);
    t.is(web?.healthcheck?.interval, 10e9); // kept from the base
    t.deepEqual(Object.keys(project.services).sort(), ['cache', 'db', 'web']);
    t.deepEqual(project.configFiles, [join(dir, 'compose.yaml'), join(dir, 'override.yaml')]);
  });
});

test('an error in the second file names that file', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml': 'services:\n  web:\n    image: nginx\n',
      'b.yaml': 'services:\n  web:\n    restart: sometimes\n',
    });
    t.throws(() => loadProject({ cwd: dir, env: {}, files: ['compose.yaml', 'b.yaml'] }), {
      message: /^b\.yaml:3:14: services\.web\.restart: invalid restart policy "sometimes"/,
    });
  });
});

test('env_file is read relative to the project dir, environment overrides it', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'web.env': 'A=from-file\nB=from-file\n',
      'compose.yaml':
        'services:\n  web:\n    image: nginx\n    env_file: web.env\n    environment: [B=inline, FROM_SHELL]\n',
    });
    const { project } = loadProject({ cwd: dir, env: { FROM_SHELL: 'sh' } });
    t.deepEqual(project.services.web?.environment, { A: 'from-file', B: 'inline', FROM_SHELL: 'sh' });
    write(dir, { 'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file: [missing.env]\n' });
    t.throws(() => loadProject({ cwd: dir, env: {} }), {
      message: /^compose\.yaml:4:16: services\.web\.env_file\[0\]: .*missing\.env: no such file/,
    });
  });
});

test('COMPOSE_FILE names the files; an obsolete version: warns', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'a.yaml': 'version: "3.8"\nservices:\n  a:\n    image: busybox\n',
      'b.yaml': 'services:\n  a:\n    command: ["true"]\n',
    });
    const { project, warnings } = loadProject({ cwd: dir, env: { COMPOSE_FILE: 'a.yaml:b.yaml' } });
    t.deepEqual(project.configFiles, [join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
    t.deepEqual(project.services.a?.command, ['true']);
    t.deepEqual(warnings, ['a.yaml:1:1: the attribute "version" is obsolete, it will be ignored']);
  });
});

test('merging build: the string form becomes a context, args merge as maps', async (t) => {
  await withTempDir(async (dir) => {
    write(dir, {
      'compose.yaml': 'services:\n  a:\n    build: ./src\n',
      'b.yaml': 'services:\n  a:\n    build:\n      args: [X=1, Y=2]\n',
      'c.yaml': 'services:\n  a:\n    build:\n      dockerfile: Dockerfile.dev\n      args: {Y: "3"}\n',
    });
    const { project } = loadProject({ cwd: dir, env: {}, files: ['compose.yaml', 'b.yaml', 'c.yaml'] });
    t.deepEqual(project.services.a?.build, {
      context: join(dir, 'src'),
      dockerfile: 'Dockerfile.dev',
      args: { X: '1', Y: '3' },
    });
  });
});
