// Oracles for tsnet's builds. The image tsnet builds from APP_DOCKERFILE is pushed to a test registry and run
// by podman: the same output. buildah builds the same Dockerfile from the same base: the same files with the
// same modes in what the build added, and the same config (Env, Cmd, Entrypoint, WorkingDir, User,
// ExposedPorts). The agent, podman and buildah all run in the registry's network namespace.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { withEngine } from '../helpers/engine.ts';
import { podmanIn } from '../helpers/podman.ts';
import { startRegistry } from '../helpers/registry.ts';
import { appContext, archiveLayers } from './build-world.ts';

const run = promisify(execFile);
const have = async (cmd: string) =>
  run(cmd, ['--version']).then(
    () => true,
    () => false,
  );
const havePodman = await have('podman');
const haveBuildah = await have('buildah');
const EXPECTED = 'hello from a shell RUN in /app\nmessage v1\nexec form\n';
/** The base image's layers (test/helpers/registry.ts busyboxLayers): what the build added comes after. */
const BASE_LAYERS = 2;

// podman 4.3 always makes /run/containers/networks: taken away again when it was not there before.
const runContainersExisted = existsSync('/run/containers');
test.after.always(() => {
  if (runContainersExisted) return;
  try {
    rmdirSync('/run/containers/networks');
    rmdirSync('/run/containers');
  } catch {
    // not empty or not there: not ours to remove
  }
});

interface ImageConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, unknown> | null;
}

/** The compared part of a config, with Docker's and buildah's spellings of "none" made one. */
function comparable(c: ImageConfig) {
  const list = (v: string[] | null | undefined) => (v && v.length > 0 ? v : []);
  return {
    Env: list(c.Env),
    Cmd: list(c.Cmd),
    Entrypoint: list(c.Entrypoint),
    WorkingDir: c.WorkingDir ?? '',
    User: c.User ?? '',
    ExposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
  };
}

/**
 * What the build added: every non-directory entry of the layers after the base, `perms name`, sorted. The
 * runtime's bind-mount targets are left out: buildah (chroot isolation) keeps the empty files it made for them
 * in its layer, Docker and tsnet do not (the commit test checks tsnet's layers for them).
 */
function addedFiles(layers: string[][]): string[] {
  return layers
    .slice(BASE_LAYERS)
    .flat()
    .filter((e) => !e.startsWith('d') && !/ etc\/(hosts|hostname|resolv\.conf)$/.test(e))
    .sort();
}

const oracle = havePodman ? test.serial : test.skip;
const buildahOracle = haveBuildah ? test.serial : test.skip;

oracle(
  `a tsnet-built image pushed to a registry runs under podman with the same output${havePodman ? '' : ' (skipped: podman is not installed)'}`,
  async (t) => {
    const registry = await startRegistry();
    try {
      await withEngine(
        t,
        async (e) => {
          const ctx = await appContext(e.dir);
          t.is((await e.ctl('build', '-q', '-t', 'oracle/app:1', ctx)).code, 0);
          const ours = await e.ctl('run', '--rm', 'oracle/app:1');
          t.is(ours.stdout, EXPECTED);
          const remote = `${registry.host}/oracle/app:1`;
          t.is((await e.ctl('tag', 'oracle/app:1', remote)).code, 0);
          const pushed = await e.ctl('push', remote);
          t.is(pushed.code, 0, pushed.stderr);

          const podman = podmanIn(join(e.dir, 'podman'), registry.netnsPath);
          await podman('pull', '-q', '--tls-verify=false', remote);
          const theirs = await podman.run('--rm', '--pull', 'never', '--network', 'none', remote);
          t.is(theirs, EXPECTED);
        },
        { netnsPath: registry.netnsPath },
      );
    } finally {
      await registry.stop();
    }
  },
);

buildahOracle(
  `buildah builds the same Dockerfile into the same files, modes and config${haveBuildah ? '' : ' (skipped: buildah is not installed; apt-get install buildah)'}`,
  async (t) => {
    const registry = await startRegistry();
    try {
      await withEngine(
        t,
        async (e) => {
          const ctx = await appContext(e.dir);
          t.is((await e.ctl('build', '-q', '-t', 'oracle/app:1', ctx)).code, 0);
          const ourArchive = join(e.dir, 'ours.tar');
          t.is((await e.ctl('save', '-o', ourArchive, 'oracle/app:1')).code, 0);
          const [ourInspect] = JSON.parse((await e.ctl('image', 'inspect', 'oracle/app:1')).stdout) as {
            Config: ImageConfig;
          }[];

          const root = join(e.dir, 'buildah');
          mkdirSync(root);
          const buildah = async (...args: string[]) =>
            (
              await run(
                'nsenter',
                [
                  `--net=${registry.netnsPath}`,
                  'buildah',
                  '--root',
                  join(root, 'root'),
                  '--runroot',
                  join(root, 'run'),
                  '--storage-driver',
                  'vfs',
                  ...args,
                ],
                { maxBuffer: 64 << 20 },
              )
            ).stdout;
          // The same base: the archive withEngine loaded into the agent.
          await buildah('pull', '-q', `docker-archive:${join(e.dir, 'busybox.tar')}`);
          try {
            // chroot isolation (no runtime, no cgroups) in this test's namespace: its RUNs need no network.
            await buildah(
              'bud',
              '--isolation',
              'chroot',
              '--network',
              'host',
              '--pull-never',
              '-t',
              'oracle/app:1',
              ctx,
            );
            const theirArchive = join(e.dir, 'theirs.tar');
            await buildah('push', '-q', 'oracle/app:1', `docker-archive:${theirArchive}`);
            const [theirInspect] = [JSON.parse(await buildah('inspect', 'oracle/app:1'))] as {
              OCIv1: { config: ImageConfig };
            }[];
            t.deepEqual(
              addedFiles(await archiveLayers(ourArchive, e.dir)),
              addedFiles(await archiveLayers(theirArchive, e.dir)),
            );
            t.deepEqual(comparable(ourInspect!.Config), comparable(theirInspect!.OCIv1.config));
          } finally {
            await buildah('rm', '--all').catch(() => undefined);
            await buildah('rmi', '--all', '--force').catch(() => undefined);
          }
        },
        { netnsPath: registry.netnsPath },
      );
    } finally {
      await registry.stop();
    }
  },
);
