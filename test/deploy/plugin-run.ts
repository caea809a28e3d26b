// ADD of tsnet-none from an installed plugin directory: the cheapest call that needs the plugin's native
// module (it enters the container's namespace), so it proves the module was installed beside the plugin.
import { type PluginOutcome, runPlugin } from '../helpers/plugin.ts';

export function addNoneFrom(dir: string, netnsPath: string, containerId: string): Promise<PluginOutcome> {
  return runPlugin('tsnet-none', {
    dir,
    command: 'ADD',
    config: { cniVersion: '1.0.0', name: containerId, type: 'tsnet-none' },
    containerId,
    netns: netnsPath,
    ifname: 'eth0',
  });
}
