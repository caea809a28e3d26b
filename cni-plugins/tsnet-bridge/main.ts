// Executable entry point of tsnet-bridge: forwards to tsnet-agent when it serves this node, else runs the
// verbs (pkg/bridge/plugin.ts) in-process. The plugin is imported lazily, so forwarding never loads it.
import { runForwardingPluginMain } from '../../pkg/cni/skel.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runForwardingPluginMain(
  'tsnet-bridge',
  async () => (await import('../../pkg/bridge/plugin.ts')).tsnetBridge,
);
