// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are compose files' ${VAR} substitutions, not templates
import test from 'ava';
import { parse } from 'yaml';
import { projectConfigYaml } from '../../pkg/compose/config-output.ts';
import { splitShellWords } from '../../pkg/compose/shell-words.ts';
import { formatGoDuration, parseGoDuration } from '../../pkg/time/go-duration.ts';
import { PROJECT_DIR, projectFromYaml } from './project.ts';

function service(body: string, extra = '', env: Record<string, string> = {}) {
  const text = `services:\n  s:\n${body.replace(/^/gm, '    ')}\n${extra}`;
  const p = projectFromYaml(text, env);
  const s = p.services.s;
  if (!s) throw new Error('no service');
  return s;
}

test('build: the string form and the long form', (t) => {
  t.deepEqual(service('build: ./web').build, {
    context: `${PROJECT_DIR}/web`,
    dockerfile: 'Dockerfile',
    args: {},
  });
  t.deepEqual(
    service('build:\n  context: ctx\n  dockerfile: Dockerfile.dev\n  args: [A=1, B]\n  target: dev').build,
    { context: `${PROJECT_DIR}/ctx`, dockerfile: 'Dockerfile.dev', args: { A: '1', B: null }, target: 'dev' },
  );
  t.deepEqual(service('build: {context: /abs, args: {X: "y"}}').build?.args, { X: 'y' });
  t.throws(() => service('restart: always'), {
    message: /compose\.yaml:3:5: services\.s: service "s" has neither an image nor a build context/,
  });
});

test('command and entrypoint: a string is shell-split, a list kept', (t) => {
  t.deepEqual(service('image: x\ncommand: sh -c "echo \'a b\' $$HOME"').command, [
    'sh',
    '-c',
    "echo 'a b' $HOME",
  ]);
  t.deepEqual(service('image: x\ncommand: ["echo", "a b"]').command, ['echo', 'a b']);
  t.deepEqual(service("image: x\nentrypoint: /bin/sh -c 'x y'").entrypoint, ['/bin/sh', '-c', 'x y']);
  t.deepEqual(service('image: x\nentrypoint: []').entrypoint, []);
  t.throws(() => service('image: x\ncommand: echo "open'), {
    message: /services\.s\.command: unterminated double quote/,
  });
});

test('shell splitting follows go-shellwords', (t) => {
  t.deepEqual(splitShellWords(`a  "b c" 'd "e"' f\\ g "h\\"i" ''`), ['a', 'b c', 'd "e"', 'f g', 'h"i', '']);
});

test('environment: a list or a map; a bare name takes the shell value or stays null', (t) => {
  t.deepEqual(service('image: x\nenvironment: [A=1, B=, C, D]', '', { C: 'shell' }).environment, {
    A: '1',
    B: '',
    C: 'shell',
    D: null,
  });
  t.deepEqual(service('image: x\nenvironment: {A: 1, B: true, C: null}').environment, {
    A: '1',
    B: 'true',
    C: null,
  });
});

test('ports: the short forms and the long syntax', (t) => {
  const ports = service(
    'image: x\nports:\n  - 80\n  - "8080:80"\n  - "127.0.0.1:8081:81/udp"\n  - "127.0.0.1::82"\n  - "[::1]:8083:83"\n  - "9000-9001:90-91"\n  - "7000-7010:70"\n  - target: 443\n    published: "8443"\n    host_ip: 0.0.0.0\n    protocol: tcp\n  - {target: 53, protocol: UDP}',
  ).ports;
  t.deepEqual(ports, [
    { target: 80, protocol: 'tcp' },
    { target: 80, published: '8080', protocol: 'tcp' },
    { target: 81, published: '8081', host_ip: '127.0.0.1', protocol: 'udp' },
    { target: 82, host_ip: '127.0.0.1', protocol: 'tcp' },
    { target: 83, published: '8083', host_ip: '::1', protocol: 'tcp' },
    { target: 90, published: '9000', protocol: 'tcp' },
    { target: 91, published: '9001', protocol: 'tcp' },
    { target: 70, published: '7000-7010', protocol: 'tcp' },
    { target: 443, published: '8443', host_ip: '0.0.0.0', protocol: 'tcp' },
    { target: 53, protocol: 'udp' },
  ]);
  for (const bad of ['"80:abc"', '"0"', '"70000"', '"80/icmp"', '"1-3:1-2"']) {
    t.throws(
      () => service(`image: x\nports: [${bad}]`),
      { message: /compose\.yaml:4:\d+: services\.s\.ports\[0\]: invalid (port|protocol)/ },
      bad,
    );
  }
});

test('expose: numbers, ranges and protocols', (t) => {
  t.deepEqual(service('image: x\nexpose: [3000, "4000-4001", "53/udp"]').expose, [
    '3000/tcp',
    '4000/tcp',
    '4001/tcp',
    '53/udp',
  ]);
});

test('volumes: short and long, bind and named, relative paths resolved', (t) => {
  const vols = service(
    'image: x\nvolumes:\n  - ./data:/data\n  - ~/cfg:/cfg:ro\n  - /abs:/abs:rw,rshared\n  - named:/named:nocopy\n  - /anon\n  - type: bind\n    source: ../up\n    target: /up\n    read_only: true\n    bind: {create_host_path: false, propagation: rslave}\n  - {type: volume, source: named, target: /n2, volume: {nocopy: true}}\n  - {type: tmpfs, target: /tmp, tmpfs: {size: 64m}}',
    'volumes:\n  named:\n',
  ).volumes;
  t.deepEqual(vols, [
    {
      type: 'bind',
      source: `${PROJECT_DIR}/data`,
      target: '/data',
      read_only: false,
      bind: { create_host_path: true },
    },
    {
      type: 'bind',
      source: '/home/u/cfg',
      target: '/cfg',
      read_only: true,
      bind: { create_host_path: true },
    },
    {
      type: 'bind',
      source: '/abs',
      target: '/abs',
      read_only: false,
      bind: { create_host_path: true, propagation: 'rshared' },
    },
    { type: 'volume', source: 'named', target: '/named', read_only: false, volume: { nocopy: true } },
    { type: 'volume', target: '/anon', read_only: false },
    {
      type: 'bind',
      source: '/srv/up',
      target: '/up',
      read_only: true,
      bind: { create_host_path: false, propagation: 'rslave' },
    },
    { type: 'volume', source: 'named', target: '/n2', read_only: false, volume: { nocopy: true } },
    { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs: { size: 64 * 1024 * 1024 } },
  ]);
  t.throws(() => service('image: x\nvolumes: ["undeclared:/x"]'), {
    message: /services\.s\.volumes: service "s" refers to undefined volume undeclared/,
  });
  t.throws(() => service('image: x\nvolumes: ["./a:relative"]'), { message: /must be an absolute path/ });
});

test('networks: a list or a map with aliases and ipv4_address; default when absent', (t) => {
  const nets = 'networks:\n  front:\n  back:\n';
  t.deepEqual(service('image: x').networks, { default: { aliases: [] } });
  t.deepEqual(service('image: x\nnetworks: [front, back]', nets).networks, {
    front: { aliases: [] },
    back: { aliases: [] },
  });
  t.deepEqual(
    service('image: x\nnetworks:\n  front:\n    aliases: [www]\n    ipv4_address: 10.5.0.5\n  back:', nets)
      .networks,
    {
      front: { aliases: ['www'], ipv4_address: '10.5.0.5' },
      back: { aliases: [] },
    },
  );
  t.throws(() => service('image: x\nnetworks: [nowhere]'), {
    message: /refers to undefined network nowhere/,
  });
});

test('depends_on: a list or a map with conditions', (t) => {
  const deps = 'services:\n  a:\n    image: x\n  b:\n    image: x\n  c:\n    image: x\n';
  const p = projectFromYaml(`${deps}  s:\n    image: x\n    depends_on: [a, b]\n`);
  t.deepEqual(p.services.s?.depends_on, {
    a: { condition: 'service_started', restart: false, required: true },
    b: { condition: 'service_started', restart: false, required: true },
  });
  const q = projectFromYaml(
    `${deps}  s:\n    image: x\n    depends_on:\n      a: {condition: service_healthy, restart: true}\n      b: {condition: service_completed_successfully}\n      c:\n`,
  );
  t.deepEqual(q.services.s?.depends_on, {
    a: { condition: 'service_healthy', restart: true, required: true },
    b: { condition: 'service_completed_successfully', restart: false, required: true },
    c: { condition: 'service_started', restart: false, required: true },
  });
  t.throws(
    () => projectFromYaml(`${deps}  s:\n    image: x\n    depends_on: {a: {condition: service_ready}}\n`),
    { message: /invalid condition "service_ready"/ },
  );
  t.throws(() => projectFromYaml(`${deps}  s:\n    image: x\n    depends_on: [zz]\n`), {
    message: /depends on undefined service "zz"/,
  });
});

test('restart policies', (t) => {
  for (const r of ['no', 'always', 'on-failure', 'on-failure:3', 'unless-stopped']) {
    t.is(service(`image: x\nrestart: "${r}"`).restart as string | undefined, r);
  }
  t.is(service('image: x\nrestart: no').restart, 'no'); // YAML 1.2: the string "no"
  t.throws(() => service('image: x\nrestart: on-failure:x'), { message: /invalid restart policy/ });
});

test('healthcheck: test forms, durations, retries, disable', (t) => {
  t.deepEqual(
    service(
      'image: x\nhealthcheck:\n  test: ["CMD", "curl", "-f", "http://localhost"]\n  interval: 1m30s\n  timeout: 10s\n  start_period: 40s\n  retries: 3',
    ).healthcheck,
    {
      test: ['CMD', 'curl', '-f', 'http://localhost'],
      interval: 90e9,
      timeout: 10e9,
      start_period: 40e9,
      retries: 3,
      disable: false,
    },
  );
  t.deepEqual(
    service('image: x\nhealthcheck:\n  test: curl -f http://localhost || exit 1').healthcheck?.test,
    ['CMD-SHELL', 'curl -f http://localhost || exit 1'],
  );
  t.deepEqual(service('image: x\nhealthcheck:\n  test: ["CMD-SHELL", "true"]').healthcheck?.test, [
    'CMD-SHELL',
    'true',
  ]);
  t.deepEqual(service('image: x\nhealthcheck:\n  test: ["NONE"]').healthcheck?.test, ['NONE']);
  t.deepEqual(service('image: x\nhealthcheck:\n  disable: true').healthcheck, {
    test: ['NONE'],
    disable: true,
  });
  t.throws(() => service('image: x\nhealthcheck:\n  test: ["curl"]'), {
    message: /starts with "CMD", "CMD-SHELL" or "NONE"/,
  });
  t.throws(() => service('image: x\nhealthcheck:\n  interval: 10 sec'), {
    message: /compose\.yaml:5:17: services\.s\.healthcheck\.interval: invalid duration/,
  });
});

test('Go durations parse and print as Go does', (t) => {
  t.is(parseGoDuration('1h2m3.5s'), 3723.5e9);
  t.is(parseGoDuration('500ms'), 500e6);
  t.is(parseGoDuration('10'), 10e9);
  t.is(formatGoDuration(90e9), '1m30s');
  t.is(formatGoDuration(3600e9), '1h0m0s');
  t.is(formatGoDuration(1.5e9), '1.5s');
  t.is(formatGoDuration(250e6), '250ms');
  t.throws(() => parseGoDuration('1x'));
});

test('limits: deploy.resources.limits, mem_limit and cpus', (t) => {
  t.deepEqual(service('image: x\ndeploy:\n  resources:\n    limits: {memory: 512m, cpus: "0.5"}').limits, {
    memory: 512 * 1024 * 1024,
    cpus: 0.5,
  });
  t.deepEqual(service('image: x\nmem_limit: 1g\ncpus: 1.5').limits, { memory: 1024 ** 3, cpus: 1.5 });
  t.throws(() => service('image: x\nmem_limit: 1g\ndeploy: {resources: {limits: {memory: 2g}}}'), {
    message: /mem_limit and deploy\.resources\.limits\.memory differ/,
  });
  t.throws(() => service('image: x\nmem_limit: lots'), {
    message: /services\.s\.mem_limit: invalid size "lots"/,
  });
});

test('hostname, user, working_dir, labels, init', (t) => {
  const s = service(
    'image: x\nhostname: h\nuser: "1000:1000"\nworking_dir: /w\nlabels: [a=b, c]\ninit: true',
  );
  t.is(s.hostname, 'h');
  t.is(s.user, '1000:1000');
  t.is(s.working_dir, '/w');
  t.deepEqual(s.labels, { a: 'b', c: '' });
  t.true(s.init);
  t.deepEqual(service('image: x\nlabels: {k: v}').labels, { k: 'v' });
});

test('top-level networks: drivers, ipam, options, external, names', (t) => {
  const p = projectFromYaml(
    'services:\n  s:\n    image: x\nnetworks:\n  plain:\n  front:\n    driver: overlay\n    ipam:\n      config:\n        - subnet: 10.10.0.0/24\n          gateway: 10.10.0.1\n          ip_range: 10.10.0.128/25\n  lan:\n    driver: macvlan\n    driver_opts: {parent: eth1}\n  outside:\n    external: true\n  renamed:\n    name: custom-net\n',
  );
  t.is(p.networks.plain?.name, 'app_plain');
  t.deepEqual(p.networks.front?.ipam.config, [
    { subnet: '10.10.0.0/24', gateway: '10.10.0.1', ip_range: '10.10.0.128/25' },
  ]);
  t.is(p.networks.front?.driver, 'overlay');
  t.deepEqual(p.networks.lan?.driver_opts, { parent: 'eth1' });
  t.deepEqual([p.networks.outside?.name, p.networks.outside?.external], ['outside', true]);
  t.is(p.networks.renamed?.name, 'custom-net');
  t.is(p.networks.default?.name, 'app_default'); // the service uses the implicit default network
  t.throws(() => projectFromYaml('services:\n  s:\n    image: x\nnetworks:\n  n:\n    driver: host\n'), {
    message: /compose\.yaml:6:13: networks\.n\.driver: unsupported network driver "host"/,
  });
});

test('top-level volumes: external, name, driver_opts, labels', (t) => {
  const p = projectFromYaml(
    'services:\n  s:\n    image: x\nvolumes:\n  data:\n  old:\n    external: true\n  named:\n    name: my-data\n    driver_opts: {o: bind}\n    labels: {team: a}\n',
  );
  t.deepEqual(p.volumes.data, {
    name: 'app_data',
    driver: 'local',
    driver_opts: {},
    external: false,
    labels: {},
  });
  t.deepEqual([p.volumes.old?.name, p.volumes.old?.external], ['old', true]);
  t.deepEqual(p.volumes.named, {
    name: 'my-data',
    driver: 'local',
    driver_opts: { o: 'bind' },
    external: false,
    labels: { team: 'a' },
  });
});

test('the Compose Specification example (frontend/backend with configs left out)', (t) => {
  const p = projectFromYaml(`
services:
  frontend:
    image: example/webapp
    ports:
      - "443:8043"
    networks:
      - front-tier
      - back-tier
  backend:
    image: example/database
    volumes:
      - db-data:/etc/data
    networks:
      - back-tier
volumes:
  db-data:
    driver_opts: {}
networks:
  front-tier: {}
  back-tier: {}
`);
  t.deepEqual(Object.keys(p.services), ['frontend', 'backend']);
  t.deepEqual(Object.keys(p.networks), ['front-tier', 'back-tier']);
  t.is(p.volumes['db-data']?.name, 'app_db-data');
  t.deepEqual(p.services.frontend?.ports, [{ target: 8043, published: '443', protocol: 'tcp' }]);
});

test('compose config prints the normalized model, which loads back as the same model', (t) => {
  const text = [
    'services:',
    '  web:',
    '    image: nginx',
    '    command: nginx -g "daemon off;"',
    '    mem_limit: 64m',
    '    healthcheck: {test: "true", interval: 90s}',
    '    ports: ["8080:80"]',
    '    volumes: ["./html:/html:ro", "data:/data"]',
    '    depends_on: {db: {condition: service_healthy}}',
    '    environment: [A=1]',
    '  db:',
    '    image: busybox',
    '    networks: {back: {aliases: [database]}}',
    'networks:',
    '  back:',
    '    ipam: {config: [{subnet: 10.9.0.0/24}]}',
    'volumes:',
    '  data:',
    '',
  ].join('\n');
  const p = projectFromYaml(text);
  const printed = projectConfigYaml(p);
  const out = parse(printed);
  t.is(out.name, 'app');
  t.deepEqual(out.services.web.command, ['nginx', '-g', 'daemon off;']);
  t.is(out.services.web.healthcheck.interval, '1m30s');
  t.deepEqual(out.services.web.deploy, { resources: { limits: { memory: 64 * 1024 * 1024 } } });
  t.is(out.networks.default.name, 'app_default');
  t.deepEqual(Object.keys(out.services), ['db', 'web']);
  t.deepEqual(projectFromYaml(printed), p);
});
