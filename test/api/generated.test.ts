import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import test from 'ava';
import { withTempDir } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '../..');
const GENERATED = join(ROOT, 'pkg/api/generated');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const files = (dir: string): string[] =>
  walk(dir)
    .map((f) => relative(dir, f))
    .sort();

test('pkg/api/generated is what scripts/gen-api.ts makes of the protos (run it after changing a .proto)', async (t) => {
  await withTempDir(async (dir) => {
    execFileSync('node', ['--import=tsx', join(ROOT, 'scripts/gen-api.ts'), dir], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    t.deepEqual(files(dir), files(GENERATED));
    for (const f of files(dir))
      t.is(readFileSync(join(dir, f), 'utf8'), readFileSync(join(GENERATED, f), 'utf8'), f);
  });
});
