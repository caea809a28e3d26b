import test from 'ava';
import fc from 'fast-check';
import {
  type Attr,
  type AttrSpec,
  attrToSpec,
  bufferToIp,
  bufferToMac,
  decodeAttrs,
  decodeMessages,
  encodeAttrs,
  encodeMessage,
  ipToBuffer,
  macToBuffer,
} from '../../pkg/netlink/codec.ts';

// Random attribute trees: leaves with arbitrary payloads, nested lists a few levels deep.
const attrSpec: fc.Arbitrary<AttrSpec> = fc.letrec<{ spec: AttrSpec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      type: fc.integer({ min: 1, max: 0x3fff }),
      data: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      type: fc.integer({ min: 1, max: 0x3fff }),
      attrs: fc.array(tie('spec'), { maxLength: 4 }),
      nestedFlag: fc.constant(true),
    }),
  ),
})).spec;

/** Decodes nested attributes recursively into a comparable tree. */
function tree(attrs: readonly Attr[]): unknown[] {
  return attrs.map((a) =>
    a.nested ? { type: a.type, children: tree(decodeAttrs(a.data)) } : { type: a.type, data: [...a.data] },
  );
}
function specTree(specs: readonly AttrSpec[]): unknown[] {
  return specs.map((s) =>
    'data' in s ? { type: s.type, data: [...s.data] } : { type: s.type, children: specTree(s.attrs) },
  );
}

test('attributes round-trip: decode(encode(x)) has the same tree', (t) => {
  fc.assert(
    fc.property(fc.array(attrSpec, { maxLength: 6 }), (specs) => {
      const decoded = decodeAttrs(encodeAttrs(specs));
      t.deepEqual(tree(decoded), specTree(specs));
    }),
  );
});

test('attributes round-trip: encode(decode(bytes)) reproduces the bytes, unknown ones included', (t) => {
  fc.assert(
    fc.property(fc.array(attrSpec, { maxLength: 6 }), (specs) => {
      const bytes = encodeAttrs(specs);
      t.deepEqual(encodeAttrs(decodeAttrs(bytes).map(attrToSpec)), bytes);
    }),
  );
});

test('attributes are 4-byte aligned with zero padding', (t) => {
  const bytes = encodeAttrs([
    { type: 3, data: Buffer.from('eth0\0') },
    { type: 4, data: Buffer.from([0xdc, 0x05, 0, 0]) },
  ]);
  t.is(bytes.length, 12 + 8);
  t.deepEqual([...bytes.subarray(0, 4)], [9, 0, 3, 0]);
  t.deepEqual([...bytes.subarray(9, 12)], [0, 0, 0]);
});

test('messages round-trip, several in one datagram', (t) => {
  const msg = fc.record({
    type: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.nat(),
    pid: fc.nat(),
    payload: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  });
  fc.assert(
    fc.property(fc.array(msg, { minLength: 1, maxLength: 5 }), (msgs) => {
      const datagram = Buffer.concat(msgs.map(encodeMessage));
      const decoded = decodeMessages(datagram);
      t.is(decoded.length, msgs.length);
      decoded.forEach((d, i) => {
        const m = msgs[i]!;
        t.deepEqual({ ...d, payload: [...d.payload] }, { ...m, payload: [...m.payload] });
      });
    }),
  );
});

test('malformed input throws instead of being misread', (t) => {
  t.throws(() => decodeAttrs(Buffer.from([40, 0, 1, 0, 0, 0, 0, 0])), {
    message: /malformed netlink attribute/,
  });
  t.throws(() => decodeAttrs(Buffer.from([2, 0, 1, 0])), { message: /malformed/ });
  const bad = encodeMessage({ type: 16, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(8) });
  bad.writeUInt32LE(500, 0);
  t.throws(() => decodeMessages(bad), { message: /malformed netlink message/ });
});

test('IP and MAC codecs round-trip', (t) => {
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      t.is(bufferToIp(ipToBuffer(ip)), ip);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const buf = Buffer.from(bytes);
      t.deepEqual(ipToBuffer(bufferToIp(buf)), buf);
    }),
  );
  t.is(bufferToIp(ipToBuffer('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  t.is(bufferToIp(ipToBuffer('::ffff:10.1.2.3')), '::ffff:a01:203');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
      const buf = Buffer.from(bytes);
      t.deepEqual(macToBuffer(bufferToMac(buf)), buf);
    }),
  );
  t.throws(() => ipToBuffer('10.0.0.256'), { message: /invalid IP/ });
  t.throws(() => macToBuffer('02:42:ac:11:00'), { message: /invalid MAC/ });
});
