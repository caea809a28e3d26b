import test from 'ava';
import { digestOf } from '../../pkg/content/digest.ts';
import { type ImageIndex, ManifestError, parseManifest } from '../../pkg/image/manifest.ts';
import {
  hostPlatform,
  PlatformError,
  parsePlatform,
  selectPlatformManifest,
} from '../../pkg/image/platform.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX } from '../../pkg/registry/mediatypes.ts';

const d = (s: string) => digestOf(s);

function index(platforms: string[]): ImageIndex {
  return {
    kind: 'index',
    mediaType: OCI_INDEX,
    manifests: platforms.map((p) => ({
      mediaType: DOCKER_MANIFEST,
      digest: d(p),
      size: 1,
      platform: parsePlatform(p),
    })),
  };
}

test('the host platform uses the names image indexes use', (t) => {
  const p = hostPlatform();
  t.is(p.os, 'linux');
  t.is(
    p.architecture,
    process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : p.architecture,
  );
});

test('platforms parse and normalise (x86_64, aarch64, arm64/v8, os defaults to linux)', (t) => {
  t.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  t.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  t.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  t.deepEqual(parsePlatform('linux/aarch64/v8'), { os: 'linux', architecture: 'arm64' });
  t.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  for (const bad of ['', 'linux/', 'a/b/c/d', 'linux/am d64'])
    t.throws(() => parsePlatform(bad), { instanceOf: PlatformError });
});

test('the matching index entry is chosen; variants matter for arm, not for arm64 v8', (t) => {
  const idx = index(['linux/amd64', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64/v8', 'windows/amd64']);
  t.is(selectPlatformManifest(idx, parsePlatform('linux/amd64'), 'x').digest, d('linux/amd64'));
  t.is(selectPlatformManifest(idx, parsePlatform('linux/arm/v7'), 'x').digest, d('linux/arm/v7'));
  t.is(selectPlatformManifest(idx, parsePlatform('linux/arm64'), 'x').digest, d('linux/arm64/v8'));
  t.is(selectPlatformManifest(idx, parsePlatform('windows/amd64'), 'x').digest, d('windows/amd64'));
  t.throws(() => selectPlatformManifest(idx, parsePlatform('linux/arm/v5'), 'img'), {
    instanceOf: PlatformError,
    message:
      /img has no image for platform linux\/arm\/v5 \(it has: linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64, windows\/amd64\)/,
  });
});

test('manifests are parsed and checked before use', (t) => {
  const layer = { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('l'), size: 3 };
  const config = { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d('c'), size: 2 };
  const body = (extra: object) =>
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer], ...extra }),
    );
  const m = parseManifest(body({}), DOCKER_MANIFEST, 'm');
  t.is(m.kind, 'manifest');
  t.deepEqual(m.kind === 'manifest' && m.layers, [layer]);
  t.is(parseManifest(body({}), 'text/plain', 'm').mediaType, DOCKER_MANIFEST, 'the body says what it is');
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: d('x'),
          size: 1,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  );
  t.is(parseManifest(list, DOCKER_MANIFEST_LIST, 'l').kind, 'index');
  t.throws(() => parseManifest(Buffer.from('nope'), DOCKER_MANIFEST, 'm'), {
    instanceOf: ManifestError,
    message: /not JSON/,
  });
  t.throws(() => parseManifest(body({ schemaVersion: 1 }), DOCKER_MANIFEST, 'm'), {
    message: /schemaVersion 1/,
  });
  t.throws(
    () => parseManifest(body({ layers: [{ ...layer, digest: 'sha256:../../x' }] }), DOCKER_MANIFEST, 'm'),
    { message: /layers\[0\]: invalid digest/ },
  );
  t.throws(() => parseManifest(body({ layers: [{ ...layer, size: -1 }] }), DOCKER_MANIFEST, 'm'), {
    message: /invalid size -1/,
  });
  t.throws(() => parseManifest(body({}), OCI_INDEX, 'm'), { message: /says it is .* but was served as/ });
});
