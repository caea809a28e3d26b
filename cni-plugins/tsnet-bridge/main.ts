// Executable entry point of tsnet-bridge: the dispatcher reads env and stdin, the verbs live in plugin.ts.

import { tsnetBridge } from '../../pkg/bridge/plugin.ts';
import { runPluginMain } from '../../pkg/cni/skel.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runPluginMain(tsnetBridge);
