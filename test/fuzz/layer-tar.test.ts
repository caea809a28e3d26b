// Adversarial layer tars against applyLayer: random sequences of entries whose names, symlink targets and
// hard-link targets are drawn from traversal material ('..', absolute paths, the path of a directory beside the
// layer, symlinks into it), plus devices, FIFOs and whiteouts. Each layer either applies or fails with a
// LayerError (never a raw errno), and in both cases nothing outside the layer directory was written, linked
// or removed: the test compares the world beside the layer before and after, and watches the link count of
// a file outside it (a hard link to it would raise it).
import { lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';
import { applyLayer, LayerError } from '../../pkg/archive/apply.ts';
import { makeTar, type TarEntry } from '../helpers/tar.ts';
import { withTempDir } from '../helpers/tmp.ts';

/** Everything under `dir` (not following symlinks) as path → type, size, mode, link count, symlink target. */
function snapshotTree(dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (full === skip) continue;
      const st = lstatSync(full);
      const target = st.isSymbolicLink() ? readlinkSync(full) : '';
      out.set(full, `${st.mode.toString(8)} ${st.size} ${st.nlink} ${target}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

function entriesArbitrary(outside: string): fc.Arbitrary<TarEntry[]> {
  const part = fc.constantFrom('a', 'b', 'c', '..', '.', '', '.wh.a', '.wh..wh..opq', 'outside');
  const relative = fc.array(part, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
  const name = fc.oneof(
    { weight: 4, arbitrary: relative },
    { weight: 1, arbitrary: relative.map((p) => `./${p}`) },
    { weight: 1, arbitrary: relative.map((p) => `/${p}`) },
    { weight: 1, arbitrary: fc.constant(`${outside}/secret`) },
  );
  const target = fc.oneof(
    name,
    fc.constantFrom('/', '../..', '../../outside', outside, `${outside}/secret`, '/etc/passwd'),
  );
  const entry: fc.Arbitrary<TarEntry> = fc.oneof(
    fc.record({ name, type: fc.constant('file' as const), content: fc.constantFrom('', 'x', 'evil\n') }),
    fc.record({ name, type: fc.constant('directory' as const) }),
    fc.record({ name, type: fc.constant('symlink' as const), linkname: target }),
    fc.record({ name, type: fc.constant('link' as const), linkname: target }),
    fc.record({
      name,
      type: fc.constantFrom('character-device' as const, 'block-device' as const),
      devmajor: fc.constantFrom(0, 1, 7),
      devminor: fc.constantFrom(0, 3),
    }),
    fc.record({ name, type: fc.constant('fifo' as const) }),
  );
  return fc.array(entry, { minLength: 1, maxLength: 8 });
}

test('random traversal layers: applied inside the layer or refused with a LayerError, never a write outside', async (t) => {
  await withTempDir(async (root) => {
    // root/outside is what an escape would reach: by absolute path, or as ../../outside from the layer.
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'keep');
    const layersDir = join(root, 'x', 'layers');
    mkdirSync(layersDir, { recursive: true });
    const before = snapshotTree(root, layersDir);
    let applied = 0;
    let refused = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(entriesArbitrary(outside), fc.boolean(), async (entries, gzip) => {
        const layer = join(layersDir, String(n++));
        mkdirSync(layer);
        const archive = await makeTar(entries);
        try {
          await applyLayer(Readable.from(gzip ? gzipSync(archive) : archive), layer);
          applied++;
        } catch (err) {
          if (!(err instanceof LayerError)) throw err; // a raw errno or TypeError is a bug: not a clear error
          refused++;
        }
        const after = snapshotTree(root, layersDir);
        if (JSON.stringify([...after]) !== JSON.stringify([...before]))
          throw new Error(`the world beside the layer changed:\n${JSON.stringify([...after], null, 1)}`);
      }),
      { numRuns: 300 },
    );
    t.log(`${applied} applied, ${refused} refused`);
    t.true(applied > 0 && refused > 0, 'both outcomes were exercised');
  });
});

test('random bytes, and a valid layer cut anywhere: a LayerError, nothing outside', async (t) => {
  const valid = await makeTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/f', content: 'x'.repeat(3000) },
    { name: 'a/s', type: 'symlink', linkname: 'f' },
  ]);
  await withTempDir(async (root) => {
    const layersDir = join(root, 'layers');
    mkdirSync(layersDir);
    let n = 0;
    const input = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 2048 }).map((b) => Buffer.from(b)),
      fc.nat(valid.length - 1).map((cut) => valid.subarray(0, cut)),
      fc.nat(valid.length - 1).map((cut) => gzipSync(valid).subarray(0, cut)),
      // a valid header whose bytes are flipped somewhere
      fc.tuple(fc.nat(511), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
        const copy = Buffer.from(valid);
        copy[at] = (copy[at] ?? 0) ^ xor;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const layer = join(layersDir, String(n++));
        mkdirSync(layer);
        await applyLayer(Readable.from([bytes]), layer).catch((err: unknown) => {
          if (!(err instanceof LayerError)) throw err;
        });
      }),
      { numRuns: 200 },
    );
    t.deepEqual(readdirSync(root), ['layers'], 'nothing beside the layers directory');
  });
});
