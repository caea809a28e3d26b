import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { withUndo } from '../../pkg/cni/undo.ts';

test('withUndo runs the undos last-first on failure and rethrows the operation error unchanged', async (t) => {
  const ran: string[] = [];
  const failure = new CniError(ErrorCode.TryAgainLater, 'no IP addresses available');
  const err = await t.throwsAsync(
    withUndo(async (undo) => {
      undo.push('bridge', async () => ran.push('bridge'));
      undo.push('veth', async () => ran.push('veth'));
      throw failure;
    }),
  );
  t.is(err, failure);
  t.deepEqual(ran, ['veth', 'bridge']);
});

test('withUndo runs nothing when the operation succeeds', async (t) => {
  const ran: string[] = [];
  const value = await withUndo(async (undo) => {
    undo.push('veth', async () => ran.push('veth'));
    return 42;
  });
  t.is(value, 42);
  t.deepEqual(ran, []);
});

test('an undo that fails does not stop the others; the error keeps its code and names what was left', async (t) => {
  const ran: string[] = [];
  const err = await t.throwsAsync(
    withUndo(async (undo) => {
      undo.push('IPAM allocation', async () => ran.push('ipam'));
      undo.push('veth veth1234', async () => {
        throw new Error('EBUSY');
      });
      throw new CniError(ErrorCode.InvalidNetworkConfig, 'bad gateway', 'it clashes');
    }),
  );
  t.deepEqual(ran, ['ipam']);
  t.true(err instanceof CniError);
  t.is((err as CniError).code, ErrorCode.InvalidNetworkConfig);
  t.is((err as CniError).msg, 'bad gateway');
  t.is((err as CniError).details, 'it clashes; rollback incomplete, left behind: veth veth1234: EBUSY');
});
