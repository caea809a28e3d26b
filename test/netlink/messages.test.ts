// Pure encode/decode of address, route and neighbour messages: round trips with fast-check (node:assert
// inside the properties, so a failure shrinks to a minimal counterexample), and the exact
// requests the verbs send (checked against what iproute2 sends) through a recording socket.
import { deepStrictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { type Address, addrAdd, addrDel, decodeAddress, encodeAddress } from '../../pkg/netlink/addr.ts';
import {
  type Attr,
  attrsByType,
  bufferToIp,
  decodeAttrs,
  type NlMessage,
  readU32,
} from '../../pkg/netlink/codec.ts';
import {
  Ifa,
  IfaFlags,
  Nda,
  NlmFlags,
  NtfFlags,
  NudState,
  RTNH_F_ONLINK,
  Rta,
  Rtax,
  RtmType,
  RtnType,
  RtProtocol,
  RtScope,
} from '../../pkg/netlink/constants.ts';
import {
  decodeNeighbour,
  encodeNeighbour,
  fdbDel,
  fdbSet,
  type Neighbour,
  neighSet,
} from '../../pkg/netlink/neigh.ts';
import { decodeRoute, encodeRoute, type Route, routeAdd, routeDel } from '../../pkg/netlink/route.ts';
import type { NetlinkRequest, NetlinkSocket } from '../../pkg/netlink/socket.ts';

const asMessage = (type: number, payload: Buffer): NlMessage => ({ type, flags: 0, seq: 1, pid: 0, payload });

const ipOf = (family: 4 | 6): fc.Arbitrary<string> =>
  fc
    .uint8Array({ minLength: family === 4 ? 4 : 16, maxLength: family === 4 ? 4 : 16 })
    .map((b) => bufferToIp(Buffer.from(b)));
const mac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** Attributes of types the decoder does not know: they must come back raw and unchanged. */
function unknownAttrs(known: readonly number[]): fc.Arbitrary<Attr[]> {
  const attr = fc.record({
    type: fc.integer({ min: 1, max: 0x3fff }).filter((t) => !known.includes(t)),
    nested: fc.constant(false),
    netByteOrder: fc.boolean(),
    data: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
  });
  // fc.record builds null-prototype objects; the decoder's are plain ones.
  return fc.array(
    attr.map((a) => ({ ...a })),
    { maxLength: 3 },
  );
}

const addressArb: fc.Arbitrary<Address> = fc
  .constantFrom<4 | 6>(4, 6)
  .chain((family) =>
    fc.record({
      index: fc.integer({ min: 1, max: 0x7fffffff }),
      family: fc.constant(family),
      address: ipOf(family),
      prefixLength: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }),
      hasLocal: fc.boolean(),
      peer: opt(ipOf(family)),
      broadcast: opt(ipOf(family)),
      label: opt(fc.string({ maxLength: 15 }).filter((s) => !s.includes('\0'))),
      scope: u8,
      flags: u32,
      unknown: unknownAttrs(Object.values(Ifa).filter((t) => t !== Ifa.ANYCAST && t !== Ifa.CACHEINFO)),
    }),
  )
  .map(({ hasLocal, peer, ...a }) => ({
    ...a,
    cidr: `${a.address}/${a.prefixLength}`,
    local: hasLocal ? a.address : undefined,
    // A peer only exists next to IFA_LOCAL, and only when it differs from the address.
    peer: hasLocal && peer !== a.address ? peer : undefined,
  }));

test('address messages round-trip: decode(encode(a)) equals a', (t) => {
  fc.assert(
    fc.property(addressArb, (a) => {
      deepStrictEqual(decodeAddress(asMessage(RtmType.NEWADDR, encodeAddress(a))), a);
    }),
  );
  t.pass();
});

const routeArb: fc.Arbitrary<Route> = fc
  .constantFrom<4 | 6>(4, 6)
  .chain((family) =>
    fc.record({
      family: fc.constant(family),
      dstIp: ipOf(family),
      dstLen: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }),
      tos: u8,
      gateway: opt(ipOf(family)),
      oif: opt(u32),
      prefsrc: opt(ipOf(family)),
      table: u32,
      protocol: u8,
      scope: u8,
      type: u8,
      priority: opt(u32),
      flags: u32,
      mtu: opt(u32),
      advmss: opt(u32),
      otherMetrics: unknownAttrs([Rtax.MTU, Rtax.ADVMSS]),
      unknown: unknownAttrs([
        Rta.TABLE,
        Rta.DST,
        Rta.GATEWAY,
        Rta.OIF,
        Rta.PREFSRC,
        Rta.PRIORITY,
        Rta.METRICS,
      ]),
    }),
  )
  .map(({ dstIp, dstLen, ...r }) => ({
    ...r,
    // Without RTA_DST the destination is the default route: its address is all zeros.
    dst: `${dstLen === 0 ? (r.family === 4 ? '0.0.0.0' : '::') : dstIp}/${dstLen}`,
    onlink: (r.flags & RTNH_F_ONLINK) !== 0,
  }));

test('route messages round-trip: decode(encode(r)) equals r, tables above 255 included', (t) => {
  fc.assert(
    fc.property(routeArb, (r) => {
      deepStrictEqual(decodeRoute(asMessage(RtmType.NEWROUTE, encodeRoute(r))), r);
    }),
  );
  t.pass();
});

const neighbourArb: fc.Arbitrary<Neighbour> = fc
  .record({
    family: fc.constantFrom<4 | 6 | 'bridge'>(4, 6, 'bridge'),
    index: fc.integer({ min: 1, max: 0x7fffffff }),
    dstFamily: fc.constantFrom<4 | 6>(4, 6),
    hasDst: fc.boolean(),
    seed4: ipOf(4),
    seed6: ipOf(6),
    mac: opt(mac),
    state: u16,
    flags: u8,
    type: u8,
    vlan: opt(u16),
    vni: opt(u32),
    port: opt(u16),
    master: opt(u32),
    unknown: unknownAttrs([Nda.DST, Nda.LLADDR, Nda.VLAN, Nda.PORT, Nda.VNI, Nda.MASTER]),
  })
  .map(({ dstFamily, hasDst, seed4, seed6, ...n }) => {
    const fam = n.family === 'bridge' ? dstFamily : n.family;
    const addr = hasDst ? (fam === 4 ? seed4 : seed6) : undefined;
    return {
      ...n,
      ip: n.family === 'bridge' ? undefined : addr,
      dst: n.family === 'bridge' ? addr : undefined,
    };
  });

test('neighbour and FDB messages round-trip: decode(encode(n)) equals n', (t) => {
  fc.assert(
    fc.property(neighbourArb, (n) => {
      deepStrictEqual(decodeNeighbour(asMessage(RtmType.NEWNEIGH, encodeNeighbour(n))), n);
    }),
  );
  t.pass();
});

test('decoders reject truncated headers and foreign families', (t) => {
  t.throws(() => decodeAddress(asMessage(RtmType.NEWADDR, Buffer.alloc(4))), { message: /too short/ });
  t.throws(() => decodeRoute(asMessage(RtmType.NEWROUTE, Buffer.alloc(12))), { message: /address family 0/ });
  t.throws(() => decodeNeighbour(asMessage(RtmType.NEWNEIGH, Buffer.from([129, ...Buffer.alloc(11)]))), {
    message: /unsupported address family 129/,
  });
});

/** A socket stand-in that records requests and acknowledges them. */
function recordingSocket(): { sock: NetlinkSocket; sent: NetlinkRequest[] } {
  const sent: NetlinkRequest[] = [];
  const sock = {
    request: async (req: NetlinkRequest) => {
      sent.push(req);
      return [];
    },
  } as unknown as NetlinkSocket;
  return { sock, sent };
}

function sentAttrs(req: NetlinkRequest | undefined, headerLength: number): Map<number, Attr> {
  if (!req) throw new Error('no request sent');
  return attrsByType(decodeAttrs(req.payload.subarray(headerLength)));
}

test('addrAdd sends IPv4 as iproute2 does: IFA_LOCAL and IFA_ADDRESS, broadcast like `brd +`, flags', async (t) => {
  const { sock, sent } = recordingSocket();
  await addrAdd(sock, 3, '10.1.2.3/20');
  await addrAdd(sock, 3, 'fd00::1/64', { noDad: true, noPrefixRoute: true, replace: true });
  await addrAdd(sock, 3, '10.9.9.9/31');
  await addrDel(sock, 3, '10.1.2.3/20');

  const [v4, v6, p2p, del] = sent;
  t.is(v4?.type, RtmType.NEWADDR);
  t.is(v4?.flags, NlmFlags.CREATE | NlmFlags.EXCL);
  const a4 = sentAttrs(v4, 8);
  t.is(bufferToIp(a4.get(Ifa.LOCAL)?.data ?? Buffer.alloc(0)), '10.1.2.3');
  t.is(bufferToIp(a4.get(Ifa.ADDRESS)?.data ?? Buffer.alloc(0)), '10.1.2.3');
  t.is(bufferToIp(a4.get(Ifa.BROADCAST)?.data ?? Buffer.alloc(0)), '10.1.15.255');
  t.is(v4?.describe, 'add address 10.1.2.3/20 dev 3');

  t.is(v6?.flags, NlmFlags.CREATE | NlmFlags.REPLACE);
  const a6 = sentAttrs(v6, 8);
  t.false(a6.has(Ifa.LOCAL));
  t.false(a6.has(Ifa.BROADCAST));
  t.is(readU32(a6.get(Ifa.FLAGS)?.data ?? Buffer.alloc(4)), IfaFlags.NODAD | IfaFlags.NOPREFIXROUTE);

  t.false(sentAttrs(p2p, 8).has(Ifa.BROADCAST), 'no broadcast on a /31');
  t.is(del?.type, RtmType.DELADDR);
});

test('routeAdd fills in iproute2 defaults; routeDel leaves protocol, type and scope as wildcards', async (t) => {
  const { sock, sent } = recordingSocket();
  await routeAdd(sock, { dst: '10.1.0.0/24', oif: 4 });
  await routeAdd(sock, { dst: 'default', gateway: 'fd00::1', table: 1000, metric: 7, onlink: true });
  await routeAdd(sock, { dst: '10.2.0.0/24', type: 'blackhole', protocol: 77 });
  await routeDel(sock, { dst: '10.1.0.0/24' });
  const [devRoute, v6Default, blackhole, del] = sent;
  const hdr = (req: NetlinkRequest | undefined) => {
    const p = req?.payload ?? Buffer.alloc(12);
    return {
      family: p[0],
      dstLen: p[1],
      table: p[4],
      protocol: p[5],
      scope: p[6],
      type: p[7],
      flags: p.readUInt32LE(8),
    };
  };
  t.like(hdr(devRoute), {
    family: 2,
    dstLen: 24,
    table: 254,
    protocol: RtProtocol.boot,
    scope: RtScope.link,
  });
  t.like(hdr(v6Default), { family: 10, dstLen: 0, table: 0, scope: RtScope.universe, flags: RTNH_F_ONLINK });
  const a = sentAttrs(v6Default, 12);
  t.is(readU32(a.get(Rta.TABLE)?.data ?? Buffer.alloc(4)), 1000);
  t.is(readU32(a.get(Rta.PRIORITY)?.data ?? Buffer.alloc(4)), 7);
  t.false(a.has(Rta.DST), 'the default route has no RTA_DST');
  t.like(hdr(blackhole), { type: RtnType.blackhole, protocol: 77, scope: RtScope.universe });
  t.like(hdr(del), { protocol: 0, type: RtnType.unspec, scope: RtScope.nowhere, table: 254 });
  t.is(del?.type, RtmType.DELROUTE);
  t.is(v6Default?.describe, 'add route default via fd00::1 onlink table 1000 metric 7');
  t.is(devRoute?.flags, NlmFlags.CREATE | NlmFlags.EXCL);
});

test('fdbSet sends what `bridge fdb replace MAC dev vx0 dst IP self permanent` sends', async (t) => {
  const { sock, sent } = recordingSocket();
  await fdbSet(sock, { index: 5, mac: '02:00:00:00:00:0b', dst: '198.18.0.2', port: 8472, vni: 1 });
  await fdbDel(sock, { index: 5, mac: '02:00:00:00:00:0b', master: true });
  await neighSet(sock, { index: 5, ip: '10.244.1.0', mac: '02:00:00:00:00:0b' });
  const [set, del, neigh] = sent;
  t.is(set?.type, RtmType.NEWNEIGH);
  t.is(set?.flags, NlmFlags.CREATE | NlmFlags.REPLACE);
  const p = set?.payload ?? Buffer.alloc(12);
  t.is(p[0], 7, 'AF_BRIDGE');
  t.is(p.readInt32LE(4), 5);
  t.is(p.readUInt16LE(8), NudState.NOARP | NudState.PERMANENT);
  t.is(p[10], NtfFlags.SELF);
  const a = sentAttrs(set, 12);
  t.is(bufferToIp(a.get(Nda.DST)?.data ?? Buffer.alloc(0)), '198.18.0.2');
  t.deepEqual([...(a.get(Nda.LLADDR)?.data ?? [])], [2, 0, 0, 0, 0, 11]);
  t.is(a.get(Nda.PORT)?.data.readUInt16BE(0), 8472, 'NDA_PORT in network byte order');
  t.is(readU32(a.get(Nda.VNI)?.data ?? Buffer.alloc(4)), 1);

  t.is((del?.payload ?? Buffer.alloc(12))[10], NtfFlags.MASTER, 'master only: self is not assumed');
  t.is(del?.describe, 'delete fdb 02:00:00:00:00:0b dev 5 master');

  const n = neigh?.payload ?? Buffer.alloc(12);
  t.is(n[0], 2, 'AF_INET');
  t.is(n.readUInt16LE(8), NudState.PERMANENT);
  t.is(neigh?.flags, NlmFlags.CREATE | NlmFlags.REPLACE);
});
