// A minimal agent-side CNI server for `npm run bench:cni` with BENCH_CNI_SERVED=1: serves tsnet-bridge,
// tsnet-vxlan and tsnet-ipam on the socket given as argument, in the namespace it was started in (the bench
// starts it with `nsenter --net=<node netns>`; test/agent/cni-forward.test.ts too). Prints "ready" once
// listening; SIGTERM closes it.
import { tsnetBridge } from '../../pkg/bridge/plugin.ts';
import { startCniServer } from '../../pkg/cni/server.ts';
import { keepIpamDirectories } from '../../pkg/ipam/kept-directories.ts';
import { tsnetIpam } from '../../pkg/ipam/plugin.ts';
import { tsnetVxlan } from '../../pkg/vxlan/plugin.ts';
import { builtBuildId } from '../helpers/plugin.ts';

const path = process.argv[2];
/** `--report`: a line `served <plugin> <command>` on stdout per request answered (the tests' oracle). */
const report = process.argv[3] === '--report';
if (!path) throw new Error('usage: cni-server.ts SOCKET [--report]');
keepIpamDirectories(); // as tsnet-agent does
const server = await startCniServer(path, {
  plugins: new Map([tsnetBridge, tsnetVxlan, tsnetIpam].map((p) => [p.name, p])),
  // Run from the sources, it speaks for dist/'s build: the built forwarders hand their calls to it.
  buildId: builtBuildId(),
  onServed: report ? (plugin, command) => process.stdout.write(`served ${plugin} ${command}\n`) : undefined,
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
process.stdout.write('ready\n');
