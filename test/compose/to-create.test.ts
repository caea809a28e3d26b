import test from 'ava';
import {
  configHash,
  LABEL,
  networkCreateRequest,
  serviceCreateSpec,
  volumeCreateRequest,
} from '../../pkg/compose/to-create.ts';
import { PROJECT_DIR, projectFromYaml } from './project.ts';

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing');
  return value;
}

const APP = `
services:
  web:
    image: nginx:alpine
    command: ["nginx", "-g", "daemon off;"]
    entrypoint: /docker-entrypoint.sh
    environment: {A: "1", UNSET: null}
    ports: ["8080:80", "127.0.0.1::443", "53:53/udp"]
    expose: [9000]
    volumes:
      - ./html:/usr/share/nginx/html:ro
      - data:/data
      - /anon
      - {type: bind, source: /etc/ssl, target: /ssl, bind: {create_host_path: false}}
      - {type: tmpfs, target: /run, tmpfs: {size: 1m}}
    networks:
      front: {aliases: [www], ipv4_address: 10.1.0.10}
      back:
    depends_on: {db: {condition: service_healthy}}
    restart: on-failure:5
    healthcheck:
      test: ["CMD", "wget", "-q", "localhost"]
      interval: 30s
      timeout: 5s
      start_period: 1m
      start_interval: 2s
      retries: 3
    deploy: {resources: {limits: {memory: 256m, cpus: "0.25"}}}
    hostname: web1
    user: nginx
    working_dir: /srv
    labels: {tier: front}
    init: true
  db:
    build: ./db
    networks: [back]
networks:
  front:
    ipam: {config: [{subnet: 10.1.0.0/24, gateway: 10.1.0.1}]}
  back:
    driver: overlay
volumes:
  data:
`;

test('a service becomes Docker ContainerCreate body with Compose labels and names', (t) => {
  const p = projectFromYaml(APP);
  const { name, spec, configHash: hash } = serviceCreateSpec(p, must(p.services.web));
  t.is(name, 'app-web-1');
  t.is(spec.Image, 'nginx:alpine');
  t.deepEqual(spec.Cmd, ['nginx', '-g', 'daemon off;']);
  t.deepEqual(spec.Entrypoint, ['/docker-entrypoint.sh']);
  t.deepEqual(spec.Env, ['A=1']);
  t.is(spec.Hostname, 'web1');
  t.is(spec.User, 'nginx');
  t.is(spec.WorkingDir, '/srv');
  t.deepEqual(spec.ExposedPorts, { '9000/tcp': {}, '80/tcp': {}, '443/tcp': {}, '53/udp': {} });
  t.deepEqual(spec.HostConfig?.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '53/udp': [{ HostIp: '', HostPort: '53' }],
  });
  t.deepEqual(spec.HostConfig?.Binds, [`${PROJECT_DIR}/html:/usr/share/nginx/html:ro`]);
  t.deepEqual(spec.HostConfig?.Mounts, [
    { Type: 'volume', Source: 'app_data', Target: '/data' },
    { Type: 'volume', Target: '/anon' },
    { Type: 'bind', Source: '/etc/ssl', Target: '/ssl' },
    { Type: 'tmpfs', Target: '/run', TmpfsOptions: { SizeBytes: 1024 * 1024 } },
  ]);
  t.is(spec.HostConfig?.Memory, 256 * 1024 * 1024);
  t.is(spec.HostConfig?.NanoCpus, 250_000_000);
  t.deepEqual(spec.HostConfig?.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 5 });
  t.true(spec.HostConfig?.Init);
  t.deepEqual(spec.Healthcheck, {
    Test: ['CMD', 'wget', '-q', 'localhost'],
    Interval: 30_000_000_000,
    Timeout: 5_000_000_000,
    StartPeriod: 60_000_000_000,
    StartInterval: 2_000_000_000,
    Retries: 3,
  });
  t.is(spec.HostConfig?.NetworkMode, 'app_back');
  t.deepEqual(spec.NetworkingConfig?.EndpointsConfig, {
    app_back: { Aliases: ['web'] },
    app_front: { Aliases: ['web', 'www'], IPAMConfig: { IPv4Address: '10.1.0.10' } },
  });
  t.deepEqual(spec.Labels, {
    tier: 'front',
    [LABEL.project]: 'app',
    [LABEL.service]: 'web',
    [LABEL.containerNumber]: '1',
    [LABEL.oneoff]: 'False',
    [LABEL.configHash]: hash,
    [LABEL.workingDir]: PROJECT_DIR,
    [LABEL.configFiles]: `${PROJECT_DIR}/compose.yaml`,
    [LABEL.dependsOn]: 'db:service_healthy:false',
  });
  t.regex(hash, /^[0-9a-f]{64}$/);
});

test('a built service runs the image Compose names <project>-<service>', (t) => {
  const p = projectFromYaml(APP);
  const { name, spec } = serviceCreateSpec(p, must(p.services.db), 2);
  t.is(name, 'app-db-2');
  t.is(spec.Image, 'app-db');
  t.is(spec.Labels?.[LABEL.containerNumber], '2');
  t.is(spec.HostConfig?.NetworkMode, 'app_back');
  t.is(spec.Healthcheck, undefined);
});

test('the config hash changes with the configuration, not with key order or the build section', (t) => {
  const a = projectFromYaml(
    'services:\n  s:\n    image: x\n    environment: {A: "1", B: "2"}\n    build: ./one\n',
  );
  const b = projectFromYaml(
    'services:\n  s:\n    build: ./two\n    environment: {B: "2", A: "1"}\n    image: x\n',
  );
  const c = projectFromYaml('services:\n  s:\n    image: x\n    environment: {A: "1", B: "3"}\n');
  t.is(configHash(must(a.services.s)), configHash(must(b.services.s)));
  t.not(configHash(must(a.services.s)), configHash(must(c.services.s)));
});

test('disabling the healthcheck sends Test ["NONE"]', (t) => {
  const p = projectFromYaml('services:\n  s:\n    image: x\n    healthcheck: {disable: true}\n');
  t.deepEqual(serviceCreateSpec(p, must(p.services.s)).spec.Healthcheck, { Test: ['NONE'] });
});

test('networks and volumes become Create requests carrying the project labels', (t) => {
  const p = projectFromYaml(APP);
  t.deepEqual(networkCreateRequest(p, 'front'), {
    name: 'app_front',
    driver: 'bridge',
    pools: [{ subnet: '10.1.0.0/24', gateway: '10.1.0.1', ipRange: '' }],
    options: {},
    labels: { [LABEL.project]: 'app', [LABEL.network]: 'front' },
    internal: false,
    checkDuplicateOk: true,
  });
  t.is(networkCreateRequest(p, 'back').driver, 'overlay');
  t.deepEqual(volumeCreateRequest(p, 'data'), {
    name: 'app_data',
    driver: 'local',
    options: {},
    labels: { [LABEL.project]: 'app', [LABEL.volume]: 'data' },
  });
});
