import test from 'ava';
import fc from 'fast-check';
import {
  CniError,
  compareVersions,
  convertResult,
  ErrorCode,
  type NetConf,
  parsePrevResult,
  parseResult,
  type Result,
  requireSupportedVersion,
  SUPPORTED_VERSIONS,
} from '../../pkg/cni/index.ts';

// The reference bridge's ADD result (cni-ref-bridge/add-result.json).
const REF_ADD_RESULT_100 = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'eb-cni0', mac: 'f2:d2:e0:06:9c:c1' },
    { name: 'veth4e52993b', mac: 'ea:7c:bc:ab:16:7d' },
    { name: 'eth0', mac: 'de:f7:25:91:a8:95', sandbox: '/var/run/netns/eb-c1' },
  ],
  ips: [{ interface: 2, address: '10.250.0.2/16', gateway: '10.250.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

// The reference host-local's 0.3.1 result, as printed on this machine.
const REF_HOST_LOCAL_031 = {
  cniVersion: '0.3.1',
  ips: [{ version: '4', address: '10.250.0.2/30', gateway: '10.250.0.1' }],
  dns: {},
};

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CniError ? err.code : -1;
  }
  return undefined;
}

test('a 1.0.0 result parses and prints back byte-for-byte as the reference printed it', (t) => {
  const canonical = parseResult(REF_ADD_RESULT_100);
  t.is(canonical.cniVersion, '1.1.0');
  t.deepEqual(canonical.ips, [{ interface: 2, address: '10.250.0.2/16', gateway: '10.250.0.1' }]);
  t.is(
    JSON.stringify(convertResult(canonical, '1.0.0'), null, 4),
    JSON.stringify(REF_ADD_RESULT_100, null, 4),
  );
});

test('0.3.1 ips carry version "4"/"6"; the canonical form drops it and 1.x never prints it', (t) => {
  const canonical = parseResult(REF_HOST_LOCAL_031);
  t.deepEqual(canonical.ips, [{ address: '10.250.0.2/30', gateway: '10.250.0.1' }]);
  t.deepEqual(convertResult(canonical, '0.3.1'), REF_HOST_LOCAL_031);
  t.deepEqual(convertResult(canonical, '1.1.0'), {
    cniVersion: '1.1.0',
    ips: [{ address: '10.250.0.2/30', gateway: '10.250.0.1' }],
    dns: {},
  });
  const v6 = convertResult({ cniVersion: '1.1.0', ips: [{ address: 'fd00::5/64', interface: 0 }] }, '0.4.0');
  t.deepEqual(v6['ips'], [{ version: '6', interface: 0, address: 'fd00::5/64' }]);
});

test('1.1.0-only fields are dropped in 0.x results and kept in 1.x', (t) => {
  const result: Result = {
    cniVersion: '1.1.0',
    interfaces: [
      { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: '/run/netns/x', pciID: '0000:01' },
    ],
    ips: [{ address: '10.0.0.2/24', interface: 0 }],
    routes: [{ dst: '10.1.0.0/16', gw: '10.0.0.1', mtu: 1300, priority: 5, table: 100, scope: 0 }],
  };
  const old = convertResult(result, '0.4.0');
  t.deepEqual(old['interfaces'], [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }]);
  t.deepEqual(old['routes'], [{ dst: '10.1.0.0/16', gw: '10.0.0.1' }]);
  const cur = convertResult(result, '1.1.0');
  t.deepEqual(cur['routes'], result.routes);
  t.deepEqual(parseResult(cur), { ...result, dns: {} });
});

const ipv4 = fc.ipV4();
const arbResult: fc.Arbitrary<Result> = fc.record(
  {
    cniVersion: fc.constant('1.1.0'),
    interfaces: fc.array(
      fc.record(
        {
          name: fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/),
          sandbox: fc.constantFrom('/run/netns/a', undefined),
        },
        { requiredKeys: ['name'] },
      ),
      { minLength: 1, maxLength: 3 },
    ),
    ips: fc.array(
      fc.record(
        {
          address: fc.oneof(
            fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
            fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, l]) => `${a}/${l}`),
          ),
          gateway: ipv4,
          interface: fc.integer({ min: 0, max: 0 }),
        },
        { requiredKeys: ['address'] },
      ),
      { maxLength: 4 },
    ),
    routes: fc.array(
      fc.record(
        { dst: fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`), gw: ipv4 },
        { requiredKeys: ['dst'] },
      ),
    ),
    dns: fc.record(
      { nameservers: fc.array(ipv4), domain: fc.domain(), search: fc.array(fc.domain()) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['cniVersion'] },
);

test('every supported version round-trips the version-independent content of a result', (t) => {
  fc.assert(
    fc.property(arbResult, fc.constantFrom(...SUPPORTED_VERSIONS), (result, version) => {
      const wire = JSON.parse(JSON.stringify(convertResult(result, version)));
      t.is(wire.cniVersion, version);
      const back = parseResult(wire);
      return JSON.stringify(back) === JSON.stringify({ ...result, dns: result.dns ?? {} });
    }),
  );
  t.pass();
});

test('results older than 0.3.0 and unknown versions are code 1; malformed content is code 6', (t) => {
  t.is(
    codeOf(() => parseResult({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24' } })),
    ErrorCode.IncompatibleVersion,
  );
  t.is(
    codeOf(() => convertResult({ cniVersion: '1.1.0' }, '0.2.0')),
    ErrorCode.IncompatibleVersion,
  );
  t.is(
    codeOf(() => parseResult('nope')),
    ErrorCode.DecodingFailure,
  );
  t.is(
    codeOf(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2' }] })),
    ErrorCode.DecodingFailure,
  );
  t.is(
    codeOf(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/33' }] })),
    ErrorCode.DecodingFailure,
  );
  t.is(
    codeOf(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', gateway: 'x' }] })),
    ErrorCode.DecodingFailure,
  );
  t.is(
    codeOf(() =>
      parseResult({ cniVersion: '1.0.0', interfaces: [], ips: [{ address: '10.0.0.2/24', interface: 1 }] }),
    ),
    ErrorCode.DecodingFailure,
  );
  t.is(
    codeOf(() => parseResult({ cniVersion: '1.0.0', routes: [{ gw: '10.0.0.1' }] })),
    ErrorCode.DecodingFailure,
  );
});

test('prevResult is read in the config version when it does not declare its own; bad ones are code 7', (t) => {
  const conf: NetConf = {
    cniVersion: '0.4.0',
    name: 'n',
    type: 'portmap',
    prevResult: { ips: [{ version: '4', address: '10.252.0.3/24', gateway: '10.252.0.1' }] },
  };
  t.deepEqual(parsePrevResult(conf)?.ips, [{ address: '10.252.0.3/24', gateway: '10.252.0.1' }]);
  t.is(parsePrevResult({ cniVersion: '1.0.0', name: 'n', type: 't' }), undefined);
  t.is(
    codeOf(() => parsePrevResult({ ...conf, prevResult: { ips: [{ address: 'garbage' }] } })),
    ErrorCode.InvalidNetworkConfig,
  );
});

test('version checks: supported list, the reference wording for code 1, ordering', (t) => {
  t.is(requireSupportedVersion('0.4.0'), '0.4.0');
  const err = t.throws(() => requireSupportedVersion('9.9.9'), { instanceOf: CniError });
  t.is(err.code, 1);
  t.is(err.msg, 'incompatible CNI versions');
  t.is(err.details, 'config is "9.9.9", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]');
  t.is(
    codeOf(() => requireSupportedVersion('1.1.0', ['1.0.0'])),
    1,
  );
  t.true(compareVersions('0.4.0', '1.0.0') < 0);
  t.true(compareVersions('1.10.0', '1.9.0') > 0);
  t.is(compareVersions('1.1.0', '1.1.0'), 0);
  t.is(
    codeOf(() => compareVersions('1.0', '1.0.0')),
    ErrorCode.DecodingFailure,
  );
});
