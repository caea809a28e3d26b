import test from 'ava';
import { digestOf } from '../../pkg/content/digest.ts';
import { basicAuthorization, fetchBearerToken, parseAuthChallenge } from '../../pkg/registry/auth.ts';
import { isLoopbackDomain, RegistryClient, RegistryError } from '../../pkg/registry/client.ts';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../../pkg/registry/mediatypes.ts';

test('WWW-Authenticate challenges parse with quoted and bare values', (t) => {
  t.deepEqual(
    parseAuthChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
      },
    },
  );
  t.deepEqual(parseAuthChallenge('Basic realm=basic-realm'), {
    scheme: 'basic',
    params: { realm: 'basic-realm' },
  });
  t.deepEqual(parseAuthChallenge('Bearer realm="a\\"b"')?.params, { realm: 'a"b' });
  t.is(parseAuthChallenge(''), undefined);
});

test('a token is asked for the scopes with the Basic credentials, and its absence is an error', async (t) => {
  const seen: { url: string; authorization: string | null }[] = [];
  const fakeFetch = (async (url: URL | string, init?: RequestInit) => {
    seen.push({ url: String(url), authorization: new Headers(init?.headers).get('authorization') });
    return new Response(JSON.stringify(String(url).includes('empty') ? {} : { access_token: 'tok' }), {
      status: 200,
    });
  }) as typeof fetch;
  const challenge = parseAuthChallenge('Bearer realm="http://auth.test/token",service="reg"')!;
  const creds = { username: 'u', password: 'p' };
  t.is(await fetchBearerToken(challenge, ['repository:a:pull'], creds, fakeFetch), 'Bearer tok');
  t.is(seen[0]?.url, 'http://auth.test/token?service=reg&scope=repository%3Aa%3Apull');
  t.is(seen[0]?.authorization, basicAuthorization(creds));
  const empty = parseAuthChallenge('Bearer realm="http://auth.test/empty"')!;
  await t.throwsAsync(fetchBearerToken(empty, [], undefined, fakeFetch), { message: /without a token/ });
});

test('the client answers a bearer challenge once and reuses the token', async (t) => {
  const requests: { url: string; authorization: string | null }[] = [];
  const fakeFetch = (async (url: URL | string, init?: RequestInit) => {
    const authorization = new Headers(init?.headers).get('authorization');
    requests.push({ url: String(url), authorization });
    if (String(url).startsWith('https://auth.test/')) return new Response(JSON.stringify({ token: 't1' }));
    if (authorization !== 'Bearer t1') {
      return new Response('{}', {
        status: 401,
        headers: {
          'www-authenticate':
            'Bearer realm="https://auth.test/token",service="reg",scope="repository:a:pull"',
        },
      });
    }
    return new Response('', { status: 200 });
  }) as typeof fetch;
  const client = new RegistryClient('reg.test', { fetch: fakeFetch });
  t.is(client.baseUrl, 'https://reg.test', 'a non-loopback registry is spoken to over HTTPS');
  await client.ping();
  await client.ping();
  t.deepEqual(
    requests.map((r) => [r.url, r.authorization]),
    [
      ['https://reg.test/v2/', null],
      ['https://auth.test/token?service=reg&scope=repository%3Aa%3Apull', null],
      ['https://reg.test/v2/', 'Bearer t1'],
      ['https://reg.test/v2/', 'Bearer t1'],
    ],
  );
});

test('plain HTTP only for loopback registries and the insecure list; docker.io goes to registry-1', (t) => {
  for (const d of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000'])
    t.true(isLoopbackDomain(d), d);
  for (const d of ['10.0.0.1:5000', 'example.com', '[fe80::1]:5000', '128.0.0.1'])
    t.false(isLoopbackDomain(d), d);
  t.is(new RegistryClient('127.0.0.1:5000').baseUrl, 'http://127.0.0.1:5000');
  t.is(new RegistryClient('reg.lan:5000', { insecure: ['reg.lan:5000'] }).baseUrl, 'http://reg.lan:5000');
  t.is(new RegistryClient('docker.io').baseUrl, 'https://registry-1.docker.io');
});

test('manifest requests carry the full Accept list, and a manifest with another digest is refused', async (t) => {
  const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] });
  let accept = '';
  const fakeFetch = (async (_url: URL | string, init?: RequestInit) => {
    accept = new Headers(init?.headers).get('accept') ?? '';
    return new Response(body, { headers: { 'content-type': OCI_MANIFEST } });
  }) as typeof fetch;
  const client = new RegistryClient('127.0.0.1:5000', { fetch: fakeFetch });
  const got = await client.getManifest('a/b', 'v1');
  t.deepEqual(
    accept.split(', ').sort(),
    [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST].sort(),
  );
  t.is(got.digest, digestOf(body));
  t.is(got.mediaType, OCI_MANIFEST);
  const other = digestOf('something else');
  await t.throwsAsync(client.getManifest('a/b', other), {
    instanceOf: RegistryError,
    message: new RegExp(`manifest 127.0.0.1:5000/a/b@${other} has digest ${digestOf(body)}`),
  });
});
