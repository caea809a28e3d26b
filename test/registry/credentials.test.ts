import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { findCredentials, removeCredentials, storeCredentials } from '../../pkg/registry/credentials.ts';
import { withTempDir } from '../helpers/tmp.ts';

test('credentials are stored like Docker config.json auths, read back, and removed', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'tsnet', 'config.json');
    t.is(await findCredentials(path, 'docker.io'), undefined);
    await storeCredentials(path, 'docker.io', { username: 'alice', password: 'p:ss' });
    await storeCredentials(path, '127.0.0.1:5000', { username: 'bob', password: 'x' });
    const file = JSON.parse(readFileSync(path, 'utf8')) as { auths: Record<string, { auth: string }> };
    t.deepEqual(Object.keys(file.auths).sort(), ['127.0.0.1:5000', 'https://index.docker.io/v1/']);
    t.is(Buffer.from(file.auths['https://index.docker.io/v1/']!.auth, 'base64').toString(), 'alice:p:ss');
    t.is(statSync(path).mode & 0o777, 0o600);
    t.deepEqual(await findCredentials(path, 'docker.io'), { username: 'alice', password: 'p:ss' });
    await storeCredentials(path, '127.0.0.1:5000', { username: 'carol', password: 'y' });
    t.deepEqual(await findCredentials(path, '127.0.0.1:5000'), { username: 'carol', password: 'y' });
    t.true(await removeCredentials(path, '127.0.0.1:5000'));
    t.false(await removeCredentials(path, '127.0.0.1:5000'));
    t.is(await findCredentials(path, '127.0.0.1:5000'), undefined);
  });
});

test('a Docker-written file is understood and its other keys kept; a broken one is a clear error', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'config.json');
    writeFileSync(
      path,
      JSON.stringify({
        auths: { 'https://reg.example/v1/': { auth: Buffer.from('u:p').toString('base64') } },
        credsStore: 'desktop',
      }),
    );
    t.deepEqual(await findCredentials(path, 'reg.example'), { username: 'u', password: 'p' });
    await storeCredentials(path, 'other.example', { username: 'v', password: 'q' });
    t.is((JSON.parse(readFileSync(path, 'utf8')) as { credsStore: string }).credsStore, 'desktop');
    writeFileSync(path, '[1,2]');
    await t.throwsAsync(findCredentials(path, 'x'), {
      name: 'CredentialsError',
      message: /not a credentials file/,
    });
  });
});
