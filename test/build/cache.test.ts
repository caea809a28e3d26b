import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { BuildCache, type CacheEntry, cacheKey } from '../../pkg/build/cache.ts';
import { BuildContext } from '../../pkg/build/context.ts';
import { type Instruction, parseDockerfile } from '../../pkg/build/dockerfile.ts';
import { withTempDir } from '../helpers/tmp.ts';

function instr(line: string, at = 2): Instruction {
  const text = `FROM scratch\n${'\n'.repeat(at - 2)}${line}\n`;
  return parseDockerfile(text).instructions[1] as Instruction;
}

const PARENT = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';

test('the key ignores line numbers and whitespace of the source, not the instruction or its env', (t) => {
  const base = cacheKey({ parentChainId: PARENT, instruction: instr('RUN make'), env: ['A=1', 'B=2'] });
  t.is(cacheKey({ parentChainId: PARENT, instruction: instr('RUN make', 9), env: ['B=2', 'A=1'] }), base);
  t.not(cacheKey({ parentChainId: PARENT, instruction: instr('RUN make all'), env: ['A=1', 'B=2'] }), base);
  t.not(cacheKey({ parentChainId: PARENT, instruction: instr('RUN make'), env: ['A=2', 'B=2'] }), base);
  t.not(
    cacheKey({
      parentChainId: PARENT.replace(/1/g, '2'),
      instruction: instr('RUN make'),
      env: ['A=1', 'B=2'],
    }),
    base,
  );
  t.not(
    cacheKey({
      parentChainId: PARENT,
      instruction: instr('RUN make'),
      env: ['A=1', 'B=2'],
      argv: ['/bin/bash', '-c', 'make'],
    }),
    base,
  );
});

test('a COPY key changes only when the copied content changes', async (t) => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'app.js'), 'v1');
    writeFileSync(join(dir, 'README'), 'docs');
    const ctx = await BuildContext.open(dir);
    const copy = instr('COPY app.js /srv/');
    const key = async () =>
      cacheKey({
        parentChainId: PARENT,
        instruction: copy,
        contentHash: await ctx.contentHash(await ctx.select(['app.js'])),
      });
    const first = await key();
    writeFileSync(join(dir, 'README'), 'more docs');
    t.is(await key(), first);
    writeFileSync(join(dir, 'app.js'), 'v2');
    t.not(await key(), first);
  });
});

const entry: CacheEntry = {
  layer: { digest: `sha256:${'a'.repeat(64)}`, diffId: `sha256:${'b'.repeat(64)}`, size: 10, mediaType: 'x' },
  configDelta: {},
  history: { created: '2026-01-01T00:00:00.000Z', created_by: '/bin/sh -c make' },
};

test('the index: store then lookup across instances; --no-cache misses but still records', async (t) => {
  await withTempDir(async (dir) => {
    const key = cacheKey({ parentChainId: PARENT, instruction: instr('RUN make') });
    const cache = new BuildCache(join(dir, 'cache'));
    t.is(await cache.lookup(key), undefined);
    await cache.store(key, entry);
    t.deepEqual(await new BuildCache(join(dir, 'cache')).lookup(key), entry);
    t.deepEqual(readdirSync(join(dir, 'cache')), [`${key.slice(7)}.json`], 'no temporaries left');

    const noCache = new BuildCache(join(dir, 'cache'), { noCache: true });
    t.is(await noCache.lookup(key), undefined);
    const other = cacheKey({ parentChainId: PARENT, instruction: instr('RUN other') });
    await noCache.store(other, entry);
    t.deepEqual(await cache.lookup(other), entry);
  });
});

test('a damaged entry is a miss (and is dropped); a malformed key is refused', async (t) => {
  await withTempDir(async (dir) => {
    const cache = new BuildCache(dir);
    const key = cacheKey({ parentChainId: PARENT, instruction: instr('RUN make') });
    writeFileSync(join(dir, `${key.slice(7)}.json`), '{"layer": 3');
    t.is(await cache.lookup(key), undefined);
    t.deepEqual(readdirSync(dir), []);
    await t.throwsAsync(cache.lookup('sha256:../../etc/passwd'), { message: /invalid build cache key/ });
  });
});
