// Executable entry point of tsnet-ipam: the dispatcher reads env and stdin, the verbs live in plugin.ts.
import { runPluginMain } from '../../pkg/cni/skel.ts';
import { tsnetIpam } from './plugin.ts';

// No top-level await: the bundle can then be CommonJS, which starts faster than an ES module.
void runPluginMain(tsnetIpam);
