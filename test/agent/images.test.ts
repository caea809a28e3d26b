// The image service inside the agent: its health and its part of info, the Images calls before its stores are
// open (the agent's own UNAVAILABLE, not "agent unreachable"), the archive calls served beside them, and the real
// tsnet-agent serving a pull through its API socket, with --insecure-registry validated at the edge.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { Registry } from 'prom-client';
import { ApiService } from '../../pkg/agent/api.ts';
import { ImageService } from '../../pkg/agent/images.ts';
import { agentOptions } from '../../pkg/agent/options.ts';
import { AgentClient, AgentUnreachableError, ApiCallError, callError } from '../../pkg/api/client.ts';
import { UsageError } from '../../pkg/cli/command-line.ts';
import { silentLogger } from '../../pkg/log/index.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { startRegistry, writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const MAIN = resolve(import.meta.dirname, '../../cmd/agent/main.ts');

const ctx = {
  signal: new AbortController().signal,
  log: silentLogger,
  status: { health: () => ({ healthy: true, live: true, services: {} }), registry: new Registry() },
  fatal: () => undefined,
};

test('--insecure-registry is repeatable and validated', (t) => {
  t.deepEqual(
    agentOptions({ 'insecure-registry': ['reg.local:5000', '[::1]:5000'] } as never).insecureRegistries,
    ['reg.local:5000', '[::1]:5000'],
  );
  t.deepEqual(agentOptions({}).insecureRegistries, []);
  t.throws(() => agentOptions({ 'insecure-registry': ['http://reg/'] } as never), {
    instanceOf: UsageError,
    message: /--insecure-registry "http:\/\/reg\/": expected HOST\[:PORT\]/,
  });
});

test('before its stores open the Images calls answer UNAVAILABLE as the agent; then ready, with its part of info', async (t) => {
  await withTempDir(async (dir) => {
    const api = new ApiService({
      path: join(dir, 'run', 'tsnet.sock'),
      nodeName: 'n1',
      version: '1.0.0',
      dataDir: join(dir, 'data'),
      runDir: join(dir, 'run'),
    });
    const images = new ImageService({ dataDir: join(dir, 'data'), insecureRegistries: ['reg:5000'], api });
    t.false(images.health().ready);
    await api.start(ctx);
    const client = new AgentClient(join(dir, 'run', 'tsnet.sock'));
    try {
      const early = await t.throwsAsync(client.images({}));
      t.true(early instanceof ApiCallError, `not AgentUnreachableError: ${String(early)}`);
      t.false(early instanceof AgentUnreachableError);
      t.is((early as ApiCallError).code, grpc.status.UNAVAILABLE);
      t.regex(early?.message ?? '', /image stores are not open yet/);

      await images.start(ctx);
      t.true(images.health().ready);
      for (const store of ['content', 'images', 'snapshots'])
        t.true(existsSync(join(dir, 'data', store)), store);
      t.deepEqual((await client.images({})).images, []);
      t.like(await client.info(), { images: 0, storageDriver: 'overlay', insecureRegistries: ['reg:5000'] });

      // Load/Save/Import are the archive module's, served by the same service: an unknown image is NOT_FOUND.
      const saved = client.save({ images: ['busybox'] });
      const err = await new Promise<unknown>((resolveErr) => {
        saved.on('data', () => undefined);
        saved.on('error', resolveErr);
        saved.on('end', () => resolveErr(undefined));
      });
      t.is((callError(client.host, err) as ApiCallError).code, grpc.status.NOT_FOUND);
    } finally {
      client.close();
      await api.stop();
      await images.stop();
    }
    t.false(images.health().ready);
  });
});

test('tsnet-agent run serves the Images service: a pull through its API socket, info names the storage driver', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
      await registry.skopeo(
        'copy',
        '--dest-tls-verify=false',
        `oci:${image.layout}:v1`,
        `docker://${registry.host}/agent/busybox:v1`,
      );
      const agent = startTestAgent(registry.netnsPath, dir, {
        args: [
          '--public-ip',
          '198.18.0.1',
          '--insecure-registry',
          'reg.test:5000',
          '--insecure-registry',
          'other.test',
        ],
      });
      try {
        const client = await agent.connect();

        try {
          const messages: string[] = [];
          for await (const m of client.pull({ reference: `${registry.host}/agent/busybox:v1` }))
            messages.push((m as { status: string }).status);
          t.is(messages.at(-1), `Status: Downloaded newer image for ${registry.host}/agent/busybox:v1`);
          t.like(await client.info(), {
            images: 1,
            storageDriver: 'overlay',
            insecureRegistries: ['reg.test:5000', 'other.test'],
          });
          t.is(
            (await client.inspectImage(`${registry.host}/agent/busybox:v1`))['Id'],
            image.manifests[0]!.config,
          );
        } finally {
          client.close();
        }
      } finally {
        await agent.stop();
      }
    });
  } finally {
    await registry.stop();
  }
});

test('tsnet-agent run refuses a malformed --insecure-registry at parse time', async (t) => {
  await withTempDir(async (dir) => {
    const out = await promisify(execFile)(
      process.execPath,
      ['--import=tsx', MAIN, 'run', '--data-dir', join(dir, 'data'), '--insecure-registry', 'not a host'],
      { timeout: 30_000 },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    t.is(out.code, 2);
    t.regex(out.stderr, /^tsnet-agent: --insecure-registry "not a host": expected HOST\[:PORT\]/);
    t.false(existsSync(join(dir, 'data')));
  });
});

test('--log-level takes dockerd-style levels, info by default', (t) => {
  t.is(agentOptions({}).logLevel, 'info');
  t.is(agentOptions({ 'log-level': 'debug' } as never).logLevel, 'debug');
  t.throws(() => agentOptions({ 'log-level': 'trace' } as never), {
    instanceOf: UsageError,
    message: /--log-level "trace": one of debug, info, warn, error, fatal/,
  });
});
