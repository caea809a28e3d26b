// Interop with a real runtime: a `podman save` archive loads in tsnet with the same config and diffIDs, and a
// tsnet save loads in `podman load` and runs. podman gets a world of its own (test/helpers/podman.ts).
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { loadArchive } from '../../pkg/image/archive-load.ts';
import { saveArchive } from '../../pkg/image/archive-save.ts';
import { formatPlatform, hostPlatform } from '../../pkg/image/platform.ts';
import { podmanIn } from '../helpers/podman.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { saveRequest, storedImage, storesIn } from './archive-fixtures.ts';

const run = promisify(execFile);
const IMAGE = 'docker.io/library/busybox:v1';

const havePodman = await run('podman', ['--version']).then(
  () => true,
  () => false,
);

async function stagedImage(dir: string): Promise<string> {
  await writeBusyboxLayout(join(dir, 'layout'), 'v1', [formatPlatform(hostPlatform())]);
  const file = join(dir, 'skopeo.tar');
  await run('skopeo', ['copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${file}:${IMAGE}`]);
  return file;
}

interface PodmanInspect {
  Id: string;
  RootFS: { Layers: string[] };
}

// podman 4.3 always makes /run/containers/networks (netavark's run dir, not configurable): take it away again
// when it was not there before and holds nothing. The tests run one at a time so neither pulls it from under
// the other.
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

const interop = havePodman ? test.serial : test.skip;
const reason = havePodman ? '' : ' (skipped: podman is not installed)';

interop(`a podman save archive loads in tsnet with the same config and diffIDs${reason}`, async (t) => {
  await withTempDir(async (dir) => {
    const podman = podmanIn(join(dir, 'podman'));
    await podman('load', '-i', await stagedImage(dir));
    const saved = join(dir, 'podman-save.tar');
    await podman('save', '-o', saved, IMAGE);
    const [inspected] = JSON.parse(await podman('image', 'inspect', IMAGE)) as PodmanInspect[];

    const deps = storesIn(dir);
    const [loaded] = await loadArchive(createReadStream(saved), deps);
    t.is<string, string>(loaded!.id, `sha256:${inspected!.Id}`);
    t.deepEqual(loaded!.names, [IMAGE]);
    const { manifest, config } = await storedImage(deps, IMAGE);
    t.deepEqual(config.rootfs.diff_ids, inspected!.RootFS.Layers);
    t.deepEqual(
      manifest.layers.map((l) => l.digest),
      inspected!.RootFS.Layers,
      'uncompressed layers: blob digests are the diffIDs',
    );
  });
});

interop(`a tsnet save archive loads in podman load and podman run works${reason}`, async (t) => {
  await withTempDir(async (dir) => {
    const deps = storesIn(dir);
    await loadArchive(createReadStream(await stagedImage(dir)), deps);
    const saved = join(dir, 'tsnet-save.tar');
    await pipeline(
      await saveArchive([await saveRequest(deps, IMAGE)], deps.content),
      createWriteStream(saved),
    );

    const podman = podmanIn(join(dir, 'podman'));
    const out = await podman('load', '-i', saved);
    t.regex(out, new RegExp(`Loaded image: ${IMAGE.replaceAll('.', '\\.')}`));
    const [inspected] = JSON.parse(await podman('image', 'inspect', IMAGE)) as PodmanInspect[];
    const { manifest } = await storedImage(deps, IMAGE);
    t.is(`sha256:${inspected!.Id}`, manifest.config.digest);
    const ran = await podman.run(
      '--rm',
      '--pull',
      'never',
      '--network',
      'none',
      IMAGE,
      '/bin/busybox',
      'echo',
      'ok',
    );
    t.is(ran.trim(), 'ok');
  });
});
