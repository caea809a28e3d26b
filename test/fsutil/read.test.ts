// readSmallFile: a file's whole content in few trips, whatever its size; readTextIfExists: absent is
// undefined. fs's other errors as they are.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { readSmallFile, readTextIfExists, readTextIfExistsSync } from '../../pkg/fsutil/read.ts';
import { withTempDir } from '../helpers/tmp.ts';

test('readSmallFile returns every byte of empty, small, chunk-sized and large files', async (t) => {
  await withTempDir(async (dir) => {
    for (const size of [0, 1, 37, 4095, 4096, 4097, 8192, 100_000]) {
      const data = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i++) data[i] = (i * 7 + size) % 251;
      const path = join(dir, `f${size}`);
      writeFileSync(path, data);
      t.true((await readSmallFile(path)).equals(data), `${size} bytes`);
    }
  });
});

test('readSmallFile fails as fs does: ENOENT for a missing file, EISDIR for a directory', async (t) => {
  await withTempDir(async (dir) => {
    await t.throwsAsync(readSmallFile(join(dir, 'missing')), { code: 'ENOENT' });
    mkdirSync(join(dir, 'sub'));
    await t.throwsAsync(readSmallFile(join(dir, 'sub')), { code: 'EISDIR' });
  });
});

test('readTextIfExists: the text, undefined for a missing file, other errors as fs throws them', async (t) => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'a'), 'hello\n');
    t.is(await readTextIfExists(join(dir, 'a')), 'hello\n');
    t.is(readTextIfExistsSync(join(dir, 'a')), 'hello\n');
    t.is(await readTextIfExists(join(dir, 'missing')), undefined);
    t.is(readTextIfExistsSync(join(dir, 'missing')), undefined);
    mkdirSync(join(dir, 'sub'));
    await t.throwsAsync(readTextIfExists(join(dir, 'sub')), { code: 'EISDIR' });
    t.throws(() => readTextIfExistsSync(join(dir, 'sub')), { code: 'EISDIR' });
  });
});
