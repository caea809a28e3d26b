// The spec module's config.json run by the real runc on a busybox rootfs, checked from inside the
// container: user, capabilities, masked and read-only paths, seccomp, hostname, env, cwd and the cgroup's
// memory limit. Two containers keep it cheap; skipped with the reason where runc or busybox is missing.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { cgroupManager, detectCgroupLayout } from '../../pkg/cgroups/index.ts';
import { capabilityMask, DEFAULT_CAPABILITIES } from '../../pkg/runtime/capabilities.ts';
import { buildSpec, type RunOptions, specToJson } from '../../pkg/runtime/spec.ts';
import { makeBusyboxRootfs, whyContainersCannotRun } from '../helpers/container.ts';
import { type TestNetns, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);

const skipReason = whyContainersCannotRun();
const runcTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`runc: ${skipReason}`, () => undefined);

interface Inside {
  readonly id: string;
  readonly stdout: string;
  readonly lines: Map<string, string>;
}

/** Runs one container in the foreground, cleaning up the container and its cgroup whatever happens. */
async function runContainer(
  bundle: string,
  runcRoot: string,
  opts: RunOptions,
  script: string,
): Promise<Inside> {
  const id = `tsnet-test-${randomBytes(4).toString('hex')}`;
  const { spec } = buildSpec({ ...opts, cmd: ['sh', '-c', script], cgroupsPath: `${id}/ctr` });
  writeFileSync(join(bundle, 'config.json'), specToJson(spec));
  try {
    const { stdout } = await run('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], {
      timeout: 30_000,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`runc run failed: ${err.stderr || err.message}\n${err.stdout ?? ''}`);
    });
    const lines = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) lines.set(line.slice(0, eq), line.slice(eq + 1));
    }
    return { id, stdout, lines };
  } finally {
    await run('runc', ['--root', runcRoot, 'delete', '-f', id]).catch(() => undefined);
    await cgroupManager(id, detectCgroupLayout()).destroy();
  }
}

/** The status file's capability masks as bigints. */
const capLine = (inside: Inside, key: string) => BigInt(`0x${inside.lines.get(key) ?? 'x'}`);

const SCRIPT = [
  'echo "id=$(id)"',
  'echo "CapEff=$(grep CapEff /proc/self/status | cut -f2)"',
  'echo "netns=$(readlink /proc/self/ns/net)"',
  'echo "status=$(grep -E "^Cap(Eff|Bnd):" /proc/self/status | tr "\\n\\t" "  ")"',
  'echo "kcore=$(cat /proc/kcore | wc -c)"',
  'echo x > /proc/sys/kernel/domainname 2>/dev/null; echo "procsys=$?"',
  'unshare -U true 2>/dev/null; echo "unshare=$?"',
  'echo "hostname=$(hostname)"',
  'echo "greeting=$GREETING"',
  'echo "home=$HOME"',
  'echo "cwd=$(pwd)"',
  'echo "memlimit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
  'echo "pidsmax=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"',
  'echo "uidmap=$(cat /proc/self/uid_map | tr -s " " " ")"',
  'touch /rootfs-write 2>/dev/null; echo "rootfswrite=$?"',
  'touch /tmp/tmpfs-write; echo "tmpwrite=$?"',
  'echo "nofile=$(ulimit -Sn):$(ulimit -Hn)"',
  'echo "oomadj=$(cat /proc/self/oom_score_adj)"',
  'echo "shared=$(cat /shared/hello 2>/dev/null)"',
  'touch /shared/new 2>/dev/null; echo "sharedwrite=$?"',
].join('; ');

runcTest('runc runs the generated spec: defaults hold inside, user changes apply', (t) =>
  withTempDir((tmp) =>
    withNetnses('spec', 1, async ([ns]: TestNetns[]) => {
      chmodSync(tmp, 0o755); // a mapped root (host uid 100000) must reach the rootfs
      const bundle = join(tmp, 'bundle');
      const rootfs = join(bundle, 'rootfs');
      makeBusyboxRootfs(rootfs);
      const runcRoot = join(tmp, 'runc');
      const shared = join(tmp, 'shared');
      mkdirSync(shared);
      writeFileSync(join(shared, 'hello'), 'from the host');
      const base: RunOptions = {
        rootfs: 'rootfs',
        rootfsOnHost: rootfs,
        namespaces: { network: { path: ns?.path ?? '' } },
      };

      // 1: root, Docker's defaults (capabilities, seccomp profile, masked and read-only paths), limits
      const first = await runContainer(
        bundle,
        runcRoot,
        {
          ...base,
          hostname: 'box-one',
          env: ['GREETING=hello world'],
          workingDir: '/tmp',
          resources: { memory: 64 * 1024 * 1024, pidsLimit: 40 },
          ulimits: ['nofile=512:1024'],
          oomScoreAdj: 300,
          mounts: [{ type: 'bind', source: shared, target: '/shared', readonly: true }],
        },
        SCRIPT,
      );
      t.log(first.stdout);
      t.regex(first.lines.get('id') ?? '', /^uid=0\(root\) gid=0\(root\)/);
      const defaults = capabilityMask(DEFAULT_CAPABILITIES);
      t.is(capLine(first, 'CapEff'), defaults, 'the default set is effective');
      t.regex(first.lines.get('status') ?? '', new RegExp(`CapBnd:\\s*0*${defaults.toString(16)}`));
      t.is(first.lines.get('kcore'), '0', 'a masked path reads empty');
      t.not(first.lines.get('procsys'), '0', '/proc/sys is read-only');
      t.not(first.lines.get('unshare'), '0', 'the default seccomp profile refuses unshare');
      t.is(first.lines.get('hostname'), 'box-one');
      t.is(first.lines.get('greeting'), 'hello world');
      t.is(first.lines.get('home'), '/root');
      t.is(first.lines.get('cwd'), '/tmp');
      t.is(first.lines.get('memlimit'), String(64 * 1024 * 1024));
      t.is(first.lines.get('pidsmax'), '40');
      t.is(first.lines.get('nofile'), '512:1024', 'rlimits within the hard limit apply');
      t.is(first.lines.get('oomadj'), '300');
      t.is(first.lines.get('shared'), 'from the host', 'a bind mount shows the host directory');
      t.not(first.lines.get('sharedwrite'), '0', 'a read-only bind mount refuses writes');
      t.is(
        first.lines.get('netns'),
        `net:[${statSync(ns?.path ?? '').ino}]`,
        "the test's netns, not the host's",
      );
      t.false(cgroupManager(first.id, detectCgroupLayout()).exists(), 'no cgroup left behind');

      // 2: a named user with its supplementary group, seccomp off, one capability dropped and one added
      const second = await runContainer(
        bundle,
        runcRoot,
        {
          ...base,
          user: 'app',
          securityOpt: ['seccomp=unconfined'],
          capDrop: ['net_raw'],
          capAdd: ['CAP_NET_ADMIN'],
          // container root is host uid 100000: the rootfs stays root-owned, readable by others
          userns: {
            uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
            gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
          },
          readonlyRootfs: true,
          mounts: [{ type: 'tmpfs', target: '/tmp' }],
        },
        SCRIPT,
      );
      t.log(second.stdout);
      t.regex(second.lines.get('id') ?? '', /^uid=1000\(app\) gid=1000\(app\) groups=.*29\(audio\)/);
      const changed = capabilityMask([
        ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW'),
        'CAP_NET_ADMIN',
      ]);
      t.regex(second.lines.get('status') ?? '', new RegExp(`CapBnd:\\s*0*${changed.toString(16)}`));
      t.is(capLine(second, 'CapEff'), 0n, 'a non-root process keeps no effective capability after exec');
      t.is(second.lines.get('unshare'), '0', 'without seccomp an unprivileged user namespace is allowed');
      t.is(second.lines.get('home'), '/home/app');
      t.is(second.lines.get('cwd'), '/');
      t.is(
        second.lines.get('nofile')?.split(':')[1],
        readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1],
        'no ulimit: the host limits are inherited',
      );
      t.is(second.lines.get('uidmap'), ' 0 100000 65536', 'a user namespace with the given mapping');
      t.not(second.lines.get('rootfswrite'), '0', 'the rootfs is read-only');
      t.is(second.lines.get('tmpwrite'), '0', 'the tmpfs is writable');
      t.is(first.lines.get('rootfswrite'), '0');
      t.is(first.lines.get('uidmap'), ' 0 0 4294967295', 'no user namespace by default');
    }),
  ),
);
