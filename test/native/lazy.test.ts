// native/libc.ts binds libc on the first call of a binding, not at import: a plugin answering VERSION never
// loads koffi. Checked in a fresh Node process (the test worker may have koffi loaded already), with the
// process's own memory map as the oracle for the native module.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { REPO_ROOT } from '../helpers/plugin.ts';

const LIBC_URL = new URL(`file://${join(REPO_ROOT, 'native', 'libc.ts')}`).href;

/** Runs `body` (ESM, with `libc` = native/libc.ts and `koffiMapped()`) in a fresh `node --import tsx`. */
function runFresh(body: string): unknown {
  const script = [
    `import { readFileSync } from 'node:fs';`,
    `const koffiMapped = () => readFileSync('/proc/self/maps', 'utf8').includes('koffi');`,
    `const libc = await import(${JSON.stringify(LIBC_URL)});`,
    body,
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

test('importing native/libc.ts loads no native module; the first binding call does', (t) => {
  const seen = runFresh(`
    const atImport = koffiMapped();
    const constant = libc.CLONE_NEWNET;
    const afterConstant = koffiMapped();
    const tid = libc.gettid();
    console.log(JSON.stringify({ atImport, constant, afterConstant, tidPositive: tid > 0, afterCall: koffiMapped() }));
  `);
  t.deepEqual(seen, {
    atImport: false,
    constant: 0x40000000,
    afterConstant: false,
    tidPositive: true,
    afterCall: true,
  });
});

test('a failing first call loads the bindings and still reports its own errno', (t) => {
  const seen = runFresh(`
    try {
      libc.close(987654);
      console.log(JSON.stringify({ threw: false }));
    } catch (err) {
      console.log(JSON.stringify({
        isSyscallError: err instanceof libc.SyscallError,
        code: err.code,
        syscall: err.syscall,
        message: err.message,
      }));
    }
  `);
  t.deepEqual(seen, {
    isSyscallError: true,
    code: 'EBADF',
    syscall: 'close',
    message: 'close: EBADF (Bad file descriptor)',
  });
});
