// Executable entry point of tsnet-vxlan: forwards to tsnet-agent when it serves this node, else runs the
// verbs (pkg/vxlan/plugin.ts) in-process. The plugin is imported lazily, so forwarding never loads it.
import { runForwardingPluginMain } from '../../pkg/cni/skel.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runForwardingPluginMain(
  'tsnet-vxlan',
  async () => (await import('../../pkg/vxlan/plugin.ts')).tsnetVxlan,
);
