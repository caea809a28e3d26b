import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { configureContainerInterface } from '../../pkg/ipam/configure.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import { ipJson, withNetnses } from '../helpers/netns.ts';

interface IpAddr {
  addr_info: { local: string; prefixlen: number }[];
}

/** A container namespace with eth0, one end of a veth to a peer namespace (this kernel has no dummy). */
async function withContainerIface(
  run: (h: Handle, eth0: Awaited<ReturnType<Handle['linkGet']>>, nsPath: string) => Promise<void>,
): Promise<void> {
  await withNetnses('ipcf', 2, async ([ctr, peer]) => {
    await Handle.with(ctr!.path, async (h) => {
      await h.linkAdd({ kind: 'veth', name: 'eth0', peer: { name: 'p0', netns: peer!.path } });
      await run(h, await h.linkGet('eth0'), ctr!.path);
    });
  });
}

const addressesOf = (nsPath: string) =>
  ipJson<IpAddr[]>(nsPath, 'addr', 'show', 'dev', 'eth0').flatMap((a) =>
    a.addr_info.map((i) => `${i.local}/${i.prefixlen}`),
  );

test('addresses, link up and routes with their family gateway are applied', async (t) => {
  await withContainerIface(async (h, eth0, nsPath) => {
    const routes = await configureContainerInterface(
      h,
      eth0,
      [{ address: '10.88.0.5/24', gateway: '10.88.0.1' }],
      [{ dst: '10.99.0.0/16' }],
      true,
    );
    t.deepEqual(routes, [{ dst: '10.99.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.88.0.1' }]);
    t.true(addressesOf(nsPath).includes('10.88.0.5/24'));
    const shown = ipJson<{ dst: string; gateway?: string }[]>(nsPath, '-4', 'route', 'show', 'dev', 'eth0');
    t.true(shown.some((r) => r.dst === '10.99.0.0/16' && r.gateway === '10.88.0.1'));
    t.true(shown.some((r) => r.dst === 'default' && r.gateway === '10.88.0.1'));
  });
});

for (const [what, gw, message] of [
  ['of the other family', 'fd00::1', /route 10\.99\.0\.0\/16: gateway fd00::1 is not IPv4/],
  ['that is no address', '10.88.0.300', /route 10\.99\.0\.0\/16: invalid gateway "10\.88\.0\.300"/],
] as const) {
  test(`a route gateway ${what} is refused before any address is sent`, async (t) => {
    await withContainerIface(async (h, eth0, nsPath) => {
      const err = await t.throwsAsync(
        configureContainerInterface(
          h,
          eth0,
          [{ address: '10.88.0.5/24', gateway: '10.88.0.1' }],
          [{ dst: '10.99.0.0/16', gw }],
          false,
        ),
        { instanceOf: CniError, message },
      );
      t.is(err?.code, ErrorCode.InvalidNetworkConfig);
      t.deepEqual(
        addressesOf(nsPath).filter((a) => a.startsWith('10.')),
        [],
        'no address was configured',
      );
    });
  });
}
