// Token auth against a real registry in `auth: token` mode, with a token server the test runs and a signing
// certificate the test makes (openssl).
import { join } from 'node:path';
import test from 'ava';
import { fetchBearerToken, RegistryAuthError } from '../../pkg/registry/auth.ts';
import {
  makeTokenSigner,
  runInRegistryNetns,
  startRegistry,
  writeBusyboxLayout,
} from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CLIENT = join(import.meta.dirname, 'fixtures', 'client.ts');
const TOKEN_SERVER = join(import.meta.dirname, 'fixtures', 'token-server.ts');
const TOKEN_PORT = 5001;

interface Line {
  result?: { record?: { name: string }; blobs?: Record<string, string>; digest?: string };
  error?: { name: string; message: string; code?: string };
  token?: { user: string | null; authenticated: boolean; scopes: string[] };
}

test('pull and push with bearer tokens from the WWW-Authenticate challenge; anonymous and wrong passwords refused', async (t) => {
  await withTempDir(async (dir) => {
    const { keyFile, certFile } = makeTokenSigner(dir, 'tsnet test token signer');
    const issuer = 'tsnet-test-issuer';
    const registry = await startRegistry({
      tokenAuth: { realm: `http://127.0.0.1:${TOKEN_PORT}/token`, service: 'tsnet-test', issuer, certFile },
    });
    const tokens = runInRegistryNetns(registry.netnsPath, TOKEN_SERVER, {
      port: TOKEN_PORT,
      keyFile,
      certFile,
      issuer,
      username: 'alice',
      password: 's3cret',
    });
    try {
      await tokens.waitFor((l) => (l as { listening?: number }).listening === TOKEN_PORT);
      const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
      await registry.skopeo(
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds=alice:s3cret',
        `oci:${image.layout}:v1`,
        `docker://${registry.host}/secure/app:v1`,
      );
      const run = async (input: Record<string, unknown>) =>
        (
          (await runInRegistryNetns(registry.netnsPath, CLIENT, {
            registry: registry.host,
            platform: 'linux/amd64',
            ...input,
          }).done) as Line[]
        ).at(-1)!;
      const root = join(dir, 'tsnet');
      const alice = { username: 'alice', password: 's3cret' };

      const pulled = await run({ op: 'pull', root, ref: 'secure/app:v1', credentials: alice });
      t.is(pulled.error, undefined, pulled.error?.message);
      t.is(pulled.result?.record?.name, `${registry.host}/secure/app:v1`);
      t.true(
        tokens.lines.some((l) => {
          const tok = (l as Line).token;
          return tok?.authenticated === true && tok.scopes.includes('repository:secure/app:pull');
        }),
        'a token was issued to alice for the pull scope',
      );

      const anonymous = await run({ op: 'pull', root: join(dir, 'anon'), ref: 'secure/app:v1' });
      t.is(anonymous.error?.code, 'UNAUTHORIZED');
      t.regex(anonymous.error?.message ?? '', /refused anonymous access for repository:secure\/app:pull/);

      const wrong = await run({
        op: 'pull',
        root: join(dir, 'wrong'),
        ref: 'secure/app:v1',
        credentials: { username: 'alice', password: 'nope' },
      });
      t.is(wrong.error?.name, 'RegistryAuthError');
      t.regex(wrong.error?.message ?? '', /refused user alice/);

      const pushed = await run({
        op: 'push',
        root,
        source: `${registry.host}/secure/app:v1`,
        ref: 'secure/copy:v1',
        credentials: alice,
      });
      t.is(pushed.error, undefined, pushed.error?.message);
      t.deepEqual(Object.values(pushed.result?.blobs ?? {}), ['mounted', 'mounted', 'mounted']);
      const raw = await registry.skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds=alice:s3cret',
        `docker://${registry.host}/secure/copy:v1`,
      );
      t.is(JSON.parse(raw).config.digest, image.manifests[0]!.config);
    } finally {
      tokens.child.kill('SIGKILL');
      await tokens.done.catch(() => undefined);
      await registry.stop();
    }
  });
});

test('a token server refusal whose body is cut mid-way is the refusal, not a bare TypeError (found by test/fuzz)', async (t) => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([123, 34]));
      c.error(new TypeError('terminated'));
    },
  });
  const fetchImpl = (async () => new Response(body, { status: 401 })) as unknown as typeof fetch;
  const err = await t.throwsAsync(
    fetchBearerToken(
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token' } },
      ['repository:x:pull'],
      undefined,
      fetchImpl,
    ),
  );
  t.true(err instanceof RegistryAuthError, String(err));
  t.regex(err?.message ?? '', /refused anonymous access for repository:x:pull: HTTP 401/);
});
