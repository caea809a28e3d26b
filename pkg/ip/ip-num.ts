// ip-num, loaded on first use: the package builds its IPv6 constants when it is loaded (11 ms of every
// tsnetctl start here, most of which never computes a subnet). Required at run time, as dockerfile-ast is,
// so the bundles (scripts/build.ts) leave it to node_modules rather than initialise it at start.
import { createRequire } from 'node:module';

type IpNum = typeof import('ip-num');

let loaded: IpNum | undefined;

export function ipNum(): IpNum {
  loaded ??= createRequire(import.meta.url)('ip-num') as IpNum;
  return loaded;
}
