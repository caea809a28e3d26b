// A hostile registry behind the client's injectable fetch (no network): random status codes, malformed or
// mutated manifests, missing, malformed and wrong Docker-Content-Digest headers, lying Content-Length, huge
// header values, bodies cut mid-stream, blobs with the wrong bytes. The client either returns what was asked
// for, verified (a manifest whose digest is the one asked for or announced; a blob committed only with its
// digest and size), or fails with a RegistryError, ManifestError, DigestError or ContentError; the content
// store never holds a blob whose bytes do not match its name.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { type Digest, DigestError, digestOf } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { ContentError } from '../../pkg/content/store.ts';
import { ManifestError, parseManifest } from '../../pkg/image/manifest.ts';
import { RegistryAuthError } from '../../pkg/registry/auth.ts';
import { RegistryClient, RegistryError } from '../../pkg/registry/client.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../../pkg/registry/mediatypes.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { leafPaths, mutated } from './mutate.ts';

const BLOB = Buffer.from('layer bytes '.repeat(400));
const BLOB_DIGEST = digestOf(BLOB);
const MANIFEST = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: BLOB_DIGEST, size: BLOB.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: BLOB_DIGEST, size: BLOB.length }],
};
const MANIFEST_BYTES = Buffer.from(JSON.stringify(MANIFEST));

const TYPED = [RegistryError, ManifestError, DigestError, ContentError, RegistryAuthError];
function assertTyped(what: string, err: unknown): void {
  if (!TYPED.some((type) => err instanceof type))
    throw new Error(`${what}: not a typed error: ${(err as Error)?.stack ?? String(err)}`);
}

/** A body: all of `bytes`, or cut after `cut` bytes with a stream error (a dropped connection). */
function body(bytes: Buffer, cut: number | undefined): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (cut === undefined) {
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      } else {
        controller.enqueue(new Uint8Array(bytes.subarray(0, cut)));
        controller.error(new TypeError('terminated'));
      }
    },
  });
}

interface Answer {
  status: number;
  bytes: Buffer;
  cut?: number;
  headers: Record<string, string>;
}

const header = fc.dictionary(
  fc.constantFrom('content-type', 'content-length', 'docker-content-digest', 'www-authenticate', 'x-huge'),
  fc.oneof(
    fc.constantFrom(
      OCI_MANIFEST,
      OCI_INDEX,
      'text/html',
      '',
      '0',
      '-1',
      '99999999999',
      'abc',
      digestOf(MANIFEST_BYTES),
      digestOf('other'),
      'sha256:zz',
      'Bearer realm="http://127.0.0.1:1/token",service=x',
      'Bearer',
      'x'.repeat(64 * 1024),
    ),
  ),
  { maxKeys: 3 },
);

function answerArbitrary(valid: Buffer, asJson?: object): fc.Arbitrary<Answer> {
  const shapes: fc.WeightedArbitrary<Buffer>[] = [
    { weight: 3, arbitrary: fc.constant(valid) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.nat(valid.length).map((n) => valid.subarray(0, n)) },
  ];
  if (asJson)
    shapes.push({
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...leafPaths(asJson)),
          fc.option(fc.constantFrom(null, 1, -1, '', 'x', [], {}, 'sha256:00'), { nil: undefined }),
        )
        .map(([path, value]) => Buffer.from(JSON.stringify(mutated(asJson, path, value)))),
    });
  const bytes = fc.oneof(...shapes);
  return fc.record(
    {
      status: fc.constantFrom(200, 200, 200, 200, 206, 301, 401, 403, 404, 416, 429, 500),
      bytes,
      cut: fc.nat(valid.length),
      headers: header,
    },
    { requiredKeys: ['status', 'bytes', 'headers'] },
  );
}

/** A fetch that answers with `answers` in turn (the last one again once they run out). */
function scriptedFetch(answers: Answer[]): typeof fetch {
  let i = 0;
  return (async () => {
    const a = answers[Math.min(i++, answers.length - 1)] as Answer;
    const noBody = [204, 301, 304].includes(a.status);
    return new Response(noBody ? null : body(a.bytes, a.cut), { status: a.status, headers: a.headers });
  }) as typeof fetch;
}

test('hostile manifest answers: a verified manifest or a typed error', async (t) => {
  const seen = { ok: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.array(answerArbitrary(MANIFEST_BYTES, MANIFEST), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('v1', digestOf(MANIFEST_BYTES), digestOf('other')),
      async (answers, reference) => {
        const client = new RegistryClient('127.0.0.1:5000', { fetch: scriptedFetch(answers) });
        try {
          const got = await client.getManifest('a/b', reference);
          if (reference.includes(':') && got.digest !== reference)
            throw new Error(`asked for ${reference}, got ${got.digest}`);
          if (reference.includes(':') && digestOf(got.bytes) !== reference)
            throw new Error(`bytes of ${reference} do not hash to it`);
          parseManifest(got.bytes, got.mediaType, 'the manifest');
          seen.ok++;
        } catch (err) {
          assertTyped(`manifest ${reference}`, err);
          seen.refused++;
        }
      },
    ),
    { numRuns: 400, includeErrorInReport: true },
  );
  t.log(seen);
  t.true(seen.ok > 0 && seen.refused > 0, 'both outcomes were exercised');
});

test('hostile blob answers: a blob is committed only with its digest and size', async (t) => {
  await withTempDir(async (dir) => {
    let n = 0;
    const seen = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(answerArbitrary(BLOB), { minLength: 1, maxLength: 4 }), async (answers) => {
        const store = new LocalContentStore(join(dir, String(n++)));
        const client = new RegistryClient('127.0.0.1:5000', {
          fetch: scriptedFetch(answers),
          blobRetries: 2,
        });
        try {
          const info = await client.fetchBlob(
            'a/b',
            { digest: BLOB_DIGEST as Digest, size: BLOB.length },
            store,
          );
          if (info.digest !== BLOB_DIGEST || info.size !== BLOB.length)
            throw new Error('a wrong blob was committed');
          seen.ok++;
        } catch (err) {
          assertTyped('blob', err);
          seen.refused++;
        }
        for (const blob of await store.list()) {
          const bytes = readFileSync(
            join(store.root, 'blobs', 'sha256', blob.digest.slice('sha256:'.length)),
          );
          if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== blob.digest)
            throw new Error(`the store holds ${blob.digest} with other bytes`);
        }
      }),
      { numRuns: 200, includeErrorInReport: true },
    );
    t.log(seen);
    t.true(seen.ok > 0 && seen.refused > 0, 'both outcomes were exercised');
  });
});
