// tsnet-ipam: host-local's IPAM (same options, same data dir layout, same lock) over pkg/ipam.
import { pickCniArgs } from '../cni/env.ts';
import type { CniPlugin, NetworkArgs } from '../cni/skel.ts';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus, loadIpamConfig } from './index.ts';

/** The network's IPAM config; `IP=` is the one CNI_ARGS key host-local reads. */
function ipamConfigOf(args: NetworkArgs) {
  return loadIpamConfig(args.config, pickCniArgs(args.args, ['IP']));
}

export const tsnetIpam: CniPlugin = {
  name: 'tsnet-ipam',
  about: 'tsnet-ipam: host-local IPAM (round-robin ranges, host-local data dir layout)',
  async add(args) {
    return ipamAdd(ipamConfigOf(args), { containerID: args.containerId, ifname: args.ifname });
  },
  async del(args) {
    await ipamDel(ipamConfigOf(args), { containerID: args.containerId, ifname: args.ifname });
  },
  async check(args) {
    await ipamCheck(ipamConfigOf(args), { containerID: args.containerId, ifname: args.ifname });
  },
  async status(args) {
    await ipamStatus(ipamConfigOf(args));
  },
  async gc(args) {
    await ipamGc(ipamConfigOf(args), args.validAttachments);
  },
};
