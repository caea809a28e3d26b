// load/save of image archives, with skopeo as the independent oracle: archives skopeo writes load with the
// digests skopeo reports, and archives tsnet writes are read back by skopeo intact.
import { execFile, spawn } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { digestOf } from '../../pkg/content/digest.ts';
import { loadArchive } from '../../pkg/image/archive-load.ts';
import { saveArchive } from '../../pkg/image/archive-save.ts';
import { sweepScratch } from '../../pkg/image/archive-stage.ts';
import { parseManifest } from '../../pkg/image/manifest.ts';
import { formatPlatform, hostPlatform } from '../../pkg/image/platform.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { saveRequest, snapshot, storedImage, storesIn, tarBytes } from './archive-fixtures.ts';

const run = promisify(execFile);

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 64 << 20 });
  return stdout;
}

async function busyboxLayout(dir: string) {
  return writeBusyboxLayout(join(dir, 'layout'), 'v1', [formatPlatform(hostPlatform())]);
}

test('a docker-archive written by skopeo loads with the config and diffIDs skopeo reports', async (t) => {
  await withTempDir(async (dir) => {
    await busyboxLayout(dir);
    const file = join(dir, 'docker.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${file}:busybox:v1`);
    const config = Buffer.from(await skopeo('inspect', '--config', '--raw', `docker-archive:${file}`));
    const inspected = JSON.parse(await skopeo('inspect', `docker-archive:${file}`)) as { Layers: string[] };

    const deps = storesIn(dir);
    const loaded = await loadArchive(createReadStream(file), deps);
    t.is(loaded.length, 1);
    t.is<string, string>(loaded[0]!.id, digestOf(config));
    t.deepEqual(loaded[0]!.names, ['docker.io/library/busybox:v1']);
    const record = await deps.images.get('busybox:v1');
    t.truthy(record);
    const manifest = parseManifest(
      await deps.content.readBytes(record!.manifest.digest),
      record!.manifest.mediaType,
      'stored',
    );
    if (manifest.kind !== 'manifest') return t.fail('stored manifest is an index');
    t.is<string, string>(manifest.config.digest, digestOf(config));
    // docker-archive layers are uncompressed: their digests are the diffIDs skopeo lists.
    t.deepEqual(
      manifest.layers.map((l) => l.digest),
      inspected.Layers,
    );
    t.deepEqual(
      (JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids,
      inspected.Layers,
    );
    t.deepEqual(record!.platform, hostPlatform());
  });
});

test('an oci-archive written by skopeo loads with the same manifest, config and layer digests', async (t) => {
  await withTempDir(async (dir) => {
    const image = await busyboxLayout(dir);
    const file = join(dir, 'oci.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${file}:busybox:v1`);
    const raw = Buffer.from(await skopeo('inspect', '--raw', `oci-archive:${file}`));

    const deps = storesIn(dir);
    const loaded = await loadArchive(createReadStream(file), deps);
    t.is(loaded.length, 1);
    t.is<string, string>(loaded[0]!.manifest.digest, digestOf(raw));
    t.is<string, string>(loaded[0]!.manifest.digest, image.digest);
    t.is<string, string>(loaded[0]!.id, image.manifests[0]!.config);
    t.deepEqual(loaded[0]!.names, ['docker.io/library/busybox:v1']);
    const blobs = (await snapshot(deps)).blobs;
    for (const digest of [image.digest, image.manifests[0]!.config, ...image.manifests[0]!.layers])
      t.true(blobs.includes(digest), `${digest} stored`);
  });
});

test("a multi-platform oci-archive keeps its index and this node's platform manifest", async (t) => {
  await withTempDir(async (dir) => {
    const host = formatPlatform(hostPlatform());
    const other = host === 'linux/arm64' ? 'linux/amd64' : 'linux/arm64';
    const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', [other, host]);
    const file = join(dir, 'multi.tar');
    await skopeo('copy', '--all', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${file}:busybox:multi`);
    const deps = storesIn(dir);
    const [loaded] = await loadArchive(createReadStream(file), deps);
    const mine = image.manifests.find((m) => m.platform === host)!;
    t.is<string, string>(loaded!.manifest.digest, mine.digest);
    t.is<string, string>(loaded!.id, mine.config);
    const record = await deps.images.get('busybox:multi');
    t.is<string, string>(record!.target.digest, image.digest);
    t.deepEqual(record!.platform, hostPlatform());
    const blobs = (await snapshot(deps)).blobs;
    const otherOnly = image.manifests
      .find((m) => m.platform === other)!
      .layers.filter((l) => !mine.layers.includes(l));
    t.true(otherOnly.length > 0);
    t.false(
      otherOnly.some((l) => blobs.includes(l)),
      "the other platform's layers are not stored",
    );
  });
});

test('save writes a docker-archive skopeo inspects and copies with the same config and diffIDs', async (t) => {
  await withTempDir(async (dir) => {
    const image = await busyboxLayout(dir);
    const oci = join(dir, 'oci.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${oci}:busybox:v1`);
    const deps = storesIn(dir);
    await loadArchive(createReadStream(oci), deps);
    const config = JSON.parse(
      (await deps.content.readBytes(image.manifests[0]!.config as never)).toString(),
    ) as { rootfs: { diff_ids: string[] } };

    const saved = join(dir, 'saved.tar');
    await pipeline(
      await saveArchive([await saveRequest(deps, 'busybox:v1')], deps.content),
      createWriteStream(saved),
    );
    const inspected = JSON.parse(await skopeo('inspect', `docker-archive:${saved}`)) as {
      Layers: string[];
      RepoTags?: string[];
    };
    t.deepEqual(inspected.Layers, config.rootfs.diff_ids);
    const savedConfig = Buffer.from(await skopeo('inspect', '--config', '--raw', `docker-archive:${saved}`));
    t.is<string, string>(digestOf(savedConfig), image.manifests[0]!.config);
    const copy = join(dir, 'copy');
    await skopeo('copy', `docker-archive:${saved}`, `oci:${copy}:back`);
    const copied = JSON.parse(await skopeo('inspect', '--config', '--raw', `oci:${copy}:back`)) as {
      rootfs: { diff_ids: string[] };
    };
    t.deepEqual(copied.rootfs.diff_ids, config.rootfs.diff_ids);
    const manifest = JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8')) as unknown;
    t.truthy(manifest);

    // The saved archive loads back into fresh stores as the same image (config ID and diffIDs).
    const again = storesIn(join(dir, 'again'));
    const reloaded = await loadArchive(createReadStream(saved), again);
    t.is<string, string>(reloaded[0]!.id, image.manifests[0]!.config);
    t.deepEqual(reloaded[0]!.names, ['docker.io/library/busybox:v1']);
  });
});

test('save by image ID writes no RepoTags; an oci-archive save keeps the blobs as they are', async (t) => {
  await withTempDir(async (dir) => {
    const image = await busyboxLayout(dir);
    const oci = join(dir, 'oci.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${oci}:busybox:v1`);
    const deps = storesIn(dir);
    await loadArchive(createReadStream(oci), deps);

    const byId = join(dir, 'by-id.tar');
    await pipeline(
      await saveArchive([await saveRequest(deps, 'busybox:v1', false)], deps.content),
      createWriteStream(byId),
    );
    const reloaded = await loadArchive(createReadStream(byId), storesIn(join(dir, 'id')));
    t.deepEqual(reloaded[0]!.names, []);
    t.is<string, string>(reloaded[0]!.id, image.manifests[0]!.config);

    const ociSaved = join(dir, 'saved-oci.tar');
    await pipeline(
      await saveArchive([await saveRequest(deps, 'busybox:v1')], deps.content, 'oci-archive'),
      createWriteStream(ociSaved),
    );
    const raw = Buffer.from(await skopeo('inspect', '--raw', `oci-archive:${ociSaved}`));
    t.is<string, string>(digestOf(raw), image.digest);
  });
});

test('the legacy layout: <id>/layer.tar layers, no RepoTags, names from the repositories file', async (t) => {
  await withTempDir(async (dir) => {
    await busyboxLayout(dir);
    const file = join(dir, 'docker.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${file}:busybox:v1`);
    const original = readFileSync(file);
    const [entry] = JSON.parse((await tarBytes.entries(original)).get('manifest.json')!.toString()) as {
      Config: string;
      Layers: string[];
    }[];
    const legacyName = (layer: string) => `${digestOf(layer).slice(7)}/layer.tar`;
    const legacy = await tarBytes.rewritten(original, (entries) => {
      const template = entries[0]!.header;
      const renamed = entries
        .filter((e) => e.header.name !== 'manifest.json' && e.header.name !== 'repositories')
        .map((e) =>
          entry!.Layers.includes(e.header.name)
            ? { ...e, header: { ...e.header, name: legacyName(e.header.name) } }
            : e,
        );
      const layers = entry!.Layers.map(legacyName);
      const json = (value: unknown) => ({
        header: { ...template, type: 'file' as const },
        data: Buffer.from(JSON.stringify(value)),
      });
      const top = layers.at(-1)!.split('/')[0]!;
      return [
        ...renamed,
        {
          ...json([{ Config: entry!.Config, RepoTags: null, Layers: layers }]),
          header: { ...template, name: 'manifest.json' },
        },
        { ...json({ busybox: { legacy: top } }), header: { ...template, name: 'repositories' } },
      ];
    });
    const legacyFile = join(dir, 'legacy.tar');
    writeFileSync(legacyFile, legacy);
    const deps = storesIn(dir);
    const [loaded] = await loadArchive(createReadStream(legacyFile), deps);
    t.deepEqual(loaded!.names, ['docker.io/library/busybox:legacy']);
    const inspected = JSON.parse(await skopeo('inspect', `docker-archive:${file}`)) as { Layers: string[] };
    t.deepEqual((await storedImage(deps, 'busybox:legacy')).config.rootfs.diff_ids, inspected.Layers);
  });
});

test('a gzip-compressed archive loads; Docker 25 archives (OCI layout + manifest.json) load as the OCI layout', async (t) => {
  await withTempDir(async (dir) => {
    const image = await busyboxLayout(dir);
    const file = join(dir, 'oci.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${file}:busybox:v1`);
    const both = await tarBytes.rewritten(readFileSync(file), (entries) => {
      const template = entries.find((e) => e.header.name === 'index.json')!.header;
      const m = image.manifests[0]!;
      const index = {
        schemaVersion: 2,
        manifests: [
          {
            mediaType: image.mediaType,
            digest: image.digest,
            size: readFileSync(join(dir, 'layout', 'blobs', 'sha256', image.digest.slice(7))).length,
            annotations: {
              'io.containerd.image.name': 'docker.io/library/busybox:v25',
              'org.opencontainers.image.ref.name': 'v25',
            },
          },
        ],
      };
      const manifestJson = [
        {
          Config: `blobs/sha256/${m.config.slice(7)}`,
          RepoTags: ['busybox:other'],
          Layers: m.layers.map((l) => `blobs/sha256/${l.slice(7)}`),
        },
      ];
      return [
        ...entries.filter((e) => e.header.name !== 'index.json'),
        { header: { ...template, name: 'index.json' }, data: Buffer.from(JSON.stringify(index)) },
        { header: { ...template, name: 'manifest.json' }, data: Buffer.from(JSON.stringify(manifestJson)) },
      ];
    });
    const gzipped = join(dir, 'both.tar.gz');
    writeFileSync(gzipped, gzipSync(both));
    const [loaded] = await loadArchive(createReadStream(gzipped), storesIn(dir));
    t.is<string, string>(loaded!.manifest.digest, image.digest);
    t.deepEqual(loaded!.names, ['docker.io/library/busybox:v25']);
  });
});

test('bad archives are refused with a clear error and store nothing', async (t) => {
  await withTempDir(async (dir) => {
    await busyboxLayout(dir);
    const good = join(dir, 'docker.tar');
    await skopeo('copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${good}:busybox:v1`);
    const goodBytes = readFileSync(good);
    const deps = storesIn(dir);
    const before = await snapshot(deps);
    const manifest = JSON.parse((await tarBytes.entries(goodBytes)).get('manifest.json')!.toString()) as {
      Config: string;
      Layers: string[];
    }[];
    const layerName = manifest[0]!.Layers[0]!;

    const cases: [string, Buffer, RegExp][] = [
      [
        'truncated',
        goodBytes.subarray(0, Math.floor(goodBytes.length / 2)),
        /not a valid tar stream|truncated/,
      ],
      [
        'missing layer',
        await tarBytes.without(goodBytes, layerName),
        new RegExp(`names layer ${layerName}, which is not in the archive`),
      ],
      [
        'escaping entry',
        await tarBytes.withExtra(goodBytes, '../evil', Buffer.from('x')),
        /'\.\.' would leave/,
      ],
      ['absolute entry', await tarBytes.withExtra(goodBytes, '/etc/evil', Buffer.from('x')), /absolute path/],
      [
        'layer content not its diffID',
        await tarBytes.replaced(goodBytes, layerName, Buffer.alloc(1024)),
        /has content sha256:[0-9a-f]{64}, but its config lists diffID/,
      ],
      [
        'layer linked outside the archive',
        await tarBytes.rewritten(goodBytes, (entries) =>
          entries.map((e) =>
            e.header.name === layerName
              ? {
                  header: { ...e.header, type: 'symlink', linkname: '../../etc/passwd', size: 0 },
                  data: Buffer.alloc(0),
                }
              : e,
          ),
        ),
        /link to "\.\.\/\.\.\/etc\/passwd" points outside the archive/,
      ],
      [
        'device entry',
        await tarBytes.rewritten(goodBytes, (entries) => [
          {
            header: { ...entries[0]!.header, name: 'dev/null', type: 'character-device', size: 0 },
            data: Buffer.alloc(0),
          },
          ...entries,
        ]),
        /character-device entries have no place in an image archive/,
      ],
      ['not an archive', Buffer.from('hello'), /not a valid tar stream|empty/],
    ];
    for (const [what, bytes, message] of cases) {
      const file = join(dir, `${what.replaceAll(' ', '-')}.tar`);
      writeFileSync(file, bytes);
      await t.throwsAsync(loadArchive(createReadStream(file), deps), { name: 'ArchiveError', message }, what);
      t.deepEqual(await snapshot(deps), before, `${what}: nothing stored`);
    }
    t.deepEqual(readdirSync(deps.scratchDir), [], 'no staging directory left behind');
  });
});

test('sweepScratch removes what a killed load or import left, never a live one', async (t) => {
  await withTempDir(async (dir) => {
    const dead = await new Promise<number>((resolve) => {
      const child = spawn('true');
      child.on('exit', () => resolve(child.pid!));
    });
    const names = {
      deadLoad: `.archive.tmp-${dead}-0123abcd`,
      deadImport: `.import.tar.gz.tmp-${dead}-0123abcd`,
      liveLoad: `.archive.tmp-${process.pid}-0123abcd`,
      other: `.something.tmp-${dead}-0123abcd`,
    };
    mkdirSync(join(dir, names.deadLoad, 'nested'), { recursive: true });
    writeFileSync(join(dir, names.deadImport), 'x');
    mkdirSync(join(dir, names.liveLoad));
    writeFileSync(join(dir, names.other), 'x');
    t.deepEqual(sweepScratch(dir).sort(), [names.deadImport, names.deadLoad].sort());
    t.deepEqual(readdirSync(dir).sort(), [names.liveLoad, names.other].sort());
  });
});
