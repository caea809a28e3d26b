// Container-to-container reachability over the cluster: every ordered pair pinged (a few tries each, as the
// first packet may wait for ARP), for the demo's matrix and the connectivity test.
import type { Container } from './cluster.ts';
import { pings } from './exec.ts';

export interface PairResult {
  readonly from: Container;
  readonly to: Container;
  readonly ok: boolean;
}

export async function pingAllPairs(containers: readonly Container[], tries = 3): Promise<PairResult[]> {
  const results: PairResult[] = [];
  await Promise.all(
    containers.map(async (from) => {
      for (const to of containers) {
        if (from === to) continue;
        let ok = false;
        for (let attempt = 0; attempt < tries && !ok; attempt++) ok = await pings(from.netnsPath, to.ip);
        results.push({ from, to, ok });
      }
    }),
  );
  return results;
}
