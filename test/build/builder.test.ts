// The builder over real stores in a temp dir (content store, image store, overlay snapshotter): a multi-stage
// build from scratch with COPY (.dockerignore applied), COPY --from, metadata instructions; the image's layers
// hold the files; a second build is all cached; a changed file invalidates from its COPY on; a failing step
// names its line and leaves no snapshot or scratch dir behind. (RUN needs the engine: see EngineStepRunner.)
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import test from 'ava';
import tar from 'tar-stream';
import { Builder, type StepRunner } from '../../pkg/build/builder.ts';
import { BuildContext } from '../../pkg/build/context.ts';
import { parseDockerfile } from '../../pkg/build/dockerfile.ts';
import type { Digest } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { ImageCatalog } from '../../pkg/image/catalog.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';
import { OverlaySnapshotter } from '../../pkg/snapshot/overlay.ts';
import { withTempDir } from '../helpers/tmp.ts';

const DOCKERFILE = `FROM scratch AS assets
COPY data/ /assets/
COPY extra.txt /assets/extra.txt

FROM scratch
ENV GREETING=hello APP_DIR=/app
WORKDIR $APP_DIR
COPY --from=assets /assets/ ./assets/
COPY main.txt .
USER 1000:1000
EXPOSE 8080/tcp
ENTRYPOINT ["/bin/app"]
CMD ["--serve"]
`;

const USING_CACHE = ' ---> Using cache';

async function world(dir: string) {
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'data'), { recursive: true });
  await writeFile(join(ctx, 'data', 'a.txt'), 'A\n');
  await writeFile(join(ctx, 'data', 'secret.key'), 'nope\n');
  await writeFile(join(ctx, 'extra.txt'), 'extra\n');
  await writeFile(join(ctx, 'main.txt'), 'main v1\n');
  await writeFile(join(ctx, '.dockerignore'), '**/*.key\n');
  const data = join(dir, 'data');
  const content = new LocalContentStore(join(data, 'content'));
  const images = new LocalImageStore(join(data, 'images'));
  const snapshots = await OverlaySnapshotter.open(join(data, 'snapshots'));
  const catalog = new ImageCatalog({ content, images, snapshots });
  const scratchDir = join(data, 'tmp');
  const build = async (noCache = false) => {
    const lines: string[] = [];
    const builder = new Builder(
      {
        catalog,
        cacheDir: join(data, 'cache'),
        scratchDir,
        pull: async (ref) => {
          throw new Error(`no pulls in this test (${ref})`);
        },
      },
      noCache,
    );
    const result = await builder.build({
      dockerfile: parseDockerfile(DOCKERFILE),
      context: await BuildContext.open(ctx),
      tags: ['test/app:1'],
      progress: (line) => lines.push(line),
    });
    return { result, lines };
  };
  return { ctx, catalog, snapshots, scratchDir, build };
}

async function layerFiles(catalog: ImageCatalog, digest: Digest): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks).toString());
    }
  })();
  (await catalog.stores.content.reader(digest as Digest)).pipe(createGunzip()).pipe(extract);
  await done;
  return files;
}

test('a multi-stage build from scratch: layers, config, cache, invalidation', async (t) => {
  await withTempDir(async (dir) => {
    const w = await world(dir);
    const first = await w.build();
    t.false(first.lines.includes(USING_CACHE));
    const image = await w.catalog.find('test/app:1');
    t.is(image.id as string, first.result.id);
    const c = image.config.config ?? {};
    t.deepEqual(c.Env, ['GREETING=hello', 'APP_DIR=/app']);
    t.is(c.WorkingDir, '/app');
    t.is(c.User, '1000:1000');
    t.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['8080/tcp']);
    t.deepEqual(c.Entrypoint, ['/bin/app']);
    t.deepEqual(c.Cmd, ['--serve']);
    t.is(image.manifest.layers.length, 2);
    t.is(image.config.rootfs?.diff_ids?.length, 2);
    const [assets, main] = image.manifest.layers;
    const assetFiles = await layerFiles(w.catalog, assets!.digest as Digest);
    t.is(assetFiles.get('app/assets/a.txt'), 'A\n');
    t.is(assetFiles.get('app/assets/extra.txt'), 'extra\n');
    t.false(
      [...assetFiles.keys()].some((n) => n.endsWith('secret.key')),
      'excluded by .dockerignore',
    );
    t.is((await layerFiles(w.catalog, main!.digest as Digest)).get('app/main.txt'), 'main v1\n');
    t.is(image.config.history?.filter((h) => !h.empty_layer).length, 2);

    const second = await w.build();
    // the same image, as Docker's classic builder gives it: no dangling image per rebuild
    t.is(second.result.id, first.result.id);
    t.is((await w.catalog.all()).length, 1);
    // every step but the FROMs, metadata steps too, as Docker prints a rebuild
    t.is(second.lines.filter((l) => l === USING_CACHE).length, 10, second.lines.join('\n'));
    t.deepEqual((await w.catalog.find('test/app:1')).config.rootfs?.diff_ids, image.config.rootfs?.diff_ids);

    await writeFile(join(w.ctx, 'main.txt'), 'main v2\n');
    const third = await w.build();
    // the first stage (2), then ENV, WORKDIR, COPY --from; from COPY main.txt on, nothing
    t.is(third.lines.filter((l) => l === USING_CACHE).length, 5, third.lines.join('\n'));
    const changed = await w.catalog.find('test/app:1');
    t.is(changed.manifest.layers[0]?.digest, assets?.digest);
    t.not(changed.manifest.layers[1]?.digest, main?.digest);
    t.is(
      (await layerFiles(w.catalog, changed.manifest.layers[1]!.digest as Digest)).get('app/main.txt'),
      'main v2\n',
    );
    t.deepEqual(await readdir(w.scratchDir), [], 'no scratch dirs left');
    t.false(
      (await w.snapshots.list()).some((s) => s.kind !== 'committed'),
      'no active snapshots left',
    );
  });
});

test('a COPY of a missing file fails naming the line and leaves nothing behind', async (t) => {
  await withTempDir(async (dir) => {
    const w = await world(dir);
    const before = (await w.snapshots.list()).length;
    await writeFile(join(w.ctx, 'Dockerfile'), 'x');
    const builder = new Builder({
      catalog: w.catalog,
      cacheDir: join(dir, 'cache'),
      scratchDir: w.scratchDir,
      pull: async () => undefined,
    });
    const err = await t.throwsAsync(
      builder.build({
        dockerfile: parseDockerfile('FROM scratch\nCOPY main.txt /\nCOPY missing.txt /\n'),
        context: await BuildContext.open(w.ctx),
        tags: ['test/bad:1'],
        progress: () => undefined,
      }),
    );
    t.regex(err?.message ?? '', /missing\.txt: not found/);
    t.is((await w.snapshots.list()).filter((s) => s.kind !== 'committed').length, 0);
    t.true((await w.snapshots.list()).length >= before);
    t.deepEqual(await readdir(w.scratchDir).catch(() => []), []);
    await t.throwsAsync(w.catalog.find('test/bad:1'));
    t.truthy(await readFile(join(w.ctx, 'main.txt')));
  });
});

test('an rmi and a garbage collection midway lose nothing the build uses; an unnamed image is <none>', async (t) => {
  await withTempDir(async (dir) => {
    const w = await world(dir);
    const { catalog } = w;
    const { content } = catalog.stores;
    const builder = (runner?: StepRunner) =>
      new Builder({
        catalog,
        cacheDir: join(dir, 'cache'),
        scratchDir: w.scratchDir,
        pull: async (ref) => {
          throw new Error(`no pulls in this test (${ref})`);
        },
        ...(runner && { runner }),
      });
    const context = await BuildContext.open(w.ctx);
    await builder().build({
      dockerfile: parseDockerfile('FROM scratch\nCOPY data/a.txt /a.txt\n'),
      context,
      tags: ['test/base:1'],
      progress: () => undefined,
    });
    let removed = 0;
    // The RUN removes the base image and collects garbage, as a concurrent `rmi` does: the base's layer and
    // the COPY's new layer are named by no image at that moment.
    const runner: StepRunner = {
      async run() {
        await catalog.lock.withExclusive(async () => {
          const out = await catalog.removeImages([await catalog.find('test/base:1')]);
          removed = out.deleted.length;
        });
        const upper = await mkdtemp(join(dir, 'upper-'));
        await writeFile(join(upper, 'ran.txt'), 'ran\n');
        return { exitCode: 0, upper, release: () => rm(upper, { recursive: true, force: true }) };
      },
    };
    const result = await builder(runner).build({
      dockerfile: parseDockerfile(
        'FROM test/base:1\nCOPY main.txt /main.txt\nRUN true\nCOPY extra.txt /e.txt\n',
      ),
      context,
      tags: [],
      progress: () => undefined,
    });
    t.true(removed > 0, 'the base image went');
    const [image] = await catalog.all();
    t.is(image?.id as string | undefined, result.id);
    t.is(image?.manifest.layers.length, 4);
    for (const layer of image?.manifest.layers ?? [])
      t.truthy(await content.info(layer.digest), `layer ${layer.digest} is in the store`);
    const files = await Promise.all(
      (image?.manifest.layers ?? []).map(async (l) => [...(await layerFiles(catalog, l.digest))].join()),
    );
    t.deepEqual(files, ['a.txt,A\n', 'main.txt,main v1\n', 'ran.txt,ran\n', 'e.txt,extra\n']);
    // built without -t: Docker's <none> image, no tag and no digest, kept until removed by ID
    t.deepEqual(image?.repoTags, []);
    t.deepEqual(image?.repoDigests, []);
    t.is((await catalog.find(result.id)).id as string, result.id);

    // The lease ended with the build: removing the image collects every blob.
    await catalog.lock.withExclusive(async () => catalog.removeImages([await catalog.find(result.id)]));
    t.deepEqual(await content.list(), []);
  });
});
