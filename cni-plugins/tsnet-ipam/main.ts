// Executable entry point of tsnet-ipam: forwards to tsnet-agent when it serves this node, else runs the
// verbs (pkg/ipam/plugin.ts) in-process. The plugin is imported lazily, so forwarding never loads it.
import { runForwardingPluginMain } from '../../pkg/cni/skel.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runForwardingPluginMain('tsnet-ipam', async () => (await import('../../pkg/ipam/plugin.ts')).tsnetIpam);
