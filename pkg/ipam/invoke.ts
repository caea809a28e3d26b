// How a main plugin runs its network's IPAM: `tsnet-ipam` in-process (same store, same lock, same result as
// executing it, without a second Node start), any other type executed from CNI_PATH as the spec says.
import { delegateAdd, delegateCheck, delegateDel, delegateGc, delegateStatus } from '../cni/delegate.ts';
import { pickCniArgs } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { AttachmentArgs, GcArgs, NetworkArgs } from '../cni/skel.ts';
import type { Result } from '../cni/types.ts';
import {
  type IpamConfig,
  ipamCheck,
  ipamDel,
  ipamGc,
  ipamReserve,
  ipamStatus,
  loadIpamConfig,
} from './index.ts';

export const TSNET_IPAM_TYPE = 'tsnet-ipam';

function ipamType(args: NetworkArgs): string {
  const type = args.config.ipam?.type;
  if (!type)
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `network ${args.config.name}: "ipam" with a "type" is required`,
    );
  return type;
}

/** Each invocation's IPAM section, parsed once: an ADD checks it, sizes the MTU by it and allocates by it. */
const parsedConfigs = new WeakMap<NetworkArgs, IpamConfig>();

/** The in-process IPAM's config of an invocation (tsnet-ipam's section, with CNI_ARGS IP=). */
export function inProcessConfig(args: NetworkArgs): IpamConfig {
  let conf = parsedConfigs.get(args);
  if (!conf) {
    conf = loadIpamConfig(args.config, pickCniArgs(args.args, ['IP']));
    parsedConfigs.set(args, conf);
  }
  return conf;
}

function owner(args: AttachmentArgs) {
  return { containerID: args.containerId, ifname: args.ifname };
}

/** Validates the IPAM section before a main plugin creates anything (in-process IPAM only; code 7). */
export function checkIpamConfig(args: NetworkArgs): void {
  if (ipamType(args) === TSNET_IPAM_TYPE) inProcessConfig(args);
}

/** IPAM ADD for the attachment; the result in canonical form. */
export async function runIpamAdd(args: AttachmentArgs): Promise<Result> {
  const { result, durable } = await runIpamReserve(args);
  await durable;
  return result;
}

/**
 * runIpamAdd, handing the result back before tsnet-ipam's wait for the disk (IpamReservation): the plugin
 * configures the interface meanwhile and answers after `durable`. A delegate's result is durable already.
 */
export async function runIpamReserve(
  args: AttachmentArgs,
): Promise<{ readonly result: Result; readonly durable: Promise<void> }> {
  const type = ipamType(args);
  if (type === TSNET_IPAM_TYPE) return ipamReserve(inProcessConfig(args), owner(args));
  return { result: await delegateAdd(type, args.stdin, args), durable: Promise.resolve() };
}

/** IPAM DEL: always run, also when the container's namespace is gone. */
export async function runIpamDel(args: AttachmentArgs): Promise<void> {
  const type = ipamType(args);
  if (type === TSNET_IPAM_TYPE) {
    await ipamDel(inProcessConfig(args), owner(args));
    return;
  }
  await delegateDel(type, args.stdin, args);
}

export async function runIpamCheck(args: AttachmentArgs): Promise<void> {
  const type = ipamType(args);
  if (type === TSNET_IPAM_TYPE) return ipamCheck(inProcessConfig(args), owner(args));
  return delegateCheck(type, args.stdin, args);
}

export async function runIpamStatus(args: NetworkArgs): Promise<void> {
  const type = ipamType(args);
  if (type === TSNET_IPAM_TYPE) return ipamStatus(inProcessConfig(args));
  return delegateStatus(type, args.stdin, args);
}

export async function runIpamGc(args: GcArgs): Promise<void> {
  const type = ipamType(args);
  if (type === TSNET_IPAM_TYPE) {
    await ipamGc(inProcessConfig(args), args.validAttachments);
    return;
  }
  await delegateGc(type, args.stdin, args);
}
