// deploy/kubernetes/*.yaml: every object validates against the Kubernetes OpenAPI schemas (kubernetes-models'
// compiled validators); the DaemonSet's init step, run as the manifest says in a temporary root, installs
// plugins that work; etcd over https gets its CA and client certificate from a mounted Secret; the agent sees
// the host paths the CNI requests it serves name.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { PLUGIN_CACHE_DIR } from '../../pkg/cni/socket-protocol.ts';
import { withNetnses } from '../helpers/netns.ts';
import { DIST_CNI, REPO_ROOT } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { addNoneFrom } from './plugin-run.ts';

const run = promisify(execFile);
const MANIFEST_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [key: string]: unknown;
}
interface VolumeMount {
  name: string;
  mountPath: string;
  mountPropagation?: string;
  readOnly?: boolean;
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
  volumeMounts?: VolumeMount[];
  securityContext?: { privileged?: boolean };
}
interface Volume {
  name: string;
  hostPath?: { path: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
interface PodSpec {
  hostPID?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

function manifests(): { file: string; objects: K8sObject[] }[] {
  return readdirSync(MANIFEST_DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .map((file) => {
      const docs = parseAllDocuments(readFileSync(join(MANIFEST_DIR, file), 'utf8'));
      for (const doc of docs) if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return { file, objects: docs.map((d) => d.toJS() as K8sObject).filter(Boolean) };
    });
}

function find(kind: string, name: string): K8sObject {
  const found = manifests()
    .flatMap((m) => m.objects)
    .find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
}

const daemonSet = () =>
  find('DaemonSet', 'tsnet-agent') as K8sObject & { spec: { template: { spec: PodSpec } } };
const podSpec = (): PodSpec => daemonSet().spec.template.spec;
const configData = (): Record<string, string> =>
  (find('ConfigMap', 'tsnet-config') as K8sObject & { data: Record<string, string> }).data;
const agentContainer = (): Container => {
  const agent = podSpec().containers.find((c) => c.name === 'agent');
  if (!agent) throw new Error('the DaemonSet has no agent container');
  return agent;
};

/** A model class of kubernetes-models: validate() throws on a schema violation. */
type Model = new (data: unknown) => { validate(): void };

test('every object in deploy/kubernetes validates against the Kubernetes OpenAPI schemas', async (t) => {
  const all = manifests();
  t.true(all.length > 0);
  for (const { file, objects } of all) {
    t.true(objects.length > 0, file);
    for (const obj of objects) {
      const what = `${file}: ${obj.kind} ${obj.metadata?.name}`;
      // apiVersion `v1` or `apps/v1` is the package's module path; its export named after the kind is the model.
      const models = (await import(`kubernetes-models/${obj.apiVersion}`)) as Record<string, Model>;
      const Kind = models[obj.kind];
      if (!Kind) {
        t.fail(`${what}: kubernetes-models has no ${obj.apiVersion} ${obj.kind}`);
        continue;
      }
      t.notThrows(() => new Kind(obj).validate(), what);
    }
  }
});

test('the validation can fail: a mistyped manifest is refused', async (t) => {
  const { DaemonSet } = (await import('kubernetes-models/apps/v1')) as unknown as Record<string, Model>;
  const broken = structuredClone(daemonSet());
  (broken.spec.template.spec.containers[0] as unknown as { volumeMounts: unknown }).volumeMounts = [
    { name: 'x', mountPath: 5 },
  ];
  t.throws(() => new (DaemonSet as Model)(broken).validate(), { message: /mountPath must be string/ });
});

/**
 * The image's files the init step reads, laid out under `root` as deploy/Containerfile copies them: the built
 * plugins at /opt/tsnet/dist/cni and every script it COPYs from deploy/.
 */
function imageTree(root: string): void {
  cpSync(DIST_CNI, join(root, 'opt/tsnet/dist/cni'), { recursive: true });
  const containerfile = readFileSync(join(REPO_ROOT, 'deploy', 'Containerfile'), 'utf8');
  for (const m of containerfile.matchAll(/^COPY\s+(deploy\/\S+)\s+(\/\S+)$/gm)) {
    mkdirSync(join(root, m[2] ?? '', '..'), { recursive: true });
    copyFileSync(join(REPO_ROOT, m[1] ?? ''), join(root, m[2] ?? ''));
  }
}

test("the init container's command, run in a temp root, installs working plugins and the conflist", (t) =>
  withTempDir(async (root) => {
    imageTree(root);
    const init = podSpec().initContainers?.find((c) => c.name === 'install-cni');
    if (!init?.command) throw new Error('no install-cni init container with a command');
    // The manifest's own command, its absolute paths moved into the temp root (ROOT tells the script).
    const argv = init.command.map((a) => a.replace(/(^|\s)\/(opt\/tsnet|host)\//g, `$1${root}/$2/`));
    // The pod's volume mounts exist before the command runs (hostPath volumes, DirectoryOrCreate).
    for (const m of init.volumeMounts ?? []) mkdirSync(join(root, m.mountPath), { recursive: true });
    const conflistKey = init.env?.find((e) => e.name === 'CONFLIST')?.valueFrom?.configMapKeyRef?.key;
    t.is(conflistKey, 'cni-conflist');
    const conflist = configData()['cni-conflist'] ?? '';
    await t.notThrowsAsync(
      run(argv[0] ?? '', argv.slice(1), {
        cwd: root,
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CONFLIST: conflist, ROOT: root },
      }),
    );

    const bin = join(root, 'host/opt/cni/bin');
    const mounted = (init.volumeMounts ?? []).map((m) => m.mountPath);
    t.true(
      mounted.includes('/host/opt/cni/bin') && mounted.includes('/host/etc/cni/net.d'),
      mounted.join(' '),
    );
    // all of dist/cni but the plugins' code caches: each host makes its own
    const built = readdirSync(DIST_CNI).filter((name) => name !== PLUGIN_CACHE_DIR);
    t.deepEqual(readdirSync(bin).sort(), built.sort());
    t.true(existsSync(join(bin, 'tsnet-native')));
    const written = readFileSync(join(root, 'host/etc/cni/net.d/10-tsnet.conflist'), 'utf8');
    t.deepEqual(JSON.parse(written), JSON.parse(conflist));

    // A plugin from the host's bin dir finds its native module: ADD of tsnet-none in a test namespace.
    await withNetnses('k8sinit', 1, async ([ctr]) => {
      const added = await addNoneFrom(bin, ctr!.path, 'k8s-init');
      t.is(added.code, 0, added.stdout);
      t.like(added.json, { cniVersion: '1.0.0' });
    });
  }));

/** `--flag=value` or `--flag value` in a container's args. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
    if (a === flag) return args[i + 1];
  }
  return undefined;
}

test('etcd over https: CA, client certificate and key come from a mounted Secret and are passed as flags', (t) => {
  t.regex(configData()['etcd-endpoints'] ?? '', /^https:\/\//);
  const agent = agentContainer();
  const volumes = podSpec().volumes ?? [];
  for (const [flag, key] of [
    ['--etcd-cafile', 'ca.crt'],
    ['--etcd-certfile', 'tls.crt'],
    ['--etcd-keyfile', 'tls.key'],
  ] as const) {
    const file = flagValue(agent.args ?? [], flag);
    if (!file) {
      t.fail(`the agent is not given ${flag}`);
      continue;
    }
    const mount = (agent.volumeMounts ?? []).find((m) => file === `${m.mountPath}/${key}`);
    const volume = volumes.find((v) => v.name === mount?.name);
    t.truthy(volume?.secret?.secretName, `${flag} ${file} is not a key of a mounted Secret`);
    t.true(mount?.readOnly, `${flag}: the Secret is mounted read-only`);
    if (volume?.secret?.items) t.true(volume.secret.items.some((i) => i.key === key && i.path === key));
  }
});

test('the agent container mounts the host paths CNI requests name, propagating new netns mounts', (t) => {
  const agent = agentContainer();
  const volumes = podSpec().volumes ?? [];
  t.true(
    podSpec().hostPID === true,
    "the host's PID namespace: the agent compares forwarded requests' paths",
  );
  for (const path of ['/run/netns', '/run/tsnet', '/var/lib/cni', '/opt/cni/bin']) {
    const mount = (agent.volumeMounts ?? []).find((m) => m.mountPath === path);
    const volume = volumes.find((v) => v.name === mount?.name);
    t.is(volume?.hostPath?.path, path, `${path} is the host's own ${path}`);
  }
  const netns = (agent.volumeMounts ?? []).find((m) => m.mountPath === '/run/netns');
  t.is(netns?.mountPropagation, 'Bidirectional', 'netns bind mounts made after start reach the agent');
  const bidirectional = (agent.volumeMounts ?? []).some((m) => m.mountPropagation === 'Bidirectional');
  t.true(!bidirectional || agent.securityContext?.privileged === true, 'Bidirectional needs privileged');
});
