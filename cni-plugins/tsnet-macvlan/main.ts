// Executable entry point of tsnet-macvlan: the dispatcher reads env and stdin, the verbs live in plugin.ts.
// No top-level await, so the build can bundle it as CommonJS (faster start-up, see scripts/build.ts).
import { runPluginMain } from '../../pkg/cni/skel.ts';
import { tsnetMacvlan } from './plugin.ts';

void runPluginMain(tsnetMacvlan);
