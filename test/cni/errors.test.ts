import test from 'ava';
import { CniError, ErrorCode, parseCniErrorJson, toCniError } from '../../pkg/cni/index.ts';

test('well-known codes are the spec values', (t) => {
  t.deepEqual(
    [
      ErrorCode.IncompatibleVersion,
      ErrorCode.UnsupportedField,
      ErrorCode.UnknownContainer,
      ErrorCode.InvalidEnvironment,
      ErrorCode.IoFailure,
      ErrorCode.DecodingFailure,
      ErrorCode.InvalidNetworkConfig,
      ErrorCode.TryAgainLater,
      ErrorCode.PluginNotAvailable,
      ErrorCode.PluginNotAvailableLimitedConnectivity,
    ],
    [1, 2, 3, 4, 5, 6, 7, 11, 50, 51],
  );
});

test('error JSON is {cniVersion, code, msg, details?} in that order, details omitted when empty', (t) => {
  const e = new CniError(ErrorCode.TryAgainLater, 'subnet lease not ready', 'waiting for etcd');
  t.is(
    JSON.stringify(e.toJSON('1.1.0')),
    '{"cniVersion":"1.1.0","code":11,"msg":"subnet lease not ready","details":"waiting for etcd"}',
  );
  t.is(e.message, 'subnet lease not ready: waiting for etcd');
  t.deepEqual(new CniError(7, 'bad').toJSON('0.4.0'), { cniVersion: '0.4.0', code: 7, msg: 'bad' });
});

test('foreign errors become code 999 with their message; CniErrors pass through', (t) => {
  const orig = new CniError(3, 'gone');
  t.is(toCniError(orig), orig);
  const wrapped = toCniError(new Error('boom'));
  t.is(wrapped.code, 999);
  t.is(wrapped.msg, 'boom');
  t.is(toCniError('text').msg, 'text');
});

test('a plugin error printed by the reference parses back (no cniVersion needed)', (t) => {
  const e = parseCniErrorJson('{\n    "code": 4,\n    "msg": "unknown CNI_COMMAND: FOO"\n}');
  t.truthy(e);
  t.is(e?.code, 4);
  t.is(e?.msg, 'unknown CNI_COMMAND: FOO');
  t.is(e?.details, undefined);
  t.is(parseCniErrorJson('not json'), undefined);
  t.is(parseCniErrorJson('{"msg":"no code"}'), undefined);
});
