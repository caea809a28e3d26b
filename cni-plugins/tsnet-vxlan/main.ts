// Executable entry point of tsnet-vxlan: the dispatcher reads env and stdin, the verbs live in plugin.ts.
import { runPluginMain } from '../../pkg/cni/skel.ts';
import { tsnetVxlan } from './plugin.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runPluginMain(tsnetVxlan);
