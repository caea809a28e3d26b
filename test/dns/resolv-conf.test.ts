import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseResolvConf, upstreamsFromResolvConf } from '../../pkg/dns/resolv-conf.ts';
import { withTempDir } from '../helpers/tmp.ts';

test('resolv.conf: nameservers (loopback kept, zone index dropped), the last search line, options', (t) => {
  const parsed = parseResolvConf(
    '# generated\nnameserver 127.0.0.53\nnameserver fe80::1%eth0 ; link-local\nnameserver not-an-ip\ndomain a.example\nsearch b.example c.example\noptions ndots:2 edns0\n',
  );
  t.deepEqual(parsed.nameservers, ['127.0.0.53', 'fe80::1%eth0']);
  t.deepEqual(parsed.search, ['b.example', 'c.example']);
  t.deepEqual(parsed.options, ['ndots:2', 'edns0']);
});

test('upstreams of a file, and none when it is missing', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'resolv.conf');
    writeFileSync(file, 'nameserver 198.18.0.53\nnameserver fe80::1%eth0\n');
    t.deepEqual(upstreamsFromResolvConf(file), [
      { address: '198.18.0.53', port: 53 },
      { address: 'fe80::1', port: 53 },
    ]);
    t.deepEqual(upstreamsFromResolvConf(join(dir, 'missing')), []);
  });
});
