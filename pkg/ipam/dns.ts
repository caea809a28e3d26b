// The `resolvConf` option: DNS settings for the result, read from a resolv.conf-style file.
import { readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { DNS } from '../cni/types.ts';

export function parseResolvConf(text: string): DNS {
  const dns: DNS = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (!keyword || values.length === 0) continue;
    switch (keyword) {
      case 'nameserver':
        dns.nameservers = [...(dns.nameservers ?? []), values[0] as string];
        break;
      case 'domain':
        dns.domain = values[0] as string;
        break;
      case 'search':
        dns.search = values;
        break;
      case 'options':
        dns.options = [...(dns.options ?? []), ...values];
        break;
    }
  }
  return dns;
}

export function readResolvConf(path: string): DNS {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CniError(ErrorCode.IoFailure, `cannot read resolvConf ${path}: ${reason}`);
  }
  return parseResolvConf(text);
}
