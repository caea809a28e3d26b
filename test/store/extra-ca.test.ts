// tsnetctl starts without NODE_EXTRA_CA_CERTS (its launcher moves the path to TSNET_EXTRA_CA_CERTS: parsing
// the bundle costs every start 60-80 ms): an https etcd given no CA file still trusts those CAs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import test from 'ava';
import { extraCaCredentials } from '../../pkg/store/etcd.ts';
import { isStoreError } from '../../pkg/store/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(vars);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

test.serial(
  'the moved extra CAs join Node’s own roots; none moved, or Node has them itself: grpc’s defaults',
  async (t) => {
    await withTempDir(async (dir) => {
      const extra = join(dir, 'extra.pem');
      writeFileSync(extra, '-----BEGIN CERTIFICATE-----\nEXTRA\n-----END CERTIFICATE-----\n');
      const creds = withEnv(
        { TSNET_EXTRA_CA_CERTS: extra, NODE_EXTRA_CA_CERTS: undefined },
        extraCaCredentials,
      );
      const roots = creds?.rootCertificate?.toString() ?? '';
      t.true(roots.includes(rootCertificates[0] ?? 'none'), "Node's roots stay trusted");
      t.true(roots.endsWith('EXTRA\n-----END CERTIFICATE-----\n'));
      t.is(
        withEnv({ TSNET_EXTRA_CA_CERTS: '', NODE_EXTRA_CA_CERTS: undefined }, extraCaCredentials),
        undefined,
      );
      t.is(
        withEnv({ TSNET_EXTRA_CA_CERTS: extra, NODE_EXTRA_CA_CERTS: extra }, extraCaCredentials),
        undefined,
      );
      const err = t.throws(() =>
        withEnv(
          { TSNET_EXTRA_CA_CERTS: join(dir, 'missing.pem'), NODE_EXTRA_CA_CERTS: undefined },
          extraCaCredentials,
        ),
      );
      t.true(isStoreError(err) && /cannot read the extra CA certificates .*missing\.pem/.test(err.message));
    });
  },
);
