// A minimal agent-side CNI server for `npm run bench:cni` with BENCH_CNI_SERVED=1: serves tsnet-bridge,
// tsnet-vxlan and tsnet-ipam on the socket given as argument, in the namespace it was started in (the bench
// starts it with `nsenter --net=<node netns>`). Prints "ready" once listening; SIGTERM closes it.
import { tsnetBridge } from '../../pkg/bridge/plugin.ts';
import { startCniServer } from '../../pkg/cni/server.ts';
import { tsnetIpam } from '../../pkg/ipam/plugin.ts';
import { tsnetVxlan } from '../../pkg/vxlan/plugin.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: cni-server.ts SOCKET');
const server = await startCniServer(path, {
  plugins: new Map([tsnetBridge, tsnetVxlan, tsnetIpam].map((p) => [p.name, p])),
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
process.stdout.write('ready\n');
