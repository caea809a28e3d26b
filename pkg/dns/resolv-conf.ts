// The node's upstream resolvers, from its resolv.conf: the agent forwards what is not the cluster's to the
// resolvers the node itself uses. Loopback ones (systemd-resolved's 127.0.0.53) are kept: the agent asks
// them from the node's namespace, where they answer, unlike a container's.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Upstream } from './forwarder.ts';

export interface ResolvConf {
  readonly nameservers: string[];
  readonly search: string[];
  readonly options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0] && isIP(values[0].replace(/%.*$/, ''))) nameservers.push(values[0]);
    // the last search (or domain) line wins, as in the C library
    else if (key === 'search' || key === 'domain') search = values;
    else if (key === 'options') options.push(...values);
  }
  return { nameservers, search, options };
}

/** The upstreams of `path` (port 53); none when the file is missing (answers for the cluster still work). */
export function upstreamsFromResolvConf(path = '/etc/resolv.conf'): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return parseResolvConf(text).nameservers.map((address) => ({
    address: address.replace(/%.*$/, ''),
    port: 53,
  }));
}
