import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { type Digest, digestOf, parseDigest } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { ContentError, writeBlob } from '../../pkg/content/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

function blobFiles(root: string): string[] {
  const dir = join(root, 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function openFresh(store: LocalContentStore, ref: string, expected: Digest, size?: number) {
  const opened = await store.openWriter({ ref, expected, ...(size !== undefined && { size }) });
  if (opened.status !== 'open') throw new Error('expected a fresh writer');
  return opened.writer;
}

test('a blob written in chunks is committed under its digest, read back, listed and deleted', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const data = randomBytes(300_000);
    const digest = digestOf(data);
    const writer = await openFresh(store, 'layer-1', digest, data.length);
    for (let at = 0; at < data.length; at += 65_536) await writer.write(data.subarray(at, at + 65_536));
    t.deepEqual(blobFiles(root), [], 'nothing under a final name before commit');
    const info = await writer.commit();
    t.is(info.size, data.length);
    t.is(info.digest, digest);
    t.deepEqual(await store.readBytes(digest), data);
    const chunks: Buffer[] = [];
    for await (const c of await store.reader(digest)) chunks.push(c as Buffer);
    t.deepEqual(Buffer.concat(chunks), data);
    t.is(statSync(join(root, 'blobs', 'sha256', digest.slice(7))).mode & 0o777, 0o444);
    t.deepEqual(
      (await store.list()).map((i) => i.digest),
      [digest],
    );
    t.deepEqual(await store.ingests(), [], 'the ingest is gone after commit');
    const again = await store.openWriter({ ref: 'other', expected: digest });
    t.is(again.status, 'exists');
    t.true(await store.delete(digest));
    t.false(await store.delete(digest));
    t.is(await store.info(digest), undefined);
    await t.throwsAsync(store.readBytes(digest), { instanceOf: ContentError, message: /not found/ });
  });
});

test('a wrong digest is refused at commit and leaves neither blob nor ingest', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const claimed = digestOf('what the manifest says');
    const err = await t.throwsAsync(
      writeBlob(store, { ref: 'x', expected: claimed }, Buffer.from('other bytes')),
      {
        instanceOf: ContentError,
      },
    );
    t.is(err?.code, 'digest-mismatch');
    t.regex(err?.message ?? '', new RegExp(`expected ${claimed}`));
    t.deepEqual(blobFiles(root), []);
    t.deepEqual(await store.ingests(), []);
  });
});

test('a truncated write is refused at commit and kept for resume; too many bytes fail at once', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const data = randomBytes(10_000);
    const digest = digestOf(data);
    const writer = await openFresh(store, 'r', digest, data.length);
    await writer.write(data.subarray(0, 6000));
    const err = await t.throwsAsync(writer.commit(), {
      instanceOf: ContentError,
      message: /truncated: 6000 of 10000/,
    });
    t.is(err?.code, 'size-mismatch');
    t.deepEqual(blobFiles(root), []);
    t.deepEqual(
      (await store.ingests()).map((i) => [i.ref, i.offset, i.total]),
      [['r', 6000, 10_000]],
    );
    const resumed = await openFresh(store, 'r', digest, data.length);
    t.is(resumed.offset, 6000);
    await resumed.write(data.subarray(6000));
    t.is((await resumed.commit()).size, data.length);
    t.deepEqual(await store.readBytes(digest), data);

    const other = randomBytes(100);
    const big = await openFresh(store, 'big', digestOf(other), 50);
    await t.throwsAsync(big.write(other), { message: /larger than the expected 50 bytes/ });
    t.deepEqual(await store.ingests(), [], 'an oversized write is dropped');
  });
});

test('invalid digests never become paths', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    for (const bad of [
      'sha256:../../etc/passwd',
      `sha256:${'A'.repeat(64)}`,
      'md5:abc',
      `sha256:${'a'.repeat(63)}`,
    ]) {
      t.throws(() => parseDigest(bad), { message: /invalid digest/ });
      await t.throwsAsync(store.info(bad as Digest), { message: /invalid digest/ });
      await t.throwsAsync(store.openWriter({ ref: 'r', expected: bad as Digest }), {
        message: /invalid digest/,
      });
    }
    t.false(existsSync(join(root, 'blobs')));
  });
});

test('two concurrent writers of one ref: the second waits and then finds the blob committed', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const data = randomBytes(200_000);
    const digest = digestOf(data);
    const first = await openFresh(store, digest, digest, data.length);
    let secondOpened = false;
    const second = store.openWriter({ ref: digest, expected: digest, size: data.length }).then((o) => {
      secondOpened = true;
      return o;
    });
    await first.write(data.subarray(0, 100_000));
    await new Promise((r) => setTimeout(r, 50));
    t.false(secondOpened, 'the second writer waits while the first holds the ref');
    await first.write(data.subarray(100_000));
    await first.commit();
    const opened = await second;
    t.is(opened.status, 'exists');
    t.deepEqual(await store.readBytes(digest), data);
  });
});

test('concurrent writers of one digest under different refs both end with one verified blob', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const data = randomBytes(500_000);
    const digest = digestOf(data);
    async function* chunks() {
      for (let at = 0; at < data.length; at += 32_768) {
        yield data.subarray(at, at + 32_768);
        await new Promise((r) => setImmediate(r)); // interleave the writers
      }
    }
    const sizes = await Promise.all(
      ['a', 'b', 'c'].map((ref) => writeBlob(store, { ref, expected: digest, size: data.length }, chunks())),
    );
    t.deepEqual(
      sizes.map((s) => s.size),
      [data.length, data.length, data.length],
    );
    t.deepEqual(blobFiles(root), [digest.slice(7)]);
    t.deepEqual(await store.readBytes(digest), data);
    t.deepEqual(await store.ingests(), []);
  });
});

test('a writer process SIGKILLed mid-write leaves a resumable ingest and no blob', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(join(root, 'store'));
    const data = randomBytes(1_000_000);
    const digest = digestOf(data);
    const source = join(root, 'source');
    writeFileSync(source, data);
    const child = spawn(
      process.execPath,
      [
        '--import=tsx',
        join(import.meta.dirname, 'fixtures', 'interrupted-writer.ts'),
        store.root,
        'pull-1',
        digest,
        source,
        '409600',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      t.is(line.toString().trim(), 'wrote 409600');
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    }
    t.deepEqual(blobFiles(store.root), [], 'no half blob under the final name');
    t.deepEqual(
      (await store.ingests()).map((i) => [i.ref, i.offset]),
      [['pull-1', 409_600]],
    );
    const resumed = await openFresh(store, 'pull-1', digest, data.length);
    t.is(resumed.offset, 409_600, 'the killed writer released its lock; the new one resumes at its offset');
    await resumed.write(data.subarray(resumed.offset));
    await resumed.commit();
    t.deepEqual(await store.readBytes(digest), data);
  });
});

test('writer processes racing one ref: every commit succeeds and no ingest is left', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(join(root, 'store'));
    const content = 'raced blob';
    const digest = digestOf(content);
    const racers = [1, 2, 3, 4].map(() => {
      const child = spawn(
        process.execPath,
        [
          '--import=tsx',
          join(import.meta.dirname, 'fixtures', 'racing-writer.ts'),
          store.root,
          'pull-raced',
          digest,
          content,
          '150',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
      return once(child, 'exit').then(([code]) => ({ code, out, err }));
    });
    for (const racer of await Promise.all(racers)) {
      t.is(racer.code, 0, racer.err);
    }
    t.deepEqual(await store.ingests(), [], 'every ingest was committed and removed');
    t.deepEqual(await store.pruneIngests(0), []);
    t.deepEqual(readdirSync(join(store.root, 'discard')), [], 'nothing left on its way out');
  });
});

test('orphaned ingests are pruned; a held one is not', async (t) => {
  await withTempDir(async (root) => {
    const store = new LocalContentStore(root);
    const orphan = await openFresh(store, 'orphan', digestOf('a'));
    await orphan.write(Buffer.from('partial'));
    await orphan.close();
    const live = await openFresh(store, 'live', digestOf('b'));
    await live.write(Buffer.from('x'));
    t.deepEqual(await store.pruneIngests(3_600_000), [], 'nothing is old enough');
    t.deepEqual(await store.pruneIngests(0), ['orphan']);
    t.deepEqual(
      (await store.ingests()).map((i) => i.ref),
      ['live'],
    );
    await live.abort();
    t.deepEqual(await store.ingests(), []);
  });
});
