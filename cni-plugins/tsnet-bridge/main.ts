// Executable entry point of tsnet-bridge: the dispatcher reads env and stdin, the verbs live in plugin.ts.
import { runPluginMain } from '../../pkg/cni/skel.ts';
import { tsnetBridge } from './plugin.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runPluginMain(tsnetBridge);
