import test from 'ava';
import fc from 'fast-check';
import {
  familiarString,
  formatImageReference,
  ImageReferenceError,
  parseImageReference,
  withTag,
} from '../../pkg/image/reference.ts';

const HEX = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
const DIGEST = `sha256:${HEX}`;

// Input → canonical form → familiar form, as `docker pull` / `docker images` show them.
const valid: [string, string, string][] = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1'],
  ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1'],
  ['127.0.0.1:5000/a/b/c:Tag_1.x-y', '127.0.0.1:5000/a/b/c:Tag_1.x-y', '127.0.0.1:5000/a/b/c:Tag_1.x-y'],
  ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
  ['Registry.Example/app', 'Registry.Example/app:latest', 'Registry.Example/app:latest'],
  ['quay.io/a__b/c-d.e---f', 'quay.io/a__b/c-d.e---f:latest', 'quay.io/a__b/c-d.e---f:latest'],
  [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
  [`h.io/app:v2@${DIGEST}`, `h.io/app:v2@${DIGEST}`, `h.io/app:v2@${DIGEST}`],
  ['foo:5000', 'docker.io/library/foo:5000', 'foo:5000'],
];

for (const [input, canonical, familiar] of valid) {
  test(`reference ${input}`, (t) => {
    const ref = parseImageReference(input);
    t.is(formatImageReference(ref), canonical);
    t.is(familiarString(ref), familiar);
    t.deepEqual(parseImageReference(canonical), ref, 'the canonical form parses to the same reference');
  });
}

const invalid: [string, RegExp][] = [
  ['', /empty/],
  ['Busybox', /must be lowercase/],
  ['docker.io/Library/busybox', /must be lowercase/],
  [HEX.slice(0, 64), /image ID/],
  ['busybox:', /invalid tag/],
  ['busybox:.hidden', /invalid tag/],
  [`busybox:${'t'.repeat(129)}`, /invalid tag/],
  ['busybox@sha256:abc', /invalid digest/],
  [`busybox@sha256:${HEX.toUpperCase()}`, /lowercase hex/],
  [`busybox@md5:${HEX}`, /invalid digest/],
  ['a//b', /invalid repository name/],
  ['-a/b', /invalid repository name/],
  ['a/b_', /invalid repository name/],
  ['a/b..c', /invalid repository name/],
  ['bad_host.io:x/app', /invalid registry host/],
  ['host.io/', /invalid repository name/],
  ['app:tag:tag', /invalid/],
  ['app with space', /invalid repository name/],
  [`h.io/${'a/'.repeat(130)}b`, /not be more than 255/],
];

for (const [input, message] of invalid) {
  test(`invalid reference ${JSON.stringify(input.slice(0, 40))}`, (t) => {
    const err = t.throws(() => parseImageReference(input), { instanceOf: ImageReferenceError, message });
    t.is(err?.input, input);
  });
}

test('withTag keeps the repository and checks the tag', (t) => {
  const ref = parseImageReference(`busybox@${DIGEST}`);
  t.is(formatImageReference(withTag(ref, 'v1')), 'docker.io/library/busybox:v1');
  t.throws(() => withTag(ref, '-x'), { instanceOf: ImageReferenceError });
});

const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--');
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([s, a]) => s + a).join(''));
const path = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
const domain = fc.oneof(
  fc.constant(''),
  fc.constant('localhost/'),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/), fc.stringMatching(/^[a-z]{2,4}$/))
    .chain(([h, tld]) =>
      fc.option(fc.integer({ min: 1, max: 65535 })).map((p) => `${h}.${tld}${p ? `:${p}` : ''}/`),
    ),
);
const tag = fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined });
const digest = fc.option(
  fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`),
  { nil: undefined },
);
const referenceText = fc
  .tuple(domain, path, tag, digest)
  // Without a domain, a first component with a dot (or `localhost`) would be read as a registry host.
  .filter(([d, p]) => !/^[a-f0-9]{64}$/.test(p) && (d !== '' || !/^(localhost|[^/]*\.[^/]*)\//.test(p)))
  .map(([d, p, t, g]) => `${d}${p}${t !== undefined ? `:${t}` : ''}${g !== undefined ? `@${g}` : ''}`);

test('property: a grammatical reference parses, and its canonical and familiar forms parse back to it', (t) => {
  fc.assert(
    fc.property(referenceText, (text) => {
      const ref = parseImageReference(text);
      return (
        JSON.stringify(parseImageReference(formatImageReference(ref))) === JSON.stringify(ref) &&
        JSON.stringify(parseImageReference(familiarString(ref))) === JSON.stringify(ref) &&
        (ref.tag !== undefined || ref.digest !== undefined)
      );
    }),
  );
  t.pass('fast-check found no counterexample');
});

test('property: any string either parses or fails with ImageReferenceError', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (text) => {
      try {
        const ref = parseImageReference(text);
        return formatImageReference(ref).length > 0 && ref.path === ref.path.toLowerCase();
      } catch (err) {
        return err instanceof ImageReferenceError;
      }
    }),
  );
  t.pass('fast-check found no counterexample');
});

test('property: an uppercase letter in the repository path is refused', (t) => {
  fc.assert(
    fc.property(path, fc.integer({ min: 0, max: 100 }), (p, at) => {
      const i = at % p.length;
      if (!/[a-z]/.test(p[i] ?? '')) return true;
      const upper = p.slice(0, i) + p[i]!.toUpperCase() + p.slice(i + 1);
      try {
        parseImageReference(`h.io/${upper}`);
        return false;
      } catch (err) {
        return err instanceof ImageReferenceError && /lowercase/.test(err.message);
      }
    }),
  );
  t.pass('fast-check found no counterexample');
});
