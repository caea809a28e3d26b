// The agent SIGKILLed in the middle of a pull (exactly when half of a large layer is in its ingest: a fault
// point, not a guessed delay), then started again: a second pull resumes that layer from where the first
// stopped (its first progress says so, and the registry is asked for the rest with Range), stores the image
// whole, and leaves no ingest behind.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAULT_ENV, faultMarker } from '../../pkg/testing/fault.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { randomLayerTar, startRegistry, writeLayoutOf } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const LAYER_BYTES = 24 << 20;

/** Bytes in the content store's unfinished ingests. */
function ingestBytes(dataDir: string): number {
  const root = join(dataDir, 'content', 'ingest');
  if (!existsSync(root)) return 0;
  return readdirSync(root)
    .map((d) => join(root, d, 'data'))
    .filter((f) => existsSync(f))
    .reduce((n, f) => n + statSync(f).size, 0);
}

test('a pull cut by SIGKILL of the agent halfway through a layer resumes it after the restart', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      const layout = join(dir, 'layout');
      const { layers } = writeLayoutOf(layout, 'big', [await randomLayerTar('data/big.bin', LAYER_BYTES)]);
      const big = layers[0];
      if (!big) throw new Error('no layer');
      const name = `${registry.host}/resume/big:v1`;
      await registry.skopeo('copy', '--dest-tls-verify=false', `oci:${layout}:big`, `docker://${name}`);
      // First run: armed to die the moment half of the layer is written.
      const first = startTestAgent(registry.netnsPath, dir, { env: { [FAULT_ENV]: 'content-half-written' } });
      const client1 = await first.connect();
      try {
        const pull = client1.pull({ reference: name });
        pull.on('error', () => undefined); // the agent dies under it
        pull.on('data', () => undefined);
        t.is(await first.exited, 'SIGKILL');
      } finally {
        client1.close();
      }
      t.true(first.log().includes(faultMarker('content-half-written')), first.log());
      const kept = ingestBytes(join(dir, 'data'));
      t.true(kept * 2 >= big.size && kept < big.size, `${kept} of ${big.size} bytes kept in the ingest`);

      // Second run: the same pull resumes where the first one stopped.
      const second = startTestAgent(registry.netnsPath, dir);
      const client2 = await second.connect();
      try {
        const downloads: number[] = [];
        let last = '';
        for await (const m of client2.pull({ reference: name })) {
          const p = m as { id: string; status: string; current: number };
          if (p.status === 'Downloading' && big.digest.slice(7).startsWith(p.id)) downloads.push(p.current);
          last = p.status;
        }
        t.is(last, `Status: Downloaded newer image for ${name}`);
        t.true(
          (downloads[0] ?? 0) >= kept,
          `the first progress of the layer (${downloads[0]}) starts at ${kept}`,
        );
        const inspect = await client2.inspectImage(name);
        t.deepEqual((inspect['RootFS'] as { Layers: string[] }).Layers, [big.diffId]);
        t.is(ingestBytes(join(dir, 'data')), 0, 'no ingest left');
      } finally {
        client2.close();
        await second.stop();
      }
    });
  } finally {
    await registry.stop();
  }
});
