import { join } from 'node:path';
import test from 'ava';
import { Registry } from 'prom-client';
import { ApiService } from '../../pkg/agent/api.ts';
import { AgentClient } from '../../pkg/api/client.ts';
import { silentLogger } from '../../pkg/log/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

test('the API service serves System with every contribution folded into info, and stops cleanly', async (t) => {
  await withTempDir(async (dir) => {
    const service = new ApiService({
      path: join(dir, 'run', 'tsnet.sock'),
      nodeName: 'n1',
      version: '1.2.3',
      dataDir: join(dir, 'data'),
      runDir: join(dir, 'run'),
    });
    service.contribute({ info: async () => ({ images: 7, storageDriver: 'overlay' }) });
    service.contribute({ info: async () => ({ containers: 2 }) });
    const abort = new AbortController();
    await service.start({
      signal: abort.signal,
      log: silentLogger,
      status: { health: () => ({ healthy: true, live: true, services: {} }), registry: new Registry() },
      fatal: () => undefined,
    });
    t.true(service.health().ready);
    t.throws(() => service.contribute({}), { message: /already serving/ });
    const client = new AgentClient(join(dir, 'run', 'tsnet.sock'));
    try {
      t.is((await client.version()).version, '1.2.3');
      const info = await client.info();
      t.like(info, {
        name: 'n1',
        images: 7,
        containers: 2,
        storageDriver: 'overlay',
        dataDir: join(dir, 'data'),
      });
    } finally {
      client.close();
      await service.stop();
    }
    t.false(service.health().ready);
  });
});
