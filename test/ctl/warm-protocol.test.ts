// The warm tsnetctl request as the native front writes it: decoded back, and every malformed one refused with
// its reason (the front then runs the Node tsnetctl; nothing was taken over).
import test from 'ava';
import {
  decodeWarmRequest,
  encodeWarmRequest,
  MAGIC,
  WarmRequestError,
} from '../../pkg/ctl/warm-protocol.ts';

const payloadOf = (strings: string[]): Buffer => Buffer.from(strings.map((s) => `${s}\0`).join(''));

test('a request decodes to what was encoded: argv as given, environ entries split at the first =', (t) => {
  const req = {
    buildId: 'b1',
    cwd: '/tmp/a dir',
    args: ['run', '', '-e', 'A=b=c', 'ünï'],
    env: { PATH: '/bin', EMPTY: '', WITH_EQ: 'x=y' },
  };
  const encoded = encodeWarmRequest(req);
  t.is(encoded.readUInt32BE(0), encoded.length - 4);
  t.deepEqual(decodeWarmRequest(encoded.subarray(4)), req);
});

test('environ as the kernel gives it: the first of a repeated name wins, an entry without = is no variable', (t) => {
  const decoded = decodeWarmRequest(payloadOf([MAGIC, 'b', '/', '0', '3', 'A=1', 'A=2', 'junk']));
  t.deepEqual(decoded.env, { A: '1' });
});

test('malformed requests are refused with their reason', (t) => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /NUL-terminated/],
    [Buffer.from(`${MAGIC}\0b`), /NUL-terminated/],
    [payloadOf(['tsnetctl-warm/0', 'b', '/', '0', '0']), /speaks "tsnetctl-warm\/0"/],
    [payloadOf([MAGIC, 'b', 'relative', '0', '0']), /not absolute/],
    [payloadOf([MAGIC, 'b', '/', 'x', '0']), /bad argument count "x"/],
    [payloadOf([MAGIC, 'b', '/', '01', 'a', '0']), /bad argument count "01"/],
    [payloadOf([MAGIC, 'b', '/', '2', 'a']), /ends before its arguments/],
    [payloadOf([MAGIC, 'b', '/', '0', '2', 'A=1']), /ends before its environment/],
    [payloadOf([MAGIC, 'b', '/', '0', '0', 'extra']), /strings after its environment/],
  ];
  for (const [payload, reason] of cases) {
    const err = t.throws(() => decodeWarmRequest(payload), { instanceOf: WarmRequestError });
    t.regex(err.message, reason);
  }
});
