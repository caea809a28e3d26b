// When DEL looks for published ports: only when ADD may have published some.
import test from 'ava';
import { mayHavePublishedPorts } from '../../pkg/bridge/config.ts';
import type { NetConf } from '../../pkg/cni/types.ts';

const conf = (extra: Partial<NetConf>): NetConf => ({
  cniVersion: '1.1.0',
  name: 'n',
  type: 'tsnet-bridge',
  ...extra,
});
const mapping = { hostPort: 8080, containerPort: 80, protocol: 'tcp' };

test('DEL unpublishes when the runtime passes ADD mappings, or passes none for the capability', (t) => {
  t.true(mayHavePublishedPorts(conf({ runtimeConfig: { portMappings: [mapping] } })));
  t.true(mayHavePublishedPorts(conf({ capabilities: { portMappings: true } })), 'nothing passed: look');
  t.true(
    mayHavePublishedPorts(conf({ runtimeConfig: { portMappings: 'garbage' as unknown as [] } })),
    'a list it cannot read: look, by container ID',
  );
});

test('DEL leaves the firewall alone when ADD published nothing', (t) => {
  t.false(
    mayHavePublishedPorts(
      conf({ capabilities: { portMappings: true }, runtimeConfig: { portMappings: [] } }),
    ),
  );
  t.false(mayHavePublishedPorts(conf({})), 'no capability, nothing passed');
});
